package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// testValidation checks that Get returns an entry only while every stamp it
// was stored with is the current stamp of its Dep.
func testValidation(t *testing.T, newHarness func(t *testing.T) Harness) {
	deps := []store.Dep{
		{Table: "users"},
		{Table: "users", Cond: "id=7"},
		{Table: "posts", Cond: "status=2&user_id=7"},
	}

	t.Run("Current", func(t *testing.T) {
		s := newHarness(t).Store
		fill(t, s, "k", "v", deps...)
		wantHit(t, s, "k", "v")
	})

	t.Run("InvalidateOne", func(t *testing.T) {
		s := newHarness(t).Store
		for _, d := range deps {
			t.Run(d.String(), func(t *testing.T) {
				fill(t, s, "k", "v", deps...)
				invalidate(t, s, d)
				wantMiss(t, s, "k")
				// Creating the next stamp does not bring the entry back.
				stamps(t, s, deps...)
				wantMiss(t, s, "k")
			})
		}
	})

	t.Run("InvalidateAfterHits", func(t *testing.T) {
		// A store may remember that an entry was valid: hits before an
		// invalidation, and an unrelated one, must not let a later
		// lookup skip the stamps.
		s := newHarness(t).Store
		for _, d := range deps {
			t.Run(d.String(), func(t *testing.T) {
				fill(t, s, "k", "v", deps...)
				wantHit(t, s, "k", "v")
				invalidate(t, s, store.Dep{Table: "comments"})
				wantHit(t, s, "k", "v")
				invalidate(t, s, d)
				wantMiss(t, s, "k")
			})
		}
	})

	t.Run("StaleSet", func(t *testing.T) {
		// The sequential form of the race the protocol exists for: a
		// reader takes the stamps, a write commits and invalidates, then
		// the reader stores what it read before the write.
		s := newHarness(t).Store
		s0 := stamps(t, s, deps...)
		invalidate(t, s, deps[1])
		set(t, s, "k", store.Entry{Value: []byte("stale"), Deps: deps, Stamps: s0})
		wantMiss(t, s, "k")
		stamps(t, s, deps...)
		wantMiss(t, s, "k")
	})

	t.Run("Unrelated", func(t *testing.T) {
		s := newHarness(t).Store
		fill(t, s, "k", "v", deps...)
		invalidate(t, s,
			store.Dep{Table: "users", Cond: "id=8"},
			store.Dep{Table: "posts", Cond: "status=2&user_id=8"},
			store.Dep{Table: "comments"},
		)
		wantHit(t, s, "k", "v")
	})

	t.Run("UnissuedStamps", func(t *testing.T) {
		s := newHarness(t).Store
		never := store.Dep{Table: "never"}
		for _, st := range []store.Stamp{0, 1, 1 << 63} {
			set(t, s, "k", store.Entry{Value: []byte("v"), Deps: []store.Dep{never}, Stamps: []store.Stamp{st}})
			wantMiss(t, s, "k")
		}
		cur := stamps(t, s, deps...)
		cur[0]++
		set(t, s, "k", store.Entry{Value: []byte("v"), Deps: deps, Stamps: cur})
		wantMiss(t, s, "k")
	})

	t.Run("NoDeps", func(t *testing.T) {
		s := newHarness(t).Store
		fill(t, s, "k", "v")
		invalidate(t, s, deps...)
		wantHit(t, s, "k", "v")
	})
}

// testFlush checks that Flush removes every entry and renews every stamp.
func testFlush(t *testing.T, s store.Store) {
	f, ok := s.(store.Flusher)
	if !ok {
		t.Skipf("%T does not implement store.Flusher", s)
	}
	deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}}
	fill(t, s, "with deps", "v", deps...)
	fill(t, s, "without deps", "v")
	s0 := stamps(t, s, deps...)

	require.NoError(t, f.Flush(t.Context()), "Flush")
	wantMiss(t, s, "with deps")
	wantMiss(t, s, "without deps")

	// A reader that took its stamps before the flush fills in vain.
	set(t, s, "late", store.Entry{Value: []byte("v"), Deps: deps, Stamps: s0})
	wantMiss(t, s, "late")
	for i, st := range stamps(t, s, deps...) {
		if st == s0[i] {
			t.Errorf("stamp of %q after Flush: got %v, the one from before, want a new one", deps[i], st)
		}
	}
	fill(t, s, "after", "v", deps...)
	wantHit(t, s, "after", "v")
}
