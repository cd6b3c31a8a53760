package gormcache

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// MaxImageRows is the number of rows an update or delete may change and
// still be invalidated row by row; a larger write invalidates its table.
const MaxImageRows = 1000

// writeKind is the kind of GORM write a callback follows: each has its own
// callbacks, so the kind is never guessed from the SQL.
type writeKind uint8

const (
	kindCreate writeKind = iota
	kindUpdate
	kindDelete
)

// rowLevel reports whether the rows stmt writes can be imaged: it writes
// rows of its model's own table only — no other table named by Table, by
// the INSERT or UPDATE clause, nor a FROM list of its own (UPDATE ... FROM,
// DELETE ... USING) —, with no modifier that may change rows it does not
// name (INSERT OR REPLACE, UPDATE OR REPLACE, ON CONFLICT), and its table
// is invalidated at row level. Anything else invalidates the tables the
// statement's SQL writes.
func (p *Plugin) rowLevel(stmt *gorm.Statement, kind writeKind) bool {
	s := stmt.Schema
	if s == nil || stmt.TableExpr != nil || stmt.Table != s.Table || p.precisionOf(s) != RowLevel {
		return false
	}
	ownTable := func(t clause.Table) bool {
		return t.Name == "" || t.Name == clause.CurrentTable || t.Name == s.Table
	}
	switch kind {
	case kindCreate:
		if c, ok := stmt.Clauses["INSERT"]; ok {
			if ins, ok := c.Expression.(clause.Insert); !ok || ins.Modifier != "" || !ownTable(ins.Table) {
				return false
			}
		}
		if _, upsert := stmt.Clauses["ON CONFLICT"]; upsert {
			return false
		}
	case kindUpdate:
		if c, ok := stmt.Clauses["UPDATE"]; ok {
			if upd, ok := c.Expression.(clause.Update); !ok || upd.Modifier != "" || !ownTable(upd.Table) {
				return false
			}
		}
		if _, from := stmt.Clauses["FROM"]; from {
			return false
		}
	case kindDelete:
		if c, ok := stmt.Clauses["FROM"]; ok {
			if from, ok := c.Expression.(clause.From); !ok || len(from.Tables) > 0 || len(from.Joins) > 0 {
				return false
			}
		}
	}
	return true
}

// capture stands in for the statement's connection pool while an update or
// delete runs. The first time the statement's SQL reaches the database —
// GORM has then added every condition, scopes and primary keys included —
// it first reads, in the same transaction and under lock, the rows the
// statement is about to change.
type capture struct {
	gorm.ConnPool
	p    *Plugin
	db   *gorm.DB
	done bool
	ok   bool
	old  []invalidation.Image
}

func (c *capture) before() {
	if c.done {
		return
	}
	c.done = true
	var broken error
	c.old, c.ok, broken = c.p.readRows(c.db, c.db.Statement.Schema, c.ConnPool, whereOf(c.db.Statement), true, MaxImageRows)
	c.db.AddError(broken)
}

func whereOf(stmt *gorm.Statement) clause.Where {
	if cl, ok := stmt.Clauses["WHERE"]; ok {
		where, _ := cl.Expression.(clause.Where)
		return where
	}
	return clause.Where{}
}

func (c *capture) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.before()
	return c.ConnPool.ExecContext(ctx, query, args...)
}

func (c *capture) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.before()
	return c.ConnPool.QueryContext(ctx, query, args...)
}

// adoptTransaction runs right after GORM begins a write's own transaction.
// A transaction begun on a pool the plugin did not wrap — one that
// dbresolver chose, registered before the plugin — is wrapped here, so that
// its invalidations wait for its commit like any other.
func (p *Plugin) adoptTransaction(db *gorm.DB) {
	if _, started := db.InstanceGet("gorm:started_transaction"); started {
		db.Statement.ConnPool = invalidation.Adopt(db.Statement.ConnPool, p.invalidate)
	}
}

// beforeUpdate and beforeDelete run right before GORM's update and delete:
// for a statement whose rows can be imaged, inside a transaction, they
// install a capture of the old rows.
func (p *Plugin) beforeUpdate(db *gorm.DB) { p.beforeChange(db, kindUpdate) }
func (p *Plugin) beforeDelete(db *gorm.DB) { p.beforeChange(db, kindDelete) }

func (p *Plugin) beforeChange(db *gorm.DB, kind writeKind) {
	stmt := db.Statement
	if db.Error != nil || db.DryRun || !p.rowLevel(stmt, kind) || invalidation.TxOf(stmt.ConnPool) == nil {
		return
	}
	stmt.ConnPool = &capture{ConnPool: stmt.ConnPool, p: p, db: db}
}

// afterUpdate and afterDelete run right after GORM's update and delete,
// before the commit.
func (p *Plugin) afterUpdate(db *gorm.DB) { p.afterChange(db, kindUpdate) }
func (p *Plugin) afterDelete(db *gorm.DB) { p.afterChange(db, kindDelete) }

func (p *Plugin) afterChange(db *gorm.DB, kind writeKind) {
	stmt := db.Statement
	c, captured := stmt.ConnPool.(*capture)
	if captured {
		stmt.ConnPool = c.ConnPool
	}
	if db.DryRun || stmt.SQL.Len() == 0 || (db.Error == nil && db.RowsAffected == 0) {
		return // nothing reached the database, or nothing changed
	}
	p.cascades.learn(stmt.Schema)
	if !captured || !c.ok || db.Error != nil || db.RowsAffected > int64(len(c.old)) || !p.rowLevel(stmt, kind) {
		// Rows the capture did not see changed (or the write failed half
		// way): invalidate the tables written.
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	images := c.old
	if kind == kindUpdate { // a soft delete too: read the rows as they are now
		where, ok := invalidation.PrimaryKeyWhere(stmt.Schema, c.old)
		var now []invalidation.Image
		if ok {
			var broken error
			now, ok, broken = p.readRows(db, stmt.Schema, stmt.ConnPool, where, false, len(c.old))
			db.AddError(broken)
		}
		if !ok || len(now) != len(c.old) {
			p.deliverWrites(db, p.analyze(stmt.SQL.String()))
			return
		}
		images = append(images, now...)
	}
	p.deliverImages(db, stmt.Schema, images)
}

// afterCreate runs right after GORM's create, before the commit.
func (p *Plugin) afterCreate(db *gorm.DB) {
	stmt := db.Statement
	if db.DryRun || stmt.SQL.Len() == 0 || (db.Error == nil && db.RowsAffected == 0) {
		return
	}
	p.cascades.learn(stmt.Schema)
	if db.Error != nil || !p.rowLevel(stmt, kindCreate) {
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	images := invalidation.ValueImages(stmt.Context, stmt.Schema, stmt.ReflectValue)
	if storedDiffers(stmt, images) {
		where, ok := invalidation.PrimaryKeyWhere(stmt.Schema, images)
		images = nil
		if ok {
			var broken error
			images, _, broken = p.readRows(db, stmt.Schema, stmt.ConnPool, where, false, MaxImageRows)
			db.AddError(broken)
		}
	}
	if int64(len(images)) != db.RowsAffected {
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	p.deliverImages(db, stmt.Schema, images)
}

// storedDiffers reports whether the rows a create stored may differ from
// its model values, so that they must be read back: columns the INSERT does
// not write (Select, Omit, fields GORM may not create: `<-:false`,
// `<-:update`, `->`) take the database's default, columns with a default
// the database computes, and strings the database may trim or cut (trailing
// spaces in a varchar(n), values longer than the field's size).
func storedDiffers(stmt *gorm.Statement, images []invalidation.Image) bool {
	s := stmt.Schema
	if len(stmt.Selects) > 0 || len(stmt.Omits) > 0 {
		return true
	}
	for _, f := range s.FieldsWithDefaultDBValue {
		if !f.PrimaryKey {
			return true
		}
	}
	for _, f := range s.Fields {
		if f.DBName != "" && !f.Creatable {
			return true
		}
	}
	for _, img := range images {
		for col, v := range img {
			str, ok := v.(string)
			if !ok {
				continue
			}
			if strings.TrimRight(str, " ") != str {
				return true
			}
			if f := s.FieldsByDBName[col]; f != nil && f.Size > 0 && utf8.RuneCountInString(str) > f.Size {
				return true
			}
		}
	}
	return false
}

// deliverImages queues the invalidation of rows of s's table that a write
// changed, computed after the commit against the schemes registered then,
// and of the tables cascades from them reach.
func (p *Plugin) deliverImages(db *gorm.DB, s *schema.Schema, images []invalidation.Image) {
	table := sqlscan.ModelTable(s.Table)
	base, dialect := db.ConnPool, db.Dialector.Name()
	work := func(ctx context.Context) []store.Dep {
		if !p.cascades.load(ctx, dialect, base) {
			return []store.Dep{p.global}
		}
		deps := p.rowDeps(ctx, table, s, images)
		for _, t := range p.cascades.closure([]string{table})[1:] {
			deps = append(deps, store.Dep{Table: p.cfg.Prefix + t})
		}
		if p.cascades.cyclic(table) {
			deps = append(deps, store.Dep{Table: p.cfg.Prefix + table})
		}
		return deps
	}
	invalidation.Deliver(db.Statement.Context, db.Statement.ConnPool, p.invalidate, work)
}

// afterRaw runs after db.Exec.
func (p *Plugin) afterRaw(db *gorm.DB) {
	if db.DryRun || db.Statement.SQL.Len() == 0 {
		return
	}
	a := p.analyze(db.Statement.SQL.String())
	if a.Harmless || (a.ReadOnly && !a.Unknown) {
		return
	}
	p.deliverWrites(db, a)
}

// deliverWrites invalidates what a written statement may have changed: the
// tables it writes, the tables their cascading foreign keys reach, and
// everything when the tables cannot be determined. DDL also makes the
// plugin forget what it learned of the tables' definitions.
func (p *Plugin) deliverWrites(db *gorm.DB, a *sqlscan.Analysis) {
	if a.DDL || a.Unknown {
		p.cascades.forget()
		p.trust.forget(a.Writes, a.Unknown)
	}
	if a.Unknown && !p.cfg.TrustUnparsedExec {
		p.deliver(db, []store.Dep{p.global})
		return
	}
	p.deliverTables(db, a.Writes)
}

// deliverTables invalidates, after the commit, every result that reads one
// of tables or a table their cascading foreign keys reach.
func (p *Plugin) deliverTables(db *gorm.DB, tables []string) {
	base, dialect := db.ConnPool, db.Dialector.Name()
	work := func(ctx context.Context) []store.Dep {
		if !p.cascades.load(ctx, dialect, base) {
			return []store.Dep{p.global}
		}
		return p.tableDeps(tables)
	}
	invalidation.Deliver(db.Statement.Context, db.Statement.ConnPool, p.invalidate, work)
}

// tableDeps returns the whole-table dependencies of tables and of the
// tables their cascading foreign keys reach: renewing them invalidates
// everything that reads those tables.
func (p *Plugin) tableDeps(tables []string) []store.Dep {
	tables = p.cascades.closure(tables)
	deps := make([]store.Dep, 0, len(tables))
	for _, t := range tables {
		deps = append(deps, store.Dep{Table: p.cfg.Prefix + t})
	}
	return deps
}

// deliver invalidates deps after the commit of db's transaction, or at once.
func (p *Plugin) deliver(db *gorm.DB, deps []store.Dep) {
	invalidation.Deliver(db.Statement.Context, db.Statement.ConnPool, p.invalidate, invalidation.Deps(deps...))
}

// invalidate is the plugin's invalidation sink.
func (p *Plugin) invalidate(ctx context.Context, deps []store.Dep) {
	deps = dedupe(deps)
	if err := p.store.Invalidate(context.WithoutCancel(ctx), deps...); err != nil {
		p.logError(ctx, err)
		return
	}
	p.countInvalidated(deps)
}

func dedupe(deps []store.Dep) []store.Dep {
	if len(deps) < 2 {
		return deps
	}
	seen := make(map[store.Dep]struct{}, len(deps))
	out := deps[:0:0]
	for _, d := range deps {
		if _, ok := seen[d]; !ok {
			seen[d] = struct{}{}
			out = append(out, d)
		}
	}
	return slices.Clip(out)
}
