package gormcache

import (
	"context"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
)

// On MySQL and MariaDB, equality is the column's: its collation may ignore
// case, accents and trailing spaces, and a string compared with a number
// is converted to one. Reads and writes name the values of a column by how
// it compares (package collation), read from information_schema when a
// read or a write first needs the table, at most cascadesMaxAge later, and
// after DDL the plugin runs. When the columns of a table then compare
// otherwise than before (another program's DDL changed a collation), the
// table's cached results, whose values were named the old way, are
// invalidated. Other dialects compare what depscan.Canon accepts exactly.

// comparesColumns reports a dialect whose column comparisons the plugin
// reads from the database.
func comparesColumns(dialect string) bool { return dialect == "mysql" }

// columnsFor returns, on MySQL, how the database compares the columns of
// tables (loading them through pool), for depscan.Options.Columns and
// imageConj; nil on other dialects. A table whose columns cannot be read
// proves nothing but IS NULL on them.
func (p *Plugin) columnsFor(ctx context.Context, dialect string, pool gorm.ConnPool, tables []string) func(modelTable, column string) collation.Column {
	if !comparesColumns(dialect) {
		return nil
	}
	changed, err := p.columns.Load(ctx, pool, tables)
	if err != nil {
		p.logError(ctx, err)
	}
	if len(changed) > 0 {
		deps := make([]store.Dep, len(changed))
		for i, t := range changed {
			deps[i] = store.Dep{Table: p.cfg.Prefix + t}
		}
		p.invalidate(ctx, deps)
	}
	return p.columnOf
}

// readColumns is columnsFor of the tables a read of db reads, loaded
// through source, the pool a write of it would use (sourcePool); nil on
// dialects whose columns need no catalogue.
func (p *Plugin) readColumns(db *gorm.DB, source gorm.ConnPool, tables []string) func(modelTable, column string) collation.Column {
	dialect := db.Dialector.Name()
	if !comparesColumns(dialect) {
		return nil
	}
	return p.columnsFor(db.Statement.Context, dialect, unprepared(source), tables)
}

// columnOf returns how the column of a model's table compares. A table
// of another database (db.table) is not the one the catalogue was read
// for: nothing is proven on it.
func (p *Plugin) columnOf(modelTable, column string) collation.Column {
	if strings.IndexByte(modelTable, '.') >= 0 {
		return collation.Column{}
	}
	return p.columns.Column(sqlscan.ModelTable(modelTable), column)
}

// canon is depscan.Canon of v as a value of the column f of the model s,
// as the database compares that column when columns (from columnsFor)
// tells it.
func canon(columns func(modelTable, column string) collation.Column, s *schema.Schema, f *schema.Field, v any) (string, bool) {
	if cmp, ok := comparison(columns, s, f); ok {
		return depscan.CanonFor(v, f, &cmp)
	}
	return depscan.CanonFor(v, f, nil)
}

// comparison returns how the database compares the column of f, a field
// of the model s, as columns (from columnsFor) tells it, for
// depscan.CanonFor; false (depscan.Canon's comparison) when columns is nil
// or f is.
func comparison(columns func(modelTable, column string) collation.Column, s *schema.Schema, f *schema.Field) (collation.Column, bool) {
	if columns == nil || f == nil {
		return collation.Column{}, false
	}
	return columns(s.Table, strings.ToLower(f.DBName)), true
}
