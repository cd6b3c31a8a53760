package gormcache_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
)

// faultTimeout is the Redis stores' Timeout in the fault tests: short, so
// that a fault of a second outlasts a write's wait (WriteWait, three
// Timeouts).
const faultTimeout = 100 * time.Millisecond

// A fault is done to a Redis server for a while, then undone.
type fault struct {
	name string
	// args are the server's options (persistence).
	args []string
	// inject does the fault; it returns when the fault is over.
	inject func(t *testing.T, srv *testredis.Server, admin *goredis.Client)
}

var faults = []fault{
	{name: "pause all", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		require.NoError(t, admin.Do(t.Context(), "CLIENT", "PAUSE", 1000, "ALL").Err())
		time.Sleep(time.Second)
	}},
	{name: "pause writes", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		require.NoError(t, admin.Do(t.Context(), "CLIENT", "PAUSE", 1000, "WRITE").Err())
		time.Sleep(time.Second)
	}},
	{name: "SIGSTOP", inject: func(t *testing.T, srv *testredis.Server, _ *goredis.Client) {
		srv.Stop()
		time.Sleep(time.Second)
		srv.Cont()
	}},
	{name: "kill and restart", inject: func(t *testing.T, srv *testredis.Server, _ *goredis.Client) {
		srv.Kill()
		time.Sleep(time.Second)
		srv.Restart()
	}},
	{name: "kill and restart from a snapshot", args: []string{"--appendonly", "no"},
		inject: func(t *testing.T, srv *testredis.Server, admin *goredis.Client) {
			require.NoError(t, admin.Save(t.Context()).Err())
			time.Sleep(500 * time.Millisecond) // writes the snapshot misses
			srv.Kill()
			time.Sleep(500 * time.Millisecond)
			srv.Restart()
		}},
	{name: "client kill", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		// Often, for the kills to land between a call Redis ran and its
		// reply (see store/redis's TestLostReplyRenewsNothing).
		for range 25 {
			require.NoError(t, admin.Do(t.Context(), "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err())
			time.Sleep(40 * time.Millisecond)
		}
	}},
	{name: "debug sleep", args: []string{"--enable-debug-command", "yes"}, inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		require.NoError(t, admin.Do(context.Background(), "DEBUG", "SLEEP", "1").Err())
	}},
	{name: "flushall", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		for range 5 {
			require.NoError(t, admin.FlushAll(t.Context()).Err())
			time.Sleep(200 * time.Millisecond)
		}
	}},
	{name: "script flush", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		for range 5 {
			require.NoError(t, admin.ScriptFlush(t.Context()).Err())
			time.Sleep(200 * time.Millisecond)
		}
	}},
	{name: "eviction", inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		require.NoError(t, admin.ConfigSet(t.Context(), "maxmemory-policy", "allkeys-lru").Err())
		require.NoError(t, admin.ConfigSet(t.Context(), "maxmemory", "1").Err())
		time.Sleep(time.Second)
		require.NoError(t, admin.ConfigSet(t.Context(), "maxmemory", "0").Err())
	}},
}

// TestFaultsThreeInstances runs three instances of an application on one
// database and one Redis — two on the Redis store, one on the two-level
// store —, writers on the first, readers on the other two, and does each
// fault of faults to the Redis server in the middle. (An instance whose
// invalidations wait to be retried serves no hit: the readers are on the
// instances that do not write.) Every
// read must return at least the versions whose writes had returned before
// it began: no instance serves what another's write changed, whatever
// Redis went through.
func TestFaultsThreeInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("injects faults for seconds")
	}
	eachFault(t, faults, thirdTwoLevel, func(*testing.T, []*gorm.DB) {
		time.Sleep(time.Second) // after the fault, hits resume
	})
}

// eachFault runs, for each of faults, a subtest of its own Redis server
// and the workload of startWorkload on instances whose stores layer
// makes: it injects the fault, then calls resume until hits must have
// resumed, and checks every read.
func eachFault(t *testing.T, faults []fault, layer func(t *testing.T, i int, rs *redis.Store) store.Store, resume func(*testing.T, []*gorm.DB)) {
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			srv := testredis.StartServer(t, f.args...)
			instances := openInstances(t, func() goredis.UniversalClient { return srv.Client() }, layer)
			w := startWorkload(t, instances)
			time.Sleep(500 * time.Millisecond)
			f.inject(t, srv, srv.Client())
			w.markHits()
			resume(t, instances)
			w.stop(t)
		})
	}
}

// openInstances opens three instances of an application on one new SQLite
// database, each with its own plugin and Redis store on its own client of
// newClient, sharing a prefix, under the store that layer makes of it for
// instance i.
func openInstances(t *testing.T, newClient func() goredis.UniversalClient, layer func(t *testing.T, i int, rs *redis.Store) store.Store) []*gorm.DB {
	dial, prefix := testdb.Sqlite(t), testredis.Prefix(t)
	var instances []*gorm.DB
	for i := range 3 {
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		rs, err := redis.New(newClient(), redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf})
		require.NoError(t, err)
		require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: layer(t, i, rs)})))
		instances = append(instances, db)
	}
	return instances
}

// thirdTwoLevel is the layer of the fault tests of the Redis store: two
// instances on it, the third two-level.
func thirdTwoLevel(t *testing.T, i int, rs *redis.Store) store.Store {
	if i < 2 {
		return rs
	}
	two, err := redis.NewTwoLevel(rs, memory.Config{})
	require.NoError(t, err)
	return two
}

// workload is writers on the first of three instances and readers on the
// other two, judging every read: it must return at least the versions whose
// writes had returned before it began.
type workload struct {
	done               chan struct{}
	wg                 sync.WaitGroup
	reads, stale, hits atomic.Int64
	hitsSince          atomic.Int64 // hits since markHits
}

// startWorkload creates the rows and starts the writers and readers.
func startWorkload(t *testing.T, instances []*gorm.DB) *workload {
	w := &workload{done: make(chan struct{})}
	require.NoError(t, instances[0].AutoMigrate(&Tally{}))
	const rows, owners = 6, 3
	for i := 1; i <= rows; i++ {
		require.NoError(t, instances[0].Create(&Tally{ID: uint(i), Owner: i % owners}).Error)
	}

	var committed [rows + 1]atomic.Int64
	for id := 1; id <= rows; id++ {
		w.wg.Go(func() {
			for v := int64(1); ; v++ {
				select {
				case <-w.done:
					return
				default:
				}
				if err := instances[0].Model(&Tally{ID: uint(id)}).Update("version", v).Error; err != nil {
					t.Errorf("write: %v", err)
					return
				}
				committed[id].Store(v)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	for r := range 6 {
		db := instances[1+r%2]
		w.wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-w.done:
					return
				default:
				}
				var floors [rows + 1]int64
				for j := range floors {
					floors[j] = committed[j].Load()
				}
				p := db.Config.Plugins["gormcache"].(*gormcache.Plugin)
				before := p.Stats().Hits
				var ts []Tally
				var err error
				if i%2 == 0 {
					err = db.Clauses(gormcache.Cache()).Where("owner = ?", i%owners).Find(&ts).Error
				} else {
					ts = make([]Tally, 1)
					err = db.Clauses(gormcache.Cache()).First(&ts[0], 1+i%rows).Error
				}
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				if p.Stats().Hits > before {
					w.hits.Add(1)
					w.hitsSince.Add(1)
				}
				w.reads.Add(1)
				for _, tl := range ts {
					if tl.Version < floors[tl.ID] {
						w.stale.Add(1)
						t.Errorf("stale read on instance %d: row %d version %d, %d had returned", 1+r%2, tl.ID, tl.Version, floors[tl.ID])
					}
				}
			}
		})
	}
	return w
}

// markHits starts counting hits anew.
func (w *workload) markHits() { w.hitsSince.Store(0) }

// stop stops the workload and fails t if no read hit the cache since
// markHits. It gives hits a few more seconds to resume first: on a loaded
// machine the instances may take longer than the subtest waited to trust
// Redis again.
func (w *workload) stop(t *testing.T) {
	resumed := assert.Eventually(t, func() bool { return w.hitsSince.Load() > 0 }, 10*time.Second, 10*time.Millisecond,
		"no read hit the cache: the test proves nothing")
	close(w.done)
	w.wg.Wait()
	t.Logf("%d reads, about %d hits, %d stale", w.reads.Load(), w.hits.Load(), w.stale.Load())
	if !resumed {
		t.FailNow()
	}
}

// TestFaultsOnCluster does the faults a Cluster meets in a manual failover
// to every master of a Cluster of its own (writes paused, then everything
// paused, then the clients' connections killed) under the workload of
// TestFaultsThreeInstances.
func TestFaultsOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("injects faults for seconds")
	}
	clusterFaults(t, thirdTwoLevel, false,
		[]any{"CLIENT", "PAUSE", 1000, "WRITE"},
		[]any{"CLIENT", "PAUSE", 1000, "ALL"},
		[]any{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"})
}

// clusterFaults runs the workload of TestFaultsThreeInstances on a Cluster
// of its own, the instances' stores made by layer, and sends each command
// of faults to every master in turn, a second apart; with stopMasters it
// then stops (SIGSTOP) each master, in turn, for a second. It returns the
// instances.
func clusterFaults(t *testing.T, layer func(t *testing.T, i int, rs *redis.Store) store.Store, stopMasters bool, faults ...[]any) []*gorm.DB {
	testdb.RequireService(t, testredis.AddrEnv, "Redis")
	nodes := testredis.StartCluster(t)
	instances := openInstances(t, func() goredis.UniversalClient { return testredis.ClusterClientOf(t, nodes) }, layer)
	w := startWorkload(t, instances)
	for _, fault := range faults {
		time.Sleep(500 * time.Millisecond)
		for _, n := range nodes {
			require.NoError(t, n.Client().Do(t.Context(), fault...).Err())
		}
		time.Sleep(time.Second)
	}
	for _, n := range nodes {
		if !stopMasters {
			break
		}
		time.Sleep(500 * time.Millisecond)
		n.Stop()
		time.Sleep(time.Second)
		n.Cont()
	}
	w.markHits()
	time.Sleep(time.Second)
	w.stop(t)
	return instances
}

// TestClusterFailover promotes the replica of each master of a Cluster,
// in turn, with CLUSTER FAILOVER, while the workload of
// TestFaultsThreeInstances runs on it: the promoted replicas are other
// servers, and the writes during a handover wait or queue their
// invalidations, so no instance may serve what they changed.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fails three masters over")
	}
	w, _ := failClusterOver(t, thirdTwoLevel, func([]*gorm.DB) {})
	time.Sleep(time.Second) // after the failovers, hits resume
	w.stop(t)
}

// failClusterOver runs the workload of TestFaultsThreeInstances on a
// Cluster of its own with a replica per master, the instances' stores made
// by layer, and promotes the replica of each master in turn, calling after
// once each failover has settled. It returns with the workload's hits
// marked.
func failClusterOver(t *testing.T, layer func(t *testing.T, i int, rs *redis.Store) store.Store, after func([]*gorm.DB)) (*workload, []*gorm.DB) {
	nodes := testredis.StartClusterWithReplicas(t)
	var replicas []*testredis.Server
	for _, n := range nodes {
		if testredis.RoleOf(t, n).Master != "" {
			replicas = append(replicas, n)
		}
	}
	require.Len(t, replicas, 3)
	instances := openInstances(t, func() goredis.UniversalClient { return testredis.ClusterClientOf(t, nodes) }, layer)
	w := startWorkload(t, instances)
	for _, r := range replicas {
		time.Sleep(500 * time.Millisecond)
		took, forced := testredis.Failover(t, nodes, r)
		t.Logf("%s promoted in %v (forced: %v)", r.Addr, took.Round(time.Millisecond), forced)
		after(instances)
	}
	w.markHits()
	return w, instances
}

// TestSentinelFailover kills the master of a Sentinel deployment while the
// workload of TestFaultsThreeInstances runs on it: writes during the
// failover wait or queue their invalidations, and the promoted replica is
// another server, so no instance may serve what they changed.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fails a master over")
	}
	w, _ := failSentinelOver(t, thirdTwoLevel)
	time.Sleep(2 * time.Second) // after the failover, hits resume
	w.stop(t)
}

// failSentinelOver runs the workload of TestFaultsThreeInstances on a
// Sentinel deployment of its own, the instances' stores made by layer,
// kills the master and returns once the Sentinel has promoted the replica,
// with the workload's hits marked.
func failSentinelOver(t *testing.T, layer func(t *testing.T, i int, rs *redis.Store) store.Store) (*workload, []*gorm.DB) {
	sentinel := testredis.StartSentinel(t)
	instances := openInstances(t, func() goredis.UniversalClient { return sentinel.FailoverClient(t) }, layer)
	w := startWorkload(t, instances)
	time.Sleep(500 * time.Millisecond)
	sentinel.Master.Kill()
	for start := time.Now(); sentinel.MasterAddr(t) != sentinel.Replica.Addr; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 15*time.Second {
			t.Fatal("the Sentinel did not promote the replica in 15s")
		}
	}
	w.markHits()
	return w, instances
}

// TestPartitionedInstance cuts one instance off Redis while another still
// reaches it: the cut-off instance's writes cannot invalidate, and the other
// serves what they changed for as long as the partition lasts — the one
// case the package doc leaves open. It measures how long after the
// partition heals that goes on: the cut-off instance's retrier delivers at
// once.
func TestPartitionedInstance(t *testing.T) {
	srv := testredis.StartServer(t)
	proxy := testredis.NewProxy(t, srv.Addr)
	dial, prefix := testdb.Sqlite(t), testredis.Prefix(t)
	open := func(addr string) *gorm.DB {
		client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = client.Close() })
		rs, err := redis.New(client, redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf})
		require.NoError(t, err)
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: rs})))
		return db
	}
	cutOff, other := open(proxy.Addr), open(srv.Addr)
	require.NoError(t, cutOff.AutoMigrate(&Tally{}))
	require.NoError(t, cutOff.Create(&Tally{ID: 1}).Error)
	version := func() int64 {
		var tl Tally
		require.NoError(t, other.Clauses(gormcache.Cache()).First(&tl, 1).Error)
		return tl.Version
	}
	require.Zero(t, version())

	proxy.Cut()
	start := time.Now()
	require.NoError(t, cutOff.Model(&Tally{ID: 1}).Update("version", 1).Error)
	t.Logf("the cut-off instance's write returned after %v", time.Since(start).Round(time.Millisecond))
	require.Zero(t, version(), "the other instance saw the write during the partition: the test proves nothing")
	time.Sleep(500 * time.Millisecond)

	proxy.Heal()
	healed := time.Now()
	for version() == 0 {
		if time.Since(healed) > 5*time.Second {
			t.Fatal("still stale 5s after the partition healed")
		}
		time.Sleep(time.Millisecond)
	}
	window := time.Since(healed)
	t.Logf("stale for %v after the partition healed", window.Round(time.Millisecond))
	require.Less(t, window, 3*faultTimeout, "stale too long after the partition healed")
}

// TestStallCostsAFewTimeouts runs a transaction of 20 writes to three tables
// while Redis answers nothing: its commit waits for one failed schemes read
// and for its invalidation (WriteWait), not a Timeout per statement.
func TestStallCostsAFewTimeouts(t *testing.T) {
	srv := testredis.StartServer(t)
	instances := openInstances(t, func() goredis.UniversalClient { return srv.Client() }, thirdTwoLevel)
	db := instances[0]
	require.NoError(t, db.AutoMigrate(&Tally{}, &Counter{}, &widget{}))
	require.NoError(t, db.Create(&Tally{ID: 1}).Error)
	require.NoError(t, db.Create(&Counter{ID: 1}).Error)
	require.NoError(t, db.Create(&widget{ID: 1}).Error)
	// Cached reads register schemes: the writes read their rows.
	require.NoError(t, db.Clauses(gormcache.Cache()).First(&Tally{}, 1).Error)
	require.NoError(t, db.Clauses(gormcache.Cache()).First(&Counter{}, 1).Error)

	srv.Stop()
	defer srv.Cont()
	start := time.Now()
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		for i := range 20 {
			var err error
			switch i % 3 {
			case 0:
				err = tx.Model(&Tally{ID: 1}).Update("version", i).Error
			case 1:
				err = tx.Model(&Counter{ID: 1}).Update("version", i).Error
			default:
				err = tx.Model(&widget{ID: 1}).Update("name", "w").Error
			}
			if err != nil {
				return err
			}
		}
		return nil
	}))
	took := time.Since(start)
	t.Logf("a 20-statement transaction with Redis stopped took %v (Timeout %v)", took.Round(time.Millisecond), faultTimeout)
	require.Less(t, took, 6*faultTimeout)
}

// TestOversizedValueInvalidates writes a value longer than Redis accepts
// in a command (proto-max-bulk-len) into a column the cache tracks: the
// write's invalidation still reaches every result of the row, at once, and
// no other result.
func TestOversizedValueInvalidates(t *testing.T) {
	srv := testredis.StartServer(t, "--proto-max-bulk-len", "1mb")
	var ev events
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	prefix := testredis.Prefix(t)
	rs, err := redis.New(srv.Client(), redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf})
	require.NoError(t, err)
	require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: rs, OnInvalidate: ev.on})))
	require.NoError(t, db.AutoMigrate(&widget{}))
	epoch := func() string { return srv.Client().HGet(t.Context(), prefix+"{*}epoch", "s").Val() }
	require.NoError(t, db.Create(&[]widget{{Name: "a"}, {Name: "b"}}).Error)
	name := func(id uint) string {
		var w widget
		require.NoError(t, db.Clauses(gormcache.Cache()).First(&w, id).Error)
		return w.Name
	}
	require.NoError(t, db.Clauses(gormcache.Cache()).Where("name = ?", "a").Find(&[]widget{}).Error) // registers the scheme name
	require.Equal(t, "a", name(1))
	require.Equal(t, "b", name(2))
	ev.take()

	before := epoch()
	big := strings.Repeat("x", 1200<<10)
	require.NoError(t, db.Model(&widget{ID: 1}).Update("name", big).Error)
	got := ev.take()
	require.Len(t, got, 1)
	require.NoError(t, got[0].Err, "the invalidation failed")
	require.Equal(t, invalidation.Rows, got[0].Level)
	require.Equal(t, big, name(1), "stale after a write of a long value")
	// No other result was invalidated: the epoch was not renewed, and row
	// 2's result hits. (Its first read may miss: the connection Redis
	// closed on the long value is redialled, and the store checks the
	// server's identity before it trusts a hit, within Timeout, which a
	// loaded machine may exceed.)
	require.NotEmpty(t, before)
	require.Equal(t, before, epoch(), "the epoch was renewed")
	p := db.Config.Plugins["gormcache"].(*gormcache.Plugin)
	hits := p.Stats().Hits
	for range 3 {
		require.Equal(t, "b", name(2))
	}
	require.Greater(t, p.Stats().Hits, hits, "row 2's result no longer hits")
}
