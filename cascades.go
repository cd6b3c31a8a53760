package gormcache

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/sqlscan"
)

// cascadesMaxAge bounds how long the foreign keys read from the database
// are trusted: DDL through this plugin renews them at once, DDL by anyone
// else (another instance's migration) within cascadesMaxAge.
const cascadesMaxAge = time.Minute

// cascades knows which tables a write to another table can change through
// foreign keys declared ON DELETE or ON UPDATE CASCADE, SET NULL or SET
// DEFAULT: a delete of a parent row deletes or changes child rows that no
// statement names. It takes them from the constraints of the GORM models
// the plugin meets, and from each database's catalogue (SQLite,
// PostgreSQL, MySQL: foreignKeys), so that a child table is known whoever
// created it and however its rows were read.
type cascades struct {
	learned sync.Map // *schema.Schema -> struct{}: its tags were read

	mu     sync.Mutex
	tagged map[string][]string // referenced table -> constrained tables, from tags
}

// foreignKeys are the cascading foreign keys of one database, read from
// its catalogue when a write first needs them and again after DDL. Each
// database has its own: one plugin may serve several, whose tables share
// names but not constraints.
type foreignKeys struct {
	mu     sync.Mutex
	graph  map[string][]string // referenced table -> constrained tables; nil: not read
	readAt time.Time           // when graph was read
}

// learn records the cascading constraints GORM's tags declare on s, on the
// schemas its relations lead to, and on its join tables.
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
	from, to := sqlscan.ModelTable(con.ReferenceSchema.Table), sqlscan.ModelTable(con.Schema.Table)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tagged == nil {
		c.tagged = map[string][]string{}
	}
	if !slices.Contains(c.tagged[from], to) {
		c.tagged[from] = append(c.tagged[from], to)
	}
}

// cascading reports a referential action that changes the constrained
// rows: CASCADE, SET NULL, SET DEFAULT, as GORM's tags, SQLite and MySQL
// spell them, or as PostgreSQL's catalogue codes them (c, n, d).
func cascading(action string) bool {
	switch strings.ToUpper(strings.TrimSpace(action)) {
	case "CASCADE", "SET NULL", "SET DEFAULT", "C", "N", "D":
		return true
	}
	return false
}

// forget drops what was read from the catalogue: DDL changed it.
func (k *foreignKeys) forget() {
	k.mu.Lock()
	k.graph = nil
	k.mu.Unlock()
}

// catalogueQueries read, per dialect, every foreign key of the database as
// (constrained table, referenced table, ON UPDATE action, ON DELETE action).
// PostgreSQL's cover every schema: names are reduced to their last
// component, like every table name the plugin tracks.
var catalogueQueries = map[string]string{
	"sqlite": `SELECT m.name, f."table", f.on_update, f.on_delete
		FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
	"postgres": `SELECT c.relname, r.relname, k.confupdtype::text, k.confdeltype::text
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
		WHERE k.contype = 'f'`,
	"mysql": `SELECT TABLE_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE
		FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()`,
}

// load reads the database's cascading foreign keys through pool unless
// they were read less than cascadesMaxAge ago. It runs after the write
// that needs them has committed, outside any transaction. ok is false when
// they cannot be read: the caller must then assume a cascade may reach any
// table.
func (k *foreignKeys) load(ctx context.Context, dialect string, pool gorm.ConnPool) (ok bool) {
	k.mu.Lock()
	fresh := k.graph != nil && time.Since(k.readAt) < cascadesMaxAge
	k.mu.Unlock()
	if fresh {
		return true
	}
	// ctx is a delivery's, which its caller's end does not cancel
	// (deliver): only a database that does not answer stops the read.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	readAt := time.Now()
	rows, err := pool.QueryContext(ctx, catalogueQueries[dialect])
	if err != nil {
		return false
	}
	defer rows.Close()
	graph := map[string][]string{}
	for rows.Next() {
		var child, parent, onUpdate, onDelete string
		if err := rows.Scan(&child, &parent, &onUpdate, &onDelete); err != nil {
			return false
		}
		if !cascading(onUpdate) && !cascading(onDelete) {
			continue
		}
		from, to := strings.ToLower(parent), strings.ToLower(child)
		if !slices.Contains(graph[from], to) {
			graph[from] = append(graph[from], to)
		}
	}
	if rows.Err() != nil {
		return false
	}
	k.mu.Lock()
	k.graph, k.readAt = graph, readAt
	k.mu.Unlock()
	return true
}

// read returns the graph last read, or nil; it is never modified once
// stored. k may be nil: a dialect whose catalogue the plugin does not read.
func (k *foreignKeys) read() map[string][]string {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.graph
}

// closure returns tables and every table a cascade from them can reach,
// through the models' constraints and the database's foreign keys (keys,
// nil on dialects whose catalogue the plugin does not read).
func (c *cascades) closure(keys *foreignKeys, tables []string) []string {
	graph := keys.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), tables...)
	if len(c.tagged) == 0 && len(graph) == 0 {
		return out
	}
	for i := 0; i < len(out); i++ {
		for _, g := range []map[string][]string{c.tagged, graph} {
			for _, t := range g[out[i]] {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// cyclic reports whether a cascade from table can come back to it (a
// self-referencing foreign key, say): a write to the table then changes
// rows of it that the write's images do not show.
func (c *cascades) cyclic(keys *foreignKeys, table string) bool {
	c.mu.Lock()
	next := slices.Concat(c.tagged[table], keys.read()[table])
	c.mu.Unlock()
	return slices.Contains(c.closure(keys, next), table)
}
