package gormcache

import (
	"context"

	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

const anyRow = "*"

func (p *Plugin) rowDeps(ctx context.Context, table string, s *schema.Schema, images []invalidation.Image) []store.Dep {
	return []store.Dep{{Table: p.cfg.Prefix + table, Cond: anyRow}}
}
