package storetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gormcache/gormcache/store"
)

// testConcurrent runs every method at once on overlapping keys and deps, for
// the race detector and for the freshness promise.
func testConcurrent(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("Mixed", func(t *testing.T) { testMixed(t, newHarness(t).Store) })
	t.Run("FillRace", func(t *testing.T) { testFillRace(t, newHarness(t).Store) })
}

// testMixed has goroutines call every method at random on a few keys and
// deps, and checks that a hit returns a value stored under its key.
func testMixed(t *testing.T, s store.Store) {
	const goroutines, ops = 8, 300
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
	deps := []store.Dep{{Table: "users"}, {Table: "posts"}}
	for i := range 4 {
		deps = append(deps, store.Dep{Table: "users", Cond: fmt.Sprintf("id=%d", i)})
	}

	g, ctx := errgroup.WithContext(t.Context())
	for id := range goroutines {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(uint64(id), 1))
			for i := 0; i < ops && ctx.Err() == nil; i++ {
				key := keys[rng.IntN(len(keys))]
				first := rng.IntN(len(deps))
				some := deps[first:min(first+1+rng.IntN(2), len(deps))]
				switch op := rng.IntN(10); {
				case op < 4:
					v, ok, err := s.Get(ctx, key)
					if err != nil {
						return fmt.Errorf("s.Get: %w", err)
					}
					if ok && !strings.HasPrefix(string(v), key+"=") {
						return fmt.Errorf("s.Get(%q): got %q, want a value stored under %[1]q", key, v)
					}
				case op < 6:
					st, err := s.Stamps(ctx, some)
					if err != nil {
						return fmt.Errorf("s.Stamps: %w", err)
					}
					e := store.Entry{Value: fmt.Appendf(nil, "%s=%d.%d", key, id, i), Deps: some, Stamps: st}
					if err := s.Set(ctx, key, e, ttl); err != nil {
						return fmt.Errorf("s.Set: %w", err)
					}
				case op < 8:
					if err := s.Invalidate(ctx, some...); err != nil {
						return fmt.Errorf("s.Invalidate: %w", err)
					}
				case op < 9:
					if err := s.Delete(ctx, key); err != nil {
						return fmt.Errorf("s.Delete: %w", err)
					}
				default:
					if _, err := s.Stamps(ctx, some); err != nil {
						return fmt.Errorf("s.Stamps: %w", err)
					}
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
}

// testFillRace checks the freshness promise under concurrency: a Get never
// returns a value older than the last write whose invalidation finished
// before the Get began.
//
// The "database" is a version counter per row. Readers look a key up and on
// a miss fill it as gormcache does: take the stamps, read the versions, Set.
// Writers bump a row's version, invalidate its Dep (or the whole table's),
// and then publish the version as committed. A hit whose version of a row is
// below the committed version read before the Get is a stale read.
func testFillRace(t *testing.T, s store.Store) {
	const (
		rows    = 4
		keys    = 8
		readers = 4
		writers = 2
		reads   = 1500 // per reader; writers write until the readers are done
	)
	var (
		db        [rows]atomic.Uint64 // the current version of each row
		committed [rows]atomic.Uint64 // the highest version whose invalidation finished
	)
	table := store.Dep{Table: "rows"}
	rowDep := func(r int) store.Dep { return store.Dep{Table: "rows", Cond: fmt.Sprintf("id=%d", r)} }
	// Key k reads two rows, and depends on them and on their table.
	keyRows := func(k int) [2]int { return [2]int{k % rows, (k + 1) % rows} }
	keyDeps := func(k int) []store.Dep {
		r := keyRows(k)
		return []store.Dep{table, rowDep(r[0]), rowDep(r[1])}
	}
	keyName := func(k int) string { return fmt.Sprintf("key%d", k) }

	var (
		hits, misses, writes, stale atomic.Int64
		firstStale                  atomic.Pointer[string]
	)
	// check reads key k and reports whether it hit; a stale hit is counted.
	check := func(ctx context.Context, k int) (bool, error) {
		r := keyRows(k)
		floor := [2]uint64{committed[r[0]].Load(), committed[r[1]].Load()}
		v, ok, err := s.Get(ctx, keyName(k))
		if err != nil || !ok {
			return false, err
		}
		if len(v) != 16 {
			return true, fmt.Errorf("s.Get(%q): got %d bytes, want 16", keyName(k), len(v))
		}
		got := [2]uint64{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])}
		if got[0] < floor[0] || got[1] < floor[1] {
			stale.Add(1)
			msg := fmt.Sprintf("Get(%q): got versions %v of rows %v, want at least %v", keyName(k), got, r, floor)
			firstStale.CompareAndSwap(nil, &msg)
		}
		return true, nil
	}
	fillKey := func(ctx context.Context, k int) error {
		deps := keyDeps(k)
		s0, err := s.Stamps(ctx, deps)
		if err != nil {
			return fmt.Errorf("s.Stamps: %w", err)
		}
		r := keyRows(k)
		v := binary.BigEndian.AppendUint64(nil, db[r[0]].Load())
		v = binary.BigEndian.AppendUint64(v, db[r[1]].Load())
		runtime.Gosched() // the time a query takes, for writes to come in
		if err := s.Set(ctx, keyName(k), store.Entry{Value: v, Deps: deps, Stamps: s0}, ttl); err != nil {
			return fmt.Errorf("s.Set: %w", err)
		}
		return nil
	}

	var readersDone atomic.Int32
	g, ctx := errgroup.WithContext(t.Context())
	for id := range readers {
		g.Go(func() error {
			defer readersDone.Add(1)
			rng := rand.New(rand.NewPCG(uint64(id), 2))
			for range reads {
				k := rng.IntN(keys)
				hit, err := check(ctx, k)
				if err != nil {
					return err
				}
				if hit {
					hits.Add(1)
					continue
				}
				misses.Add(1)
				if err := fillKey(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for id := range writers {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(uint64(id), 3))
			for readersDone.Load() < readers && ctx.Err() == nil {
				r := rng.IntN(rows)
				v := db[r].Add(1)
				dep := rowDep(r)
				if rng.IntN(8) == 0 {
					dep = table
				}
				if err := s.Invalidate(ctx, dep); err != nil {
					return fmt.Errorf("s.Invalidate: %w", err)
				}
				raise(&committed[r], v)
				writes.Add(1)
				runtime.Gosched()
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	// Afterwards, with everything committed, every key either misses or
	// is current, and refills hit.
	for k := range keys {
		_, err := check(t.Context(), k)
		require.NoError(t, err)
		require.NoError(t, fillKey(t.Context(), k))
		hit, err := check(t.Context(), k)
		require.NoError(t, err)
		if !hit {
			t.Errorf("Get(%q) right after a fill with no write running: got a miss, want a hit", keyName(k))
		}
	}

	t.Logf("%d hits, %d misses, %d writes", hits.Load(), misses.Load(), writes.Load())
	if n := stale.Load(); n != 0 {
		t.Errorf("got %d stale reads, want 0; the first: %s", n, *firstStale.Load())
	}
	if hits.Load() == 0 || writes.Load() == 0 {
		t.Errorf("got %d hits and %d writes, want both: the race was not exercised", hits.Load(), writes.Load())
	}
}

// raise sets n to v unless it is already higher.
func raise(n *atomic.Uint64, v uint64) {
	for c := n.Load(); c < v && !n.CompareAndSwap(c, v); c = n.Load() {
	}
}
