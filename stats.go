package gormcache

import (
	"sync"
	"sync/atomic"

	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/store"
)

// Stats are the plugin's counters since it was created. Every field only
// grows.
type Stats struct {
	// Hits counts queries and Remember calls answered from the cache.
	Hits uint64
	// ScopeHits counts the Hits a request scope answered, with no store
	// call (see WithRequestScope).
	ScopeHits uint64
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

// TableStats are the counters of one table, see Plugin.TableStats.
type TableStats struct {
	// Hits and Misses count the cacheable queries whose main table (the
	// model's table, or the first table a raw query reads) is this one.
	Hits, Misses uint64
	// Fills counts the results of those queries stored after a miss.
	Fills uint64
	// Invalidated counts the dependency stamps of this table renewed by
	// writes and by the Invalidate functions: one per write for a whole
	// table, one per distinct row value otherwise.
	Invalidated uint64
}

// HitRatio returns Hits / (Hits + Misses), or 0 before any cacheable query.
func (s TableStats) HitRatio() float64 {
	return Stats{Hits: s.Hits, Misses: s.Misses}.HitRatio()
}

// TableStats returns a snapshot of the per-table counters, by table name
// without the Config.Prefix; at most MaxTableStats tables are counted
// apart, the others under OtherTables. Queries of Remember are not counted
// per table.
func (p *Plugin) TableStats() map[string]TableStats {
	out := map[string]TableStats{}
	p.stats.tables.Range(func(k, v any) bool {
		c := v.(*tableCounters)
		out[k.(string)] = TableStats{
			Hits:        c.hits.Load(),
			Misses:      c.misses.Load(),
			Fills:       c.fills.Load(),
			Invalidated: c.invalidated.Load(),
		}
		return true
	})
	return out
}

type counters struct {
	hits, scopeHits, misses, fills, invalidated, bypassed, errors atomic.Uint64
	tables                                                        sync.Map // table -> *tableCounters
	ntables                                                       atomic.Int64
}

type tableCounters struct {
	hits, misses, fills, invalidated atomic.Uint64
}

// MaxTableStats bounds the tables TableStats counts apart; the tables met
// after that many (raw queries may name ever new ones) are counted together
// under OtherTables.
const MaxTableStats = 1000

// OtherTables is the TableStats name of the tables beyond MaxTableStats.
const OtherTables = "(other tables)"

// table returns the counters of table, creating them on first use; nil
// for "" (no table).
func (c *counters) table(table string) *tableCounters {
	if table == "" {
		return nil
	}
	if v, ok := c.tables.Load(table); ok {
		return v.(*tableCounters)
	}
	if c.ntables.Load() >= MaxTableStats {
		table = OtherTables
	}
	v, loaded := c.tables.LoadOrStore(table, new(tableCounters))
	if !loaded {
		c.ntables.Add(1)
	}
	return v.(*tableCounters)
}

// hit, miss and fill count a query, and in t (from table; nil for none)
// a query of its table: a miss and the fill that follows it look the
// table's counters up once.
func (c *counters) hit(t *tableCounters) {
	c.hits.Add(1)
	if t != nil {
		t.hits.Add(1)
	}
}

// scopeHit counts a hit that a request scope answered.
func (c *counters) scopeHit(t *tableCounters) {
	c.scopeHits.Add(1)
	c.hit(t)
}

func (c *counters) miss(t *tableCounters) {
	c.misses.Add(1)
	if t != nil {
		t.misses.Add(1)
	}
}

func (c *counters) fill(t *tableCounters) {
	c.fills.Add(1)
	if t != nil {
		t.fills.Add(1)
	}
}

// countInvalidated counts renewed stamps, in all and per table; those of
// InvalidateAll and of Remember keys belong to no table.
func (p *Plugin) countInvalidated(deps []store.Dep) {
	p.stats.invalidated.Add(uint64(len(deps)))
	for _, d := range deps {
		if t := entry.Table(p.cfg.Prefix, d); t != "" {
			p.stats.table(t).invalidated.Add(1)
		}
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits:        c.hits.Load(),
		ScopeHits:   c.scopeHits.Load(),
		Misses:      c.misses.Load(),
		Fills:       c.fills.Load(),
		Invalidated: c.invalidated.Load(),
		Bypassed:    c.bypassed.Load(),
		Errors:      c.errors.Load(),
	}
}
