package memory_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/storetest"
)

// fakeClock is a memory.Clock that moves only when told to.
type fakeClock struct{ now atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func newStore(tb testing.TB, cfg memory.Config) *memory.Store {
	tb.Helper()
	s, err := memory.New(cfg)
	require.NoError(tb, err)
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		clock := newFakeClock()
		return storetest.Harness{Store: newStore(t, memory.Config{Clock: clock}), Advance: clock.Advance}
	})
}

func TestConformanceRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps for the TTL subtest")
	}
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		return storetest.Harness{Store: newStore(t, memory.Config{})}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     memory.Config
		wantErr string // "" for none
	}{
		{"zero", memory.Config{}, ""},
		{"smallest", memory.Config{MaxBytes: 1, MaxEntries: 1, MaxStamps: 1}, ""},
		{"more entries than bytes", memory.Config{MaxBytes: 10, MaxEntries: 100}, ""},
		{"negative MaxBytes", memory.Config{MaxBytes: -1}, "memory: MaxBytes is -1"},
		{"negative MaxEntries", memory.Config{MaxEntries: -1}, "memory: MaxEntries is -1"},
		{"negative MaxStamps", memory.Config{MaxStamps: -1}, "memory: MaxStamps is -1"},
		{"entry floor over 4 GiB", memory.Config{MaxBytes: 1 << 40, MaxEntries: 2}, "memory: MaxBytes/MaxEntries is 549755813888 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := memory.New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.wantErr == "" && s == nil:
				t.Errorf("got a nil store, want one")
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one starting with %q", err, tt.wantErr)
			}
		})
	}
}

// fillN stores n entries of size bytes, each depending on a Dep of its own,
// and returns their keys.
func fillN(t *testing.T, s *memory.Store, n, size int) []string {
	t.Helper()
	keys := make([]string, n)
	value := []byte(strings.Repeat("v", size))
	for i := range n {
		keys[i] = fmt.Sprintf("key%d", i)
		deps := []store.Dep{{Table: "t", Cond: fmt.Sprintf("id=%d", i)}}
		stamps, err := s.Stamps(t.Context(), deps)
		require.NoError(t, err)
		require.NoError(t, s.Set(t.Context(), keys[i], store.Entry{Value: value, Deps: deps, Stamps: stamps}, time.Hour))
	}
	s.CleanUp()
	return keys
}

func TestBounds(t *testing.T) {
	tests := []struct {
		name        string
		cfg         memory.Config
		n, size     int
		wantEntries int // at most
	}{
		{"MaxEntries", memory.Config{MaxEntries: 100}, 1000, 10, 100},
		{"MaxBytes", memory.Config{MaxBytes: 1 << 20, MaxEntries: 1 << 20}, 1000, 8 << 10, 128},
		{"both", memory.Config{MaxBytes: 1 << 20, MaxEntries: 50}, 1000, 8 << 10, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, tt.cfg)
			keys := fillN(t, s, tt.n, tt.size)
			if got := s.Len(); got > tt.wantEntries || got == 0 {
				t.Errorf("Len: got %d, want 1 to %d", got, tt.wantEntries)
			}
			if got, limit := s.Bytes(), tt.cfg.MaxBytes; limit != 0 && got > limit {
				t.Errorf("Bytes: got %d, want at most %d", got, limit)
			}
			hits := 0
			for _, k := range keys {
				if _, ok, err := s.Get(t.Context(), k); err == nil && ok {
					hits++
				}
			}
			if hits == 0 || hits > tt.wantEntries {
				t.Errorf("hits: got %d, want 1 to %d", hits, tt.wantEntries)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	s := newStore(t, memory.Config{MaxBytes: 64 << 10})
	ctx := t.Context()
	require.NoError(t, s.Set(ctx, "k", store.Entry{Value: []byte("small")}, time.Hour))
	err := s.Set(ctx, "k", store.Entry{Value: make([]byte, 64<<10)}, time.Hour)
	if err != nil {
		t.Errorf("Set of an entry larger than MaxBytes: got error %v, want none", err)
	}
	if _, ok, _ := s.Get(ctx, "k"); ok {
		t.Errorf("Get after Set of an entry larger than MaxBytes: got a hit, want a miss")
	}
}

func TestInvalidRemoved(t *testing.T) {
	s := newStore(t, memory.Config{})
	ctx := t.Context()
	deps := []store.Dep{{Table: "t"}}
	stamps, err := s.Stamps(ctx, deps)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: stamps}, time.Hour))
	require.NoError(t, s.Invalidate(ctx, deps...))
	if _, ok, _ := s.Get(ctx, "k"); ok {
		t.Fatalf("Get after Invalidate: got a hit, want a miss")
	}
	s.CleanUp()
	if got := s.Len(); got != 0 {
		t.Errorf("Len after a Get found the only entry invalid: got %d, want 0", got)
	}
}

// TestStampEviction checks that evicting stamps (MaxStamps) costs hits and
// never validates an entry: neither one stored with stale stamps, nor one
// whose dep lost the stamp a write gave it.
func TestStampEviction(t *testing.T) {
	const maxStamps, n = 64, 200
	s := newStore(t, memory.Config{MaxStamps: maxStamps})
	ctx := t.Context()
	dep := func(i int) store.Dep { return store.Dep{Table: "t", Cond: fmt.Sprintf("id=%d", i)} }
	for i := range n {
		st, err := s.Stamps(ctx, []store.Dep{dep(i)})
		require.NoError(t, err)
		if i%2 == 1 {
			// Odd entries are stale: a write renewed their dep after the
			// reader took the stamp.
			require.NoError(t, s.Invalidate(ctx, dep(i)))
		}
		e := store.Entry{Value: []byte("v"), Deps: []store.Dep{dep(i)}, Stamps: st}
		require.NoError(t, s.Set(ctx, fmt.Sprint(i), e, time.Hour))
	}
	// Writes to other rows evict the stamps of the odd deps, and with
	// them the floors of some even ones.
	for i := range 20 * maxStamps {
		require.NoError(t, s.Invalidate(ctx, store.Dep{Table: "churn", Cond: fmt.Sprint(i)}))
	}
	s.CleanUp()
	if got := s.StampCount(); got > maxStamps {
		t.Fatalf("stamps after churn: got %d, want at most %d", got, maxStamps)
	}

	hits := 0
	for i := range n {
		_, ok, err := s.Get(ctx, fmt.Sprint(i))
		require.NoError(t, err)
		if ok && i%2 == 1 {
			t.Errorf("Get of stale entry %d: got a hit, want a miss", i)
		}
		if ok {
			hits++
		}
	}
	if hits == n/2 {
		t.Errorf("hits: got %d, every fresh entry, want fewer: evictions renew floors", hits)
	}
}

// TestReadsStoreNoStamps checks that taking the stamps of deps no write
// renewed stores nothing, and that a write stores the stamp of its dep.
func TestReadsStoreNoStamps(t *testing.T) {
	s := newStore(t, memory.Config{})
	keys := fillN(t, s, 1000, 10)
	if got := s.StampCount(); got != 0 {
		t.Errorf("stamps after %d entries were stored: got %d, want 0", len(keys), got)
	}
	require.NoError(t, s.Invalidate(t.Context(), store.Dep{Table: "t", Cond: "id=3"}))
	s.CleanUp()
	if got := s.StampCount(); got != 1 {
		t.Errorf("stamps after one write: got %d, want 1", got)
	}
	if _, ok, _ := s.Get(t.Context(), keys[3]); ok {
		t.Errorf("Get of the entry the write renewed: got a hit, want a miss")
	}
	if _, ok, _ := s.Get(t.Context(), keys[4]); !ok {
		t.Errorf("Get of another entry: got a miss, want a hit")
	}
}

// benchDeps are the dependencies of the benchmarks' entries: a table, a row
// and a conjunction, as the plugin records them.
var benchDeps = []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}, {Table: "posts", Cond: "status=2&user_id=7"}}

// newBenchEntry returns a store and an entry of benchDeps, current in it,
// with a 256-byte value.
func newBenchEntry(b *testing.B) (*memory.Store, store.Entry) {
	s := newStore(b, memory.Config{})
	stamps, err := s.Stamps(context.Background(), benchDeps)
	require.NoError(b, err)
	return s, store.Entry{Value: []byte(strings.Repeat("v", 256)), Deps: benchDeps, Stamps: stamps}
}

func BenchmarkGet(b *testing.B) {
	s, e := newBenchEntry(b)
	ctx := context.Background()
	require.NoError(b, s.Set(ctx, "key", e, time.Hour))

	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, _ := s.Get(ctx, "key"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok, _ := s.Get(ctx, "key"); !ok {
					b.Error("miss")
					return
				}
			}
		})
	})
}

func BenchmarkStamps(b *testing.B) {
	s := newStore(b, memory.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Stamps(ctx, benchDeps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSet stores entries over 1,000 keys in turn (overwrite), and
// under a new key every time (new), as a cache miss on a key never seen
// before does: the store grows by an entry per Set.
func BenchmarkSet(b *testing.B) {
	for _, tc := range []struct {
		name string
		keys int
	}{{"overwrite", 1000}, {"new", 1 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			s, e := newBenchEntry(b)
			ctx := context.Background()
			keys := make([]string, tc.keys)
			for i := range keys {
				keys[i] = fmt.Sprintf("key%d", i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.Set(ctx, keys[i%len(keys)], e, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// TestBytesMeasureTheHeap checks that Bytes, which MaxBytes bounds, is the
// heap the entries hold, within 20%: entries of small and larger values,
// each with the dependencies the plugin records for a row.
func TestBytesMeasureTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 100,000 entries")
	}
	for _, size := range []int{40, 150, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			const n = 100_000
			// The MaxEntries floor, 64 bytes, weighs no entry.
			s := newStore(t, memory.Config{MaxBytes: 1 << 30, MaxEntries: 1 << 24})
			ctx := t.Context()
			value := []byte(strings.Repeat("v", size))
			before := heapAfterGC()
			for i := range n {
				k := fmt.Sprintf("gormcache:%022d", i)
				deps := []store.Dep{{Table: "gormcache:*"}, {Table: "users"}, {Table: "users", Cond: fmt.Sprintf("id=i%d", i)}}
				stamps, err := s.Stamps(ctx, deps)
				require.NoError(t, err)
				require.NoError(t, s.Set(ctx, k, store.Entry{Value: value, Deps: deps, Stamps: stamps}, time.Hour))
			}
			s.CleanUp()
			grown := float64(heapAfterGC() - before)
			require.Equal(t, n, s.Len())
			t.Logf("Bytes %d, heap grown by %.0f", s.Bytes(), grown)
			if got := float64(s.Bytes()); got < 0.8*grown || got > 1.2*grown {
				t.Errorf("Bytes: got %.0f, want within 20%% of the heap the entries hold, %.0f", got, grown)
			}
		})
	}
}

// heapAfterGC returns the bytes of live heap objects after a full
// collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
