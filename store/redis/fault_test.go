package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
)

// logs collects what a store logs.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitHealthy waits until s serves hits again after an outage: no
// invalidation waits to be retried, and the grace that follows a renewal
// of the epoch is over.
func waitHealthy(t *testing.T, s *redis.Store) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for s.Degraded() || s.InGrace() {
		if time.Now().After(deadline) {
			t.Fatal("the store is still degraded 15s after Redis came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOutage stops the Redis server while an invalidation is due, and
// checks that no entry it concerns is served afterwards, whether the
// invalidation is delivered late, given up, or dropped from a full queue,
// by the store and by a two-level store over it.
func TestOutage(t *testing.T) {
	const retryFor = 300 * time.Millisecond
	tests := []struct {
		name       string
		retryQueue int
		downFor    time.Duration
		wantLog    string // why the epoch is renewed
	}{
		// A restarted server is another server: the epoch is renewed, as
		// it would have to be had it restarted from a snapshot.
		{"delivered after restart", 0, 0, "is not the server it was"},
		{"given up", 0, 2 * retryFor, "undelivered for RetryFor"},
		{"queue overflow", 1, 0, "the retry queue is full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testredis.StartServer(t)
			var log logs
			s := newStore(t, srv.Client(), redis.Config{
				Timeout:    100 * time.Millisecond,
				RetryFor:   retryFor,
				RetryQueue: tt.retryQueue,
				Logf:       log.logf,
			})
			two, err := redis.NewTwoLevel(s, memory.Config{})
			require.NoError(t, err)
			ctx := t.Context()

			user, photo := store.Dep{Table: "users", Cond: "id=1"}, store.Dep{Table: "photos", Cond: "user_id=1"}
			fill := func(key string, deps ...store.Dep) []store.Stamp {
				t.Helper()
				st := stamps(t, two, deps...)
				require.NoError(t, two.Set(ctx, key, store.Entry{Value: []byte(key), Deps: deps, Stamps: st}, time.Hour))
				return st
			}
			fill("changed", user, photo)
			fill("untouched", store.Dep{Table: "posts"})
			lateDeps := []store.Dep{user}
			late := stamps(t, s, lateDeps...) // a reader that reads the database before the write
			for _, st := range []store.Store{s, two} {
				wantHit(t, st, "changed")
				wantHit(t, st, "untouched")
			}

			srv.Kill()
			start := time.Now()
			_, _, err = s.Get(ctx, "changed")
			require.Error(t, err, "Get with Redis down")
			err = s.Invalidate(ctx, user, photo)
			require.ErrorContains(t, err, "queued for retry", "Invalidate with Redis down")
			if d := time.Since(start); d > time.Second {
				t.Errorf("Get and Invalidate with Redis down took %v, want well under a second", d)
			}
			// Until the invalidation is delivered, nothing may hit: not even
			// an entry this process does not know to be stale.
			for _, st := range []store.Store{s, two} {
				v, ok, err := st.Get(ctx, "untouched")
				require.NoError(t, err, "Get while degraded does not ask Redis")
				require.False(t, ok, "Get while degraded: got %q, want a miss", v)
			}
			time.Sleep(tt.downFor)
			srv.Restart()
			waitHealthy(t, s)

			// The reader stores what it read before the write, late.
			require.NoError(t, s.Set(ctx, "late", store.Entry{Value: []byte("late"), Deps: lateDeps, Stamps: late}, time.Hour))
			for _, st := range []store.Store{s, two} {
				wantMiss(t, st, "changed")
				wantMiss(t, st, "late")
				wantMiss(t, st, "untouched") // the epoch was renewed
			}
			fill("changed", user, photo)
			waitHealthy(t, s) // the grace the renewal began
			wantHit(t, two, "changed")
			wantHit(t, s, "changed")

			if got := log.String(); !strings.Contains(got, tt.wantLog) || !strings.Contains(got, "epoch") {
				t.Errorf("log: got %q, want %q and the epoch renewed", got, tt.wantLog)
			}
		})
	}
}

// TestSlowRedis checks that a Redis that answers later than Config.Timeout
// delays no call beyond it.
func TestSlowRedis(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := testredis.StartServer(t)
	s := newStore(t, srv.Client(), redis.Config{Timeout: timeout})
	ctx := t.Context()
	deps := []store.Dep{{Table: "users"}}
	st := stamps(t, s, deps...)
	require.NoError(t, s.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: st}, time.Hour))

	// Every command of every other client waits for the pause to end.
	require.NoError(t, srv.Client().Do(ctx, "CLIENT", "PAUSE", 2000, "ALL").Err())
	calls := []struct {
		name  string
		fn    func() error
		bound time.Duration
	}{
		{"Get", func() error { _, _, err := s.Get(ctx, "k"); return err }, timeout},
		{"Stamps", func() error { _, err := s.Stamps(ctx, deps); return err }, timeout},
		{"Set", func() error {
			return s.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: st}, time.Hour)
		}, timeout},
		{"Delete", func() error { return s.Delete(ctx, "k") }, timeout},
		// An invalidation waits up to WriteWait, three times Timeout.
		{"Invalidate", func() error { return s.Invalidate(ctx, deps...) }, 3 * timeout},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.fn()
		elapsed := time.Since(start)
		if err == nil {
			t.Errorf("%s on a paused Redis: got no error, want a timeout", c.name)
		}
		if limit := c.bound + 200*time.Millisecond; elapsed > limit {
			t.Errorf("%s on a paused Redis took %v, want at most %v", c.name, elapsed, limit)
		}
	}
	waitHealthy(t, s)
}

// storeAndHit stores "k" through writer, depending on one row, checks that
// readers hit it, and returns the dependency.
func storeAndHit(t *testing.T, writer store.Store, readers ...store.Store) store.Dep {
	t.Helper()
	dep := store.Dep{Table: "photos", Cond: "user_id=1"}
	stamps, err := writer.Stamps(t.Context(), []store.Dep{dep})
	require.NoError(t, err)
	require.NoError(t, writer.Set(t.Context(), "k", store.Entry{Value: []byte("old"), Deps: []store.Dep{dep}, Stamps: stamps}, time.Minute))
	for _, s := range readers {
		_, ok, err := s.Get(t.Context(), "k")
		require.NoError(t, err)
		require.True(t, ok)
	}
	return dep
}

// TestPauseWriteHoldsValidation pauses writes on every master, as a manual
// failover does (CLIENT PAUSE WRITE), while an invalidation is due: the
// writer gives up waiting and goes on, so no store may approve the entry
// it invalidates until the invalidation is delivered. Reads of stamps are
// scripts, which the pause holds back too.
func TestPauseWriteHoldsValidation(t *testing.T) {
	const timeout, pause = 200 * time.Millisecond, 1200 * time.Millisecond
	for _, top := range []struct {
		name   string
		client func(t *testing.T) (goredis.UniversalClient, []*goredis.Client)
	}{
		{"standalone", func(t *testing.T) (goredis.UniversalClient, []*goredis.Client) {
			srv := testredis.StartServer(t)
			return srv.Client(), []*goredis.Client{srv.Client()}
		}},
		{"cluster", func(t *testing.T) (goredis.UniversalClient, []*goredis.Client) {
			c := testredis.ClusterClient(t)
			var mu sync.Mutex
			var masters []*goredis.Client
			require.NoError(t, c.ForEachMaster(t.Context(), func(_ context.Context, m *goredis.Client) error {
				mu.Lock()
				defer mu.Unlock()
				masters = append(masters, goredis.NewClient(&goredis.Options{Addr: m.Options().Addr}))
				return nil
			}))
			return c, masters
		}},
	} {
		t.Run(top.name, func(t *testing.T) {
			client, masters := top.client(t)
			prefix := testredis.Prefix(t)
			writer := newStore(t, client, redis.Config{Prefix: prefix, Timeout: timeout})
			reader := newStore(t, client, redis.Config{Prefix: prefix, Timeout: timeout})
			two, err := redis.NewTwoLevel(reader, memory.Config{})
			require.NoError(t, err)

			dep := storeAndHit(t, writer, reader, two)

			for _, m := range masters {
				require.NoError(t, m.Do(t.Context(), "CLIENT", "PAUSE", pause.Milliseconds(), "WRITE").Err())
			}
			t.Cleanup(func() {
				for _, m := range masters {
					_ = m.Do(context.Background(), "CLIENT", "UNPAUSE").Err()
				}
			})
			start := time.Now()
			err = writer.Invalidate(t.Context(), dep)
			t.Logf("the invalidation returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
			for time.Since(start) < pause-2*timeout {
				for name, s := range map[string]store.Store{"store": reader, "two-level": two} {
					if _, ok, _ := s.Get(t.Context(), "k"); ok {
						t.Fatalf("%s: the entry was served during the pause, its invalidation pending", name)
					}
				}
			}
		})
	}
}

// TestRestartFromSnapshot restarts a Redis that keeps RDB snapshots only
// (Redis' stock persistence) after an invalidation made since the last
// snapshot: the snapshot brings the deleted stamp back, and no store may
// approve the entries that recorded it.
func TestRestartFromSnapshot(t *testing.T) {
	srv := testredis.StartServer(t, "--appendonly", "no")
	var lg logs
	prefix := testredis.Prefix(t)
	writer := newStore(t, srv.Client(), redis.Config{Prefix: prefix, Logf: lg.logf})
	reader := newStore(t, srv.Client(), redis.Config{Prefix: prefix, Logf: lg.logf})
	two, err := redis.NewTwoLevel(reader, memory.Config{})
	require.NoError(t, err)

	dep := storeAndHit(t, writer, reader, two)
	admin := srv.Client()
	require.NoError(t, admin.Save(t.Context()).Err())
	require.NoError(t, writer.Invalidate(t.Context(), dep))
	srv.Kill()
	srv.Restart()
	restored, err := admin.Exists(t.Context(), prefix+"{photos}?user_id=1").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, restored, "the snapshot did not bring the deleted stamp back: the test proves nothing")

	for name, s := range map[string]store.Store{"store": reader, "two-level": two, "writer": writer} {
		deadline := time.Now().Add(300 * time.Millisecond)
		for time.Now().Before(deadline) {
			if _, ok, _ := s.Get(t.Context(), "k"); ok {
				t.Fatalf("%s served an entry whose invalidation the restart undid", name)
			}
		}
	}
	require.Contains(t, lg.String(), "epoch is renewed")
}

// TestLostReplyRenewsNothing loses the reply to a call that creates a
// stamp, after Redis ran it: go-redis sends the call again, on a new
// connection, with the same arguments. Between the two runs another reader
// reads the new stamp and stores an entry under it, and a write invalidates
// it: the second run must not bring the stamp back, or that entry, filled
// before the write, would validate again.
func TestLostReplyRenewsNothing(t *testing.T) {
	srv := testredis.StartServer(t)
	proxy := testredis.NewProxy(t, srv.Addr)
	prefix := testredis.Prefix(t)
	lossy := goredis.NewClient(&goredis.Options{Addr: proxy.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = lossy.Close() })
	a := newStore(t, lossy, redis.Config{Prefix: prefix, Timeout: faultTimeout})
	b := newStore(t, srv.Client(), redis.Config{Prefix: prefix})
	ctx := t.Context()
	// Redis learns the scripts first: a call it refuses (NOSCRIPT) creates
	// nothing.
	stamps(t, b, store.Dep{Table: "warm"})
	require.NoError(t, b.AddSchemes(ctx, "warm", []string{"id"}))

	tests := []struct {
		name string
		dep  store.Dep // what the reader's entry depends on
		// call is a's call whose reply is lost, which creates dep's stamp.
		call func() error
		// invalidate is the write's invalidation of dep.
		invalidate func() error
	}{
		{
			name: "row stamp", dep: store.Dep{Table: "lost", Cond: "id=1"},
			call: func() error {
				_, err := a.Stamps(ctx, []store.Dep{{Table: "lost", Cond: "id=1"}})
				return err
			},
			invalidate: func() error { return b.Invalidate(ctx, store.Dep{Table: "lost", Cond: "id=1"}) },
		},
		{
			name: "table stamp made by the schemes", dep: store.Dep{Table: "lost2"},
			call:       func() error { return a.AddSchemes(ctx, "lost2", []string{"id"}) },
			invalidate: func() error { return b.Invalidate(ctx, store.Dep{Table: "lost2"}) },
		},
		{
			name: "epoch", dep: store.Dep{Table: "lost3"},
			call: func() error {
				// The epoch was renewed: this call creates it anew.
				require.NoError(t, srv.Client().Del(ctx, prefix+"{*}epoch").Err())
				_, err := a.Stamps(ctx, []store.Dep{{Table: "lost3"}})
				return err
			},
			// Renewing the epoch, as the store does it: by deleting it.
			invalidate: func() error { return srv.Client().Del(ctx, prefix+"{*}epoch").Err() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "entry of " + tt.name
			// Between the runs, on the proxy's goroutine, which must not
			// stop the test: it hands its outcome over.
			between := make(chan error, 1)
			proxy.LoseReply([]byte("{"+tt.dep.Table+"}"), func() {
				between <- func() error {
					st, err := b.Stamps(ctx, []store.Dep{tt.dep})
					if err != nil {
						return err
					}
					if err := b.Set(ctx, key, store.Entry{Value: []byte(key), Deps: []store.Dep{tt.dep}, Stamps: st}, time.Hour); err != nil {
						return err
					}
					if _, ok, err := b.Get(ctx, key); err != nil || !ok {
						return fmt.Errorf("the entry stored misses (%v)", err)
					}
					return tt.invalidate()
				}()
			})
			require.NoError(t, tt.call())
			select {
			case err := <-between:
				require.NoError(t, err, "between the two runs")
			default:
				t.Fatal("no reply was lost")
			}
			wantMiss(t, b, key)
			wantMiss(t, a, key)
		})
	}
}
