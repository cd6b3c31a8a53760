package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// testSchemes checks a store.SchemeRegistry: schemes are kept per table,
// and go away with the table's stamp, so that losing them only invalidates.
func testSchemes(t *testing.T, newHarness func(t *testing.T) Harness) {
	reg := func(t *testing.T) (store.Store, store.SchemeRegistry) {
		s := newHarness(t).Store
		r, ok := s.(store.SchemeRegistry)
		if !ok {
			t.Skipf("%T does not implement store.SchemeRegistry", s)
		}
		return s, r
	}
	schemes := func(t *testing.T, r store.SchemeRegistry, table string) []string {
		t.Helper()
		got, err := r.Schemes(t.Context(), table)
		require.NoError(t, err)
		slices.Sort(got)
		return got
	}

	t.Run("per table", func(t *testing.T) {
		_, r := reg(t)
		require.Empty(t, schemes(t, r, "photos"))
		require.NoError(t, r.AddSchemes(t.Context(), "photos", []string{"user_id", "status,user_id"}))
		require.NoError(t, r.AddSchemes(t.Context(), "photos", []string{"user_id", "id"}))
		require.NoError(t, r.AddSchemes(t.Context(), "users", []string{"id"}))
		if got, want := schemes(t, r, "photos"), []string{"id", "status,user_id", "user_id"}; !slices.Equal(got, want) {
			t.Fatalf("photos: got %v, want %v", got, want)
		}
		if got, want := schemes(t, r, "users"), []string{"id"}; !slices.Equal(got, want) {
			t.Fatalf("users: got %v, want %v", got, want)
		}
	})
	t.Run("go with the table stamp", func(t *testing.T) {
		s, r := reg(t)
		require.NoError(t, r.AddSchemes(t.Context(), "photos", []string{"user_id"}))
		require.NoError(t, r.AddSchemes(t.Context(), "users", []string{"id"}))
		invalidate(t, s, store.Dep{Table: "photos"})
		if got := schemes(t, r, "photos"); len(got) != 0 {
			t.Fatalf("after renewing the table stamp: got schemes %v, want none", got)
		}
		if got := schemes(t, r, "users"); len(got) != 1 {
			t.Fatalf("another table lost its schemes: got %v", got)
		}
		// A conjunction stamp is not the table stamp.
		require.NoError(t, r.AddSchemes(t.Context(), "photos", []string{"user_id"}))
		invalidate(t, s, store.Dep{Table: "photos", Cond: "user_id=1"})
		if got := schemes(t, r, "photos"); len(got) != 1 {
			t.Fatalf("renewing a conjunction cleared the schemes: got %v", got)
		}
		if f, ok := s.(store.Flusher); ok {
			require.NoError(t, f.Flush(t.Context()))
			if got := schemes(t, r, "photos"); len(got) != 0 {
				t.Fatalf("after Flush: got schemes %v, want none", got)
			}
		}
	})
	t.Run("entries of a lost registry do not validate", func(t *testing.T) {
		s, r := reg(t)
		deps := []store.Dep{{Table: "photos"}, {Table: "photos", Cond: "user_id=7"}}
		st := stamps(t, s, deps...)
		require.NoError(t, r.AddSchemes(t.Context(), "photos", []string{"user_id"}))
		set(t, s, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: st})
		wantHit(t, s, "k", "v")
		invalidate(t, s, store.Dep{Table: "photos"}) // the registry is gone...
		wantMiss(t, s, "k")                          // ...and so is every entry that relied on it
	})
	t.Run("cap", func(t *testing.T) {
		_, r := reg(t)
		many := make([]string, store.MaxSchemes)
		for i := range many {
			many[i] = fmt.Sprintf("c%d", i)
		}
		require.NoError(t, r.AddSchemes(t.Context(), "t", many))
		err := r.AddSchemes(t.Context(), "t", []string{"one_more"})
		if !errors.Is(err, store.ErrTooManySchemes) {
			t.Fatalf("scheme %d: got %v, want ErrTooManySchemes", store.MaxSchemes+1, err)
		}
		require.Len(t, schemes(t, r, "t"), store.MaxSchemes)
	})
	t.Run("concurrent", func(t *testing.T) {
		s, r := reg(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					if err := r.AddSchemes(t.Context(), "t", []string{fmt.Sprintf("c%d", (g+i)%10)}); err != nil {
						t.Error(err)
						return
					}
					if _, err := r.Schemes(t.Context(), "t"); err != nil {
						t.Error(err)
						return
					}
					if i%17 == 0 {
						if err := s.Invalidate(t.Context(), store.Dep{Table: "t"}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
	})
	t.Run("registrations racing invalidations", func(t *testing.T) {
		// A registration that took the table's stamp before an
		// invalidation must not replace one made under the newer stamp:
		// while a stamp stays current, every scheme registered under it
		// stays registered.
		s, r := reg(t)
		table := store.Dep{Table: "t"}
		stop := time.Now().Add(time.Second)
		var wg sync.WaitGroup
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := s.Invalidate(t.Context(), table); err != nil {
					t.Error(err)
					return
				}
			}
		})
		var lost atomic.Int64
		for g := range 4 {
			wg.Go(func() {
				scheme := fmt.Sprintf("c%d", g)
				for time.Now().Before(stop) {
					before := stamps(t, s, table)[0]
					if err := r.AddSchemes(t.Context(), "t", []string{scheme}); err != nil {
						t.Error(err)
						return
					}
					got, err := r.Schemes(t.Context(), "t")
					if err != nil {
						t.Error(err)
						return
					}
					if stamps(t, s, table)[0] == before && !slices.Contains(got, scheme) {
						lost.Add(1) // the stamp never changed: the registration was lost
					}
				}
			})
		}
		wg.Wait()
		if n := lost.Load(); n > 0 {
			t.Fatalf("%d registrations lost while their table's stamp stayed current", n)
		}
	})
}
