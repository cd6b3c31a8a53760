package depscan

import (
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/sqlscan"
)

// Binds reports whether x answers stmt from the template of its statement.
func (x *Extractor) Binds(stmt *gorm.Statement, a *sqlscan.Analysis, opts Options) bool {
	t, ok := x.templates.Get(keyOf(stmt, a, opts))
	if !ok {
		return false
	}
	var gen uint64
	if opts.Generation != nil {
		gen = opts.Generation()
	}
	_, ok, _ = t.bind(stmt.Vars, opts.Columns, gen)
	return ok
}
