package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// testStamps checks that Stamps creates stamps once, atomically, one per
// Dep, and that Invalidate renews them with stamps never seen before.
func testStamps(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("Stable", func(t *testing.T) {
		s := newHarness(t).Store
		deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=1"}, {Table: "users"}}
		first := stamps(t, s, deps...)
		if first[0] != first[2] {
			t.Errorf("one Dep twice in a call: got %v and %v, want equal stamps", first[0], first[2])
		}
		if again := stamps(t, s, deps...); !slices.Equal(again, first) {
			t.Errorf("second call: got %v, want %v", again, first)
		}
		if none := stamps(t, s); len(none) != 0 {
			t.Errorf("no deps: got %v, want none", none)
		}
	})

	t.Run("Independent", func(t *testing.T) {
		s := newHarness(t).Store
		// Dependencies are compared as structs: the last one has the same
		// String as the second, and is still another Dep.
		deps := []store.Dep{
			{Table: "users"},
			{Table: "users", Cond: "id=1"},
			{Table: "users", Cond: "id=2"},
			{Table: "posts"},
			{Table: "posts", Cond: "id=1"},
			{Table: "users?id=1"},
		}
		for i, d := range deps {
			before := stamps(t, s, deps...)
			invalidate(t, s, d)
			after := stamps(t, s, deps...)
			for j := range deps {
				if renewed := after[j] != before[j]; renewed != (i == j) {
					t.Errorf("after Invalidate(%q), stamp of %q renewed: got %v, want %v", d, deps[j], renewed, i == j)
				}
			}
		}
	})

	t.Run("NeverRepeat", func(t *testing.T) {
		s := newHarness(t).Store
		dep, other := store.Dep{Table: "users", Cond: "id=1"}, store.Dep{Table: "users", Cond: "id=2"}
		stable := stamps(t, s, other)[0]
		seen := map[store.Stamp]int{stamps(t, s, dep)[0]: 0}
		for i := 1; i <= 1000; i++ {
			invalidate(t, s, dep)
			st := stamps(t, s, dep)[0]
			if prev, ok := seen[st]; ok {
				t.Fatalf("after %d invalidations: got stamp %v, which was current after %d, want a new one", i, st, prev)
			}
			seen[st] = i
		}
		if got := stamps(t, s, other)[0]; got != stable {
			t.Errorf("stamp of an unrelated Dep: got %v, want %v", got, stable)
		}
	})

	t.Run("InvalidateUnknown", func(t *testing.T) {
		s := newHarness(t).Store
		invalidate(t, s)
		invalidate(t, s, store.Dep{Table: "never"}, store.Dep{Table: "never", Cond: "id=1"})
		fill(t, s, "k", "v", store.Dep{Table: "never"})
		wantHit(t, s, "k", "v")
	})

	t.Run("ConcurrentCreate", func(t *testing.T) {
		// Goroutines take the stamps of the same new deps at once, long
		// enough to overlap; every one must get the same stamps.
		s := newHarness(t).Store
		const rounds, goroutines, n = 5, 4, 1000
		for r := range rounds {
			deps := make([]store.Dep, n)
			for i := range deps {
				deps[i] = store.Dep{Table: fmt.Sprint("t", r), Cond: fmt.Sprint("id=", i)}
			}
			got := make([][]store.Stamp, goroutines)
			errs := make([]error, goroutines)
			var start, wg sync.WaitGroup
			start.Add(1)
			for g := range goroutines {
				wg.Go(func() {
					start.Wait()
					got[g], errs[g] = s.Stamps(t.Context(), deps)
				})
			}
			start.Done()
			wg.Wait()
			for g := range goroutines {
				require.NoError(t, errs[g], "Stamps")
				require.Len(t, got[g], n, "Stamps")
				for i := range deps {
					if got[g][i] != got[0][i] {
						t.Fatalf("stamp of %q: goroutine %d got %v, goroutine 0 got %v, want equal", deps[i], g, got[g][i], got[0][i])
					}
				}
			}
		}
	})
}
