// Package freshness checks the promise of the cache against writes: after
// a write, every cached read answers what the database answers. It is the
// matrix that the plugin's tests run with their models, and that the
// examples testing the plugin beside other code (gorm.io/gen,
// gorm.io/datatypes) run with theirs; the opening of a database with the
// plugin for it; and the assertions that statements hit or missed.
package freshness

import (
	"reflect"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
)

// Reads are named reads; each returns what it read, compared with
// reflect.DeepEqual.
type Reads map[string]func(t testing.TB, db *gorm.DB) any

// Writes are named writes.
type Writes map[string]func(t testing.TB, db *gorm.DB)

// Check runs, for each of writes, a subtest on a database that newSeeded
// opens and seeds, with p registered on db: it caches each of reads, runs
// the write, and checks that every cached read then answers what the
// database does. Each read must be cached (a miss, then a hit that answers
// the same), and each write must change at least one of them, so that the
// check proves something.
func Check(t *testing.T, newSeeded func(t *testing.T) (db *gorm.DB, p *gormcache.Plugin), reads Reads, writes Writes) {
	for wname, write := range writes {
		t.Run(wname, func(t *testing.T) {
			db, p := newSeeded(t)
			cached := func() *gorm.DB { return db.Clauses(gormcache.Cache()) }
			before := map[string]any{}
			for rname, read := range reads {
				MustMiss(t, p, rname, func() { before[rname] = read(t, cached()) })
				var got any
				MustHit(t, p, rname, func() { got = read(t, cached()) })
				if !reflect.DeepEqual(got, before[rname]) {
					t.Fatalf("%s: hit differs from the miss:\ngot  %#v\nwant %#v", rname, got, before[rname])
				}
			}
			write(t, db)
			changed := 0
			for rname, read := range reads {
				want := read(t, db.Clauses(gormcache.NoCache()))
				got := read(t, cached())
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s after %s: stale cached read:\ngot  %#v\nwant %#v", rname, wname, got, want)
				}
				if !reflect.DeepEqual(want, before[rname]) {
					changed++
				}
			}
			if changed == 0 {
				t.Fatalf("write %q changed none of the reads: the test proves nothing", wname)
			}
		})
	}
}

// Open opens d with a new plugin of the default configuration registered
// and GORM's log discarded, as the seeding functions Check takes begin;
// the plugin is closed in t.Cleanup.
func Open(t testing.TB, d gorm.Dialector) (*gorm.DB, *gormcache.Plugin) {
	t.Helper()
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("freshness: opening the database: %v", err)
	}
	p := gormcache.New(gormcache.Config{})
	if err := db.Use(p); err != nil {
		t.Fatalf("freshness: registering the plugin: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return db, p
}

// MustHit runs fn, the statements of what, and fails t unless the cache
// answered all of them (a query and its preloads).
func MustHit(t testing.TB, p *gormcache.Plugin, what string, fn func()) {
	t.Helper()
	if hits, misses := count(p, fn); hits == 0 || misses != 0 {
		t.Fatalf("%s: want hits only, got %d hits and %d misses", what, hits, misses)
	}
}

// MustMiss runs fn, the statements of what, and fails t unless all of them
// went to the database.
func MustMiss(t testing.TB, p *gormcache.Plugin, what string, fn func()) {
	t.Helper()
	if hits, misses := count(p, fn); misses == 0 || hits != 0 {
		t.Fatalf("%s: want misses only, got %d hits and %d misses", what, hits, misses)
	}
}

// count returns the hits and misses of p while fn ran.
func count(p *gormcache.Plugin, fn func()) (hits, misses uint64) {
	before := p.Stats()
	fn()
	after := p.Stats()
	return after.Hits - before.Hits, after.Misses - before.Misses
}
