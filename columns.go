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

// Equality is the column's: on MySQL and MariaDB its collation may ignore
// case, accents and trailing spaces, and a string compared with a number
// is converted to one; on PostgreSQL a char(n) ignores trailing spaces, a
// citext column or a nondeterministic collation case, and a uuid column
// reads a string as a uuid; on SQLite a column declared COLLATE NOCASE
// ignores case, and one of INTEGER affinity reads '07' as 7. The schema
// may say so in its migrations alone, not in the model. So reads and
// writes name the values of a column by how it compares (package
// collation), read from the database's catalogue when a read or a write
// first needs the table, at most cascadesMaxAge later, and after DDL the
// plugin runs. When the columns of a table then compare otherwise than
// before (another program's DDL changed a collation), the table's cached
// results, whose values were named the old way, are invalidated.
//
// Each database has its catalogue: one plugin may serve several, whose
// tables share names but not definitions. A database is known by its
// identity (database.go).

// readsCatalogue reports a dialect whose catalogue the plugin reads, for
// how columns compare and which foreign keys cascade: GORM's own. Others
// get depscan.Canon's comparisons, which assume byte equality, and the
// cascades the models declare.
func readsCatalogue(dialect string) bool {
	switch dialect {
	case "mysql", "postgres", "sqlite":
		return true
	}
	return false
}

// dbColumns is how the columns of one database compare.
type dbColumns struct {
	catalog collation.Catalog
	// column is columnOf and generation the catalogue's Generation, made
	// once: method values made per read would allocate.
	column     func(modelTable, column string) collation.Column
	generation func() uint64
}

// catalogue is what the plugin reads of one database's catalogue, shared
// by the pools of one identity.
type catalogue struct {
	columns dbColumns
	keys    foreignKeys
}

// catalogueOf returns the catalogue of the database whose identity is
// database, made on first use.
func (p *Plugin) catalogueOf(database, dialect string) *catalogue {
	if v, ok := p.catalogues.Load(database); ok {
		return v.(*catalogue)
	}
	c := &catalogue{columns: dbColumns{catalog: collation.Catalog{Dialect: dialect, MaxAge: cascadesMaxAge}}}
	c.columns.column, c.columns.generation = c.columns.columnOf, c.columns.catalog.Generation
	v, _ := p.catalogues.LoadOrStore(database, c)
	return v.(*catalogue)
}

// noColumns is how columns compare when their database is unknown: no
// value but NULL can be named.
func noColumns(string, string) collation.Column { return collation.Column{} }

// columnsAt returns how the database that db reaches through pool
// compares the columns of tables, loading them through pool, for
// depscan.Options.Columns and imageConj, and the database's catalogue; nil
// on dialects whose columns need no catalogue. d is pool's database when
// the caller has it already (nil: looked up now). When the database's
// identity cannot be read, nothing but NULL is named; a table whose
// columns cannot be read proves nothing but IS NULL on them.
func (p *Plugin) columnsAt(ctx context.Context, db *gorm.DB, pool gorm.ConnPool, d *database, tables []string) (func(modelTable, column string) collation.Column, *dbColumns) {
	if !readsCatalogue(db.Dialector.Name()) {
		return nil, nil
	}
	if d == nil {
		d, _ = p.identity(ctx, db, pool)
	}
	if d == nil {
		return noColumns, nil
	}
	changed, err := d.columns.catalog.Load(ctx, unprepared(pool), tables)
	if err != nil && ctx.Err() == nil {
		p.logError(ctx, err)
	}
	if len(changed) > 0 {
		deps := make([]store.Dep, len(changed))
		for i, t := range changed {
			deps[i] = store.Dep{Table: p.cfg.Prefix + t}
		}
		p.invalidate(ctx, deps)
	}
	return d.columns.column, d.columns
}

// storesAssigned reports whether an UPDATE of the table of db leaves its
// columns as assigned (collation.Catalog.StoresAssigned), on MySQL, from
// what the plugin has read already: it reads nothing inside the write's
// transaction.
func (p *Plugin) storesAssigned(db *gorm.DB, table string) bool {
	if db.Dialector.Name() != "mysql" {
		return false
	}
	d, ok := p.knownDatabase(unprepared(writtenThrough(db)))
	return ok && d.columns.catalog.StoresAssigned(table)
}

// forgetDefinitions forgets what the plugin learned of the definitions of
// tables, or of every table: DDL changed them. Every database reads again
// their columns, and its foreign keys, views and triggers.
func (p *Plugin) forgetDefinitions(tables []string, all bool) {
	p.rows.Forget(tables, all)
	p.catalogues.Range(func(_, v any) bool {
		c := v.(*catalogue)
		c.columns.catalog.Forget(tables, all)
		c.keys.forget()
		return true
	})
}

// columnOf returns how the column of a model's table compares. A table
// of another schema or database (db.table) is not the one the catalogue
// was read for: nothing is proven on it.
func (d *dbColumns) columnOf(modelTable, column string) collation.Column {
	if strings.IndexByte(modelTable, '.') >= 0 {
		return collation.Column{}
	}
	return d.catalog.Column(sqlscan.ModelTable(modelTable), column)
}

// canon is depscan.Canon of v as a value of the column f of the model s,
// as the database compares that column when columns (from columnsAt)
// tells it.
func canon(columns func(modelTable, column string) collation.Column, s *schema.Schema, f *schema.Field, v any) (string, bool) {
	if cmp, ok := comparison(columns, s, f); ok {
		return depscan.CanonFor(v, f, &cmp)
	}
	return depscan.CanonFor(v, f, nil)
}

// comparison returns how the database compares the column of f, a field
// of the model s, as columns (from columnsAt) tells it, for
// depscan.CanonFor; false (depscan.Canon's comparison) when columns is nil
// or f is.
func comparison(columns func(modelTable, column string) collation.Column, s *schema.Schema, f *schema.Field) (collation.Column, bool) {
	if columns == nil || f == nil {
		return collation.Column{}, false
	}
	return columns(s.Table, strings.ToLower(f.DBName)), true
}
