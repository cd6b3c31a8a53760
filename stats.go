package gormcache

import "sync/atomic"

// Stats are the plugin's counters since it was created. Every field only
// grows.
type Stats struct {
	// Hits counts queries and Remember calls answered from the cache.
	Hits uint64
	// Misses counts cacheable queries that went to the database, and
	// Remember calls that ran their function.
	Misses uint64
	// Fills counts results stored after a miss.
	Fills uint64
	// Invalidated counts dependency stamps renewed by writes and by the
	// Invalidate functions.
	Invalidated uint64
	// Bypassed counts queries that would have been cached but were not:
	// NoCache, inside a transaction, a locking read, or a result that
	// cannot be replayed.
	Bypassed uint64
	// Errors counts store failures. Each one degraded to the database (or,
	// for an invalidation, to a wider invalidation) without failing a query.
	Errors uint64
}

// HitRatio returns Hits / (Hits + Misses), or 0 before any cacheable query.
func (s Stats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

type counters struct {
	hits, misses, fills, invalidated, bypassed, errors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		Fills:       c.fills.Load(),
		Invalidated: c.invalidated.Load(),
		Bypassed:    c.bypassed.Load(),
		Errors:      c.errors.Load(),
	}
}
