package collation

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Catalog holds how the columns of the tables of one database compare, as
// read from its catalogue through the pools Load is given: MySQL's and
// MariaDB's information_schema, PostgreSQL's pg_catalog, SQLite's schema
// table. A table's columns are read when Load first needs them, again once
// they are older than MaxAge, and after Forget; until then, Column answers
// from what was read. A Catalog is ready to use once Dialect is set, and
// must not be copied after first use.
type Catalog struct {
	// Dialect is the database's, as GORM's Dialector names it: "mysql",
	// "postgres" or "sqlite". Load fails for any other.
	Dialect string
	// MaxAge bounds how long a table's columns are trusted: DDL that the
	// caller does not see (another program's) is seen within MaxAge. Zero
	// trusts them until Forget.
	MaxAge time.Duration

	// tables holds what was read, by lowercase table name; a map copied
	// on write (under write), which every cached miss reads and only
	// Load and Forget change.
	tables atomic.Pointer[map[string]*table]
	write  sync.Mutex
	// loading holds a token while the catalogue is read: one reading at a
	// time, waited for no longer than the waiter's context lets it.
	loading     chan struct{}
	loadingOnce sync.Once
	// forgets counts the calls of Forget: a read that one overlapped may
	// predate the DDL, and is kept stale.
	forgets atomic.Uint64

	// gen is the Generation; 0 until asked.
	gen atomic.Uint64

	mu       sync.Mutex
	foldings map[string]*Folding // MySQL's, by collation name; nil: not one Key reproduces
}

// generations numbers the states of every Catalog of the process.
var generations atomic.Uint64

// Generation returns a number that names the state of the Catalog: it
// changes, to one no Catalog of the process had before, before Load or
// Forget stores what it changed and again after, and so whenever Column
// may answer otherwise for some column. So what a caller derived from
// Column between two equal Generations still holds while Generation
// returns the same.
func (c *Catalog) Generation() uint64 {
	if g := c.gen.Load(); g != 0 {
		return g
	}
	c.gen.CompareAndSwap(0, generations.Add(1))
	return c.gen.Load()
}

// bump gives the Catalog a new Generation.
func (c *Catalog) bump() { c.gen.Store(generations.Add(1)) }

// table is what was read of one table.
type table struct {
	columns map[string]Column // lowercase column name -> how it compares
	readAt  time.Time
	// strict: the database stores the values it is sent, or refuses them
	// (on MySQL: the session's sql_mode was strict when it was read).
	strict bool
	// generated: a column's values are computed from the others'
	// (GENERATED ALWAYS AS), so that an UPDATE changes it unassigned.
	generated bool
	// sequence: the relation is a sequence, whose row changes with every
	// value it hands out.
	sequence bool
	// keepsRolledBack: a rollback does not undo the writes to the table
	// (a MySQL engine without transactions: MyISAM, Aria, MEMORY).
	keepsRolledBack bool
	stale           bool // Forget was called: read it again
	// failed: the last read failed; read it again after retryAfter.
	// unread: nor did any before it, and it has no columns.
	failed, unread bool
}

// retryAfter is how long a table whose columns could not be read proves
// nothing (or what was read of it before) before it is read again: a
// database that refuses the query is not asked on every read.
const retryAfter = time.Second

// Column returns how the column of table (names in lower case) compares:
// Other when it was not read, is ambiguous (two tables or columns whose
// names differ only in case) or proves nothing.
func (c *Catalog) Column(tableName, column string) Column {
	if t := c.table(tableName); t != nil {
		return t.columns[column]
	}
	return Column{}
}

// table returns what was read of tableName, or nil.
func (c *Catalog) table(tableName string) *table {
	if m := c.tables.Load(); m != nil {
		return (*m)[tableName]
	}
	return nil
}

// update stores in a copy of tables what change makes of it, between two
// new Generations.
func (c *Catalog) update(change func(tables map[string]*table)) {
	c.write.Lock()
	defer c.write.Unlock()
	c.bump()
	defer c.bump()
	m := map[string]*table{}
	if old := c.tables.Load(); old != nil {
		m = maps.Clone(*old)
	}
	change(m)
	c.tables.Store(&m)
}

// Strict reports whether the database refuses a value of table that it
// cannot store rather than storing another one: always on PostgreSQL and
// SQLite (whose conversions Column accounts for), and on MySQL when the
// sessions that read table had a strict sql_mode (STRICT_TRANS_TABLES or
// STRICT_ALL_TABLES); false when table was not read.
func (c *Catalog) Strict(tableName string) bool {
	t := c.table(tableName)
	return t != nil && t.strict
}

// Sequence reports whether table is a sequence (PostgreSQL's, MariaDB's):
// its row changes with every value it hands out, which no write tells.
// False when table was not read.
func (c *Catalog) Sequence(tableName string) bool {
	t := c.table(tableName)
	return t != nil && t.sequence
}

// KeepsRolledBack reports whether table keeps the writes of a transaction
// that rolls back: a MySQL table whose engine has no transactions
// (MyISAM, Aria, MEMORY). False when table was not read.
func (c *Catalog) KeepsRolledBack(tableName string) bool {
	t := c.table(tableName)
	return t != nil && t.keepsRolledBack
}

// StoresAssigned reports whether an UPDATE of table leaves every column
// that a Column compares (integers, strings) as the UPDATE assigns it: the
// table was read, under a strict sql_mode (see Strict), and none of its
// columns is generated. The columns the database sets ON UPDATE are times,
// which compare as Other. False when table was not read, and on other
// dialects than MySQL, whose generated columns are not read.
func (c *Catalog) StoresAssigned(tableName string) bool {
	t := c.table(tableName)
	return t != nil && t.strict && !t.generated
}

// Forget makes Load read tables again, or every table: DDL changed them.
// What was read is kept until then, for Column, and so that Load can tell
// whether the columns changed.
func (c *Catalog) Forget(tables []string, all bool) {
	c.forgets.Add(1)
	c.update(func(m map[string]*table) {
		for name, t := range m {
			if all || slices.Contains(tables, name) {
				again := *t
				again.stale = true
				m[name] = &again
			}
		}
	})
}

// fresh reports whether tableName was read less than MaxAge ago, and not
// forgotten since.
func (c *Catalog) fresh(tableName string, now time.Time) bool {
	t := c.table(tableName)
	if t == nil {
		return false
	}
	if t.failed {
		return now.Sub(t.readAt) < retryAfter
	}
	return !t.stale && (c.MaxAge == 0 || now.Sub(t.readAt) < c.MaxAge)
}

// Load reads, through pool, the columns of those of tables (lowercase
// names) that are not fresh, and returns the tables whose columns now
// compare otherwise than when they were last read: the values of their
// cached results were named by other Keys, and the caller must invalidate
// them whole. When the database cannot be read, the tables keep what was
// read of them before, if anything (else they prove nothing), until
// Load reads them again retryAfter later, and Load returns the error. A
// Load that waits for another's reading returns ctx's error if ctx ends
// first, having read nothing. It costs nothing but a lookup per table when
// every one is fresh; otherwise one query (two on MySQL, and one more per
// collation met for the first time).
func (c *Catalog) Load(ctx context.Context, pool gorm.ConnPool, tables []string) (changed []string, err error) {
	now := time.Now()
	for _, t := range tables {
		if !c.fresh(t, now) {
			return c.read(ctx, pool, tables, now)
		}
	}
	return nil, nil // the common case, kept small: every cached miss runs it
}

// read is Load's reading of the tables that are not fresh.
func (c *Catalog) read(ctx context.Context, pool gorm.ConnPool, tables []string, now time.Time) (changed []string, err error) {
	c.loadingOnce.Do(func() { c.loading = make(chan struct{}, 1) })
	select {
	case c.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.loading }()
	// Some may have been read meanwhile.
	stale := slices.DeleteFunc(slices.Clone(tables), func(t string) bool { return c.fresh(t, now) })
	if len(stale) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	forgets := c.forgets.Load()
	reader, ok := readers[c.Dialect]
	if !ok {
		return nil, fmt.Errorf("gormcache: no catalogue of the columns of %q databases", c.Dialect)
	}
	defs, strict, err := reader.read(ctx, c, pool, stale)
	if err != nil {
		c.update(func(m map[string]*table) {
			for _, name := range stale {
				failed := &table{columns: map[string]Column{}, unread: true}
				if old := m[name]; old != nil {
					again := *old
					failed = &again
				}
				failed.readAt, failed.failed = now, true
				m[name] = failed
			}
		})
		return nil, fmt.Errorf("gormcache: reading how %s compares the columns of %s: %w", reader.database, strings.Join(stale, ", "), err)
	}
	read := tablesOf(stale, defs, strict)
	overlapped := c.forgets.Load() != forgets
	c.update(func(m map[string]*table) {
		for _, name := range stale {
			t := read[name]
			t.stale = overlapped
			if old := m[name]; old != nil && !old.unread && !sameColumns(old, t) {
				changed = append(changed, name)
			}
			m[name] = t
		}
	})
	return changed, nil
}

func sameColumns(a, b *table) bool {
	if len(a.columns) != len(b.columns) {
		return false
	}
	for name, col := range a.columns {
		if other, ok := b.columns[name]; !ok || other != col {
			return false
		}
	}
	return true
}

// A reader reads the columns of tables (lowercase names; a table that does
// not exist has none) and tells whether the database refuses the values
// it cannot store (Strict).
type reader struct {
	database string // what it reads, for errors
	read     func(ctx context.Context, c *Catalog, pool gorm.ConnPool, tables []string) (defs []columnDef, strict bool, err error)
}

var readers = map[string]reader{
	"mysql":    {"MySQL", readMySQL},
	"postgres": {"PostgreSQL", readPostgres},
	"sqlite":   {"SQLite", readSQLite},
}

// columnDef is one column as a reader read it.
type columnDef struct {
	table  string // as the database spells it
	column string
	cmp    Column
	// generated: its values are computed from the others' (see
	// table.generated).
	generated       bool
	sequence        bool // its table is a sequence
	keepsRolledBack bool // its table keeps what a rollback would undo
}

// tablesOf returns the tables a reader's defs describe, one per name of
// tables, each read now. A table two of whose names differ only in case
// (the database tells them apart, Load does not) has no columns; neither
// has a column whose name two columns share but for case.
func tablesOf(tables []string, defs []columnDef, strict bool) map[string]*table {
	out := make(map[string]*table, len(tables))
	for _, t := range tables {
		out[t] = &table{columns: map[string]Column{}, readAt: time.Now(), strict: strict}
	}
	names := map[string]string{} // lowercase table name -> the name as the database spells it
	ambiguous := map[[2]string]bool{}
	for _, d := range defs {
		name := strings.ToLower(d.table)
		t, ok := out[name]
		if !ok {
			continue
		}
		t.generated = t.generated || d.generated
		t.sequence = t.sequence || d.sequence
		t.keepsRolledBack = t.keepsRolledBack || d.keepsRolledBack
		if spelled, seen := names[name]; seen && spelled != d.table {
			t.columns = nil // two tables whose names differ only in case
			continue
		}
		names[name] = d.table
		if t.columns == nil {
			continue
		}
		col := strings.ToLower(d.column)
		if _, dup := t.columns[col]; dup {
			ambiguous[[2]string{name, col}] = true
		}
		t.columns[col] = d.cmp
	}
	for key := range ambiguous {
		if t := out[key[0]]; t.columns != nil {
			t.columns[key[1]] = Column{}
		}
	}
	for _, t := range out {
		if t.columns == nil {
			t.columns = map[string]Column{}
		}
	}
	return out
}

// placeholders returns n placeholders separated by commas: ?, or $1, $2...
// when numbered.
func placeholders(n int, numbered bool) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if numbered {
			b.WriteString("$" + strconv.Itoa(i+1))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// anys returns tables as the args of a query.
func anys(tables []string) []any {
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	return args
}
