package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// testEntries checks the key-value behaviour of Get, Set and Delete.
func testEntries(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("GetMissing", func(t *testing.T) {
		s := newHarness(t).Store
		wantMiss(t, s, "missing")
	})

	t.Run("RoundTrip", func(t *testing.T) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		tests := []struct {
			name  string
			value []byte
			deps  []store.Dep
		}{
			{"no deps", []byte("v"), nil},
			{"one dep", []byte("v"), []store.Dep{{Table: "users"}}},
			{"three deps", []byte("v"), []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=1"}, {Table: "posts", Cond: "user_id=1"}}},
			{"every byte", all, nil},
			{"256 KiB", bytes.Repeat([]byte("0123456789abcdef"), 16<<10), []store.Dep{{Table: "users"}}},
		}
		s := newHarness(t).Store
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fill(t, s, tt.name, string(tt.value), tt.deps...)
				wantHit(t, s, tt.name, string(tt.value))
			})
		}
	})

	t.Run("EmptyValue", func(t *testing.T) {
		s := newHarness(t).Store
		for _, value := range [][]byte{nil, {}} {
			set(t, s, "k", store.Entry{Value: value})
			wantHit(t, s, "k", "")
		}
	})

	t.Run("Text", func(t *testing.T) {
		// Get returns the value alone; listings report the text, the same
		// for entries sharing it, and none for an entry without one.
		s := newHarness(t).Store
		texts := map[string]string{"a": "SELECT * FROM t WHERE id = ?", "b": "SELECT * FROM t WHERE id = ?", "c": ""}
		for key, text := range texts {
			set(t, s, key, store.Entry{Value: []byte("v" + key), Text: text})
			wantHit(t, s, key, "v"+key)
		}
		if in, ok := s.(store.Inspector); ok {
			for key, text := range texts {
				info, value, found, err := in.Inspect(t.Context(), key)
				require.NoError(t, err)
				require.True(t, found, key)
				require.Equal(t, text, info.Text, key)
				require.Equal(t, "v"+key, string(value), key)
			}
		}
		if l, ok := s.(store.Lister); ok {
			page, err := l.List(t.Context(), store.ListOptions{Limit: 100, Match: func(key, text string, value []byte) bool {
				require.Equal(t, texts[key], text, key)
				require.Equal(t, "v"+key, string(value), key)
				return true
			}})
			require.NoError(t, err)
			require.Len(t, page.Entries, len(texts))
			for _, e := range page.Entries {
				require.Equal(t, texts[e.Key], e.Text, e.Key)
			}
		}
	})

	t.Run("Copies", func(t *testing.T) {
		s := newHarness(t).Store
		deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=1"}}
		e := store.Entry{Value: []byte("value"), Deps: deps, Stamps: stamps(t, s, deps...)}
		set(t, s, "k", e)

		// The store must own what it keeps: neither the caller's slices...
		copy(e.Value, "XXXXX")
		e.Deps[0], e.Stamps[0] = store.Dep{Table: "other"}, e.Stamps[0]+1
		wantHit(t, s, "k", "value")

		// ...nor the slice a Get returned may change it.
		got, ok, err := s.Get(t.Context(), "k")
		require.NoError(t, err)
		require.True(t, ok)
		copy(got, "XXXXX")
		wantHit(t, s, "k", "value")
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newHarness(t).Store
		old, cur := store.Dep{Table: "old"}, store.Dep{Table: "new"}
		fill(t, s, "k", "v1", old)
		fill(t, s, "k", "v2", cur)
		wantHit(t, s, "k", "v2")

		// The new entry's dependencies replaced the old one's.
		invalidate(t, s, old)
		wantHit(t, s, "k", "v2")
		invalidate(t, s, cur)
		wantMiss(t, s, "k")
	})

	t.Run("Delete", func(t *testing.T) {
		s := newHarness(t).Store
		for _, k := range []string{"a", "b", "c"} {
			fill(t, s, k, k)
		}
		require.NoError(t, s.Delete(t.Context()), "Delete()")
		require.NoError(t, s.Delete(t.Context(), "a", "missing", "b"), "Delete(a, missing, b)")
		wantMiss(t, s, "a")
		wantMiss(t, s, "b")
		wantHit(t, s, "c", "c")
		require.NoError(t, s.Delete(t.Context(), "a"), "Delete(a) again")
	})

	t.Run("InvalidEntry", func(t *testing.T) {
		s := newHarness(t).Store
		deps := []store.Dep{{Table: "users"}, {Table: "posts"}}
		st := stamps(t, s, deps...)
		tests := []struct {
			name string
			e    store.Entry
			ttl  time.Duration
		}{
			{"zero TTL", store.Entry{Value: []byte("new")}, 0},
			{"negative TTL", store.Entry{Value: []byte("new"), Deps: deps, Stamps: st}, -time.Second},
			{"fewer stamps than deps", store.Entry{Value: []byte("new"), Deps: deps, Stamps: st[:1]}, ttl},
			{"stamps without deps", store.Entry{Value: []byte("new"), Stamps: st}, ttl},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fill(t, s, tt.name, "old", deps...)
				err := s.Set(t.Context(), tt.name, tt.e, tt.ttl)
				if !errors.Is(err, store.ErrInvalidEntry) {
					t.Errorf("Set: got error %v, want %v", err, store.ErrInvalidEntry)
				}
				wantHit(t, s, tt.name, "old")
			})
		}
	})
}

// testTTL checks that entries expire after their TTL, counted from their
// latest Set, whether they have dependencies or not.
func testTTL(t *testing.T, h Harness) {
	s := h.Store
	ttl, margin := time.Hour, time.Millisecond
	elapse := h.Advance
	if elapse == nil {
		// Generous: a loaded CI machine under -race can stall for a while.
		ttl, margin = 1500*time.Millisecond, 300*time.Millisecond
		elapse = time.Sleep
	}
	setTTL := func(key string, ttl time.Duration, deps ...store.Dep) {
		t.Helper()
		e := store.Entry{Value: []byte(key), Deps: deps, Stamps: stamps(t, s, deps...)}
		require.NoError(t, s.Set(t.Context(), key, e, ttl), "Set(%q)", key)
	}
	dep := store.Dep{Table: "users"}

	setTTL("deps", ttl, dep)
	setTTL("no deps", ttl)
	setTTL("renewed", ttl)
	setTTL("long", 100*ttl)
	elapse(ttl / 2)
	for _, k := range []string{"deps", "no deps", "renewed", "long"} {
		wantHit(t, s, k, k)
	}

	setTTL("renewed", ttl)
	elapse(ttl - ttl/2 + margin)
	wantMiss(t, s, "deps")
	wantMiss(t, s, "no deps")
	wantHit(t, s, "renewed", "renewed")
	wantHit(t, s, "long", "long")
}

// testSetTTL checks store.TTLSetter: an entry lives for the TTL it was last
// given, from then, and keeps its validity.
func testSetTTL(t *testing.T, h Harness) {
	s, ok := h.Store.(store.TTLSetter)
	if !ok {
		t.Skip("not a store.TTLSetter")
	}
	ttl, margin := time.Minute, time.Millisecond // shorter than fill's
	elapse := h.Advance
	if elapse == nil {
		ttl, margin = 1500*time.Millisecond, 300*time.Millisecond
		elapse = time.Sleep
	}
	ctx := t.Context()
	setTTL := func(key string, d time.Duration) {
		t.Helper()
		ok, err := s.SetTTL(ctx, key, d)
		require.NoError(t, err)
		require.True(t, ok, "SetTTL(%q): no entry", key)
	}
	dep := store.Dep{Table: "users"}
	for _, k := range []string{"longer", "shorter", "invalid"} {
		fill(t, h.Store, k, k, dep)
	}
	fill(t, h.Store, "other", "other", store.Dep{Table: "posts"})
	setTTL("longer", 100*ttl)
	setTTL("shorter", ttl)
	setTTL("invalid", 100*ttl)
	invalidate(t, h.Store, dep)
	fill(t, h.Store, "longer", "longer", dep)
	setTTL("longer", 100*ttl) // again, after a Set
	wantMiss(t, h.Store, "invalid")
	elapse(ttl + margin)
	wantHit(t, h.Store, "longer", "longer")
	wantMiss(t, h.Store, "shorter")
	if ok, err := s.SetTTL(ctx, "none", ttl); err != nil || ok {
		t.Errorf("SetTTL of no entry: got %v, %v; want false, nil", ok, err)
	}
	if _, err := s.SetTTL(ctx, "other", 0); !errors.Is(err, store.ErrInvalidEntry) {
		t.Errorf("SetTTL(0): got %v, want ErrInvalidEntry", err)
	}
	wantHit(t, h.Store, "other", "other")
}
