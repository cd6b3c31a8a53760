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
// statement names. It takes them from the database's catalogue (SQLite,
// PostgreSQL, MySQL), read when a write first needs them and again after
// DDL, so that a child table is known whoever created it and however its
// rows were read; and from the constraints of the GORM models the plugin
// meets, for other dialects.
type cascades struct {
	learned sync.Map // *schema.Schema -> struct{}: its tags were read

	mu     sync.Mutex
	tagged map[string][]string // referenced table -> constrained tables, from tags
	db     map[string][]string // the same, from the catalogue; nil: not read
	readAt time.Time           // when db was read
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
func (c *cascades) forget() {
	c.mu.Lock()
	c.db = nil
	c.mu.Unlock()
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
func (c *cascades) load(ctx context.Context, dialect string, pool gorm.ConnPool) (ok bool) {
	query, known := catalogueQueries[dialect]
	if !known {
		return true // other dialects: the models' tags only
	}
	c.mu.Lock()
	fresh := c.db != nil && time.Since(c.readAt) < cascadesMaxAge
	c.mu.Unlock()
	if fresh {
		return true
	}
	readAt := time.Now()
	rows, err := pool.QueryContext(ctx, query)
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
	c.mu.Lock()
	c.db, c.readAt = graph, readAt
	c.mu.Unlock()
	return true
}

// closure returns tables and every table a cascade from them can reach.
func (c *cascades) closure(tables []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), tables...)
	if len(c.tagged) == 0 && len(c.db) == 0 {
		return out
	}
	for i := 0; i < len(out); i++ {
		for _, graph := range []map[string][]string{c.tagged, c.db} {
			for _, t := range graph[out[i]] {
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
func (c *cascades) cyclic(table string) bool {
	c.mu.Lock()
	next := slices.Concat(c.tagged[table], c.db[table])
	c.mu.Unlock()
	return slices.Contains(c.closure(next), table)
}
