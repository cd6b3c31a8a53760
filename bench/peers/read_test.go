package peers

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/testdata/photos"
)

// BenchmarkRead measures the statements of package photos, First by
// primary key and Find of 100 rows, on the rows photos.Seed creates,
// through each plugin and none: as hits, and as misses on rows the plugin
// has never read.
func BenchmarkRead(b *testing.B) {
	for _, d := range engines {
		b.Run(d.Name, func(b *testing.B) {
			dial := d.Open(b)
			photos.Seed(b, openDB(b, dial))
			for _, q := range photos.Queries {
				b.Run(q.Name, func(b *testing.B) {
					b.Run("hit", func(b *testing.B) { benchHits(b, dial, q) })
					b.Run("miss", func(b *testing.B) { benchMisses(b, dial, q) })
				})
			}
		})
	}
}

// benchHits reads photos.HitRow of q again and again, through each plugin
// alone (ns/op, allocs/op), then through all of them in every iteration
// ("paired", which reports how many times faster than uncached each cache
// is, uncached/<name>). Every read after the first must hit.
func benchHits(b *testing.B, dial gorm.Dialector, q photos.Query) {
	hs := openAll(b, dial)
	read := func(_ int, h *handle) error { return q.Run(h.DB, photos.HitRow) }
	for _, h := range hs {
		require.NoError(b, read(0, h)) // the miss that fills the cache
	}
	for _, h := range hs {
		b.Run(h.name, func(b *testing.B) {
			before := countsOf(h)
			b.ReportAllocs()
			for b.Loop() {
				if err := read(0, h); err != nil {
					b.Fatal(err)
				}
			}
			requireHits(b, h, before)
		})
	}
	b.Run("paired", func(b *testing.B) {
		before := make([]counts, len(hs))
		for j, h := range hs {
			before[j] = countsOf(h)
		}
		spent := make([]time.Duration, len(hs))
		for b.Loop() {
			runPaired(b, hs, spent, read)
		}
		for j, h := range hs {
			requireHits(b, h, before[j])
		}
		reportTimes(b, hs, spent)
		b.ReportMetric(ratio(spent[uncached], spent[ours]), "uncached/gormcache")
		b.ReportMetric(ratio(spent[uncached], spent[peer]), "uncached/caches")
	})
}

// benchMisses reads, in every iteration, a row that no earlier read through
// the plugins read, through each of them and uncached, back to back: every
// miss stores a new entry and creates whatever its dependencies need. It
// reports how many times the uncached read's time each cache's miss takes
// (<name>/uncached). After photos.Users iterations, the rows are read again
// through new plugins, whose caches are empty. It fails if a read hits.
func benchMisses(b *testing.B, dial gorm.Dialector, q photos.Query) {
	var hs []*handle
	spent := make([]time.Duration, variants)
	for i := 0; b.Loop(); i++ {
		if i%photos.Users == 0 {
			for _, h := range hs {
				requireNoHits(b, h)
				h.close()
			}
			hs = openAll(b, dial)
		}
		runPaired(b, hs, spent, func(_ int, h *handle) error { return q.Run(h.DB, i) })
	}
	for _, h := range hs {
		requireNoHits(b, h)
	}
	reportTimes(b, hs, spent)
	b.ReportMetric(ratio(spent[ours], spent[uncached]), "gormcache/uncached")
	b.ReportMetric(ratio(spent[peer], spent[uncached]), "caches/uncached")
}

// requireHits fails b unless every read through h since before hit (or h
// has no cache).
func requireHits(b *testing.B, h *handle, before counts) {
	b.Helper()
	if h.counts == nil {
		return
	}
	now := h.counts()
	if hits, misses := now.hits-before.hits, now.misses-before.misses; hits != uint64(b.N) || misses != 0 {
		b.Fatalf("%s: %d hits and %d misses in %d reads, want only hits", h.name, hits, misses, b.N)
	}
}

// requireNoHits fails b if a read through h hit.
func requireNoHits(b *testing.B, h *handle) {
	b.Helper()
	if c := countsOf(h); c.hits > 0 {
		b.Fatalf("%s: %d reads hit: the rows repeat", h.name, c.hits)
	}
}
