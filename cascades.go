package gormcache

import (
	"context"
	"database/sql"
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
	mu    sync.Mutex
	graph map[string][]string // referenced table -> constrained tables; nil: not read
	// related are the relations a write to a table changes without a
	// foreign key, read with graph (see relationQueries).
	// They never make the write's own table cyclic: a view's or a
	// partition's rows are not the table's.
	related relations
	readAt  time.Time // when graph was read
}

// relations are how the relations of a database read each other's rows.
// The zero value has none.
type relations struct {
	// readers: relation -> the relations that read its rows: its views,
	// the parents of a partition or inherited table. What changes the rows
	// of a relation changes what its readers read, and theirs.
	readers map[string][]string
	// under: relation -> the relations that hold the rows written to it:
	// the tables under a view, the partitions and children of a table.
	// Only a write to the relation itself reaches them, not one to a
	// relation it reads (a write to one partition leaves the others).
	under map[string][]string
}

// add records that reader reads the rows of relation, which holds the rows
// written to reader.
func (r *relations) add(relation, reader string) {
	relation, reader = sqlscan.NormalizeTable(relation), sqlscan.NormalizeTable(reader)
	if relation == "" || reader == "" || relation == reader || slices.Contains(r.readers[relation], reader) {
		return
	}
	r.readers[relation] = append(r.readers[relation], reader)
	r.under[reader] = append(r.under[reader], relation)
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
	k.graph, k.related = nil, relations{}
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

// relationQueries read, per dialect, which relations read which other's
// rows, as (relation, reader): on PostgreSQL, each view and each relation
// its rules read, and each partition or inherited table and its parent
// (see relations). Where the catalogue does not tell what a view reads
// (SQLite, MySQL), parse is set and the query reads each view and its SQL,
// whose tables Analyze finds.
var relationQueries = map[string]struct {
	sql   string
	parse bool
}{
	"postgres": {sql: `SELECT DISTINCT t.relname, v.relname
			FROM pg_rewrite w JOIN pg_class v ON v.oid = w.ev_class
			JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid AND d.refclassid = 'pg_class'::regclass
			JOIN pg_class t ON t.oid = d.refobjid
			WHERE v.relkind = 'v' AND t.oid <> v.oid
		UNION SELECT c.relname, p.relname
			FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent`},
	"sqlite": {sql: `SELECT sql, name FROM sqlite_master WHERE type = 'view'`, parse: true},
	"mysql":  {sql: `SELECT VIEW_DEFINITION, TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`, parse: true},
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
	related, ok := readRelations(ctx, dialect, pool)
	if !ok {
		return false
	}
	k.mu.Lock()
	k.graph, k.related, k.readAt = graph, related, readAt
	k.mu.Unlock()
	return true
}

// readRelations reads the relations of relationQueries, and reports
// whether it could.
func readRelations(ctx context.Context, dialect string, pool gorm.ConnPool) (relations, bool) {
	r := relations{readers: map[string][]string{}, under: map[string][]string{}}
	q, ok := relationQueries[dialect]
	if !ok {
		return r, true
	}
	rows, err := pool.QueryContext(ctx, q.sql)
	if err != nil {
		return r, false
	}
	defer rows.Close()
	for rows.Next() {
		var relation sql.NullString
		var reader string
		if err := rows.Scan(&relation, &reader); err != nil {
			return r, false
		}
		if !q.parse {
			r.add(relation.String, reader)
			continue
		}
		for _, t := range sqlscan.Analyze(relation.String).Reads {
			r.add(t, reader)
		}
	}
	return r, rows.Err() == nil
}

// read returns the graph and the related relations last read, or none;
// they are never modified once stored. k may be nil: a dialect whose
// catalogue the plugin does not read.
func (k *foreignKeys) read() (graph map[string][]string, related relations) {
	if k == nil {
		return nil, relations{}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.graph, k.related
}

// closure returns tables and every relation a write to them can change:
// the tables a cascade from them reaches, through the models' constraints
// and the database's foreign keys, and the relations that read what
// changed, or hold the rows written (keys' related; keys is nil on
// dialects whose catalogue the plugin does not read).
func (c *cascades) closure(keys *foreignKeys, tables []string) []string {
	graph, related := keys.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reach(tables, graph, related)
}

// reach is closure, with the database's foreign keys graph and its
// related relations. c.mu must be held.
func (c *cascades) reach(tables []string, graph map[string][]string, related relations) []string {
	out := append([]string(nil), tables...)
	if len(c.tagged) == 0 && len(graph) == 0 && len(related.readers) == 0 {
		return out
	}
	// written tells the relations whose rows a write or a cascade changed
	// from those that only read them; a relation read, then written, is
	// visited again.
	written := make(map[string]bool, len(out))
	for _, t := range out {
		written[t] = true
	}
	queue := slices.Clone(out)
	reached := func(t string, rows bool) {
		was, ok := written[t]
		if ok && (was || !rows) {
			return
		}
		if !ok {
			out = append(out, t)
		}
		written[t] = rows
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if written[t] {
			for _, g := range []map[string][]string{c.tagged, graph, related.under} {
				for _, next := range g[t] {
					reached(next, true)
				}
			}
		}
		for _, next := range related.readers[t] {
			reached(next, false)
		}
	}
	return out
}

// cyclic reports whether a cascade from table can come back to it (a
// self-referencing foreign key, say): a write to the table then changes
// rows of it that the write's images do not show.
func (c *cascades) cyclic(keys *foreignKeys, table string) bool {
	graph, _ := keys.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.reach(slices.Concat(c.tagged[table], graph[table]), graph, relations{}), table)
}
