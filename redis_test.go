package gormcache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
)

// Every plugin suite also runs on the Redis store, on a standalone server
// and on a Cluster.
func init() {
	storeFactories = append(storeFactories,
		storeFactory{name: "redis", new: func(t testing.TB) store.Store {
			return newRedisStore(t, testredis.Client(t), redis.Config{})
		}},
		storeFactory{name: "redis-cluster", new: func(t testing.TB) store.Store {
			return newRedisStore(t, testredis.ClusterClient(t), redis.Config{})
		}},
	)
}

// redisTopologies are the Redis deployments the tests of this file run on.
var redisTopologies = []struct {
	name   string
	client func(t testing.TB) goredis.UniversalClient
}{
	{"redis", func(t testing.TB) goredis.UniversalClient { return testredis.Client(t) }},
	{"redis-cluster", func(t testing.TB) goredis.UniversalClient { return testredis.ClusterClient(t) }},
}

// newRedisStore returns a Redis store on client, under a key prefix of t's
// own unless cfg names one, flushed in t.Cleanup. Unless cfg says otherwise,
// its Timeout is long enough for the race detector on a busy machine, so
// that suites counting hits never see one time out.
func newRedisStore(t testing.TB, client goredis.UniversalClient, cfg redis.Config) *redis.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = testredis.Prefix(t)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := redis.New(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Flush(context.Background()) })
	return s
}

// instance is one app instance: its own *gorm.DB, plugin and Redis client.
type instance struct {
	db *gorm.DB
	p  *gormcache.Plugin
}

// newInstances opens n app instances on one new database of engine d and
// one Redis, sharing a key prefix, with the shared models migrated. Each
// has its own client and the store that newStore makes on it (nil: a
// Redis store).
func newInstances(t *testing.T, d testdb.Dialector, client func(t testing.TB) goredis.UniversalClient, n int,
	newStore func(t testing.TB, client goredis.UniversalClient, prefix string) store.Store) []instance {
	t.Helper()
	if newStore == nil {
		newStore = func(t testing.TB, client goredis.UniversalClient, prefix string) store.Store {
			return newRedisStore(t, client, redis.Config{Prefix: prefix})
		}
	}
	dial, prefix := d.Open(t), testredis.Prefix(t)
	out := make([]instance, n)
	for i := range out {
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		p := gormcache.New(gormcache.Config{Store: newStore(t, client(t), prefix)})
		require.NoError(t, db.Use(p))
		out[i] = instance{db: db, p: p}
	}
	require.NoError(t, out[0].db.AutoMigrate(append(models, &Counter{})...))
	return out
}

// eachInstances runs fn as a subtest for every database engine and Redis
// topology, with n app instances on the stores newStore makes (see
// newInstances).
func eachInstances(t *testing.T, n int, newStore func(t testing.TB, client goredis.UniversalClient, prefix string) store.Store,
	fn func(t *testing.T, d testdb.Dialector, in []instance)) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		for _, top := range redisTopologies {
			t.Run(top.name, func(t *testing.T) { fn(t, d, newInstances(t, d, top.client, n, newStore)) })
		}
	})
}

// TestTwoInstances checks that app instances sharing a Redis share their
// cache and see each other's writes.
func TestTwoInstances(t *testing.T) {
	eachInstances(t, 2, nil, func(t *testing.T, _ testdb.Dialector, in []instance) {
		a, b := in[0], in[1]
		require.NoError(t, a.db.Create(&User{Name: "ada"}).Error)
		name := func(i instance) string {
			t.Helper()
			var u User
			require.NoError(t, i.db.Clauses(gormcache.Cache()).First(&u, 1).Error)
			return u.Name
		}

		require.Equal(t, "ada", name(a)) // a fills
		hits := b.p.Stats().Hits
		require.Equal(t, "ada", name(b))
		if b.p.Stats().Hits != hits+1 {
			t.Fatalf("b's read of what a cached: got %d hits, want 1", b.p.Stats().Hits-hits)
		}
		require.NoError(t, b.db.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		require.Equal(t, "lovelace", name(a), "a after b's write")
		require.NoError(t, a.db.Transaction(func(tx *gorm.DB) error {
			return tx.Model(&User{ID: 1}).Update("name", "ada lovelace").Error
		}))
		require.Equal(t, "ada lovelace", name(b), "b after a's write")
	})
}

// TestTwoInstancesUnderRace races readers and writers of two app instances:
// a read through either never returns less than what writes through either
// had committed before it began.
func TestTwoInstancesUnderRace(t *testing.T) {
	eachInstances(t, 2, nil, func(t *testing.T, _ testdb.Dialector, in []instance) { raceInstances(t, in) })
}

// raceInstances races readers and writers of the app instances in, each
// writer alternating between them: a read through any never returns less
// than what writes through any had committed before it began, and every
// instance hits.
func raceInstances(t *testing.T, in []instance) {
	const rows, writesPerRow, readers = 4, 40, 4
	for i := 1; i <= rows; i++ {
		require.NoError(t, in[0].db.Create(&Counter{ID: uint(i)}).Error)
	}
	var committed [rows + 1]atomic.Int64
	var tl tally
	done := make(chan struct{})

	var writers sync.WaitGroup
	for id := 1; id <= rows; id++ {
		writers.Go(func() {
			for v := int64(1); v <= writesPerRow; v++ {
				db := in[(id+int(v))%len(in)].db // alternate instances
				err := db.Model(&Counter{ID: uint(id)}).Update("version", v).Error
				if err != nil {
					t.Errorf("write: %v", err)
					return
				}
				committed[id].Store(v)
				time.Sleep(time.Millisecond) // for reads to hit in between
			}
		})
	}
	var wg sync.WaitGroup
	for r := range max(readers, len(in)) {
		wg.Go(func() {
			db := in[r%len(in)].db
			// After the writes, a few more reads, which hit: a busy
			// machine may leave no time for hits between writes.
			after := 0
			for i := 0; ; i++ {
				select {
				case <-done:
					if after++; after > 10 {
						return
					}
				default:
				}
				if !readCounters(t, db, i, 1+(i/2+r)%rows, committed[:], &tl) {
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	wg.Wait()

	t.Logf("%d reads", tl.reads.Load())
	for i, x := range in {
		s := x.p.Stats()
		t.Logf("instance %d: %d hits, %d misses", i, s.Hits, s.Misses)
		if s.Hits == 0 {
			t.Errorf("instance %d never hit the cache: the test proves nothing", i)
		}
	}
	if n := tl.stale.Load(); n != 0 {
		t.Fatalf("%d stale reads", n)
	}
}

// TestRedisOutage stops the Redis server mid-run: every query still
// succeeds, from the database; after the restart, no entry cached before
// the outage that a write during the outage changed is served, whether the
// write's invalidation was delivered late or given up (and the epoch
// renewed). Redis faults do not depend on the database: SQLite will do.
func TestRedisOutage(t *testing.T) {
	for _, tt := range []struct {
		name     string
		retryFor time.Duration
		downFor  time.Duration // after the writes
	}{
		{"invalidations delivered late", time.Minute, 0},
		{"invalidations given up", 300 * time.Millisecond, 600 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := testredis.StartServer(t)
			s := newRedisStore(t, srv.Client(), redis.Config{Timeout: 50 * time.Millisecond, RetryFor: tt.retryFor})
			e := newEnv(t, backend{Dialector: testdb.Dialector{Name: "sqlite"}}, gormcache.Config{Store: s})
			e.seed()
			// check runs every read cached and uncached and fails on a
			// difference; it returns the hits it made.
			check := func(when string) uint64 {
				t.Helper()
				before := e.stats().Hits
				for name, read := range reads {
					require.Equal(t, read(t, e.uncached()), read(t, e.cached()), "%s: %s", when, name)
				}
				return e.stats().Hits - before
			}
			check("filling")
			require.NotZero(t, check("before the outage"), "hits before the outage")

			srv.Kill()
			check("Redis down")
			errs := e.stats().Errors
			writes["update"](t, e.db)
			writes["association clear"](t, e.db)
			writes["create"](t, e.db)
			if e.stats().Errors == errs {
				t.Fatal("writes with Redis down: no store error counted")
			}
			check("Redis down, after writes")
			time.Sleep(tt.downFor)

			srv.Restart()
			deadline := time.Now().Add(15 * time.Second)
			for check("Redis back") == 0 {
				if time.Now().After(deadline) {
					t.Fatal("no hit 15s after Redis came back")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestRedisSlow checks that a Redis that answers later than the store's
// Timeout delays cached reads and writes by at most two Timeouts.
func TestRedisSlow(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := testredis.StartServer(t)
	s := newRedisStore(t, srv.Client(), redis.Config{Timeout: timeout})
	e := newEnv(t, backend{Dialector: testdb.Dialector{Name: "sqlite"}}, gormcache.Config{Store: s})
	e.seed()
	read := reads["photos of ada"]
	read(t, e.cached())
	e.mustHit(func() { read(t, e.cached()) })

	// Longer than the test: nothing waits for it to end.
	require.NoError(t, srv.Client().Do(t.Context(), "CLIENT", "PAUSE", 5000, "ALL").Err())
	// A read makes two store calls before it gives up on the cache (Get,
	// then Stamps), and a write no more; each waits one Timeout. The rest
	// is the database and the race detector.
	limit := 2*timeout + 400*time.Millisecond
	for _, op := range []struct {
		name string
		fn   func()
	}{
		{"cached read", func() { require.Equal(t, read(t, e.uncached()), read(t, e.cached())) }},
		{"write", func() { writes["update"](t, e.db) }},
	} {
		start := time.Now()
		op.fn()
		if elapsed := time.Since(start); elapsed > limit {
			t.Errorf("%s with Redis paused took %v, want at most %v", op.name, elapsed, limit)
		}
	}
	if e.stats().Errors == 0 {
		t.Error("no store error counted with Redis paused")
	}
}
