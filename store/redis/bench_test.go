package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
	"github.com/gormcache/gormcache/testdata/photos"
)

// BenchmarkStore measures each operation of the stores on loopback, with
// the round trips it makes (roundtrips/op). Ping is the floor: one round
// trip of go-redis.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}, {Table: "posts", Cond: "status=2&user_id=7"}}
	value := []byte(strings.Repeat("v", 256))
	for _, top := range topologies {
		b.Run(top.name, func(b *testing.B) {
			client := top.client(b)
			rt := testredis.CountRoundTrips(client)
			remote := newStore(b, client, redis.Config{})
			two, err := redis.NewTwoLevel(newStore(b, client, redis.Config{}), memory.Config{})
			require.NoError(b, err)
			run := func(b *testing.B, op func() error) {
				b.Helper()
				require.NoError(b, op()) // loads scripts and slots
				b.ReportAllocs()
				before := rt.Load()
				for b.Loop() {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rt.Load()-before)/float64(b.N), "roundtrips/op")
			}
			b.Run("Ping", func(b *testing.B) { run(b, func() error { return client.Ping(ctx).Err() }) })
			for _, st := range []struct {
				name string
				s    store.Store
			}{{"Store", remote}, {"TwoLevel", two}} {
				b.Run(st.name, func(b *testing.B) {
					s := st.s
					stamps, err := s.Stamps(ctx, deps)
					require.NoError(b, err)
					e := store.Entry{Value: value, Deps: deps, Stamps: stamps}
					require.NoError(b, s.Set(ctx, "key", e, time.Hour))
					b.Run("GetHit", func(b *testing.B) {
						run(b, func() error {
							_, ok, err := s.Get(ctx, "key")
							if err == nil && !ok {
								b.Fatal("miss")
							}
							return err
						})
					})
					b.Run("Stamps", func(b *testing.B) {
						run(b, func() error { _, err := s.Stamps(ctx, deps); return err })
					})
					b.Run("Set", func(b *testing.B) {
						run(b, func() error { return s.Set(ctx, "other", e, time.Hour) })
					})
					b.Run("Invalidate", func(b *testing.B) {
						run(b, func() error { return s.Invalidate(ctx, deps[1:]...) })
					})
				})
			}
		})
	}
}

// BenchmarkPlugin measures the reads of package photos through the plugin on
// PostgreSQL against the same reads uncached: a hit with the memory store, with the
// Redis store on a single node and on a Cluster, with the two-level store
// and with the near cache. Redis is on loopback, so a round trip costs tens
// of microseconds. "paired" runs the uncached read, the memory hit and the
// near hits back to back in every iteration, in a random order, and reports
// their ratios, steadier than figures of separate runs on a shared machine.
func BenchmarkPlugin(b *testing.B) {
	dial := testdb.Postgres(b)
	plain, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	photos.Seed(b, plain)

	type cached struct {
		name string
		db   *gorm.DB
		p    *gormcache.Plugin
		rt   *testredis.RoundTrips // nil without Redis
	}
	var dbs []cached
	add := func(name string, s store.Store, rt *testredis.RoundTrips) {
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		p := gormcache.New(gormcache.Config{Store: s})
		require.NoError(b, db.Use(p))
		dbs = append(dbs, cached{name, db, p, rt})
	}
	mem, err := memory.New(memory.Config{})
	require.NoError(b, err)
	add("memory", mem, nil)
	for _, top := range topologies {
		client := top.client(b)
		rt := testredis.CountRoundTrips(client)
		add("redis-"+top.name, newStore(b, client, redis.Config{}), rt)
		two, err := redis.NewTwoLevel(newStore(b, client, redis.Config{}), memory.Config{})
		require.NoError(b, err)
		add("twolevel-"+top.name, two, rt)
		near := newNear(b, client, redis.Config{}, redis.NearConfig{Lease: redis.DefaultLease})
		waitTrusted(b, near)
		add("near-"+top.name, near, rt)
	}

	for _, q := range photos.Queries {
		b.Run(q.Name, func(b *testing.B) {
			b.Run("uncached", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := q.Run(plain, photos.HitRow); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, c := range dbs {
				b.Run(c.name+"-hit", func(b *testing.B) {
					require.NoError(b, q.Run(c.db.Clauses(gormcache.Cache()), photos.HitRow))
					hits, misses := c.p.Stats().Hits, c.p.Stats().Misses
					var before int64
					if c.rt != nil {
						before = c.rt.Load()
					}
					b.ReportAllocs()
					for b.Loop() {
						if err := q.Run(c.db.Clauses(gormcache.Cache()), photos.HitRow); err != nil {
							b.Fatal(err)
						}
					}
					// A Redis hit that overlaps the opening of a
					// connection on its client (the near cache's
					// renewals share it) is a miss, by design (see
					// watch.go): a few are the cost of that check.
					if s := c.p.Stats(); s.Misses-misses > uint64(b.N)/100 || s.Hits+s.Misses-hits-misses != uint64(b.N) {
						b.Fatalf("got %d hits and %d misses in %d reads, want hits only, but for a few", s.Hits-hits, s.Misses-misses, b.N)
					}
					if c.rt != nil {
						b.ReportMetric(float64(c.rt.Load()-before)/float64(b.N), "roundtrips/op")
					}
				})
			}
			b.Run("paired", func(b *testing.B) {
				ways := []cached{{name: "uncached", db: plain}}
				for _, c := range dbs {
					if c.name == "memory" || strings.HasPrefix(c.name, "near-") {
						require.NoError(b, q.Run(c.db.Clauses(gormcache.Cache()), photos.HitRow))
						ways = append(ways, c)
					}
				}
				spent := make([]time.Duration, len(ways))
				for b.Loop() {
					for _, i := range rand.Perm(len(ways)) {
						db := ways[i].db
						if i > 0 {
							db = db.Clauses(gormcache.Cache())
						}
						start := time.Now()
						if err := q.Run(db, photos.HitRow); err != nil {
							b.Fatal(err)
						}
						spent[i] += time.Since(start)
					}
				}
				// ways: uncached, memory, then a near cache per topology.
				for i, w := range ways[2:] {
					b.ReportMetric(float64(spent[2+i])/float64(spent[1]), w.name+"/memory")
					b.ReportMetric(float64(spent[0])/float64(spent[2+i]), "uncached/"+w.name)
				}
				b.ReportMetric(float64(spent[0])/float64(spent[1]), "uncached/memory")
			})
		})
	}
}

// BenchmarkPluginWrite measures an update by primary key on PostgreSQL
// through the plugin, with the Redis store (today's), and with a near
// cache alone and with two other instances' near caches alive, and counts
// the writer's round trips to Redis: a write reads the table's schemes,
// then invalidates. "paired" runs the three back to back in every
// iteration, in a random order, each on rows of its own, and reports the
// time of each near cache's write against today's.
func BenchmarkPluginWrite(b *testing.B) {
	dial := testdb.Postgres(b)
	plain, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	photos.Seed(b, plain)
	ways := []writeWay{{"redis", -1}, {"near-alone", 0}, {"near-3-instances", 2}}
	// update writes the i-th update of the way numbered way.
	update := func(b *testing.B, db *gorm.DB, i, way int) {
		id := 1 + (len(ways)*i+way)%photos.Rows
		require.NoError(b, db.Model(&photos.Photo{ID: uint(id)}).Update("status", i%3).Error)
	}
	for _, top := range topologies {
		for _, way := range ways {
			b.Run(top.name+"/"+way.name, func(b *testing.B) {
				db, rt := way.open(b, dial, top.client)
				before := rt.Load()
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					i++
					update(b, db, i, 0)
				}
				b.ReportMetric(float64(rt.Load()-before)/float64(b.N), "roundtrips/op")
			})
		}
		b.Run(top.name+"/paired", func(b *testing.B) {
			dbs := make([]*gorm.DB, len(ways))
			for j, way := range ways {
				dbs[j], _ = way.open(b, dial, top.client)
			}
			spent := make([]time.Duration, len(ways))
			i := 0
			for b.Loop() {
				i++
				for _, j := range rand.Perm(len(ways)) {
					start := time.Now()
					update(b, dbs[j], i, j)
					spent[j] += time.Since(start)
				}
			}
			for j, way := range ways[1:] {
				b.ReportMetric(float64(spent[1+j])/float64(spent[0]), way.name+"/redis")
			}
		})
	}
}

// writeWay is a store of BenchmarkPluginWrite: today's Redis store
// (others -1), or a near cache with others near caches of other instances
// alive.
type writeWay struct {
	name   string
	others int
}

// open returns a database on dial with the plugin on the way's store, on a
// client of its own from newClient, once a write costs what it costs in
// the steady state, and the counter of that client's round trips.
func (w writeWay) open(b *testing.B, dial gorm.Dialector, newClient func(testing.TB) goredis.UniversalClient) (*gorm.DB, *testredis.RoundTrips) {
	client := newClient(b)
	rt := testredis.CountRoundTrips(client)
	cfg := redis.Config{Prefix: testredis.Prefix(b)}
	var st store.Store
	if w.others < 0 {
		st = newStore(b, client, cfg)
	} else {
		near := newNear(b, client, cfg, redis.NearConfig{Lease: redis.DefaultLease})
		waitTrusted(b, near)
		for range w.others {
			waitTrusted(b, newNear(b, newClient(b), cfg, redis.NearConfig{Lease: redis.DefaultLease}))
		}
		st = near
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	require.NoError(b, db.Use(gormcache.New(gormcache.Config{Store: st})))
	// Cached reads register the schemes a write matches; a first write
	// waits out a new registry of leases.
	require.NoError(b, db.Clauses(gormcache.Cache()).First(&photos.Photo{}, 1).Error)
	require.NoError(b, db.Clauses(gormcache.Cache()).Where("user_id = ? AND status = ?", 1, 1).Find(&[]photos.Photo{}).Error)
	require.NoError(b, db.Model(&photos.Photo{ID: 1}).Update("status", 1).Error)
	return db, rt
}

// BenchmarkList lists pages of 100 out of 100,000 entries (the admin's entry
// browser), one after the other from the start, on each topology. SCAN
// counts the store's stamps as well as its entries, so a page takes more than
// one SCAN call: entries/page says how many entries a page held.
func BenchmarkList(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	for _, top := range topologies {
		b.Run(top.name, func(b *testing.B) {
			s := newStore(b, top.client(b), redis.Config{})
			seed(b, s, n)
			var cursor string
			entries := 0
			for b.Loop() {
				page, err := s.List(ctx, store.ListOptions{Limit: 100, Cursor: cursor})
				if err != nil {
					b.Fatal(err)
				}
				entries += len(page.Entries)
				cursor = page.Next
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(entries)/float64(b.N), "entries/page")
		})
	}
}

// seed stores n entries through Set, as the plugin fills them: each depends
// on table "t" and on its own row, and holds 200 bytes. The stamps are taken
// a thousand at a time, and the Sets run 32 at once.
func seed(b *testing.B, s *redis.Store, n int) {
	b.Helper()
	ctx := context.Background()
	value := []byte(strings.Repeat("v", 200))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for first := 0; first < n; first += 1000 {
		var deps []store.Dep
		for i := first; i < min(first+1000, n); i++ {
			deps = append(deps, store.Dep{Table: "t"}, store.Dep{Table: "t", Cond: fmt.Sprint("id=", i)})
		}
		stamps, err := s.Stamps(ctx, deps)
		require.NoError(b, err)
		for j := 0; j < len(deps); j += 2 {
			key := fmt.Sprintf("k%06d", first+j/2)
			e := store.Entry{Value: value, Deps: deps[j : j+2], Stamps: stamps[j : j+2]}
			g.Go(func() error { return s.Set(gctx, key, e, time.Hour) })
		}
	}
	require.NoError(b, g.Wait())
}
