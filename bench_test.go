package gormcache_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/testdata/photos"
)

// missStore is a memory store whose lookups always miss (it looks up a key
// that is never set), so that every read through it pays for a full miss:
// lookup, row-level dependencies (the memory store registers schemes),
// stamps, database read, recording and fill.
type missStore struct{ *memory.Store }

var _ store.SchemeRegistry = missStore{}

func (m missStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return m.Peek(ctx, key)
}

func (m missStore) Peek(ctx context.Context, key string) ([]byte, bool, error) {
	_, _, err := m.Store.Peek(ctx, "never set:"+key)
	return nil, false, err
}

// openBench returns handles on one seeded database: one with the plugin
// (memory store), one with a plugin whose store always misses, and one
// without the plugin. Both plugins cache every query (CacheAll), so that
// the figures are the plugin's own; the hit-clauses benchmarks add the cost
// of opting a query in with Clauses(gormcache.Cache()).
func openBench(b *testing.B, d testdb.Dialector) (cached, missing, plain *gorm.DB, p *gormcache.Plugin) {
	dial := d.Open(b)
	var err error
	plain, err = gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	photos.Seed(b, plain)
	cached, err = gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	p = gormcache.New(gormcache.Config{CacheAll: true})
	require.NoError(b, cached.Use(p))
	missing, err = gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	ms, err := memory.New(memory.Config{})
	require.NoError(b, err)
	require.NoError(b, missing.Use(gormcache.New(gormcache.Config{Store: missStore{ms}, CacheAll: true})))
	return cached, missing, plain, p
}

// BenchmarkRead measures the statements of package photos uncached (no plugin),
// as a cache hit, as a cache miss (through a store whose lookups always
// miss), and as GORM's DryRun of the same statement (building it without
// running it: the cost no GORM-level cache can avoid).
func BenchmarkRead(b *testing.B) {
	for _, d := range []testdb.Dialector{{Name: "sqlite"}, {Name: "postgres"}} {
		b.Run(d.Name, func(b *testing.B) {
			if d.Name == "postgres" {
				testdb.RequireService(b, testdb.PostgresDSNEnv, "PostgreSQL")
			}
			cached, missing, plain, p := openBench(b, d)
			for _, q := range photos.Queries {
				b.Run(q.Name, func(b *testing.B) {
					b.Run("uncached", func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							if err := q.Run(plain); err != nil {
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
							require.NoError(b, q.Run(hit.db()))
							before := p.Stats().Hits
							b.ReportAllocs()
							for b.Loop() {
								if err := q.Run(hit.db()); err != nil {
									b.Fatal(err)
								}
							}
							if p.Stats().Hits == before {
								b.Fatal("no hit")
							}
						})
					}
					b.Run("miss", func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							if err := q.Run(missing); err != nil {
								b.Fatal(err)
							}
						}
					})
					b.Run("paired", func(b *testing.B) {
						// Each iteration runs the statement uncached, as a
						// miss, as hits and as a DryRun, back to back, so
						// that the ratios do not drift with the machine's
						// load between runs.
						ways := []struct {
							name string
							db   func() *gorm.DB
						}{
							{"uncached", func() *gorm.DB { return plain }},
							{"miss", func() *gorm.DB { return missing }},
							{"hit", func() *gorm.DB { return cached }},
							{"hit-clauses", func() *gorm.DB { return cached.Clauses(gormcache.Cache()) }},
							{"dryrun", func() *gorm.DB { return plain.Session(&gorm.Session{DryRun: true}) }},
						}
						spent := make([]time.Duration, len(ways))
						for b.Loop() {
							// A random order spreads over every way the cost
							// of running on caches another way left cold, and
							// of the garbage another way left to collect.
							for _, i := range rand.Perm(len(ways)) {
								start := time.Now()
								if err := q.Run(ways[i].db()); err != nil {
									b.Fatal(err)
								}
								spent[i] += time.Since(start)
							}
						}
						b.ReportMetric(float64(spent[1])/float64(spent[0]), "miss/uncached")
						b.ReportMetric(float64(spent[0])/float64(spent[2]), "uncached/hit")
						b.ReportMetric(float64(spent[0])/float64(spent[3]), "uncached/hit-clauses")
						b.ReportMetric(float64(spent[2])/float64(spent[4]), "hit/dryrun")
					})
					b.Run("dryrun", func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							if err := q.Run(plain.Session(&gorm.Session{DryRun: true})); err != nil {
								b.Fatal(err)
							}
						}
					})
				})
			}
		})
	}
}
