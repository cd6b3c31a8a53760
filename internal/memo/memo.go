// Package memo keeps values computed from keys that recur, such as what the
// plugin learns of a statement from its SQL text alone, up to a bound on
// their total weight.
//
// It is not otter, which the stores use. An otter read records the access
// for its eviction policy (read buffers that the reading call drains into
// a frequency sketch), and a cache miss reads two such memories, the
// statement's analysis and its template of dependencies: on PostgreSQL,
// where the miss's work runs on caches the database's process has used in
// between, those reads cost about 0.6 µs more than a sync.Map's (timed in
// place, BENCHMARKS.md). What a memo holds is a function of its key, few
// keys recur (an application's statements), and losing a value costs one
// computation: so a memo needs no eviction policy. When its weight passes
// the bound it forgets everything and starts over.
package memo

import (
	"sync"
	"sync/atomic"
)

// A Map is a memo of values of type V by keys of type K, safe for
// concurrent use.
type Map[K comparable, V any] struct {
	m      sync.Map
	weight atomic.Int64
	max    int64
	weigh  func(K, V) int64
}

// New returns a Map that forgets everything when the weight of what it
// holds passes max; weigh returns the weight of a value and its key.
func New[K comparable, V any](max int64, weigh func(K, V) int64) *Map[K, V] {
	return &Map[K, V]{max: max, weigh: weigh}
}

// Get returns the value of k, if the Map holds one.
func (m *Map[K, V]) Get(k K) (V, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// Add keeps v as the value of k, unless the Map holds one already (any is
// as good: both are computed from k) or v alone weighs more than the bound.
// When v would take the weight of the Map past its bound, the Map forgets
// everything else first. (Adds that race with that clearing may leave their
// weight uncounted, or counted for a value forgotten, until the next one:
// the bound holds to within what concurrent Adds weigh.)
func (m *Map[K, V]) Add(k K, v V) {
	w := m.weigh(k, v)
	if w > m.max {
		return
	}
	if _, loaded := m.m.LoadOrStore(k, v); loaded {
		return
	}
	if m.weight.Add(w) > m.max {
		m.m.Clear()
		m.weight.Store(w)
		m.m.Store(k, v)
	}
}

// Replace keeps v as the value of k in place of the one the Map holds, if
// any: for values computed from k and from something else, which changed
// since. The bound holds as with Add.
func (m *Map[K, V]) Replace(k K, v V) {
	w := m.weigh(k, v)
	if w > m.max {
		m.m.Delete(k)
		return
	}
	if old, loaded := m.m.Swap(k, v); loaded {
		w -= m.weigh(k, old.(V))
	}
	if m.weight.Add(w) > m.max {
		m.m.Clear()
		m.weight.Store(m.weigh(k, v))
		m.m.Store(k, v)
	}
}
