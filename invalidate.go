package gormcache

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
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

// InvalidateTable invalidates every cached result that reads table, and
// what a write to it reaches: the tables its cascading foreign keys reach,
// its views, its partitions. table is a name as SQL
// writes it: photos, "Photos", public.photos. Called with a *gorm.DB inside
// a transaction, it takes effect when the transaction commits.
func InvalidateTable(db *gorm.DB, table string) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	name := sqlscan.NormalizeTable(table)
	if name == "" {
		return fmt.Errorf("gormcache: InvalidateTable: %q is not a table name (a name, quoted or not, optionally schema-qualified)", table)
	}
	p.queue(db, tablesChange("", []string{name}, invalidation.ReasonManual))
	return nil
}

// InvalidateModel invalidates every cached result that reads the table of
// model (a pointer to a model struct, like &Photo{}), and what a write to
// it reaches, as InvalidateTable.
func InvalidateModel(db *gorm.DB, model any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	if model == nil {
		return errors.New("gormcache: InvalidateModel: nil model")
	}
	stmt := &gorm.Statement{DB: db}
	if err := parseModel(stmt, model); err != nil {
		return fmt.Errorf("gormcache: InvalidateModel: %T is not a GORM model: %w", model, err)
	}
	p.cascades.learn(stmt.Schema)
	p.queue(db, tablesChange("", []string{sqlscan.ModelTable(stmt.Schema.Table)}, invalidation.ReasonManual))
	return nil
}

// InvalidateObject invalidates the cached results that depend on the rows
// of obj: a pointer to a model struct with its primary key set, or a slice
// or array of them (or a pointer to one). Use it after changing a row
// behind GORM's back.
//
// A result depends on a row through the values of its columns, so both the
// values the row had when results were cached and those it has now count.
// It reads the values the row has now from the database, by primary key
// (inside db's transaction, if any, and then it takes effect when the
// transaction commits). The values it had are those obj holds, every field
// of it: pass the row as you read it before the change. An obj with nothing
// set but its primary key says nothing of them: every cached result that
// reads its table is then invalidated, unless all of them select rows by
// primary key only.
func InvalidateObject(db *gorm.DB, obj any) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(obj)
	if obj == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return errors.New("gormcache: InvalidateObject: nil object")
	}
	stmt := &gorm.Statement{DB: db, Context: db.Statement.Context}
	if err := parseModel(stmt, obj); err != nil {
		return fmt.Errorf("gormcache: InvalidateObject: %T is not a GORM model: %w", obj, err)
	}
	s := stmt.Schema
	if len(s.PrimaryFields) == 0 {
		return fmt.Errorf("gormcache: InvalidateObject: %s has no primary key", s.Name)
	}
	objects := rowimage.Values(rv)
	if len(objects) == 0 {
		return fmt.Errorf("gormcache: InvalidateObject: %T holds no %s", obj, s.Name)
	}
	held := make([]rowimage.Image, 0, len(objects))
	for i, o := range objects {
		img, keyOnly := rowimage.Image{}, true
		for _, f := range s.Fields {
			if f.DBName == "" {
				continue
			}
			v, zero := f.ValueOf(stmt.Context, o)
			if zero && f.PrimaryKey {
				return fmt.Errorf("gormcache: InvalidateObject: %s #%d has no primary key value (%s)", s.Name, i, f.Name)
			}
			keyOnly = keyOnly && (zero || f.PrimaryKey)
			img[strings.ToLower(f.DBName)] = v
		}
		if keyOnly {
			// Only the key is known: an image of the key alone cannot be
			// placed in any other scheme, which invalidates the table.
			for col := range img {
				if f := s.FieldsByDBName[col]; f == nil || !f.PrimaryKey {
					delete(img, col)
				}
			}
		}
		held = append(held, img)
	}
	where, _ := rowimage.PrimaryKeyWhere(s, held)
	current, err := p.rows.Read(db, s, db.Statement.ConnPool, writtenTo(db), where, false, len(held))
	if err := broken(err); err != nil {
		return fmt.Errorf("gormcache: InvalidateObject: reading %s by primary key: %w", s.Name, err)
	}
	p.cascades.learn(s)
	table := sqlscan.ModelTable(s.Table)
	if err != nil {
		p.queue(db, tablesChange("", []string{table}, readReason(err)))
		return nil
	}
	p.queue(db, &change{
		event:  invalidation.Event{Tables: []string{table}, Level: invalidation.Rows},
		s:      s,
		images: append(held, current...),
	})
	return nil
}

// InvalidateAll invalidates everything the plugin has cached.
func InvalidateAll(db *gorm.DB) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	c := tablesChange("", nil, invalidation.ReasonManual)
	c.event.Level = invalidation.All
	p.queue(db, c)
	return nil
}

// errNilInterface is parseModel's error for a pointer to an interface that
// holds nothing, on which GORM's parser panics.
var errNilInterface = errors.New("it points to an interface holding nil")

// parseModel parses model into stmt as stmt.Parse does, but fails where
// GORM's parser would panic: a pointer to an interface holding nil.
func parseModel(stmt *gorm.Statement, model any) error {
	rv := reflect.ValueOf(model)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Interface && rv.IsNil() {
		return errNilInterface
	}
	return stmt.Parse(model)
}
