package gormcache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
)

// nearLease is the lease of the near caches of the plugin's tests: short,
// so that what waits for one (the first write on a new prefix, a paused
// instance) waits little, and ten times the fault tests' Timeout.
const nearLease = 500 * time.Millisecond

// nearOver returns a near cache over rs, closed in t.Cleanup.
func nearOver(t testing.TB, rs *redis.Store) *redis.Near {
	t.Helper()
	n, err := redis.NewNear(rs, redis.NearConfig{Lease: nearLease})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

// nearStore is a newInstances store: a near cache on client.
func nearStore(t testing.TB, client goredis.UniversalClient, prefix string) store.Store {
	return nearOver(t, newRedisStore(t, client, redis.Config{Prefix: prefix, Logf: t.Logf}))
}

// allNear is an openInstances layer: every instance on a near cache.
func allNear(t *testing.T, _ int, rs *redis.Store) store.Store { return nearOver(t, rs) }

// nearHits returns the hits the near caches of in served from memory.
func nearHits(in []instance) uint64 {
	var n uint64
	for _, x := range in {
		n += x.p.Store().(*redis.Near).NearStats().Hits
	}
	return n
}

// TestNearDifferential runs the differential workload on three instances
// with near caches: each read through a random instance, cached, must
// equal the same read around the cache, after writes through random
// instances.
func TestNearDifferential(t *testing.T) {
	eachInstances(t, 3, nearStore, func(t *testing.T, d testdb.Dialector, in []instance) {
		seedDifferential(t, in[0].db)
		// TestDifferential's steps, each through a random instance.
		r := rand.New(rand.NewPCG(20261122, uint64(len(d.Name))))
		instances := rand.New(rand.NewPCG(1, 2))
		const steps = 2000
		for step := range steps {
			at := instances.IntN(len(in))
			if r.IntN(10) >= 8 {
				diffWrites[r.IntN(len(diffWrites))](t, in[at].db, r)
				continue
			}
			i, params := r.IntN(len(diffReads)), r.Uint64()
			got := diffReads[i](t, in[at].db.Clauses(gormcache.Cache()), rand.New(rand.NewPCG(params, 0)))
			want := diffReads[i](t, in[at].db.Clauses(gormcache.NoCache()), rand.New(rand.NewPCG(params, 0)))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d: read %d through instance %d differs from the database:\ngot  %#v\nwant %#v", step, i, at, got, want)
			}
		}
		var hits, misses uint64
		for _, x := range in {
			s := x.p.Stats()
			hits, misses = hits+s.Hits, misses+s.Misses
		}
		t.Logf("%d steps: %d hits (%d from memory), %d misses", steps, hits, nearHits(in), misses)
		require.NotZero(t, nearHits(in), "no hit was served from memory: the test proves little")
	})
}

// TestNearUnderRace races readers and writers of three instances with near
// caches (see raceInstances).
func TestNearUnderRace(t *testing.T) {
	eachInstances(t, 3, nearStore, func(t *testing.T, _ testdb.Dialector, in []instance) {
		raceInstances(t, in)
		require.NotZero(t, nearHits(in), "no hit was served from memory: the test proves little")
	})
}

// nearFaults are the faults of TestNearFaults: those of the Redis store's
// tests, and one that only near caches meet.
var nearFaults = append(faults[:len(faults):len(faults)], fault{name: "client kill pubsub",
	inject: func(t *testing.T, _ *testredis.Server, admin *goredis.Client) {
		for range 5 {
			require.NoError(t, admin.Do(t.Context(), "CLIENT", "KILL", "TYPE", "pubsub").Err())
			time.Sleep(200 * time.Millisecond)
		}
	}})

// TestNearFaults is TestFaultsThreeInstances with every instance on a near
// cache: no instance serves what another's write changed, whatever Redis
// went through, and hits resume after.
func TestNearFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("injects faults for seconds")
	}
	eachFault(t, nearFaults, allNear, waitNearHits)
}

// TestNearSentinelFailover is TestSentinelFailover with every instance on
// a near cache: the promoted replica is another server, whose registry of
// leases is new.
func TestNearSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fails a master over")
	}
	w, instances := failSentinelOver(t, allNear)
	waitNearHits(t, instances)
	w.stop(t)
}

// TestNearClusterFailover is TestClusterFailover with every instance on a
// near cache: after each master is failed over, the readers serve hits
// from memory again.
func TestNearClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("fails three masters over")
	}
	w, instances := failClusterOver(t, allNear, func(instances []*gorm.DB) { waitNearHits(t, instances) })
	waitNearHits(t, instances)
	w.stop(t)
	for i, db := range instances[1:] {
		t.Logf("reader %d: %+v", i+1, db.Config.Plugins["gormcache"].(*gormcache.Plugin).Store().(*redis.Near).NearStats())
	}
}

// waitNearHits waits until the readers of a fault test (every instance
// but the first) serve hits from memory again, for at most 10s.
func waitNearHits(t *testing.T, instances []*gorm.DB) {
	t.Helper()
	hits := func() uint64 {
		var n uint64
		for _, db := range instances[1:] {
			n += db.Config.Plugins["gormcache"].(*gormcache.Plugin).Store().(*redis.Near).NearStats().Hits
		}
		return n
	}
	start, before := time.Now(), hits()
	for hits() == before {
		require.Less(t, time.Since(start), 10*time.Second, "no hit from memory in 10s after the fault")
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("hits from memory resumed %v after the fault", time.Since(start).Round(time.Millisecond))
}

// TestNearFaultsOnCluster is TestFaultsOnCluster with every instance on a
// near cache, the subscriptions killed too, and each master, in turn,
// stopped (SIGSTOP) for a second, as long as a failover would take.
func TestNearFaultsOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("injects faults for seconds")
	}
	instances := clusterFaults(t, allNear, true,
		[]any{"CLIENT", "PAUSE", 1000, "WRITE"},
		[]any{"CLIENT", "PAUSE", 1000, "ALL"},
		[]any{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"},
		[]any{"CLIENT", "KILL", "TYPE", "pubsub"})
	for i, db := range instances[1:] {
		s := db.Config.Plugins["gormcache"].(*gormcache.Plugin).Store().(*redis.Near).NearStats()
		t.Logf("reader %d: %+v", i+1, s)
	}
}

// nearWorkerEnv, when set, makes TestNearProcesses a reader of the
// workload its parent process runs: it holds the JSON of a nearWorker.
const nearWorkerEnv = "GORMCACHE_NEAR_WORKER"

// nearWorker is what a worker process needs to join the workload.
type nearWorker struct {
	DSN, Addr, Prefix string
}

// nearReport is what a worker process found, printed on a line of its
// own after nearReportTag.
type nearReport struct {
	Reads, Hits, NearHits, Stale int64
	// HitsAfterPause counts the hits after the worker's longest pause
	// (SIGSTOP), which it notices as a gap in its own clock.
	HitsAfterPause int64
	Pause          time.Duration
}

const nearReportTag = "near-worker-report: "

// TestNearProcesses runs the workload of TestFaultsThreeInstances across
// three OS processes, this one writing and two copies of the test binary
// reading, each through a near cache, on one SQLite database and one
// Redis: a reader checks every read against the versions whose writes had
// returned before it began, which the writer keeps in Redis. One reader is
// stopped (SIGSTOP) for two leases while the writes go on: they wait at
// most a lease for it, and it serves nothing stale when it resumes.
func TestNearProcesses(t *testing.T) {
	if spec := os.Getenv(nearWorkerEnv); spec != "" {
		runNearWorker(t, spec)
		return
	}
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	addr := testdb.RequireService(t, testredis.AddrEnv, "Redis")
	dial, prefix := testdb.Sqlite(t), testredis.Prefix(t)
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	writer := nearOver(t, newRedisStore(t, testredis.Client(t), redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf}))
	require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: writer})))
	require.NoError(t, db.AutoMigrate(&Tally{}))
	const rows, owners = 6, 3
	for i := 1; i <= rows; i++ {
		require.NoError(t, db.Create(&Tally{ID: uint(i), Owner: i % owners}).Error)
	}
	admin := testredis.Client(t)
	floors := prefix + "floors"

	spec, err := json.Marshal(nearWorker{DSN: dial.(*sqlite.Dialector).DSN, Addr: addr, Prefix: prefix})
	require.NoError(t, err)
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	children := make([]*child, 2)
	for i := range children {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestNearProcesses$", "-test.count=1", "-test.v")}
		c.cmd.Env = append(os.Environ(), nearWorkerEnv+"="+string(spec))
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		c.stdin, err = c.cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, c.cmd.Start())
		t.Cleanup(func() { _ = c.cmd.Process.Kill(); _ = c.cmd.Wait() })
		children[i] = c
	}
	// leases returns the number of leases the registry names.
	leases := func() int {
		fields, err := admin.HKeys(t.Context(), prefix+"{*}near").Result()
		require.NoError(t, err)
		n := 0
		for _, f := range fields {
			if strings.HasPrefix(f, "h:") {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); leases() < 3; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the workers hold no lease after 30s")
	}

	var paused atomic.Bool
	var slowest atomic.Int64 // of the writes while a reader is stopped
	done := make(chan struct{})
	var wg sync.WaitGroup
	for id := 1; id <= rows; id++ {
		wg.Go(func() {
			for v := int64(1); ; v++ {
				select {
				case <-done:
					return
				default:
				}
				during := paused.Load()
				start := time.Now()
				if err := db.Model(&Tally{ID: uint(id)}).Update("version", v).Error; err != nil {
					t.Errorf("write: %v", err)
					return
				}
				if took := int64(time.Since(start)); during && took > slowest.Load() {
					slowest.Store(took)
				}
				if err := admin.HSet(context.Background(), floors, strconv.Itoa(id), v).Err(); err != nil {
					t.Errorf("floor: %v", err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	// Stop the first reader while it holds a lease: a busy machine may
	// have it give its lease up for a moment, and the writes then do not
	// wait for it; stop it again then.
	stopped := children[0].cmd.Process
	for attempt := 1; ; attempt++ {
		for leases() < 3 {
			time.Sleep(time.Millisecond)
		}
		lapsed := writer.NearStats().Lapsed
		require.NoError(t, stopped.Signal(syscall.SIGSTOP))
		paused.Store(true)
		time.Sleep(2 * nearLease)
		paused.Store(false)
		require.NoError(t, stopped.Signal(syscall.SIGCONT))
		if writer.NearStats().Lapsed > lapsed {
			break
		}
		require.Less(t, attempt, 3, "no write waited for the stopped reader: the test proves nothing")
		time.Sleep(nearLease)
	}
	time.Sleep(1500 * time.Millisecond)
	close(done)
	wg.Wait()

	t.Logf("the slowest write while a reader was stopped took %v (lease %v)", time.Duration(slowest.Load()).Round(time.Millisecond), nearLease)
	require.Less(t, time.Duration(slowest.Load()), nearLease+300*time.Millisecond, "a write waited longer than a lease for the stopped reader")
	for i, c := range children {
		require.NoError(t, c.stdin.Close())
		require.NoError(t, c.cmd.Wait(), "worker %d: %s", i, c.out.String())
		r := mustReport(t, c.out.String())
		t.Logf("worker %d: %+v", i, r)
		require.Zero(t, r.Stale, "worker %d read stale rows: %s", i, c.out.String())
		require.NotZero(t, r.NearHits, "worker %d never served from memory: %s", i, c.out.String())
		require.NotZero(t, r.HitsAfterPause, "worker %d never hit after its longest pause: %s", i, c.out.String())
	}
	require.GreaterOrEqual(t, mustReport(t, children[0].out.String()).Pause, 2*nearLease-100*time.Millisecond, "the stopped worker did not notice its stop")
}

// mustReport returns the report a worker printed in out.
func mustReport(t *testing.T, out string) nearReport {
	t.Helper()
	_, line, ok := strings.Cut(out, nearReportTag)
	require.True(t, ok, "the worker printed no report: %s", out)
	line, _, _ = strings.Cut(line, "\n")
	var r nearReport
	require.NoError(t, json.Unmarshal([]byte(line), &r))
	return r
}

// runNearWorker is TestNearProcesses in a worker process: readers until
// its standard input is closed, then the report.
func runNearWorker(t *testing.T, spec string) {
	var w nearWorker
	require.NoError(t, json.Unmarshal([]byte(spec), &w))
	db, err := gorm.Open(sqlite.Open(w.DSN), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	client := goredis.NewClient(&goredis.Options{Addr: w.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	rs, err := redis.New(client, redis.Config{Prefix: w.Prefix, Timeout: faultTimeout, Logf: t.Logf})
	require.NoError(t, err)
	near := nearOver(t, rs)
	p := gormcache.New(gormcache.Config{Store: near})
	require.NoError(t, db.Use(p))
	floorsOf := goredis.NewClient(&goredis.Options{Addr: w.Addr})
	t.Cleanup(func() { _ = floorsOf.Close() })

	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	var r nearReport
	var mu sync.Mutex
	var wg sync.WaitGroup
	for reader := range 3 {
		wg.Go(func() {
			last := time.Now()
			var pause time.Duration // the longest this reader was held
			var since int64         // its hits since
			defer func() {
				mu.Lock()
				r.Pause = max(r.Pause, pause)
				r.HitsAfterPause += since
				mu.Unlock()
			}()
			for i := reader; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				// The stop falls within an iteration: measure from the
				// previous one's start.
				now := time.Now()
				if gap := now.Sub(last); gap > pause {
					pause, since = gap, 0
				}
				last = now
				floors, err := floorsOf.HGetAll(context.Background(), w.Prefix+"floors").Result()
				if err != nil {
					t.Errorf("floors: %v", err)
					return
				}
				before := p.Stats().Hits
				var ts []Tally
				if i%2 == 0 {
					err = db.Clauses(gormcache.Cache()).Where("owner = ?", i%3).Find(&ts).Error
				} else {
					ts = make([]Tally, 1)
					err = db.Clauses(gormcache.Cache()).First(&ts[0], 1+i%6).Error
				}
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				hit := p.Stats().Hits > before
				if hit {
					since++
				}
				mu.Lock()
				r.Reads++
				if hit {
					r.Hits++
				}
				for _, tl := range ts {
					if floor, _ := strconv.ParseInt(floors[strconv.Itoa(int(tl.ID))], 10, 64); tl.Version < floor {
						r.Stale++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.NearHits = int64(near.NearStats().Hits)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	fmt.Printf("\n%s%s\n", nearReportTag, b)
}

// BenchmarkMixedWorkloadInstances runs the workload of BenchmarkMixedWorkload
// (row-level) on PostgreSQL, each operation through the next of a few
// instances in turn: one instance on the memory store (each instance's
// own memory would serve what others' writes changed), and three on
// today's Redis store and on near caches, on a single node and a Cluster.
// Besides the hit ratios it reports near-ratio, the share of the lookups
// that a near cache served from memory. "paired" runs every way, each on a
// database of its own seeded alike, and each operation on all of them back
// to back, in a random order, and reports how long each way takes against
// the memory store and a near cache against today's Redis store: ratios
// steadier than figures of separate runs on a shared machine.
func BenchmarkMixedWorkloadInstances(b *testing.B) {
	ways := []mixedWay{{name: "memory-1", instances: 1}}
	for _, top := range redisTopologies {
		ways = append(ways,
			mixedWay{"redis-3-" + top.name, 3, func(b *testing.B, prefix string) store.Store {
				return newRedisStore(b, top.client(b), redis.Config{Prefix: prefix})
			}},
			mixedWay{"near-3-" + top.name, 3, func(b *testing.B, prefix string) store.Store {
				n, err := redis.NewNear(newRedisStore(b, top.client(b), redis.Config{Prefix: prefix, Logf: b.Logf}), redis.NearConfig{})
				require.NoError(b, err)
				b.Cleanup(func() { require.NoError(b, n.Close()) })
				return n
			}})
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			r := w.open(b)
			hits, misses, near := r.counts()
			r.work.reads, r.work.readHits = 0, 0
			b.ResetTimer()
			for b.Loop() {
				r.op(b)
			}
			b.StopTimer()
			h, m, n := r.counts()
			hits, misses, near = h-hits, m-misses, n-near
			b.ReportMetric(float64(hits)/float64(max(1, hits+misses)), "hit-ratio")
			b.ReportMetric(float64(r.work.readHits)/float64(max(1, r.work.reads)), "read-hit-ratio")
			b.ReportMetric(float64(near)/float64(max(1, hits+misses)), "near-ratio")
		})
	}
	b.Run("paired", func(b *testing.B) {
		runs := make([]*mixedRun, len(ways))
		for i, w := range ways {
			runs[i] = w.open(b)
		}
		spent := make([]time.Duration, len(ways))
		for b.Loop() {
			for _, i := range rand.Perm(len(runs)) {
				start := time.Now()
				runs[i].op(b)
				spent[i] += time.Since(start)
			}
		}
		// ways: memory-1, then redis-3 and near-3 per topology.
		for i, w := range ways {
			b.ReportMetric(float64(spent[i].Microseconds())/float64(b.N), "µs/op-"+w.name)
			if i > 0 {
				b.ReportMetric(float64(spent[i])/float64(spent[0]), w.name+"/memory-1")
			}
			if i%2 == 0 && i > 0 {
				b.ReportMetric(float64(spent[i-1])/float64(spent[i]), ways[i-1].name+"/"+w.name)
			}
		}
	})
}

// mixedWay is a way of running BenchmarkMixedWorkloadInstances: instances
// app instances on the stores that store makes, sharing a prefix (nil: each
// on a memory store of its own).
type mixedWay struct {
	name      string
	instances int
	store     func(b *testing.B, prefix string) store.Store
}

// mixedRun is a way's instances on a database of their own, and the
// workload that runs through them in turn.
type mixedRun struct {
	dbs     []*gorm.DB
	plugins []*gormcache.Plugin
	work    *mixedWorkload
	next    int
}

// open seeds a new database, opens the way's instances on it and runs
// 20,000 operations: the steady state is what matters.
func (w mixedWay) open(b *testing.B) *mixedRun {
	const users, perUser = 1000, 10
	dial, prefix := testdb.Postgres(b), testredis.Prefix(b)
	seed, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	seedPhotos(b, seed, users, perUser)
	r := &mixedRun{work: newMixedWorkload(users, perUser)}
	for range w.instances {
		cfg := gormcache.Config{CacheAll: true}
		if w.store != nil {
			cfg.Store = w.store(b, prefix)
		}
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		p := gormcache.New(cfg)
		require.NoError(b, db.Use(p))
		r.dbs, r.plugins = append(r.dbs, db), append(r.plugins, p)
	}
	for range 20000 {
		r.op(b)
	}
	return r
}

// op runs the next operation of the workload through the next instance.
func (r *mixedRun) op(b *testing.B) {
	r.work.op(b, r.dbs[r.next], r.plugins[r.next])
	r.next = (r.next + 1) % len(r.dbs)
}

// counts returns the hits and misses of the instances' plugins, and the
// hits their near caches served from memory.
func (r *mixedRun) counts() (hits, misses, near uint64) {
	for _, p := range r.plugins {
		s := p.Stats()
		hits, misses = hits+s.Hits, misses+s.Misses
		if n, ok := p.Store().(*redis.Near); ok {
			near += n.NearStats().Hits
		}
	}
	return hits, misses, near
}

// TestNearLostTableStamps: Redis may lose a table's stamp, and the schemes
// kept with it, to an eviction or its TTL, unknown to the near caches; a
// reader may then make it anew with schemes of its own. A write then finds
// none of the schemes of the copies a near cache holds, and renews none of
// their rows' stamps: the near cache must still stop serving them.
func TestNearLostTableStamps(t *testing.T) {
	var (
		client goredis.UniversalClient
		prefix string
	)
	capture := func(t testing.TB, c goredis.UniversalClient, p string) store.Store {
		client, prefix = c, p
		return nearStore(t, c, p)
	}
	eachInstances(t, 2, capture, func(t *testing.T, _ testdb.Dialector, in []instance) {
		a, b := in[0], in[1]
		for _, remade := range []bool{false, true} {
			name := fmt.Sprintf("bob%v", remade)
			require.NoError(t, a.db.Create(&User{Name: name}).Error)
			count := func(db *gorm.DB) int64 {
				var n int64
				require.NoError(t, db.Model(&User{}).Where("name = ?", name).Count(&n).Error)
				return n
			}
			near := b.p.Store().(*redis.Near)
			start, before := time.Now(), near.NearStats().Hits
			for near.NearStats().Hits == before {
				require.Equal(t, int64(1), count(b.db.Clauses(gormcache.Cache())))
				require.Less(t, time.Since(start), 10*time.Second, "no hit from memory")
			}
			require.NoError(t, client.Del(t.Context(), prefix+"{users}").Err())
			if remade {
				// Another reader makes the table's stamp anew, with its scheme.
				var u User
				require.NoError(t, a.db.Clauses(gormcache.Cache()).Where("email = ?", "x").Find(&u).Error)
			}
			require.NoError(t, a.db.Create(&User{Name: name}).Error)
			require.Equal(t, count(b.db.Clauses(gormcache.NoCache())), count(b.db.Clauses(gormcache.Cache())),
				"instance b serves the count from before the write (the table's stamp lost, made anew: %v)", remade)
		}
	})
}
