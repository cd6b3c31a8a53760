// Package storetest is the conformance suite of [store.Store]. Every
// implementation runs it from its own tests, on a fresh store per subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			clock := newFakeClock()
//			s, err := memory.New(memory.Config{Clock: clock})
//			require.NoError(t, err)
//			return storetest.Harness{Store: s, Advance: clock.Advance}
//		})
//	}
//
// Besides the plain key-value behaviour, the suite checks the freshness
// protocol: an entry validates only with the current stamps of all its
// dependencies, a renewed stamp never comes back, and fills racing with
// invalidations never serve a value older than the last invalidation that
// finished before the read began. A store that describes itself
// (store.Describer) must implement every capability it names.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// Harness is one store under test.
type Harness struct {
	// Store is empty, and only the subtest that asked for it uses it.
	Store store.Store

	// Advance moves the store's clock forward by d. Nil means that the store
	// reads the real clock: the TTL subtest then uses TTLs of 500ms and
	// sleeps for 0.6s, so such a store must keep TTLs to the millisecond.
	Advance func(d time.Duration)
}

// Run runs the suite. newHarness is called once per subtest. Subtests of
// optional interfaces the store does not implement are skipped.
//
// The suite takes well under a second on an in-memory store with a fake
// clock, and makes a few thousand calls in all.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("Entries", func(t *testing.T) { testEntries(t, newHarness) })
	t.Run("TTL", func(t *testing.T) { testTTL(t, newHarness(t)) })
	t.Run("SetTTL", func(t *testing.T) { testSetTTL(t, newHarness(t)) })
	t.Run("Stamps", func(t *testing.T) { testStamps(t, newHarness) })
	t.Run("Validation", func(t *testing.T) { testValidation(t, newHarness) })
	t.Run("Flush", func(t *testing.T) { testFlush(t, newHarness(t).Store) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newHarness) })
	t.Run("Schemes", func(t *testing.T) { testSchemes(t, newHarness) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, newHarness(t).Store) })
}

// testCapabilities checks that a store.Describer implements the interface
// of every capability it names: tools such as the admin pages offer what
// Info.Capabilities names, then assert the interface.
func testCapabilities(t *testing.T, s store.Store) {
	d, ok := s.(store.Describer)
	if !ok {
		t.Skip("not a store.Describer")
	}
	info, err := d.Describe(t.Context())
	require.NoError(t, err)
	for _, c := range info.Capabilities {
		var ok bool
		switch c {
		case store.CapList, store.CapSort, store.CapHits:
			_, ok = s.(store.Lister)
		case store.CapInspect:
			_, ok = s.(store.Inspector)
		case store.CapFlush:
			_, ok = s.(store.Flusher)
		case store.CapPurge:
			_, ok = s.(store.Purger)
		case store.CapRows:
			_, ok = s.(store.SchemeRegistry)
		case store.CapTTL:
			_, ok = s.(store.TTLSetter)
		case store.CapReport:
			_, ok = s.(store.Reporter)
		default:
			t.Errorf("Describe names capability %q, which package store does not define", c)
			continue
		}
		if !ok {
			t.Errorf("Describe names capability %q, but %T lacks its interface", c, s)
		}
	}
}

// ttl is the TTL of entries whose subtest is not about expiry.
const ttl = time.Hour

// stamps returns the current stamps of deps.
func stamps(t *testing.T, s store.Store, deps ...store.Dep) []store.Stamp {
	t.Helper()
	got, err := s.Stamps(t.Context(), deps)
	require.NoError(t, err, "Stamps(%v)", deps)
	require.Len(t, got, len(deps), "Stamps(%v)", deps)
	return got
}

// set stores e under key for ttl.
func set(t *testing.T, s store.Store, key string, e store.Entry) {
	t.Helper()
	require.NoError(t, s.Set(t.Context(), key, e, ttl), "Set(%q)", key)
}

// fill stores value under key as a reader following the protocol does: with
// the stamps deps have now.
func fill(t *testing.T, s store.Store, key, value string, deps ...store.Dep) {
	t.Helper()
	set(t, s, key, store.Entry{Value: []byte(value), Deps: deps, Stamps: stamps(t, s, deps...)})
}

// invalidate renews the stamps of deps.
func invalidate(t *testing.T, s store.Store, deps ...store.Dep) {
	t.Helper()
	require.NoError(t, s.Invalidate(t.Context(), deps...), "Invalidate(%v)", deps)
}

// wantHit reports an error unless Get(key) (and Peek) returns want.
func wantHit(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	for _, get := range getters(s) {
		got, ok, err := get.fn(t.Context(), key)
		require.NoError(t, err, "%s(%q)", get.name, key)
		if !ok {
			t.Errorf("%s(%q): got a miss, want %q", get.name, key, want)
			continue
		}
		if string(got) != want {
			t.Errorf("%s(%q): got %q, want %q", get.name, key, got, want)
		}
	}
}

// getter is a way to read an entry: Get, and Peek for a store.Peeker.
type getter struct {
	name string
	fn   func(ctx context.Context, key string) ([]byte, bool, error)
}

// getters returns the ways s reads entries; a Peeker's Peek must answer as
// its Get does.
func getters(s store.Store) []getter {
	gs := []getter{{"Get", s.Get}}
	if p, ok := s.(store.Peeker); ok {
		gs = append(gs, getter{"Peek", p.Peek})
	}
	return gs
}

// wantMiss reports an error unless Get(key) (and Peek) misses.
func wantMiss(t *testing.T, s store.Store, key string) {
	t.Helper()
	for _, get := range getters(s) {
		got, ok, err := get.fn(t.Context(), key)
		require.NoError(t, err, "%s(%q)", get.name, key)
		if ok {
			t.Errorf("%s(%q): got %q, want a miss", get.name, key, got)
		}
	}
}
