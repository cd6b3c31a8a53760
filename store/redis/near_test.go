package redis_test

import (
	"fmt"
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
				return storetest.Harness{Store: newNear(t, top.client(t), redis.Config{}, redis.NearConfig{Lease: 100 * time.Millisecond})}
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
func waitTrusted(t *testing.T, s *redis.Near) {
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
				for i, s := range in {
					if v, ok, _ := s.Get(ctx, "k"); ok {
						t.Fatalf("round %d: instance %d served %q after the invalidation returned", round, i, v)
					}
				}
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
