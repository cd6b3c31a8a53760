package gormcache_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/photos"
)

// openBench returns handles on one seeded database: one with the plugin
// (memory store, CacheAll) and one without it; newMissing opens one more
// with a plugin of its own, whose cache is empty but which has read each
// table once, so that what a plugin learns of a table once per process
// (on MySQL, how its columns compare: about 50ms) is not counted against
// the misses. CacheAll makes the figures the plugin's own; the
// hit-clauses benchmarks add the cost of opting a query in with
// Clauses(gormcache.Cache()).
func openBench(b *testing.B, d testdb.Dialector) (cached, plain *gorm.DB, p *gormcache.Plugin, newMissing func() (*gorm.DB, *gormcache.Plugin)) {
	dial := d.Open(b)
	var err error
	plain, err = gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	photos.Seed(b, plain)
	open := func() (*gorm.DB, *gormcache.Plugin) {
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		p := gormcache.New(gormcache.Config{CacheAll: true})
		require.NoError(b, db.Use(p))
		b.Cleanup(func() { _ = p.Close() })
		return db, p
	}
	cached, p = open()
	return cached, plain, p, func() (*gorm.DB, *gormcache.Plugin) {
		db, p := open()
		for _, m := range photos.All() {
			require.NoError(b, db.Model(m).Where("1 = 0").Find(m).Error)
		}
		return db, p
	}
}

// BenchmarkRead measures the statements of package photos uncached (no
// plugin), as a cache hit, as a cache miss, and as GORM's DryRun of the same
// statement (building it without running it: the cost no GORM-level cache
// can avoid). A miss reads a row no earlier iteration read, through a plugin
// whose cache starts empty, so that every miss stores a new entry and
// creates its stamps, as a cold cache and a long tail of ids make users
// pay; the uncached reads take the same rows.
func BenchmarkRead(b *testing.B) {
	for _, d := range []testdb.Dialector{{Name: "sqlite"}, {Name: "postgres"}, {Name: "mysql"}} {
		b.Run(d.Name, func(b *testing.B) {
			cached, plain, p, newMissing := openBench(b, d)
			for _, q := range photos.Queries {
				b.Run(q.Name, func(b *testing.B) {
					next := 0 // the row of the next miss: every miss reads a new one
					b.Run("uncached", func(b *testing.B) {
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							i++
							if err := q.Run(plain, i); err != nil {
								b.Fatal(err)
							}
						}
					})
					for _, hit := range []struct {
						name string
						db   func() *gorm.DB
					}{
						{"hit", func() *gorm.DB { return cached }},
						{"hit-clauses", func() *gorm.DB { return cached.Clauses(gormcache.Cache()) }},
					} {
						b.Run(hit.name, func(b *testing.B) {
							require.NoError(b, q.Run(hit.db(), photos.HitRow))
							before := p.Stats().Hits
							b.ReportAllocs()
							for b.Loop() {
								if err := q.Run(hit.db(), photos.HitRow); err != nil {
									b.Fatal(err)
								}
							}
							if p.Stats().Hits == before {
								b.Fatal("no hit")
							}
						})
					}
					b.Run("miss", func(b *testing.B) {
						missing, mp := newMissing()
						b.ReportAllocs()
						for b.Loop() {
							next++
							if err := q.Run(missing, next); err != nil {
								b.Fatal(err)
							}
						}
						if s := mp.Stats(); s.Hits > 0 {
							b.Fatalf("%d reads hit: the rows repeat", s.Hits)
						}
					})
					b.Run("paired", func(b *testing.B) {
						// Each iteration runs the statement uncached, as a
						// miss, as hits and as a DryRun, back to back, so
						// that the ratios do not drift with the machine's
						// load between runs.
						missing, mp := newMissing()
						// The hits hit from the first iteration: the read that
						// stores their entry is a miss, and on MySQL the first
						// read of a table by a plugin reads how its columns
						// compare (about 50ms; see openBench).
						require.NoError(b, q.Run(cached, photos.HitRow))
						ways := []func(i int) error{
							func(i int) error { return q.Run(plain, i) },
							func(i int) error { return q.Run(missing, i) },
							func(int) error { return q.Run(cached, photos.HitRow) },
							func(int) error { return q.Run(cached.Clauses(gormcache.Cache()), photos.HitRow) },
							func(int) error { return q.Run(plain.Session(&gorm.Session{DryRun: true}), photos.HitRow) },
						}
						spent := make([]time.Duration, len(ways))
						for b.Loop() {
							next++
							// A random order spreads over every way the cost
							// of running on caches another way left cold, and
							// of the garbage another way left to collect.
							for _, i := range rand.Perm(len(ways)) {
								start := time.Now()
								if err := ways[i](next); err != nil {
									b.Fatal(err)
								}
								spent[i] += time.Since(start)
							}
						}
						if s := mp.Stats(); s.Hits > 0 {
							b.Fatalf("%d misses hit: the rows repeat", s.Hits)
						}
						b.ReportMetric(float64(spent[1])/float64(spent[0]), "miss/uncached")
						b.ReportMetric(float64(spent[0])/float64(spent[2]), "uncached/hit")
						b.ReportMetric(float64(spent[0])/float64(spent[3]), "uncached/hit-clauses")
						b.ReportMetric(float64(spent[2])/float64(spent[4]), "hit/dryrun")
					})
					b.Run("dryrun", func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							if err := q.Run(plain.Session(&gorm.Session{DryRun: true}), photos.HitRow); err != nil {
								b.Fatal(err)
							}
						}
					})
				})
			}
		})
	}
}
