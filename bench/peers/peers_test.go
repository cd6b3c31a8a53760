package peers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/go-gorm/caches/v4"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/testdata/photos"
)

// engines are the databases every benchmark runs on. Opening PostgreSQL
// skips the benchmark with a message when GORMCACHE_POSTGRES_DSN is unset,
// and fails it under CI=true (testdb.RequireService); each run has a schema
// of its own, dropped at its end.
var engines = []testdb.Dialector{{Name: "sqlite"}, {Name: "postgres"}}

// A handle is a database handle through one of the compared plugins, or
// none.
type handle struct {
	*gorm.DB
	name string
	// counts returns what the plugin's cache did so far, and entries the
	// number of entries it holds; both are nil without a cache.
	counts  func() counts
	entries func() int
	// close releases the plugin's cache.
	close func()
}

// counts are the statements a cache answered and those it sent to the
// database.
type counts struct{ hits, misses uint64 }

// countsOf returns h's counts, or zeros when it has no cache.
func countsOf(h *handle) counts {
	if h.counts == nil {
		return counts{}
	}
	return h.counts()
}

// The compared ways of reading: indexes of opens, and of the handles that
// openAll returns.
const (
	uncached = iota
	ours
	peer
	variants // how many there are
)

// opens open a handle on a database through each compared plugin, its
// cache empty.
var opens = [variants]func(tb testing.TB, dial gorm.Dialector) *handle{
	uncached: openUncached,
	ours:     func(tb testing.TB, dial gorm.Dialector) *handle { return openGormcache(tb, dial, nil) },
	peer:     openCaches,
}

// openAll returns a handle on dial through each compared plugin.
func openAll(tb testing.TB, dial gorm.Dialector) []*handle {
	hs := make([]*handle, 0, variants)
	for _, open := range opens {
		hs = append(hs, open(tb, dial))
	}
	return hs
}

// openDB opens a handle on dial with no plugin and no logging.
func openDB(tb testing.TB, dial gorm.Dialector) *gorm.DB {
	tb.Helper()
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(tb, err)
	return db
}

func openUncached(tb testing.TB, dial gorm.Dialector) *handle {
	return &handle{DB: openDB(tb, dial), name: "uncached", close: func() {}}
}

// openGormcache registers gormcache as its README says, caching every
// query, on st (nil: the default memory store).
func openGormcache(tb testing.TB, dial gorm.Dialector, st store.Store) *handle {
	tb.Helper()
	db := openDB(tb, dial)
	p := gormcache.New(gormcache.Config{CacheAll: true, Store: st})
	require.NoError(tb, db.Use(p))
	h := &handle{
		DB:   db,
		name: "gormcache",
		counts: func() counts {
			s := p.Stats()
			return counts{s.Hits, s.Misses}
		},
		entries: func() int {
			info, err := p.Store().(store.Describer).Describe(context.Background())
			require.NoError(tb, err)
			return info.Entries
		},
		close: func() { require.NoError(tb, p.Close()) },
	}
	tb.Cleanup(h.close)
	return h
}

// openCaches registers go-gorm/caches as its README's Usage section does,
// with the Easer (which merges identical queries running at once) and the
// in-memory Cacher of its README.
func openCaches(tb testing.TB, dial gorm.Dialector) *handle {
	tb.Helper()
	db := openDB(tb, dial)
	c := &memoryCacher{}
	require.NoError(tb, db.Use(&caches.Caches{Conf: &caches.Config{Easer: true, Cacher: c}}))
	return &handle{
		DB:      db,
		name:    "caches",
		counts:  func() counts { return counts{c.hits.Load(), c.misses.Load()} },
		entries: c.len,
		close:   func() { c.results.Clear() },
	}
}

// runPaired runs read on every handle of hs, back to back in a random
// order, and adds the time each took to spent. The random order spreads
// over every handle the cost of running on the processor caches another
// one left cold, and of collecting the garbage another one left.
func runPaired(tb testing.TB, hs []*handle, spent []time.Duration, read func(j int, h *handle) error) {
	for _, j := range rand.Perm(len(hs)) {
		start := time.Now()
		err := read(j, hs[j])
		spent[j] += time.Since(start)
		if err != nil {
			tb.Fatalf("%s: %v", hs[j].name, err)
		}
	}
}

// reportTimes reports the time each handle spent per iteration
// (ns/<name>), and the peer's time over gormcache's (caches/gormcache).
func reportTimes(b *testing.B, hs []*handle, spent []time.Duration) {
	for j, h := range hs {
		b.ReportMetric(float64(spent[j].Nanoseconds())/float64(b.N), "ns/"+h.name)
	}
	b.ReportMetric(ratio(spent[peer], spent[ours]), "caches/gormcache")
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// seed creates the tables of package photos in db with users users (ids
// from 1), each with perUser photos.
func seed(tb testing.TB, db *gorm.DB, users, perUser int) {
	tb.Helper()
	require.NoError(tb, db.AutoMigrate(photos.All()...))
	const batch = 100
	for first := 1; first <= users; first += batch {
		us := make([]photos.User, 0, batch)
		for u := first; u < first+batch && u <= users; u++ {
			user := photos.User{Name: fmt.Sprint("user", u), Email: "u@example.com"}
			for i := range perUser {
				user.Photos = append(user.Photos, photos.Photo{Title: fmt.Sprint("p", i), Status: i % 3})
			}
			us = append(us, user)
		}
		require.NoError(tb, db.Create(&us).Error)
	}
}
