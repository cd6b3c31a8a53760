package gormcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/aftercommit"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
)

// The write path. GORM's create, update and delete callbacks are followed
// by the plugin's, which turn each write into a change — its rows before
// and after, or the tables it writes — queued on the write's transaction
// and delivered right after it commits (deliver.go). Raw SQL (db.Exec) is
// analysed for the tables it writes.

// writeKind is the kind of GORM write a callback follows: each has its own
// callbacks, so the kind is never guessed from the SQL.
type writeKind uint8

const (
	kindCreate writeKind = iota
	kindUpdate
	kindDelete
)

// imaged tells whether the rows stmt writes can be imaged, and otherwise
// why not: it must write rows of its model's own table only — no other
// table named by Table, by the INSERT or UPDATE clause, nor a FROM list of
// its own (UPDATE ... FROM, DELETE ... USING) —, with no modifier that may
// change rows it does not name (INSERT OR REPLACE, UPDATE OR REPLACE, ON
// CONFLICT), and its table must be invalidated at row level.
func (p *Plugin) imaged(stmt *gorm.Statement, kind writeKind) invalidation.Reason {
	s := stmt.Schema
	if s == nil || stmt.TableExpr != nil || stmt.Table != s.Table {
		return invalidation.ReasonStatement
	}
	if p.precisionOf(s) != RowLevel {
		return invalidation.ReasonPrecision
	}
	ownTable := func(t clause.Table) bool {
		return t.Name == "" || t.Name == clause.CurrentTable || t.Name == s.Table
	}
	switch kind {
	case kindCreate:
		if c, ok := stmt.Clauses["INSERT"]; ok {
			if ins, ok := c.Expression.(clause.Insert); !ok || ins.Modifier != "" || !ownTable(ins.Table) {
				return invalidation.ReasonStatement
			}
		}
		if _, upsert := stmt.Clauses["ON CONFLICT"]; upsert {
			return invalidation.ReasonStatement
		}
	case kindUpdate:
		if c, ok := stmt.Clauses["UPDATE"]; ok {
			if upd, ok := c.Expression.(clause.Update); !ok || upd.Modifier != "" || !ownTable(upd.Table) {
				return invalidation.ReasonStatement
			}
		}
		if _, from := stmt.Clauses["FROM"]; from {
			return invalidation.ReasonStatement
		}
	case kindDelete:
		if c, ok := stmt.Clauses["FROM"]; ok {
			if from, ok := c.Expression.(clause.From); !ok || len(from.Tables) > 0 || len(from.Joins) > 0 {
				return invalidation.ReasonStatement
			}
		}
	}
	return invalidation.ReasonNone
}

// capture stands in for the statement's connection pool while an update or
// delete runs. The first time the statement's SQL reaches the database —
// GORM has then added every condition, scopes and primary keys included —
// it first reads, in the same transaction and under lock, the rows the
// statement is about to change, and keeps the SET clause of an update,
// which GORM drops once the statement has run.
type capture struct {
	gorm.ConnPool
	p    *Plugin
	db   *gorm.DB
	done bool
	old  []rowimage.Image
	err  error // why old was not read
	set  clause.Set
}

// before reads the rows the statement is about to change, the first time
// it runs. It returns the error the statement must fail with when that read
// left the transaction unusable (see broken): the statement is then not
// run, and fails as the database would have failed it.
func (c *capture) before() error {
	if c.done {
		return nil
	}
	c.done = true
	stmt := c.db.Statement
	if cl, ok := stmt.Clauses["SET"]; ok {
		c.set, _ = cl.Expression.(clause.Set)
	}
	c.old, c.err = c.p.rows.Read(c.db, stmt.Schema, c.ConnPool, writtenTo(c.db), whereOf(stmt), true, c.p.cfg.MaxWriteRows)
	return broken(c.err)
}

// broken returns err when it says the write's transaction is unusable,
// rather than why rows were not read.
func broken(err error) error {
	if err == nil || errors.Is(err, rowimage.ErrTooManyRows) || errors.Is(err, rowimage.ErrUnreadable) {
		return nil
	}
	return err
}

// readReason is why a write whose rows were read with err is invalidated
// by table.
func readReason(err error) invalidation.Reason {
	if errors.Is(err, rowimage.ErrTooManyRows) {
		return invalidation.ReasonTooManyRows
	}
	return invalidation.ReasonUnreadable
}

func whereOf(stmt *gorm.Statement) clause.Where {
	if cl, ok := stmt.Clauses["WHERE"]; ok {
		where, _ := cl.Expression.(clause.Where)
		return where
	}
	return clause.Where{}
}

func (c *capture) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := c.before(); err != nil {
		return nil, err
	}
	return c.ConnPool.ExecContext(ctx, query, args...)
}

func (c *capture) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := c.before(); err != nil {
		return nil, err
	}
	return c.ConnPool.QueryContext(ctx, query, args...)
}

// wrap returns pool wrapped so that its transactions invalidate after
// their commit (aftercommit.Wrap). A *sql.DB gets one wrapper for good, so
// that the identity of its database is read once.
func (p *Plugin) wrap(pool gorm.ConnPool) gorm.ConnPool {
	if _, ok := pool.(*sql.DB); !ok {
		return aftercommit.Wrap(pool, p.sinks())
	}
	if w, ok := p.wrappers.Load(pool); ok {
		return w.(gorm.ConnPool)
	}
	w, _ := p.wrappers.LoadOrStore(pool, aftercommit.Wrap(pool, p.sinks()))
	return w.(gorm.ConnPool)
}

// sinks are where the changes of a transaction go: delivered after its
// commit; after its rollback, those the rollback did not undo.
func (p *Plugin) sinks() aftercommit.Sinks[*change] {
	return aftercommit.Sinks[*change]{Committed: p.deliver, RolledBack: p.rolledBack}
}

// rolledBack delivers the changes of a rolled-back transaction that the
// rollback may not have undone: on MySQL, those to a table whose engine
// has no transactions (MyISAM, Aria, MEMORY), and those whose tables
// cannot be told.
func (p *Plugin) rolledBack(ctx context.Context, changes []*change) {
	var kept []*change
	for _, c := range changes {
		if c.db.Dialector.Name() == "mysql" && p.keepsRolledBack(ctx, c) {
			kept = append(kept, c)
		}
	}
	if len(kept) > 0 {
		p.deliver(ctx, kept)
	}
}

// keepsRolledBack reports whether a MySQL rollback may have left the
// change c made: it writes a table whose engine has no transactions (as
// the catalogue tells; a table it cannot read counts as transactional),
// or tables that cannot be told.
func (p *Plugin) keepsRolledBack(ctx context.Context, c *change) bool {
	if c.manual() {
		return false
	}
	if len(c.event.Tables) == 0 || c.pool == nil {
		return true
	}
	_, catalogue := p.columnsAt(ctx, c.db, c.pool, nil, c.event.Tables)
	if catalogue == nil {
		return true
	}
	return slices.ContainsFunc(c.event.Tables, catalogue.catalog.KeepsRolledBack)
}

// manual reports whether c is not a write's but an application's call
// (Forget, InvalidateTable...): a rollback drops it.
func (c *change) manual() bool {
	return c.event.Level == invalidation.Key || c.event.Reason == invalidation.ReasonManual
}

// resolverCallback is the name of dbresolver's callbacks, which choose the
// pool of each statement.
const resolverCallback = "gorm:db_resolver"

// wrapResolver makes the pools dbresolver chooses the plugin's, when it
// was registered before the plugin: its sources and replicas were opened
// without the plugin, and transactions begun on them, by GORM for a write
// or by the application (db.Clauses(dbresolver.Write).Begin(), which calls
// the callback itself), would not tell the plugin of their commit.
// Registered after the plugin, dbresolver opens them with it.
func (p *Plugin) wrapResolver(db *gorm.DB) error {
	cb := db.Callback()
	// dbresolver's callbacks run before every other (Before("*")), and
	// only a replacement that says so too keeps its place.
	for _, proc := range []struct {
		get     func(name string) func(*gorm.DB)
		replace func(name string, fn func(*gorm.DB)) error
	}{
		{cb.Create().Get, cb.Create().Before("*").Replace},
		{cb.Query().Get, cb.Query().Before("*").Replace},
		{cb.Update().Get, cb.Update().Before("*").Replace},
		{cb.Delete().Get, cb.Delete().Before("*").Replace},
		{cb.Row().Get, cb.Row().Before("*").Replace},
		{cb.Raw().Get, cb.Raw().Before("*").Replace},
	} {
		resolve := proc.get(resolverCallback)
		if resolve == nil {
			continue
		}
		if err := proc.replace(resolverCallback, func(db *gorm.DB) {
			resolve(db)
			db.Statement.ConnPool = p.ownPool(db.Statement.ConnPool)
		}); err != nil {
			return err
		}
	}
	return nil
}

// ownPool returns pool, chosen by dbresolver for a statement, wrapped by
// the plugin if it is a *sql.DB (a source's or a replica's), or a
// *gorm.PreparedStmtDB on one, which dbresolver makes per statement and is
// copied around the wrapper. Anything else (a transaction, a connection of
// db.Connection) is left as it is.
func (p *Plugin) ownPool(pool gorm.ConnPool) gorm.ConnPool {
	switch pool := pool.(type) {
	case *sql.DB:
		return p.wrap(pool)
	case *gorm.PreparedStmtDB:
		if inner, ok := pool.ConnPool.(*sql.DB); ok {
			cp := *pool
			cp.ConnPool = p.wrap(inner)
			return &cp
		}
	}
	return pool
}

// adoptTransaction runs right after GORM begins a write's own transaction.
// A transaction begun on a pool the plugin did not wrap — one that another
// plugin chose — is wrapped here, so that its invalidations wait for its
// commit like any other.
func (p *Plugin) adoptTransaction(db *gorm.DB) {
	if _, started := db.InstanceGet("gorm:started_transaction"); started {
		db.Statement.ConnPool = aftercommit.Adopt(db.Statement.ConnPool, p.sinks())
	}
}

// beforeUpdate and beforeDelete run right before GORM's update and delete:
// for a statement whose rows can be imaged, inside a transaction, they
// install a capture of the old rows.
func (p *Plugin) beforeUpdate(db *gorm.DB) { p.beforeChange(db, kindUpdate) }
func (p *Plugin) beforeDelete(db *gorm.DB) { p.beforeChange(db, kindDelete) }

func (p *Plugin) beforeChange(db *gorm.DB, kind writeKind) {
	stmt := db.Statement
	if db.Error != nil || db.DryRun || p.imaged(stmt, kind) != invalidation.ReasonNone ||
		aftercommit.TxOf[*change](stmt.ConnPool) == nil {
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
	if db.DryRun || stmt.SQL.Len() == 0 {
		return // nothing reached the database
	}
	if _, soft := stmt.Clauses["SET"]; soft && kind == kindDelete {
		// A soft delete (gorm.DeletedAt, gorm.io/plugin/soft_delete): the
		// delete ran an UPDATE, and its rows have new values, which results
		// may select on (WHERE is_del = 1).
		kind = kindUpdate
	}
	if db.Error == nil && db.RowsAffected == 0 {
		p.writeNothing(db, kind)
		return
	}
	p.cascades.learn(stmt.Schema)
	reason := p.imaged(stmt, kind)
	switch {
	case reason != invalidation.ReasonNone:
	case !captured:
		reason = invalidation.ReasonNoTransaction
	case c.err != nil:
		reason = readReason(c.err)
	case db.Error != nil || db.RowsAffected > int64(len(c.old)):
		// Rows the capture did not see changed (or the write failed half
		// way).
		reason = invalidation.ReasonUnreadable
	}
	if reason != invalidation.ReasonNone {
		p.writeTables(db, reason)
		return
	}
	images := c.old
	if kind == kindUpdate { // the rows as they are now
		now, ok := p.assigned(db, c.set, c.old)
		if !ok {
			where, pk := rowimage.PrimaryKeyWhere(stmt.Schema, c.old)
			err := rowimage.ErrUnreadable
			if pk {
				now, err = p.rows.Read(db, stmt.Schema, stmt.ConnPool, writtenTo(db), where, false, len(c.old))
				db.AddError(broken(err))
			}
			if err != nil || len(now) != len(c.old) {
				p.writeTables(db, invalidation.ReasonUnreadable)
				return
			}
		}
		images = append(images, now...)
	}
	p.writeRows(db, kind, images, false)
}

// assigned returns the rows an UPDATE changed as they are now, without
// reading them again, when its SET clause (set) tells every value that
// matters: the old rows with the assignments applied. That is on MySQL
// only, when its catalogue says that the table stores what an UPDATE
// assigns (collation.Catalog.StoresAssigned: strict sql_mode, no generated
// column), no field is one GORM may not update (perhaps computed), and
// each assignment is a value — not an expression — of its field's kind
// that the database stores as it is (storedAsSent). It spares each UPDATE
// a round trip; a BEFORE UPDATE trigger that may change the row makes the
// table's writes invalidate it as a whole (cascades.cyclic). Elsewhere ok
// is false: the caller reads the rows.
func (p *Plugin) assigned(db *gorm.DB, set clause.Set, old []rowimage.Image) (now []rowimage.Image, ok bool) {
	s := db.Statement.Schema
	if len(set) == 0 || !p.storesAssigned(db, sqlscan.ModelTable(s.Table)) {
		return nil, false
	}
	for _, f := range s.Fields {
		if f.DBName != "" && !f.Updatable {
			return nil, false // perhaps a column the database computes
		}
	}
	values := make(map[string]any, len(set))
	for _, a := range set {
		f := depscan.Field(s, a.Column.Name)
		if f == nil {
			continue // no image holds it: a scheme on it reaches the whole table
		}
		if !plainValue(a.Value) || !storedAsSent(f, a.Value) {
			return nil, false
		}
		if _, canon := depscan.Canon(a.Value, f); !canon && depscan.Equatable(f) {
			return nil, false // not of the field's kind: reading it is more precise
		}
		values[strings.ToLower(f.DBName)] = a.Value
	}
	now = make([]rowimage.Image, len(old))
	for i, img := range old {
		now[i] = maps.Clone(img)
		maps.Copy(now[i], values)
	}
	return now, true
}

// plainValue reports whether v, assigned to a column, is a value, not SQL
// that GORM writes in its place (an expression, a column, a subquery, a
// list).
func plainValue(v any) bool {
	switch v.(type) {
	case []byte:
		return true
	case clause.Expression, gorm.Valuer, *gorm.DB, clause.Column, clause.Table:
		return false
	}
	rv := reflect.ValueOf(v)
	return !rv.IsValid() || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array
}

// afterCreate runs right after GORM's create, before the commit.
func (p *Plugin) afterCreate(db *gorm.DB) {
	stmt := db.Statement
	if db.DryRun || stmt.SQL.Len() == 0 {
		return
	}
	if db.Error == nil && db.RowsAffected == 0 {
		p.writeNothing(db, kindCreate)
		return
	}
	p.cascades.learn(stmt.Schema)
	reason := p.imaged(stmt, kindCreate)
	if db.Error != nil && reason == invalidation.ReasonNone {
		reason = invalidation.ReasonUnreadable
	}
	if reason != invalidation.ReasonNone {
		p.writeTables(db, reason)
		return
	}
	images := rowimage.ValueImages(stmt.Context, stmt.Schema, stmt.ReflectValue)
	if db.Dialector.Name() == "mysql" && guessedKeys(stmt, len(images)) {
		p.writeTables(db, invalidation.ReasonUnreadable)
		return
	}
	asWritten := !storedDiffers(stmt, images)
	if !asWritten {
		where, ok := rowimage.PrimaryKeyWhere(stmt.Schema, images)
		images = nil
		if ok {
			var err error
			images, err = p.rows.Read(db, stmt.Schema, stmt.ConnPool, writtenTo(db), where, false, p.cfg.MaxWriteRows)
			db.AddError(broken(err))
		}
	}
	if int64(len(images)) != db.RowsAffected {
		p.writeTables(db, invalidation.ReasonUnreadable)
		return
	}
	p.writeRows(db, kindCreate, images, asWritten)
}

// storedDiffers reports whether the rows a create stored may differ from
// its model values, so that they must be read back: columns the INSERT does
// not write (Select, Omit, fields GORM may not create: `<-:false`,
// `<-:update`, `->`) take the database's default, columns with a default
// the database computes, and strings the database may trim or cut (trailing
// spaces in a varchar(n), values longer than the field's size).
func storedDiffers(stmt *gorm.Statement, images []rowimage.Image) bool {
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
			if !storedAsSent(s.FieldsByDBName[col], v) {
				return true
			}
		}
	}
	return false
}

// storedAsSent reports whether the database stores v, written to the
// column of f (nil: unknown), as it is, as far as strings go: not when it
// may trim or cut it (trailing spaces in a varchar(n), longer than the
// field's size). v is taken as database/sql sends it (pointers followed,
// Value called).
func storedAsSent(f *schema.Field, v any) bool {
	if sent, err := driver.DefaultParameterConverter.ConvertValue(v); err == nil {
		v = sent
	}
	str, ok := v.(string)
	return !ok || strings.TrimRight(str, " ") == str && (f == nil || f.Size <= 0 || utf8.RuneCountInString(str) <= f.Size)
}

// guessedKeys reports whether GORM guessed the auto-increment keys of the
// rows a create of n rows inserted, rather than read them: MySQL returns
// the first key only, and GORM counts up from it, but the keys of one
// INSERT need not follow each other (innodb_autoinc_lock_mode = 2, the
// default of MySQL 8, interleaves concurrent inserts; auto_increment_increment
// may differ from 1). MariaDB returns them with RETURNING.
func guessedKeys(stmt *gorm.Statement, n int) bool {
	pk := stmt.Schema.PrioritizedPrimaryField
	_, returning := stmt.Clauses["RETURNING"]
	return n > 1 && !returning && pk != nil && pk.AutoIncrement
}

// writeNothing queues what a write of kind that changed no row may still
// have changed: what the triggers it fired write. Statement-level triggers
// fire whatever the rows; so do BEFORE triggers on the rows an upsert or
// an INSERT IGNORE then skips, and MySQL's UPDATE triggers on the rows an
// UPDATE leaves as they were (which it does not count as affected). It
// renews nothing when no trigger writes.
func (p *Plugin) writeNothing(db *gorm.DB, kind writeKind) {
	sql := db.Statement.SQL.String()
	a := p.analyze(sql)
	if a.Unknown || len(a.Writes) == 0 {
		return
	}
	p.queue(db, &change{
		event:     invalidation.Event{Statement: sql, Tables: a.Writes, Level: invalidation.Rows},
		on:        eventsOf(kind),
		unchanged: true,
	})
}

// writeRows queues the invalidation of the rows of the statement's table
// that a write of kind changed, before and after: read from the database,
// or asWritten, the values a create sent.
func (p *Plugin) writeRows(db *gorm.DB, kind writeKind, images []rowimage.Image, asWritten bool) {
	s := db.Statement.Schema
	p.queue(db, &change{
		event: invalidation.Event{
			Statement: db.Statement.SQL.String(),
			Tables:    []string{sqlscan.ModelTable(s.Table)},
			Level:     invalidation.Rows,
		},
		s:         s,
		images:    images,
		asWritten: asWritten,
		on:        eventsOf(kind),
	})
}

// writeTables queues the invalidation of the tables the statement's SQL
// writes, for reason.
func (p *Plugin) writeTables(db *gorm.DB, reason invalidation.Reason) {
	p.writeSQL(db, p.analyze(db.Statement.SQL.String()), reason)
}

// afterRaw runs after db.Exec.
func (p *Plugin) afterRaw(db *gorm.DB) {
	if db.DryRun || db.Statement.SQL.Len() == 0 {
		return
	}
	a := p.analyze(db.Statement.SQL.String())
	writes := !a.Harmless && !(a.ReadOnly && !a.Unknown)
	if writes {
		p.writeSQL(db, a, invalidation.ReasonRawSQL)
	}
	p.followTransaction(db, a, writes)
}

// followTransaction follows the transaction-control statements of raw SQL
// run inside a GORM transaction (db.Exec("COMMIT")): the database then
// commits, or rolls back, before GORM's Commit, and runs what follows in
// autocommit mode until a statement begins a transaction again. The work
// queued so far is delivered at once (after a rollback too: an
// invalidation too many, never one too few), and so is that of the
// statements that follow, until one begins a transaction. When the SQL
// ends with a transaction open and wrote, its writes are queued again for
// that transaction's commit: what the SQL wrote after its last BEGIN is
// delivered then too. A statement that failed changes nothing here.
func (p *Plugin) followTransaction(db *gorm.DB, a *sqlscan.Analysis, writes bool) {
	if db.Error != nil {
		return
	}
	tx := aftercommit.TxOf[*change](db.Statement.ConnPool)
	if tx == nil {
		return
	}
	c := sqlscan.Transaction(a)
	if c.Ends {
		tx.Committed()
	}
	if c.Open {
		tx.Began()
		if writes {
			p.writeSQL(db, a, invalidation.ReasonRawSQL)
		}
	}
}

// writeSQL queues the invalidation of what a statement whose SQL a was
// analysed may have changed: the tables it writes, or everything when they
// cannot be determined. DDL also makes the plugin forget what it learned
// of the tables' definitions, now and once it commits.
func (p *Plugin) writeSQL(db *gorm.DB, a *sqlscan.Analysis, reason invalidation.Reason) {
	c := tablesChange(db.Statement.SQL.String(), a.Writes, reason)
	if a.DDL || a.Unknown {
		c.ddl, c.ddlAll = true, a.Unknown
		p.forgetDefinitions(a.Writes, a.Unknown)
	}
	if a.Unknown && !p.cfg.TrustUnparsedExec {
		c.event.Level, c.event.Reason = invalidation.All, invalidation.ReasonUnparsed
	}
	p.queue(db, c)
	if commitsImplicitly(db.Dialector.Name(), a) {
		if tx := aftercommit.TxOf[*change](db.Statement.ConnPool); tx != nil {
			tx.Committed()
		}
	}
}

// commitsImplicitly reports whether a statement analysed as a commits the
// transaction it runs in: on MySQL, DDL and TRUNCATE do (so may a
// statement that cannot be analysed: LOCK TABLES, START TRANSACTION).
// PostgreSQL's and SQLite's DDL is transactional.
func commitsImplicitly(dialect string, a *sqlscan.Analysis) bool {
	if dialect != "mysql" {
		return false
	}
	return a.DDL || a.Unknown || len(a.Tokens) > 0 && a.Tokens[0].Keyword == sqlscan.KwTruncate
}
