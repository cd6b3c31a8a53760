package gormcache

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// ErrNotRegistered is returned by the Invalidate functions for a *gorm.DB
// on which no gormcache Plugin is registered.
var ErrNotRegistered = errors.New("gormcache: plugin not registered on this *gorm.DB (call db.Use(gormcache.New(...)))")

func pluginOf(db *gorm.DB) (*Plugin, error) {
	if db == nil || db.Config == nil {
		return nil, ErrNotRegistered
	}
	p, ok := db.Config.Plugins[(&Plugin{}).Name()].(*Plugin)
	if !ok {
		return nil, ErrNotRegistered
	}
	return p, nil
}

// InvalidateTable invalidates every cached result that reads table. Called
// with a *gorm.DB inside a transaction, it takes effect when the transaction
// commits.
func InvalidateTable(db *gorm.DB, table string) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	name := sqlscan.NormalizeTable(table)
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("gormcache: InvalidateTable: empty table name %q", table)
	}
	p.deliver(db, p.tableDeps([]string{name}))
	return nil
}

// InvalidateModel invalidates every cached result that reads the table of
// model (a pointer to a model struct, like &Photo{}).
func InvalidateModel(db *gorm.DB, model any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	if model == nil {
		return errors.New("gormcache: InvalidateModel: nil model")
	}
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return fmt.Errorf("gormcache: InvalidateModel: %T is not a GORM model: %w", model, err)
	}
	p.policyOf(stmt.Schema)
	p.deliver(db, p.tableDeps([]string{sqlscan.NormalizeTable(stmt.Schema.Table)}))
	return nil
}

// InvalidateObject invalidates everything that depends on the row of obj (a
// pointer to a model struct with its primary key set): the results its
// current values in the database belong to, and those the values in obj
// belong to, as if the row had been written. It reads the row by primary
// key (inside db's transaction, if any). Use it after changing the row
// behind GORM's back.
func InvalidateObject(db *gorm.DB, obj any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	if obj == nil || (reflect.ValueOf(obj).Kind() == reflect.Pointer && reflect.ValueOf(obj).IsNil()) {
		return errors.New("gormcache: InvalidateObject: nil object")
	}
	stmt := &gorm.Statement{DB: db, Context: db.Statement.Context}
	if err := stmt.Parse(obj); err != nil {
		return fmt.Errorf("gormcache: InvalidateObject: %T is not a GORM model: %w", obj, err)
	}
	s := stmt.Schema
	images := invalidation.ValueImages(stmt.Context, s, reflect.ValueOf(obj))
	if len(images) != 1 {
		return fmt.Errorf("gormcache: InvalidateObject: %T is not one model value", obj)
	}
	where, ok := invalidation.PrimaryKeyWhere(s, images)
	for _, f := range s.PrimaryFields {
		if _, zero := f.ValueOf(stmt.Context, reflect.Indirect(reflect.ValueOf(obj))); zero {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("gormcache: InvalidateObject: %s has no primary key value set", s.Name)
	}
	p.policyOf(s)
	current, ok := invalidation.ReadImages(db, db.Statement.ConnPool, s, where, false, 1)
	if !ok {
		return fmt.Errorf("gormcache: InvalidateObject: reading %s by primary key failed", s.Name)
	}
	images = append(images, current...)
	table := sqlscan.NormalizeTable(s.Table)
	work := func(ctx context.Context) []store.Dep { return p.rowDeps(ctx, table, s, images) }
	invalidation.Deliver(db.Statement.Context, db.Statement.ConnPool, p.invalidate, work)
	return nil
}

// InvalidateAll invalidates everything the plugin has cached.
func InvalidateAll(db *gorm.DB) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	p.deliver(db, []store.Dep{p.global})
	return nil
}

func (p *Plugin) deliver(db *gorm.DB, deps []store.Dep) {
	ctx := db.Statement.Context
	invalidation.Deliver(ctx, db.Statement.ConnPool, p.invalidate, invalidation.Deps(deps...))
}
