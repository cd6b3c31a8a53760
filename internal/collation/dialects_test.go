package collation_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/testdb"
)

func open(t *testing.T, d gorm.Dialector) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	return db
}

// load reads the columns of tables into a new Catalog of the dialect.
func load(t *testing.T, db *gorm.DB, tables ...string) *collation.Catalog {
	t.Helper()
	cat := &collation.Catalog{Dialect: db.Dialector.Name()}
	_, err := cat.Load(context.Background(), db.ConnPool, tables)
	require.NoError(t, err)
	return cat
}

// TestSQLiteKinds checks what each declared type and collation of SQLite
// is taken for: affinity decides numbers, the COLLATE of the column's
// definition (not one inside an expression) decides strings.
func TestSQLiteKinds(t *testing.T) {
	db := open(t, testdb.Sqlite(t))
	require.NoError(t, db.Exec(`CREATE TABLE kinds (
		i integer PRIMARY KEY, bi BIGINT, n numeric, b boolean, d datetime, r real, f float,
		t text, v varchar(10), c character(5), bl blob, untyped,
		nc text COLLATE NOCASE, rt text collate rtrim, bin text COLLATE "BINARY",
		"Quoted Name" text COLLATE nocase, [bracketed] varchar(3) COLLATE NoCase,
		ck text CHECK (ck <> 'x' COLLATE nocase) DEFAULT ('a' COLLATE nocase),
		nn text NOT NULL COLLATE NOCASE DEFAULT 'x', gen text GENERATED ALWAYS AS (lower(t)) VIRTUAL,
		CONSTRAINT pk UNIQUE (t COLLATE nocase), CHECK (t <> ''))`).Error)
	require.NoError(t, db.Exec(`CREATE VIEW kinds_view AS SELECT i, t, nc FROM kinds`).Error)
	require.NoError(t, db.Exec(`CREATE VIRTUAL TABLE docs USING fts4(body)`).Error)
	cat := load(t, db, "kinds", "kinds_view", "docs", "missing")

	binary, _ := cat.Column("kinds", "t").Key("Ada ")
	assert.Equal(t, "Ada ", binary)
	for col, want := range map[string]collation.Kind{
		"i": collation.Integer, "bi": collation.Integer, "n": collation.Integer, "b": collation.Integer,
		"d": collation.Integer, "r": collation.Other, "f": collation.Other,
		"t": collation.Text, "v": collation.Text, "c": collation.Text, "bl": collation.Text, "untyped": collation.Text,
		"nc": collation.Text, "rt": collation.Text, "bin": collation.Text, "quoted name": collation.Text,
		"bracketed": collation.Text, "ck": collation.Text, "nn": collation.Text, "gen": collation.Text,
	} {
		assert.Equal(t, want, cat.Column("kinds", col).Kind, col)
	}
	keys := map[string]string{"t": "Ada ", "ck": "Ada ", "bin": "Ada ", "nc": "ada ", "nn": "ada ",
		"quoted name": "ada ", "bracketed": "ada ", "rt": "Ada"}
	for col, want := range keys {
		k, ok := cat.Column("kinds", col).Key("Ada ")
		assert.True(t, ok, col)
		assert.Equal(t, want, k, col)
	}
	assert.Equal(t, collation.Integer, cat.Column("kinds_view", "i").Kind)
	assert.Equal(t, collation.Other, cat.Column("kinds_view", "nc").Kind, "a view's collations are its expressions'")
	assert.Equal(t, collation.Other, cat.Column("docs", "body").Kind, "a virtual table")
	assert.Equal(t, collation.Other, cat.Column("missing", "i").Kind)
	assert.True(t, cat.Strict("kinds"))
}

// TestPostgresKinds checks what each type and collation of PostgreSQL is
// taken for.
func TestPostgresKinds(t *testing.T) {
	db := open(t, testdb.Postgres(t))
	require.NoError(t, db.Exec(`CREATE EXTENSION IF NOT EXISTS citext`).Error)
	require.NoError(t, db.Exec(`CREATE COLLATION IF NOT EXISTS public.gormcache_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`).Error)
	require.NoError(t, db.Exec(`CREATE TYPE mood AS ENUM ('sad', 'ok')`).Error)
	require.NoError(t, db.Exec(`CREATE DOMAIN email AS citext`).Error)
	require.NoError(t, db.Exec(`CREATE DOMAIN code AS varchar(10)`).Error)
	require.NoError(t, db.Exec(`CREATE DOMAIN short_code AS code`).Error)
	require.NoError(t, db.Exec(`CREATE TABLE kinds (
		s smallint, i integer, b bigint, bo boolean, n numeric, f float8, ts timestamptz, u uuid, j jsonb, nm name,
		t text, v varchar(10), c char(5), ct citext, ci text COLLATE public.gormcache_ci, cc text COLLATE "C",
		m mood, e email, co code, sc short_code, a text[])`).Error)
	require.NoError(t, db.Exec(`CREATE TABLE "Mixed" (x int)`).Error)
	require.NoError(t, db.Exec(`CREATE TABLE mixed (x int)`).Error)
	require.NoError(t, db.Exec(`CREATE VIEW kinds_view AS SELECT i, t, ct FROM kinds`).Error)
	cat := load(t, db, "kinds", "mixed", "kinds_view", "missing")

	for col, want := range map[string]collation.Kind{
		"s": collation.Integer, "i": collation.Integer, "b": collation.Integer, "bo": collation.Integer,
		"n": collation.Other, "f": collation.Other, "ts": collation.Other, "u": collation.Text, "j": collation.Other,
		"nm": collation.Other, "t": collation.Text, "v": collation.Text, "c": collation.Text, "ct": collation.Other,
		"ci": collation.Other, "cc": collation.Text, "m": collation.Text, "e": collation.Other, "co": collation.Text,
		"sc": collation.Other, "a": collation.Other,
	} {
		assert.Equal(t, want, cat.Column("kinds", col).Kind, col)
	}
	padded, _ := cat.Column("kinds", "c").Key("ab  ")
	assert.Equal(t, "ab", padded, "char(n) ignores trailing spaces")
	exact, _ := cat.Column("kinds", "t").Key("ab  ")
	assert.Equal(t, "ab  ", exact)
	assert.Equal(t, collation.Other, cat.Column("mixed", "x").Kind, "two tables whose names differ only in case")
	assert.Equal(t, collation.Text, cat.Column("kinds_view", "t").Kind)
	assert.Equal(t, collation.Other, cat.Column("kinds_view", "ct").Kind)
	assert.Equal(t, collation.Other, cat.Column("missing", "i").Kind)
	assert.True(t, cat.Strict("kinds"))
}

// TestKeysAgreeWithSQLiteAndPostgres stores strings in the string columns
// Key names and checks, for every pair, that the database finds them equal
// exactly when their Keys are.
func TestKeysAgreeWithSQLiteAndPostgres(t *testing.T) {
	columns := map[string]map[string]string{
		"sqlite": {"bin": "text", "nocase": "text COLLATE nocase", "rtrim": "text COLLATE RTRIM",
			"untyped": "", "vc": "varchar(40) COLLATE nocase"},
		"postgres": {"txt": "text", "vc": "varchar(40)", "ch": "char(40)", "c_coll": `text COLLATE "C"`},
	}
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		cols, ok := columns[d.Name]
		if !ok {
			t.Skip("MySQL has TestKeysAgreeWithTheDatabase")
		}
		db := open(t, d.Open(t))
		var defs []string
		for name, typ := range cols {
			defs = append(defs, name+" "+typ)
		}
		require.NoError(t, db.Exec("CREATE TABLE samples (id int PRIMARY KEY, "+strings.Join(defs, ", ")+")").Error)
		cat := load(t, db, "samples")
		values := randomStrings(rand.New(rand.NewPCG(15, 2)), 200)
		for name := range cols {
			t.Run(name, func(t *testing.T) {
				checkKeys(t, db, cat.Column("samples", name), name, values, func(v string) bool {
					return d.Name != "postgres" || !strings.Contains(v, "\x00") // PostgreSQL stores no NUL
				}, func(v string) bool {
					// NOCASE stops comparing at a NUL: such strings are not named.
					return strings.Contains(v, "\x00") && strings.Contains(cols[name], "nocase")
				})
			})
		}
	})
}

// TestFailedReadsWait checks that a catalogue that cannot be read is not
// asked again on every Load: its tables prove nothing meanwhile.
func TestFailedReadsWait(t *testing.T) {
	db := open(t, testdb.Sqlite(t))
	require.NoError(t, db.Exec("CREATE TABLE people (id integer PRIMARY KEY, name text)").Error)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	require.NoError(t, sqlDB.Close())
	cat := &collation.Catalog{Dialect: "sqlite"}
	_, err = cat.Load(context.Background(), db.ConnPool, []string{"people"})
	require.ErrorContains(t, err, "reading how SQLite compares the columns of people")
	_, err = cat.Load(context.Background(), db.ConnPool, []string{"people"})
	require.NoError(t, err, "read again before retryAfter")
	assert.Equal(t, collation.Other, cat.Column("people", "name").Kind)
}

// TestPostgresUUIDs checks that a uuid column names the spellings of a
// uuid PostgreSQL reads alike by one Key, and refuses those it refuses.
func TestPostgresUUIDs(t *testing.T) {
	db := open(t, testdb.Postgres(t))
	spellings := []string{
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
		"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
		"a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
		"b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
		"-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
		"a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "", "{}",
	}
	read := func(s string) (string, bool) {
		var canonical string
		err := db.Raw("SELECT CAST(? AS uuid)::text", s).Row().Scan(&canonical)
		return canonical, err == nil
	}
	for _, s := range spellings {
		want, valid := read(s)
		got, ok := collation.UUID.Key(s)
		assert.Equal(t, valid, ok, "%q: PostgreSQL reads it: %v", s, valid)
		if valid {
			assert.Equal(t, want, got, s)
		}
	}
}

// TestGeneration checks that a Catalog's Generation changes when Load
// reads columns, not when it answers from what it read, and that no two
// Catalogs share one.
func TestGeneration(t *testing.T) {
	db := open(t, testdb.Sqlite(t))
	require.NoError(t, db.Exec("CREATE TABLE a (id integer PRIMARY KEY)").Error)
	require.NoError(t, db.Exec("CREATE TABLE b (id integer PRIMARY KEY)").Error)
	cat := &collation.Catalog{Dialect: "sqlite"}
	seen := map[uint64]bool{}
	fresh := func() uint64 {
		g := cat.Generation()
		require.False(t, seen[g], "a Generation seen before")
		seen[g] = true
		return g
	}
	g := fresh()
	assert.Equal(t, g, cat.Generation())
	for _, table := range []string{"a", "a", "b"} {
		_, err := cat.Load(context.Background(), db.ConnPool, []string{table})
		require.NoError(t, err)
		if now := cat.Generation(); now != g {
			g = fresh()
		} else {
			assert.Equal(t, "a", table, "read b without a new Generation")
		}
	}
	assert.Len(t, seen, 3, "the first read of a and of b")
	other := &collation.Catalog{Dialect: "sqlite"}
	assert.False(t, seen[other.Generation()])
}

// holdingPool holds the first reading of the catalogue until released.
type holdingPool struct {
	gorm.ConnPool
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (h *holdingPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	h.once.Do(func() {
		close(h.held)
		<-h.release
	})
	return h.ConnPool.QueryContext(ctx, query, args...)
}

// TestLoadWaitsNoLongerThanItsContext checks that a Load waiting for
// another's reading of the catalogue returns when its context ends, having
// read nothing, while the other reading goes on.
func TestLoadWaitsNoLongerThanItsContext(t *testing.T) {
	db := open(t, testdb.Sqlite(t))
	require.NoError(t, db.Exec("CREATE TABLE people (id integer PRIMARY KEY, name text COLLATE NOCASE)").Error)
	pool := &holdingPool{ConnPool: db.ConnPool, held: make(chan struct{}), release: make(chan struct{})}
	cat := &collation.Catalog{Dialect: "sqlite"}
	first := make(chan error, 1)
	go func() {
		_, err := cat.Load(context.Background(), pool, []string{"people"})
		first <- err
	}()
	<-pool.held
	released := time.AfterFunc(3*time.Second, func() { close(pool.release) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := cat.Load(ctx, pool, []string{"people"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(began), 2*time.Second, "the waiter outlived its deadline")
	if released.Stop() {
		close(pool.release)
	}
	require.NoError(t, <-first)
	key, _ := cat.Column("people", "name").Key("ADA")
	assert.Equal(t, "ada", key, "the reading went on: name ignores case")
}
