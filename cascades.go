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

// cascadesMaxAge bounds how long the foreign keys and triggers read from
// the database are trusted: DDL through this plugin renews them at once,
// DDL by anyone else (another instance's migration) within cascadesMaxAge.
const cascadesMaxAge = time.Minute

// cascades knows which tables a write to another table can change through
// foreign keys declared ON DELETE or ON UPDATE CASCADE, SET NULL or SET
// DEFAULT: a delete of a parent row deletes or changes child rows that no
// statement names. It takes them from the constraints of the GORM models
// the plugin meets, and from each database's catalogue (SQLite,
// PostgreSQL, MySQL: foreignKeys), so that a child table is known whoever
// created it and however its rows were read. The catalogue also tells the
// tables the database's triggers write (see triggerQueries).
type cascades struct {
	learned sync.Map // *schema.Schema -> struct{}: its tags were read

	mu     sync.Mutex
	tagged map[string][]string // referenced table -> constrained tables, from tags
}

// foreignKeys are the cascading foreign keys and the triggers of one
// database, read from its catalogue when a write first needs them and again
// after DDL. Each database has its own: one plugin may serve several, whose
// tables share names but not constraints.
type foreignKeys struct {
	mu    sync.Mutex
	graph map[string][]string // referenced table -> constrained tables; nil: not read
	// triggers: table -> the triggers a write to it may fire, read with
	// graph (see triggerQueries).
	triggers map[string][]trigger
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
	k.graph, k.triggers, k.related = nil, nil, relations{}
	k.mu.Unlock()
}

// catalogueQueries read, per dialect, every foreign key of the database as
// (constrained table, referenced table, ON UPDATE action, ON DELETE action).
// PostgreSQL's cover every schema, MySQL's the keys of the database and
// those of other databases that reference its tables: names are reduced
// to their last component, like every table name the plugin tracks.
var catalogueQueries = map[string]string{
	"sqlite": `SELECT m.name, f."table", f.on_update, f.on_delete
		FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`,
	"postgres": `SELECT c.relname, r.relname, k.confupdtype::text, k.confdeltype::text
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
		WHERE k.contype = 'f'`,
	"mysql": `SELECT TABLE_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE
		FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE() OR UNIQUE_CONSTRAINT_SCHEMA = DATABASE()`,
}

// relationQueries read, per dialect, which relations read which other's
// rows, as (relation, reader): on PostgreSQL, each view and each relation
// its rules read, and each partition or inherited table and its parent
// (see relations). Where the catalogue does not tell what a view reads
// (SQLite, MySQL), parse is set and the query reads each view and its SQL,
// whose tables Analyze finds; MySQL's, the views of the database and
// those of other databases whose SQL names it (MySQL writes every table a
// view reads with its database).
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
	"mysql": {sql: `SELECT VIEW_DEFINITION, TABLE_NAME FROM information_schema.VIEWS
		WHERE TABLE_SCHEMA = DATABASE() OR VIEW_DEFINITION LIKE CONCAT('%', DATABASE(), '%')`, parse: true},
}

// events are the kinds of write that fire a trigger, as a set.
type events uint8

// The events, in the bits PostgreSQL's pg_trigger.tgtype keeps them in,
// shifted right by 2.
const (
	onInsert events = 1 << iota
	onDelete
	onUpdate
	onTruncate
	anyEvent = onInsert | onDelete | onUpdate | onTruncate
)

// eventsOf returns the events of a GORM write of kind.
func eventsOf(kind writeKind) events {
	switch kind {
	case kindCreate:
		return onInsert
	case kindUpdate:
		return onUpdate
	}
	return onDelete
}

// A trigger is what a trigger of a table does when it fires.
type trigger struct {
	on events
	// changes: it runs before a row is inserted or updated, and may change
	// the row written (PostgreSQL's and MySQL's NEW).
	changes bool
	writes  []string // the tables its statements write
	// anyTable: it runs SQL whose tables cannot be told (see
	// sqlscan.RoutineWrites), or is written in a language other than SQL.
	anyTable bool
}

// sqliteEvent are the events of SQLite's triggers, by the event their
// CREATE TRIGGER statement names (sqlscan.TriggerEvent); any event when it
// cannot be read.
var sqliteEvent = map[string]events{"INSERT": onInsert, "UPDATE": onUpdate, "DELETE": onDelete, "": anyEvent}

// triggerQueries read, per dialect, each trigger the database runs as
// (table, on, changes, body, language): on are the events that fire it,
// changes is trigger's, body is what sqlscan.RoutineWrites reads, in
// language (PostgreSQL's plpgsql and sql, "sql" elsewhere). SQLite's
// events are read from its CREATE TRIGGER statement (on is 0).
// PostgreSQL's rules that act on writes (ON INSERT ... DO ALSO ...) count
// as triggers, their CREATE RULE statement as body.
// PostgreSQL's constraint triggers of foreign keys are left out
// (catalogueQueries reads those keys), and so are disabled triggers. MySQL
// lists only the triggers of tables the session's user holds the TRIGGER
// privilege on.
var triggerQueries = map[string]string{
	"postgres": `SELECT c.relname, (t.tgtype >> 2) & 15, t.tgtype & 3 = 3 AND t.tgtype & 20 <> 0, p.prosrc, l.lanname
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
		JOIN pg_language l ON l.oid = p.prolang
		WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
		UNION ALL SELECT c.relname, CASE r.ev_type WHEN '2' THEN 4 WHEN '3' THEN 1 ELSE 2 END, false, pg_get_ruledef(r.oid), 'sql'
		FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
		WHERE r.ev_type <> '1' AND r.ev_enabled <> 'D'`,
	"sqlite": `SELECT tbl_name, 0, 0, sql, 'sql' FROM sqlite_master WHERE type = 'trigger'`,
	"mysql": `SELECT EVENT_OBJECT_TABLE, CASE EVENT_MANIPULATION WHEN 'INSERT' THEN 1 WHEN 'DELETE' THEN 2 ELSE 4 END,
			ACTION_TIMING = 'BEFORE' AND EVENT_MANIPULATION <> 'DELETE', ACTION_STATEMENT, 'sql'
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`,
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
	triggers, ok := readTriggers(ctx, dialect, pool)
	if !ok {
		return false
	}
	k.mu.Lock()
	k.graph, k.triggers, k.related, k.readAt = graph, triggers, related, readAt
	k.mu.Unlock()
	return true
}

// readTriggers reads the triggers of triggerQueries, by table, and
// reports whether it could.
func readTriggers(ctx context.Context, dialect string, pool gorm.ConnPool) (map[string][]trigger, bool) {
	q, ok := triggerQueries[dialect]
	if !ok {
		return nil, true
	}
	rows, err := pool.QueryContext(ctx, q)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	triggers := map[string][]trigger{}
	for rows.Next() {
		var table, body, language string
		var tr trigger
		if err := rows.Scan(&table, &tr.on, &tr.changes, &body, &language); err != nil {
			return nil, false
		}
		if tr.on == 0 {
			tr.on = sqliteEvent[sqlscan.TriggerEvent(body)]
		}
		writes, ok := sqlscan.RoutineWrites(body)
		tr.anyTable = !ok || language != "sql" && language != "plpgsql"
		for _, w := range writes {
			if w = sqlscan.NormalizeTable(w); !slices.Contains(tr.writes, w) {
				tr.writes = append(tr.writes, w)
			}
		}
		table = strings.ToLower(table)
		triggers[table] = append(triggers[table], tr)
	}
	return triggers, rows.Err() == nil
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

// read returns the graph, the triggers and the related relations last
// read, or none; they are never modified once stored. k may be nil: a
// dialect whose catalogue the plugin does not read.
func (k *foreignKeys) read() (graph map[string][]string, triggers map[string][]trigger, related relations) {
	if k == nil {
		return nil, nil, relations{}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.graph, k.triggers, k.related
}

// closure returns tables and every relation a write to them of events can
// change: the tables a cascade from them reaches, through the models'
// constraints and the database's foreign keys, those the triggers it fires
// write, and the relations that read what changed, or hold the rows
// written (keys' related; keys is nil on dialects whose catalogue the
// plugin does not read). anyTable reports that a trigger it fires may
// write any table.
func (c *cascades) closure(keys *foreignKeys, tables []string, on events) (reached []string, anyTable bool) {
	graph, triggers, related := keys.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reach(tables, on, graph, triggers, related)
}

// reach is closure, with the database's graph, triggers and related
// relations. c.mu must be held.
func (c *cascades) reach(tables []string, on events, graph map[string][]string, triggers map[string][]trigger, related relations) (out []string, anyTable bool) {
	out = append([]string(nil), tables...)
	if len(c.tagged) == 0 && len(graph) == 0 && len(triggers) == 0 && len(related.readers) == 0 {
		return out, false
	}
	// fired tells, for each relation reached, the events of the writes
	// that changed its rows: none for a relation that only reads rows that
	// changed. A relation reached again by more events is visited again.
	// A cascade or a trigger may write rows of any kind.
	fired := make(map[string]events, len(out))
	for _, t := range out {
		fired[t] = on
	}
	queue := slices.Clone(out)
	reached := func(t string, on events) {
		was, ok := fired[t]
		if ok && was|on == was {
			return
		}
		if !ok {
			out = append(out, t)
		}
		fired[t] = was | on
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if on := fired[t]; on != 0 {
			for _, g := range []map[string][]string{c.tagged, graph, related.under} {
				for _, next := range g[t] {
					reached(next, anyEvent)
				}
			}
			for _, tr := range triggers[t] {
				if tr.on&on == 0 {
					continue
				}
				anyTable = anyTable || tr.anyTable
				for _, next := range tr.writes {
					reached(next, anyEvent)
				}
			}
		}
		for _, next := range related.readers[t] {
			reached(next, 0)
		}
	}
	return out, anyTable
}

// cyclic reports whether a write of events to table changes rows of it
// that the write's images do not show: a cascade from the table comes back
// to it (a self-referencing foreign key, a trigger that writes the table,
// itself or through a view, or that writes a partition or a child table
// whose rows the table holds), or a trigger it fires may change the rows
// written.
func (c *cascades) cyclic(keys *foreignKeys, table string, on events) bool {
	graph, triggers, related := keys.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	next := slices.Concat(c.tagged[table], graph[table])
	for _, tr := range triggers[table] {
		if tr.on&on == 0 {
			continue
		}
		if tr.changes {
			return true
		}
		next = append(next, tr.writes...)
	}
	reached, _ := c.reach(next, anyEvent, graph, triggers, related)
	return slices.Contains(reached, table)
}
