package gormcache

import (
	"context"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// afterWrite runs after GORM's create, update and delete callbacks, before
// the commit of their transaction: it queues the invalidation of the tables
// the statement wrote (delivered after commit).
func (p *Plugin) afterWrite(db *gorm.DB) {
	stmt := db.Statement
	if db.DryRun || stmt.SQL.Len() == 0 || (db.Error == nil && db.RowsAffected == 0) {
		return // nothing reached the database, or nothing changed
	}
	p.policyOf(stmt.Schema) // learns the schema's cascading constraints
	p.deliverWrites(db, sqlscan.Analyze(stmt.SQL.String()))
}

// afterRaw runs after db.Exec.
func (p *Plugin) afterRaw(db *gorm.DB) {
	if db.DryRun || db.Statement.SQL.Len() == 0 {
		return
	}
	a := sqlscan.Analyze(db.Statement.SQL.String())
	if a.Harmless || (a.ReadOnly && !a.Unknown) {
		return
	}
	p.deliverWrites(db, a)
}

// deliverWrites invalidates what a written statement may have changed: the
// tables it writes, the tables their cascading foreign keys reach, and
// everything when the tables cannot be determined.
func (p *Plugin) deliverWrites(db *gorm.DB, a sqlscan.Analysis) {
	var deps []store.Dep
	if a.Unknown && !p.cfg.TrustUnparsedExec {
		deps = []store.Dep{p.global}
	} else {
		deps = p.tableDeps(p.cascades.closure(a.Writes))
	}
	invalidation.Deliver(db.Statement.Context, db.Statement.ConnPool, p.invalidate, deps)
}

// invalidate is the plugin's invalidation sink.
func (p *Plugin) invalidate(ctx context.Context, deps []store.Dep) {
	deps = dedupe(deps)
	if err := p.store.Invalidate(context.WithoutCancel(ctx), deps...); err != nil {
		p.logError(ctx, err)
		return
	}
	p.stats.invalidated.Add(uint64(len(deps)))
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
