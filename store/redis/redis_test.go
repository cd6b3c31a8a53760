package redis_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
	"github.com/gormcache/gormcache/store/storetest"
)

// topology is a kind of Redis deployment the tests run on.
type topology struct {
	name   string
	client func(t testing.TB) goredis.UniversalClient
}

var topologies = []topology{
	{"standalone", func(t testing.TB) goredis.UniversalClient { return testredis.Client(t) }},
	{"cluster", func(t testing.TB) goredis.UniversalClient { return testredis.ClusterClient(t) }},
}

// newStore returns a store on client under a prefix of t's own, flushed in
// t.Cleanup. Its Timeout, unless cfg sets one, is long enough for the race
// detector on a busy machine: only fault tests want a short one.
func newStore(t testing.TB, client goredis.UniversalClient, cfg redis.Config) *redis.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = testredis.Prefix(t)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = t.Logf
	}
	s, err := redis.New(client, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Flush(context.Background())) })
	return s
}

// warm opens connsPerServer connections to every master of client and
// returns them to its pool. A store declines a hit read while its client
// opened a connection, since the connection may reach a new server (see
// watch.go); conformance subtests expect hits, so their stores start on a
// pool that already holds more connections than a subtest uses at once.
func warm(t testing.TB, client goredis.UniversalClient) goredis.UniversalClient {
	t.Helper()
	const connsPerServer = 8
	open := func(ctx context.Context, c *goredis.Client) error {
		conns := make([]*goredis.Conn, 0, connsPerServer)
		defer func() {
			for _, cn := range conns {
				_ = cn.Close()
			}
		}()
		for range connsPerServer {
			cn := c.Conn()
			conns = append(conns, cn)
			if err := cn.Ping(ctx).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := client.(type) {
	case *goredis.Client:
		err = open(t.Context(), c)
	case *goredis.ClusterClient:
		err = c.ForEachMaster(t.Context(), open)
	default:
		t.Fatalf("warm: a %T", client)
	}
	require.NoError(t, err, "opening connections")
	return client
}

func TestConformance(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Harness {
				return storetest.Harness{Store: newStore(t, warm(t, top.client(t)), redis.Config{})}
			})
		})
	}
}

// TestConformanceRESP2 runs the conformance suite on a client that speaks
// RESP2, as clients behind proxies that know no RESP3 are configured: the
// scripts' replies come back in RESP2's types.
func TestConformanceRESP2(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		c := goredis.NewClient(&goredis.Options{Addr: testredis.Client(t).Options().Addr, Protocol: 2, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = c.Close() })
		return storetest.Harness{Store: newStore(t, warm(t, c), redis.Config{})}
	})
}

func TestConformanceTwoLevel(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Harness {
				s, err := redis.NewTwoLevel(newStore(t, warm(t, top.client(t)), redis.Config{}), memory.Config{})
				require.NoError(t, err)
				return storetest.Harness{Store: s}
			})
		})
	}
}

func TestNew(t *testing.T) {
	// Nothing answers on port 1: New's check of maxmemory-policy fails fast.
	const addr = "127.0.0.1:1"
	client := func() goredis.UniversalClient {
		return goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	}
	tests := []struct {
		name    string
		client  func() goredis.UniversalClient
		cfg     redis.Config
		wantErr string // "" for none
	}{
		{"zero", client, redis.Config{}, ""},
		{"cluster", func() goredis.UniversalClient {
			return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true})
		}, redis.Config{}, ""},
		{"nil client", func() goredis.UniversalClient { return nil }, redis.Config{}, "gormcache: redis: nil client"},
		{"client ignores deadlines", func() goredis.UniversalClient {
			return goredis.NewClient(&goredis.Options{Addr: addr})
		}, redis.Config{}, "gormcache: redis: the client ignores context deadlines"},
		{"cluster client ignores deadlines", func() goredis.UniversalClient {
			return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}})
		}, redis.Config{}, "gormcache: redis: the client ignores context deadlines"},
		{"cluster client reads replicas", func() goredis.UniversalClient {
			return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{addr}, ContextTimeoutEnabled: true, RouteRandomly: true})
		}, redis.Config{}, "gormcache: redis: the client reads from replicas"},
		{"brace in Prefix", client, redis.Config{Prefix: "a{b}:"}, "gormcache: redis: Prefix \"a{b}:\" contains a brace"},
		{"negative Timeout", client, redis.Config{Timeout: -1}, "gormcache: redis: Timeout is -1ns"},
		{"negative StampTTL", client, redis.Config{StampTTL: -1}, "gormcache: redis: StampTTL is -1ns"},
		{"StampTTL under 1ms", client, redis.Config{StampTTL: time.Microsecond}, "gormcache: redis: StampTTL is under a millisecond"},
		{"negative RetryQueue", client, redis.Config{RetryQueue: -1}, "gormcache: redis: RetryQueue is -1"},
		{"negative RetryFor", client, redis.Config{RetryFor: -1}, "gormcache: redis: RetryFor is -1ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client()
			if c != nil {
				defer c.Close()
			}
			if tt.cfg.Timeout == 0 {
				tt.cfg.Timeout = 100 * time.Millisecond
			}
			var logged logs
			tt.cfg.Logf = logged.logf
			s, err := redis.New(c, tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.wantErr == "" && s == nil:
				t.Errorf("got a nil store, want one")
			case tt.wantErr == "" && !strings.Contains(logged.String(), "cannot check maxmemory-policy"):
				t.Errorf("log: got %q, want that maxmemory-policy could not be checked", logged.String())
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one starting with %q", err, tt.wantErr)
			}
		})
	}
}

// TestEvictionWarning checks that New warns about an allkeys-* policy.
func TestEvictionWarning(t *testing.T) {
	srv := testredis.StartServer(t)
	admin := srv.Client()
	for _, tt := range []struct {
		policy   string
		wantWarn bool
	}{{"noeviction", false}, {"volatile-lru", false}, {"allkeys-lru", true}, {"allkeys-random", true}} {
		t.Run(tt.policy, func(t *testing.T) {
			require.NoError(t, admin.ConfigSet(t.Context(), "maxmemory-policy", tt.policy).Err())
			var logged logs
			newStore(t, srv.Client(), redis.Config{Logf: logged.logf})
			got := logged.String()
			if warned := strings.Contains(got, "maxmemory-policy is "+tt.policy); warned != tt.wantWarn || (!tt.wantWarn && got != "") {
				t.Errorf("log: got %q, want a warning: %v", got, tt.wantWarn)
			}
		})
	}
}

func TestRoundTrips(t *testing.T) {
	deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}, {Table: "posts", Cond: "user_id=7"}}
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			client := top.client(t)
			rt := testredis.CountRoundTrips(client)
			s := newStore(t, client, redis.Config{})
			two, err := redis.NewTwoLevel(newStore(t, client, redis.Config{}), memory.Config{})
			require.NoError(t, err)
			ctx := t.Context()
			getHit := 1
			if top.name == "cluster" {
				getHit = 2 // the entry, then its stamps
			}
			for _, st := range []struct {
				name   string
				store  store.Store
				getHit int
			}{{"Store", s, getHit}, {"TwoLevel", two, 1}} {
				t.Run(st.name, func(t *testing.T) {
					s := st.store
					// Load the scripts, and the Cluster's slots.
					_, err := s.Stamps(ctx, deps)
					require.NoError(t, err)
					_, _, err = s.Get(ctx, "warm")
					require.NoError(t, err)

					var stamps []store.Stamp
					steps := []struct {
						op   string
						want int
						fn   func() error
					}{
						{"Get of a missing key", 1, func() error { _, _, err := s.Get(ctx, "k"); return err }},
						{"Stamps", 1, func() (err error) { stamps, err = s.Stamps(ctx, deps); return err }},
						{"Set", 1, func() error {
							return s.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: stamps}, time.Minute)
						}},
						{"Get of a hit", st.getHit, func() error {
							_, ok, err := s.Get(ctx, "k")
							if err == nil && !ok {
								err = errors.New("miss")
							}
							return err
						}},
						{"Invalidate", 1, func() error { return s.Invalidate(ctx, deps...) }},
						{"Delete", 1, func() error { return s.Delete(ctx, "k") }},
					}
					for _, step := range steps {
						var err error
						got := rt.During(func() { err = step.fn() })
						require.NoError(t, err, step.op)
						if got != int64(step.want) {
							t.Errorf("%s: got %d round trips, want %d", step.op, got, step.want)
						}
					}
				})
			}
		})
	}
}

// stamps returns the current stamps of deps.
func stamps(t *testing.T, s store.Store, deps ...store.Dep) []store.Stamp {
	t.Helper()
	st, err := s.Stamps(t.Context(), deps)
	require.NoError(t, err, "Stamps")
	return st
}

// wantHit fails t unless key holds its own name as its value.
func wantHit(t *testing.T, s store.Store, key string) {
	t.Helper()
	v, ok, err := s.Get(t.Context(), key)
	require.NoError(t, err, "%T.Get(%q)", s, key)
	if !ok || string(v) != key {
		t.Errorf("%T.Get(%q): got %q, %v, want %[2]q, true", s, key, v, ok)
	}
}

// wantMiss fails t unless key misses.
func wantMiss(t *testing.T, s store.Store, key string) {
	t.Helper()
	v, ok, err := s.Get(t.Context(), key)
	require.NoError(t, err, "%T.Get(%q)", s, key)
	if ok {
		t.Errorf("%T.Get(%q): got %q, want a miss", s, key, v)
	}
}

// listAll pages through the whole listing of s and returns the keys in
// order.
func listAll(t *testing.T, s store.Lister, opts store.ListOptions) []string {
	t.Helper()
	var keys []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "listing does not end")
		page, err := s.List(t.Context(), opts)
		require.NoError(t, err)
		// A SCAN batch is listed whole: a page may exceed Limit a little.
		require.LessOrEqual(t, len(page.Entries), max(10*opts.Limit, 50), "entries in a page")
		for _, e := range page.Entries {
			keys = append(keys, e.Key)
		}
		if page.Next == "" {
			return keys
		}
		opts.Cursor = page.Next
	}
}

func TestList(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			client := top.client(t)
			prefix := testredis.Prefix(t)
			// Glob characters in the prefix match only themselves.
			s := newStore(t, client, redis.Config{Prefix: prefix + "a*"})
			other := newStore(t, client, redis.Config{Prefix: prefix + "ab"})
			ctx := t.Context()
			var all, valid []string
			for i := range 40 {
				k := fmt.Sprintf("k%02d{tag}*?", i)
				dep := store.Dep{Table: "t", Cond: fmt.Sprint("id=", i)}
				require.NoError(t, s.Set(ctx, k, store.Entry{Value: []byte(k), Deps: []store.Dep{dep}, Stamps: stamps(t, s, dep)}, time.Hour))
				all = append(all, k)
				if i%3 == 0 {
					require.NoError(t, s.Invalidate(ctx, dep))
				} else {
					valid = append(valid, k)
				}
			}
			require.NoError(t, other.Set(ctx, "other", store.Entry{Value: []byte("v")}, time.Hour))

			for _, limit := range []int{1, 7, 100} {
				got := listAll(t, s, store.ListOptions{Limit: limit})
				slices.Sort(got)
				if !slices.Equal(slices.Compact(got), all) {
					t.Errorf("Limit %d: got %q, want %q", limit, got, all)
				}
			}
			got := listAll(t, s, store.ListOptions{Limit: 5, Filter: func(in store.EntryInfo, value []byte) bool {
				return in.Valid && string(value) == in.Key
			}})
			slices.Sort(got)
			if !slices.Equal(slices.Compact(got), valid) {
				t.Errorf("valid only: got %q, want %q", got, valid)
			}
			page, err := s.List(ctx, store.ListOptions{Limit: 10, Values: true})
			require.NoError(t, err)
			require.NotEmpty(t, page.Entries)
			require.Len(t, page.Values, len(page.Entries))
			for i, in := range page.Entries {
				if got := string(page.Values[i]); got != in.Key {
					t.Errorf("value listed for %q: got %q, want %q", in.Key, got, in.Key)
				}
			}
			for _, bad := range []string{"x", "MTIz", "OS4wLg"} { // "123", "9.0."
				if _, err := s.List(ctx, store.ListOptions{Cursor: bad}); !errors.Is(err, store.ErrBadCursor) {
					t.Errorf("List with cursor %q: got error %v, want ErrBadCursor", bad, err)
				}
			}
		})
	}
}

func TestInspectAndPurge(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			s := newStore(t, top.client(t), redis.Config{})
			ctx := t.Context()
			deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}, {Table: "a}b{%", Cond: "x=?"}, {Table: ""}}
			st := stamps(t, s, deps...)
			require.NoError(t, s.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: st}, time.Hour))
			require.NoError(t, s.Set(ctx, "no deps", store.Entry{Value: []byte("v")}, time.Hour))
			require.NoError(t, s.Set(ctx, "other", store.Entry{Value: []byte("v"), Deps: deps[:1], Stamps: st[:1]}, time.Hour))

			inspect := func(key string) store.EntryInfo {
				t.Helper()
				in, value, ok, err := s.Inspect(ctx, key)
				require.NoError(t, err)
				require.True(t, ok, "Inspect(%q) found nothing", key)
				require.Equal(t, "v", string(value))
				require.Equal(t, key, in.Key)
				require.WithinDuration(t, time.Now().Add(time.Hour), in.Expires, time.Minute)
				require.Equal(t, int64(-1), in.Hits, "Hits of a store that does not count them")
				return in
			}
			_, ok, err := s.Get(ctx, "k")
			require.NoError(t, err)
			require.True(t, ok, "Get of a valid entry")
			in := inspect("k")
			require.True(t, in.Valid)
			require.ElementsMatch(t, deps, in.Deps)
			require.ElementsMatch(t, st, in.Stamps)
			require.Equal(t, in.Stamps, in.Current)

			require.NoError(t, s.Invalidate(ctx, deps[1]))
			in = inspect("k")
			require.False(t, in.Valid, "Valid after Invalidate")
			for i, d := range in.Deps {
				if want := d == deps[1]; (in.Current[i] == 0) != want {
					t.Errorf("Current stamp of %v: got %v, want 0: %v", d, in.Current[i], want)
				}
			}
			require.True(t, inspect("no deps").Valid)
			_, _, ok, err = s.Inspect(ctx, "missing")
			require.NoError(t, err)
			require.False(t, ok, "Inspect of a missing key")

			removed, err := s.Purge(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, removed, "Purge")
			_, _, ok, err = s.Inspect(ctx, "k")
			require.NoError(t, err)
			require.False(t, ok, "Inspect after Purge of an invalid entry")
			for _, k := range []string{"no deps", "other"} {
				if _, ok, err := s.Get(ctx, k); err != nil || !ok {
					t.Errorf("Get(%q) after Purge: got %v, %v, want a hit", k, ok, err)
				}
			}

			info, err := s.Describe(ctx)
			require.NoError(t, err)
			require.Equal(t, "redis", info.Kind)
			require.Contains(t, info.Capabilities, store.CapList)
			require.NotContains(t, info.Capabilities, store.CapHits)
		})
	}
}

// TestFlushKeepsToItsPrefix flushes a store whose prefix begins the prefix
// of another store on the same Redis: the other store's entries and stamps
// stay.
func TestFlushKeepsToItsPrefix(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			client := top.client(t)
			base := testredis.Prefix(t)
			short := newStore(t, client, redis.Config{Prefix: base})
			for _, other := range []string{base + "2:", base + "e:", base + "x"} {
				long := newStore(t, client, redis.Config{Prefix: other})
				dep := store.Dep{Table: "t"}
				stamps, err := long.Stamps(t.Context(), []store.Dep{dep})
				require.NoError(t, err)
				require.NoError(t, long.Set(t.Context(), "k", store.Entry{Value: []byte("v"), Deps: []store.Dep{dep}, Stamps: stamps}, time.Minute))
				require.NoError(t, short.Flush(t.Context()))
				v, ok, err := long.Get(t.Context(), "k")
				require.NoError(t, err)
				require.True(t, ok, "flushing prefix %q removed an entry of prefix %q", base, other)
				require.Equal(t, "v", string(v))
			}
		})
	}
}

// TestCloseReleasesEverything opens stores, uses them, has one retry an
// invalidation in the background, and closes them and their clients: no
// goroutine and no Redis connection of theirs is left.
func TestCloseReleasesEverything(t *testing.T) {
	srv := testredis.StartServer(t)
	admin := srv.Client()
	noneLeft := noLeaks(t, admin)
	for i := range 10 {
		client := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
		s, err := redis.New(client, redis.Config{Prefix: testredis.Prefix(t), Timeout: 50 * time.Millisecond, Logf: t.Logf})
		require.NoError(t, err)
		dep := store.Dep{Table: "t"}
		st := stamps(t, s, dep)
		require.NoError(t, s.Set(t.Context(), "k", store.Entry{Value: []byte("k"), Deps: []store.Dep{dep}, Stamps: st}, time.Minute))
		wantHit(t, s, "k")
		if i == 0 {
			// A failed invalidation starts the retrier.
			require.NoError(t, admin.Do(t.Context(), "CLIENT", "PAUSE", 300, "WRITE").Err())
			require.Error(t, s.Invalidate(t.Context(), dep))
			time.Sleep(300 * time.Millisecond) // the pause ends: the retrier delivers
		}
		require.NoError(t, s.Close())
		require.NoError(t, client.Close())
	}
	noneLeft()
}

// noLeaks notes the goroutines of the process and the clients of the
// server admin is connected to, and returns a check that no more of either
// are left.
func noLeaks(t *testing.T, admin *goredis.Client) func() {
	clients := func() int {
		list, err := admin.ClientList(t.Context()).Result()
		require.NoError(t, err)
		return strings.Count(list, "\n")
	}
	settle := func() int {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	goroutines, conns := settle(), clients()
	return func() {
		t.Helper()
		var g int
		for range 20 {
			if g = settle(); g <= goroutines {
				break
			}
		}
		require.LessOrEqual(t, g, goroutines, "goroutines left")
		require.Equal(t, conns, clients(), "Redis connections left")
	}
}
