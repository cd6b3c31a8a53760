package gormcache

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"

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

// capture stands in for the statement's connection pool while an update or
// delete runs. The first time the statement's SQL reaches the database —
// GORM has then added every condition, scopes and primary keys included —
// it first reads, in the same transaction and under lock, the rows the
// statement is about to change.
type capture struct {
	gorm.ConnPool
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
	stmt := c.db.Statement
	var where clause.Where
	if cl, ok := stmt.Clauses["WHERE"]; ok {
		where, _ = cl.Expression.(clause.Where)
	}
	lock := c.db.Dialector.Name() != "sqlite" // SQLite's write lock covers the read
	c.old, c.ok = invalidation.ReadImages(c.db, c.ConnPool, stmt.Schema, where, lock, MaxImageRows)
}

func (c *capture) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c.before()
	return c.ConnPool.ExecContext(ctx, query, args...)
}

func (c *capture) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c.before()
	return c.ConnPool.QueryContext(ctx, query, args...)
}

// beforeChange runs right before GORM's update and delete: for a model
// statement inside a transaction it installs a capture of the old rows.
func (p *Plugin) beforeChange(db *gorm.DB) {
	stmt := db.Statement
	if db.Error != nil || db.DryRun || !p.rowImages(stmt) || invalidation.TxOf(stmt.ConnPool) == nil {
		return
	}
	stmt.ConnPool = &capture{ConnPool: stmt.ConnPool, db: db}
}

// rowImages reports whether the rows a statement writes can be imaged: it
// writes its model's own table.
func (p *Plugin) rowImages(stmt *gorm.Statement) bool {
	return stmt.Schema != nil && stmt.TableExpr == nil && stmt.Table == stmt.Schema.Table &&
		p.precisionOf(stmt.Schema) == RowLevel
}

// afterChange runs right after GORM's update and delete, before the commit.
func (p *Plugin) afterChange(db *gorm.DB) {
	stmt := db.Statement
	c, captured := stmt.ConnPool.(*capture)
	if captured {
		stmt.ConnPool = c.ConnPool
	}
	if db.DryRun || stmt.SQL.Len() == 0 || (db.Error == nil && db.RowsAffected == 0) {
		return // nothing reached the database, or nothing changed
	}
	p.policyOf(stmt.Schema) // learns the schema's cascading constraints
	if !captured || !c.ok || db.Error != nil || db.RowsAffected > int64(len(c.old)) {
		// Rows the capture did not see changed (or the write failed half
		// way): invalidate the table.
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	images := c.old
	if sql := strings.TrimSpace(stmt.SQL.String()); len(sql) >= 6 && strings.EqualFold(sql[:6], "UPDATE") {
		// An update (a soft delete too): read the rows as they are now.
		where, ok := invalidation.PrimaryKeyWhere(stmt.Schema, c.old)
		var now []invalidation.Image
		if ok {
			now, ok = invalidation.ReadImages(db, stmt.ConnPool, stmt.Schema, where, false, len(c.old))
		}
		if !ok || len(now) != len(c.old) {
			p.deliverWrites(db, p.analyze(stmt.SQL.String()))
			return
		}
		images = append(images, now...)
	}
	p.deliverImages(db, images)
}

// afterCreate runs right after GORM's create, before the commit.
func (p *Plugin) afterCreate(db *gorm.DB) {
	stmt := db.Statement
	if db.DryRun || stmt.SQL.Len() == 0 || (db.Error == nil && db.RowsAffected == 0) {
		return
	}
	p.policyOf(stmt.Schema)
	_, upsert := stmt.Clauses["ON CONFLICT"]
	if db.Error != nil || upsert || !p.rowImages(stmt) {
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	images := invalidation.ValueImages(stmt.Context, stmt.Schema, stmt.ReflectValue)
	if needsReread(stmt) {
		where, ok := invalidation.PrimaryKeyWhere(stmt.Schema, images)
		images = nil
		if ok {
			images, _ = invalidation.ReadImages(db, stmt.ConnPool, stmt.Schema, where, false, MaxImageRows)
		}
	}
	if int64(len(images)) != db.RowsAffected {
		p.deliverWrites(db, p.analyze(stmt.SQL.String()))
		return
	}
	p.deliverImages(db, images)
}

// needsReread reports whether the created model values may differ from the
// rows stored: columns left to the database (defaults it computes, or
// omitted by Select/Omit).
func needsReread(stmt *gorm.Statement) bool {
	if len(stmt.Selects) > 0 || len(stmt.Omits) > 0 {
		return true
	}
	for _, f := range stmt.Schema.FieldsWithDefaultDBValue {
		if !f.PrimaryKey {
			return true
		}
	}
	return false
}

// deliverImages queues the invalidation of the rows a write changed,
// computed after the commit against the schemes registered then, and of the
// tables cascades from them reach.
func (p *Plugin) deliverImages(db *gorm.DB, images []invalidation.Image) {
	s := db.Statement.Schema
	table := sqlscan.NormalizeTable(s.Table)
	var cascaded []store.Dep
	for _, t := range p.cascades.closure([]string{table})[1:] {
		cascaded = append(cascaded, store.Dep{Table: p.cfg.Prefix + t})
	}
	if p.cascades.cyclic(table) {
		cascaded = append(cascaded, store.Dep{Table: p.cfg.Prefix + table})
	}
	work := func(ctx context.Context) []store.Dep {
		return append(p.rowDeps(ctx, table, s, images), cascaded...)
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
// everything when the tables cannot be determined.
func (p *Plugin) deliverWrites(db *gorm.DB, a *sqlscan.Analysis) {
	var deps []store.Dep
	if a.Unknown && !p.cfg.TrustUnparsedExec {
		deps = []store.Dep{p.global}
	} else {
		deps = p.tableDeps(a.Writes)
	}
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
	return out
}

// cascades records which tables a write to another table can change through
// foreign keys declared with ON DELETE / ON UPDATE CASCADE, SET NULL or SET
// DEFAULT in GORM model tags. Constraints that exist only in the database are
// invisible to it (a documented limit).
type cascades struct {
	learned sync.Map // *schema.Schema -> struct{}
	mu      sync.RWMutex
	reach   map[string][]string // referenced table -> constrained tables
}

// learn records the cascading constraints of s, of the schemas its relations
// lead to, and of its join tables.
func (c *cascades) learn(s *schema.Schema) {
	if s == nil {
		return
	}
	if _, done := c.learned.LoadOrStore(s, struct{}{}); done {
		return
	}
	for _, rel := range s.Relationships.Relations {
		c.add(rel)
		if rel.JoinTable != nil {
			for _, jr := range rel.JoinTable.Relationships.Relations {
				c.add(jr)
			}
		}
		if rel.FieldSchema != nil && rel.FieldSchema != s {
			c.learn(rel.FieldSchema)
		}
	}
}

func (c *cascades) add(rel *schema.Relationship) {
	con := rel.ParseConstraint()
	if con == nil || con.Schema == nil || con.ReferenceSchema == nil {
		return
	}
	if !cascading(con.OnDelete) && !cascading(con.OnUpdate) {
		return
	}
	from, to := sqlscan.NormalizeTable(con.ReferenceSchema.Table), sqlscan.NormalizeTable(con.Schema.Table)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reach == nil {
		c.reach = map[string][]string{}
	}
	if !slices.Contains(c.reach[from], to) {
		c.reach[from] = append(c.reach[from], to)
	}
}

func cascading(action string) bool {
	switch strings.ToUpper(strings.TrimSpace(action)) {
	case "CASCADE", "SET NULL", "SET DEFAULT":
		return true
	}
	return false
}

// closure returns tables and every table a cascade from them can reach.
// cyclic reports whether a cascade from table can come back to it (a
// self-referencing foreign key, say): a write to the table then changes
// rows of it that the write's images do not show.
func (c *cascades) cyclic(table string) bool {
	return slices.Contains(c.closure(c.next(table)), table)
}

func (c *cascades) next(table string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.reach[table])
}

func (c *cascades) closure(tables []string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.reach) == 0 {
		return tables
	}
	out := append([]string(nil), tables...)
	for i := 0; i < len(out); i++ {
		for _, t := range c.reach[out[i]] {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}
