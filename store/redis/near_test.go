package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
	"github.com/gormcache/gormcache/store/storetest"
)

// testLease is the lease of the near caches of the tests: short, so that
// what waits for one (a quarantine, a paused instance) waits little.
const testLease = 400 * time.Millisecond

// newNear returns a near cache over a new store on client (see newStore),
// closed in t.Cleanup.
func newNear(t testing.TB, client goredis.UniversalClient, cfg redis.Config, near redis.NearConfig) *redis.Near {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if near.Lease == 0 {
		near.Lease = testLease
	}
	n, err := redis.NewNear(newStore(t, client, cfg), near)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

func TestConformanceNear(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Harness {
				// A short lease: each subtest's first write waits for one
				// (its registry of leases is new, see the package doc).
				return storetest.Harness{Store: newNear(t, warm(t, top.client(t)), redis.Config{}, redis.NearConfig{Lease: 100 * time.Millisecond})}
			})
		})
	}
}

// nears returns n near caches on clients of their own from newClient,
// sharing a prefix, once each serves from memory.
func nears(t *testing.T, newClient func(t testing.TB) goredis.UniversalClient, n int, near redis.NearConfig) []*redis.Near {
	t.Helper()
	prefix := testredis.Prefix(t)
	out := make([]*redis.Near, n)
	for i := range out {
		out[i] = newNear(t, newClient(t), redis.Config{Prefix: prefix, Logf: t.Logf}, near)
	}
	for _, s := range out {
		waitTrusted(t, s)
	}
	return out
}

// waitTrusted waits until s serves from memory.
func waitTrusted(t testing.TB, s *redis.Near) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.NearStats().Trusted {
		if time.Now().After(deadline) {
			t.Fatal("the near cache does not serve from memory after 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNearInstances fills an entry through one of three near caches, hits
// it from memory in the others, and invalidates it through the third: once
// Invalidate returned, none serves it.
func TestNearInstances(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			in := nears(t, top.client, 3, redis.NearConfig{})
			a, b, c := in[0], in[1], in[2]
			ctx := t.Context()
			dep := store.Dep{Table: "photos", Cond: "user_id=1"}
			for round := range 3 {
				st := stamps(t, a, dep)
				value := fmt.Sprint("v", round)
				require.NoError(t, a.Set(ctx, "k", store.Entry{Value: []byte(value), Deps: []store.Dep{dep}, Stamps: st}, time.Minute))
				for _, s := range in {
					for range 3 {
						v, ok, err := s.Get(ctx, "k")
						require.NoError(t, err)
						require.True(t, ok)
						require.Equal(t, value, string(v))
					}
				}
				require.NoError(t, c.Invalidate(ctx, dep))
				noneServes(t, fmt.Sprintf("round %d, after the invalidation returned", round), "k", in...)
			}
			for i, s := range in {
				st := s.NearStats()
				t.Logf("instance %d: %+v", i, st)
				require.NotZero(t, st.Hits, "instance %d never served from memory", i)
			}
			require.NotZero(t, c.NearStats().Acked, "the writer never waited for acknowledgements")
			_ = b
		})
	}
}

// TestNearRoundTrips counts the round trips of the writer's Invalidate and
// of a near hit: an invalidation costs today's one round trip plus one
// publication, in it on a single node, after it on a Cluster; with other
// instances alive, one more to wait for their acknowledgements.
func TestNearRoundTrips(t *testing.T) {
	deps := []store.Dep{{Table: "users", Cond: "id=7"}, {Table: "posts", Cond: "user_id=7"}}
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			alone := 1
			if top.name == "cluster" {
				alone = 2 // the deletion, then the publication
			}
			for _, tt := range []struct {
				name   string
				others int
				want   int
			}{{"alone", 0, alone}, {"two others alive", 2, alone + 1}} {
				t.Run(tt.name, func(t *testing.T) {
					client := top.client(t)
					rt := testredis.CountRoundTrips(client)
					prefix := testredis.Prefix(t)
					w := newNear(t, client, redis.Config{Prefix: prefix}, redis.NearConfig{})
					waitTrusted(t, w)
					for range tt.others {
						waitTrusted(t, newNear(t, top.client(t), redis.Config{Prefix: prefix}, redis.NearConfig{}))
					}
					ctx := t.Context()
					// The first write waits out the new registry's quarantine.
					require.NoError(t, w.Invalidate(ctx, deps...))
					st := stamps(t, w, deps...)
					require.NoError(t, w.Set(ctx, "k", store.Entry{Value: []byte("k"), Deps: deps, Stamps: st}, time.Minute))
					// The least of three counts: the instance's goroutine
					// renews its lease on the same client now and then.
					hit, inv := int64(1<<62), int64(1<<62)
					for range 3 {
						hit = min(hit, rt.During(func() { wantHit(t, w, "k") }))
						inv = min(inv, rt.During(func() { require.NoError(t, w.Invalidate(ctx, deps...)) }))
						require.NoError(t, w.Set(ctx, "k", store.Entry{Value: []byte("k"), Deps: deps, Stamps: stamps(t, w, deps...)}, time.Minute))
					}
					if hit != 0 {
						t.Errorf("near hit: got %d round trips, want 0", hit)
					}
					if inv != int64(tt.want) {
						t.Errorf("Invalidate: got %d round trips, want %d", inv, tt.want)
					}
					if s := w.NearStats(); tt.others > 0 && s.Acked < 3 {
						t.Errorf("got %d invalidations acknowledged, want 3: %+v", s.Acked, s)
					}
				})
			}
		})
	}
}

// TestNearReport checks that a near cache reports the facts of Redis and
// the state of its lease, for the admin's store page.
func TestNearReport(t *testing.T) {
	n := nears(t, topologies[0].client, 1, redis.NearConfig{})[0]
	facts, err := n.Report(t.Context())
	require.NoError(t, err)
	got := map[string]string{}
	for _, f := range facts {
		got[f.Name] = f.Value
	}
	require.Regexp(t, `^\d+\.\d+`, got["Redis version"])
	require.Equal(t, "serving hits from memory: it holds its lease", got["Near cache of this instance"])
	require.Regexp(t, `^400ms, renewed [1-9]\d* times, \d+ renewals failed; stopped trusting its copies \d+ times$`, got["Lease"])
	require.Contains(t, got, "Lookups")
	require.Contains(t, got, "Invalidations")
}

// faultLease is the lease of the near caches of the fault tests, whose
// Timeout is faultTimeout. redisTick is how late Redis may end a BLPOP
// that times out: at its next tick, 1000/hz ms (hz is 10 by default).
const (
	faultTimeout = 100 * time.Millisecond
	faultLease   = 500 * time.Millisecond
	redisTick    = 100 * time.Millisecond
)

// nearOn returns a near cache on a new client of addr, with the fault
// tests' Timeout and lease.
func nearOn(t *testing.T, addr, prefix string) *redis.Near {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	n, err := redis.NewNear(newStore(t, client, redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf}),
		redis.NearConfig{Lease: faultLease})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

// fillAll stores key, depending on dep, through the first of in, and
// waits until each of in serves it from memory: after a fault, an instance
// may stop trusting its copies, or renew the epoch (which invalidates the
// entry), some time after the others.
func fillAll(t *testing.T, key string, dep store.Dep, in ...*redis.Near) {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := stamps(t, in[0], dep)
		require.NoError(t, in[0].Set(ctx, key, store.Entry{Value: []byte(key), Deps: []store.Dep{dep}, Stamps: st}, time.Minute))
		served := 0
		for _, s := range in {
			_, _, _ = s.Get(ctx, key) // learns the stamps, if it did not yet
			before := s.NearStats().Hits
			if v, ok, err := s.Get(ctx, key); err == nil && ok && string(v) == key && s.NearStats().Hits > before {
				served++
			}
		}
		if served == len(in) {
			return
		}
		require.True(t, time.Now().Before(deadline), "%d of %d instances serve from memory after 5s", served, len(in))
		time.Sleep(5 * time.Millisecond)
	}
}

// writeRoundsOf is the number of writes of writeRounds.
const writeRoundsOf = 3

// writeRounds has the first of in write writeRoundsOf times, each time
// after every instance serves an entry the write changes from memory, and
// fault did its fault: no instance may serve the entry once the write has
// returned.
func writeRounds(t *testing.T, in []*redis.Near, fault func()) {
	t.Helper()
	ctx := t.Context()
	dep := store.Dep{Table: "photos", Cond: "user_id=1"}
	require.NoError(t, in[0].Invalidate(ctx, dep)) // waits out the new registry
	for round := range writeRoundsOf {
		fillAll(t, "k", dep, in...)
		fault()
		start := time.Now()
		require.NoError(t, in[0].Invalidate(ctx, dep))
		t.Logf("round %d: the write returned after %v", round, time.Since(start).Round(time.Microsecond))
		noneServes(t, fmt.Sprintf("round %d, after the write returned", round), "k", in...)
	}
}

// noneServes fails t if any of in serves key: when says what has just
// happened, for the message.
func noneServes(t *testing.T, when, key string, in ...*redis.Near) {
	t.Helper()
	for i, s := range in {
		if v, ok, _ := s.Get(t.Context(), key); ok {
			t.Fatalf("%s: instance %d served %q", when, i, v)
		}
	}
}

// TestNearCutOffInstance cuts one of three instances off Redis, as a paused
// process or a stalled client would be, while another writes: the write
// waits at most a lease, and the cut-off instance serves nothing stale,
// then or once the cut heals; it serves from memory again after.
func TestNearCutOffInstance(t *testing.T) {
	srv := testredis.StartServer(t)
	proxy := testredis.NewProxy(t, srv.Addr)
	prefix := testredis.Prefix(t)
	writer, cut, other := nearOn(t, srv.Addr, prefix), nearOn(t, proxy.Addr, prefix), nearOn(t, srv.Addr, prefix)
	dep := store.Dep{Table: "photos", Cond: "user_id=1"}
	ctx := t.Context()
	require.NoError(t, writer.Invalidate(ctx, dep)) // waits out the new registry
	fillAll(t, "k", dep, writer, cut, other)

	proxy.Cut()
	start := time.Now()
	require.NoError(t, writer.Invalidate(ctx, dep))
	took := time.Since(start)
	t.Logf("the write waited %v for the cut-off instance (lease %v)", took.Round(time.Millisecond), faultLease)
	require.Less(t, took, faultLease+redisTick+faultTimeout, "the write waited longer than a lease, a tick and a round trip")
	require.NotZero(t, writer.NearStats().Lapsed, "the write did not wait for the cut-off instance's lease")
	for name, s := range map[string]*redis.Near{"cut-off": cut, "other": other, "writer": writer} {
		if v, ok, _ := s.Get(ctx, "k"); ok {
			t.Errorf("%s instance served %q after the write returned", name, v)
		}
	}

	proxy.Heal()
	for name, s := range map[string]*redis.Near{"cut-off": cut, "other": other} {
		if v, ok, _ := s.Get(ctx, "k"); ok {
			t.Errorf("%s instance served %q after the cut healed", name, v)
		}
	}
	fillAll(t, "k2", dep, writer, cut, other)
	require.NotZero(t, cut.NearStats().Fences, "the cut-off instance never stopped trusting its copies")
}

// TestNearDeafSubscription gives one of two near caches a subscription that
// Redis confirms, then delivers nothing, like one made on a Cluster node
// that a failover has just demoted: the hello of its lease never arrives,
// so it never serves from memory, and serves nothing that the other's
// writes changed. Each write waits for it at most the time its hello is
// given, the Timeout.
func TestNearDeafSubscription(t *testing.T) {
	srv := testredis.StartServer(t)
	proxy := testredis.NewProxy(t, srv.Addr)
	proxy.MuteSubscriptions()
	prefix := testredis.Prefix(t)
	writer, deaf := nearOn(t, srv.Addr, prefix), nearOn(t, proxy.Addr, prefix)
	dep := store.Dep{Table: "photos", Cond: "user_id=1"}
	ctx := t.Context()
	require.NoError(t, writer.Invalidate(ctx, dep)) // waits out the new registry
	for round := range 5 {
		key := fmt.Sprintf("k%d", round)
		st := stamps(t, writer, dep)
		require.NoError(t, writer.Set(ctx, key, store.Entry{Value: []byte(key), Deps: []store.Dep{dep}, Stamps: st}, time.Minute))
		for range 3 {
			// A read declines a hit while its client opens a connection (see
			// watch.go), and the deaf cache opens one each time it gives up
			// its subscription for a new one: a read may take another try.
			ok := false
			for try := 0; try < 3 && !ok; try++ {
				var err error
				_, ok, err = deaf.Get(ctx, key)
				require.NoError(t, err)
			}
			require.True(t, ok, "round %d: the deaf near cache misses what Redis holds", round)
		}
		s := deaf.NearStats()
		require.False(t, s.Trusted, "round %d: the deaf near cache trusts its copies", round)
		require.Zero(t, s.Hits, "round %d: the deaf near cache served from memory", round)
		start := time.Now()
		require.NoError(t, writer.Invalidate(ctx, dep))
		took := time.Since(start)
		t.Logf("round %d: the write returned after %v", round, took.Round(time.Millisecond))
		require.Less(t, took, faultTimeout+redisTick+faultTimeout, "round %d: the write waited too long for the deaf near cache", round)
		if v, ok, _ := deaf.Get(ctx, key); ok {
			t.Fatalf("round %d: the deaf near cache served %q after the write returned", round, v)
		}
		time.Sleep(faultLease / 2)
	}
}

// TestNearStampNodePaused pauses the writes of the Cluster master that
// holds a dependency's stamps for longer than a lease, while the master of
// the registry answers, as a failover of the first does: the write cannot
// delete the stamps, so it renews the epoch before it returns, and the near
// cache that served the entry from memory no longer serves it.
func TestNearStampNodePaused(t *testing.T) {
	nodes := testredis.StartCluster(t)
	prefix := testredis.Prefix(t)
	ctx := t.Context()
	near := func() *redis.Near {
		n, err := redis.NewNear(newStore(t, testredis.ClusterClientOf(t, nodes), redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf}),
			redis.NearConfig{Lease: faultLease})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, n.Close()) })
		return n
	}
	writer, reader := near(), near()
	admin := testredis.ClusterClientOf(t, nodes)
	registry, err := admin.MasterForKey(ctx, prefix+"{*}")
	require.NoError(t, err)
	var (
		dep   store.Dep
		stamp *goredis.Client
	)
	for i := 0; stamp == nil; i++ {
		table := fmt.Sprint("t", i)
		n, err := admin.MasterForKey(ctx, prefix+"{"+table+"}")
		require.NoError(t, err)
		if n.Options().Addr != registry.Options().Addr {
			dep, stamp = store.Dep{Table: table, Cond: "id=1"}, n
		}
	}
	require.NoError(t, writer.Invalidate(ctx, dep)) // waits out the new registry
	fillAll(t, "k", dep, writer, reader)

	require.NoError(t, stamp.Do(ctx, "CLIENT", "PAUSE", (3*faultLease).Milliseconds(), "WRITE").Err())
	t.Cleanup(func() { require.NoError(t, stamp.Do(context.Background(), "CLIENT", "UNPAUSE").Err()) })
	require.Error(t, writer.Invalidate(ctx, dep), "the stamps were deleted on a paused master")
	if v, ok, _ := reader.Get(ctx, "k"); ok {
		t.Fatalf("the near cache served %q after the write returned", v)
	}
}

// TestNearSubscriptionKilled kills the subscriptions of the near caches
// (CLIENT KILL TYPE pubsub) before a write: no instance serves what it
// changed, the write does not wait for a lease, and hits from memory
// resume once the instances subscribed again.
func TestNearSubscriptionKilled(t *testing.T) {
	srv := testredis.StartServer(t)
	prefix := testredis.Prefix(t)
	in := []*redis.Near{nearOn(t, srv.Addr, prefix), nearOn(t, srv.Addr, prefix), nearOn(t, srv.Addr, prefix)}
	writeRounds(t, in, func() {
		require.NoError(t, srv.Client().Do(t.Context(), "CLIENT", "KILL", "TYPE", "pubsub").Err())
	})
	for i, s := range in[1:] {
		require.NotZero(t, s.NearStats().Fences, "instance %d never stopped trusting its copies", i+1)
	}
}

// TestNearLostReply loses the reply to a write's invalidation after Redis
// ran it (the deletion and publication, or the wait for the
// acknowledgements): go-redis sends it again, and the write returns only
// once no instance serves what it changed.
func TestNearLostReply(t *testing.T) {
	for _, call := range []string{"publish", "BLPOP"} {
		t.Run(call, func(t *testing.T) {
			srv := testredis.StartServer(t)
			proxy := testredis.NewProxy(t, srv.Addr)
			prefix := testredis.Prefix(t)
			in := []*redis.Near{nearOn(t, proxy.Addr, prefix), nearOn(t, srv.Addr, prefix), nearOn(t, srv.Addr, prefix)}
			request := []byte("{photos}?user_id=1") // in the pipeline of the deletion and publication
			if call == "BLPOP" {
				request = []byte(call)
			}
			var lost atomic.Int32
			writeRounds(t, in, func() { proxy.LoseReply(request, func() { lost.Add(1) }) })
			require.EqualValues(t, writeRoundsOf, lost.Load(), "replies lost")
		})
	}
}

// TestNearRestart kills and restarts Redis under three near caches: a write
// after the restart is served by none of them, and hits from memory resume.
func TestNearRestart(t *testing.T) {
	for _, args := range [][]string{nil, {"--appendonly", "no"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			srv := testredis.StartServer(t, args...)
			prefix := testredis.Prefix(t)
			in := []*redis.Near{nearOn(t, srv.Addr, prefix), nearOn(t, srv.Addr, prefix), nearOn(t, srv.Addr, prefix)}
			dep := store.Dep{Table: "photos", Cond: "user_id=1"}
			ctx := t.Context()
			require.NoError(t, in[0].Invalidate(ctx, dep))
			fillAll(t, "k", dep, in...)
			if args != nil {
				require.NoError(t, srv.Client().Save(ctx).Err())
			}
			srv.Kill()
			srv.Restart()
			start := time.Now()
			require.NoError(t, in[0].Invalidate(ctx, dep))
			t.Logf("the first write after the restart returned after %v", time.Since(start).Round(time.Millisecond))
			noneServes(t, "after the write returned", "k", in...)
			fillAll(t, "k", dep, in...)
		})
	}
}

// TestNearCloseReleasesEverything opens near caches, uses them, and closes
// them and their clients: no goroutine, Redis connection or lease of
// theirs is left.
func TestNearCloseReleasesEverything(t *testing.T) {
	srv := testredis.StartServer(t)
	admin := srv.Client()
	noneLeft := noLeaks(t, admin)
	prefix := testredis.Prefix(t)
	dep := store.Dep{Table: "t"}
	for range 5 {
		client := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
		s, err := redis.New(client, redis.Config{Prefix: prefix, Timeout: faultTimeout, Logf: t.Logf})
		require.NoError(t, err)
		n, err := redis.NewNear(s, redis.NearConfig{Lease: faultLease})
		require.NoError(t, err)
		waitTrusted(t, n)
		require.NoError(t, n.Set(t.Context(), "k", store.Entry{Value: []byte("k"), Deps: []store.Dep{dep}, Stamps: stamps(t, n, dep)}, time.Minute))
		wantHit(t, n, "k")
		require.NoError(t, n.Invalidate(t.Context(), dep))
		require.NoError(t, n.Close())
		require.NoError(t, s.Close())
		require.NoError(t, client.Close())
	}
	noneLeft()
	fields, err := admin.HKeys(t.Context(), prefix+"{*}near").Result()
	require.NoError(t, err)
	for _, f := range fields {
		require.False(t, strings.HasPrefix(f, "h:"), "a lease is left in the registry: %q", f)
	}
}

// TestNearReplacesAClosedOne checks that a Store takes one near cache at a
// time, and a new one once the last is closed, which then serves from
// memory and has its copies invalidated by the Store's writes.
func TestNearReplacesAClosedOne(t *testing.T) {
	client := testredis.Client(t)
	remote := newStore(t, client, redis.Config{})
	first, err := redis.NewNear(remote, redis.NearConfig{Lease: testLease})
	require.NoError(t, err)
	_, err = redis.NewNear(remote, redis.NearConfig{Lease: testLease})
	require.ErrorContains(t, err, "already has a near cache")
	require.NoError(t, first.Close())

	second, err := redis.NewNear(remote, redis.NearConfig{Lease: testLease})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, second.Close()) })
	waitTrusted(t, second)
	ctx := t.Context()
	dep := store.Dep{Table: "photos", Cond: "id=1"}
	require.NoError(t, second.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: []store.Dep{dep}, Stamps: stamps(t, second, dep)}, time.Minute))
	for range 2 {
		_, ok, err := second.Get(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NotZero(t, second.NearStats().Hits, "the new near cache never served from memory")
	require.NoError(t, remote.Invalidate(ctx, dep))
	noneServes(t, "after the Store's invalidation", "k", second)
}
