// Package metrics exports a gormcache Plugin's statistics to Prometheus.
//
//	reg.MustRegister(metrics.NewCollector(cache, metrics.Options{}))
//
// The collector reads Plugin.Stats, Plugin.TableStats, when the store
// describes itself (store.Describer) its size, and when it is a near cache
// (a *redis.Near, see NearStatser) its lease state and counters, on every
// scrape; it keeps no state of its own. Every statistic but the sizes and
// the near cache's state only grows, so each is a counter: take the hit
// ratio with rate(), for instance
//
//	rate(gormcache_hits_total[5m]) / (rate(gormcache_hits_total[5m]) + rate(gormcache_misses_total[5m]))
//
// and the share of lookups a near cache served from memory with
//
//	rate(gormcache_near_hits_total[5m]) / (rate(gormcache_near_hits_total[5m]) + rate(gormcache_near_validations_total[5m]))
//
// An instance whose gormcache_near_trusted stays 0, or whose
// gormcache_near_fences_total keeps growing, validates every hit in Redis;
// gormcache_near_writes_lapsed_total growing says writes wait for an
// instance that does not acknowledge (crashed, paused, cut off).
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/store"
)

// Options configures a Collector. The zero value works.
type Options struct {
	// Namespace prefixes every metric name. Default: "gormcache".
	Namespace string
	// ConstLabels are added to every metric, to tell several plugins of
	// one process apart (a label per database, say). Default: none.
	ConstLabels prometheus.Labels
	// DescribeTimeout bounds the store's Describe call of each scrape.
	// Default: one second.
	DescribeTimeout time.Duration
}

// Collector is a prometheus.Collector of one Plugin's statistics.
type Collector struct {
	plugin  *gormcache.Plugin
	timeout time.Duration

	hits, scopeHits, misses, fills, invalidated, bypassed, errors *prometheus.Desc
	tableHits, tableMisses, tableFills, tableInvalidated          *prometheus.Desc
	entries, bytes                                                *prometheus.Desc
	near                                                          near
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of p's statistics. It panics if p is nil,
// a programmer error.
func NewCollector(p *gormcache.Plugin, opts Options) *Collector {
	if p == nil {
		panic("metrics: nil Plugin")
	}
	if opts.Namespace == "" {
		opts.Namespace = "gormcache"
	}
	if opts.DescribeTimeout <= 0 {
		opts.DescribeTimeout = time.Second
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, "", name), help, labels, opts.ConstLabels)
	}
	return &Collector{
		plugin:           p,
		timeout:          opts.DescribeTimeout,
		hits:             desc("hits_total", "Queries and Remember calls answered from the cache."),
		scopeHits:        desc("scope_hits_total", "Hits answered by a request scope, with no store call."),
		misses:           desc("misses_total", "Cacheable queries and Remember calls that went to the database or ran their function."),
		fills:            desc("fills_total", "Results stored after a miss."),
		invalidated:      desc("invalidations_total", "Dependency stamps renewed by writes and by the Invalidate functions."),
		bypassed:         desc("bypassed_total", "Queries that would have been cached but were not: NoCache, in a transaction, locking, or not replayable."),
		errors:           desc("store_errors_total", "Store failures, each answered without the cache."),
		tableHits:        desc("table_hits_total", "Cache hits of queries whose main table is table.", "table"),
		tableMisses:      desc("table_misses_total", "Cache misses of queries whose main table is table.", "table"),
		tableFills:       desc("table_fills_total", "Results stored after a miss, of queries whose main table is table.", "table"),
		tableInvalidated: desc("table_invalidations_total", "Dependency stamps of table renewed.", "table"),
		entries:          desc("store_entries", "Entries the store holds, expired and invalid ones not yet removed included."),
		bytes:            desc("store_bytes", "Memory the store's entries hold."),
		near:             newNear(desc),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.hits, c.scopeHits, c.misses, c.fills, c.invalidated, c.bypassed, c.errors,
		c.tableHits, c.tableMisses, c.tableFills, c.tableInvalidated,
		c.entries, c.bytes,
	} {
		ch <- d
	}
	c.near.describe(ch)
}

// Collect implements prometheus.Collector. The store's size is reported
// only when the store describes itself and knows it (a Redis store does
// not: counting would scan every key). The near cache's metrics are
// reported only when the store is a NearStatser.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	s := c.plugin.Stats()
	counter(c.hits, s.Hits)
	counter(c.scopeHits, s.ScopeHits)
	counter(c.misses, s.Misses)
	counter(c.fills, s.Fills)
	counter(c.invalidated, s.Invalidated)
	counter(c.bypassed, s.Bypassed)
	counter(c.errors, s.Errors)
	for table, t := range c.plugin.TableStats() {
		counter(c.tableHits, t.Hits, table)
		counter(c.tableMisses, t.Misses, table)
		counter(c.tableFills, t.Fills, table)
		counter(c.tableInvalidated, t.Invalidated, table)
	}
	if n, ok := c.plugin.Store().(NearStatser); ok {
		c.near.collect(ch, n.NearStats())
	}
	d, ok := c.plugin.Store().(store.Describer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	info, err := d.Describe(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.entries, err)
		return
	}
	if info.Entries >= 0 {
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(info.Entries))
	}
	if info.Bytes >= 0 {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(info.Bytes))
	}
}
