package peers

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/testdata/photos"
)

// memoryRows is how many First results BenchmarkMemory caches: as many
// users as results.
const memoryRows = 100_000

// BenchmarkMemory measures the live heap that cached First results hold in
// each plugin. After one read of a user that creates what every read of
// the statement shares, it reads memoryRows-1 other users, each a miss that
// caches a result, and reports the growth of the live heap after a full
// collection per result (B/entry); then it reads each of them again, each
// a hit, and reports the growth since the start per result (B/entry+hit):
// gormcache keeps recent results decoded (Config.ResultMemory, by default
// 32 MiB), go-gorm/caches keeps nothing more. gormcache's memory store is
// made large enough to keep every entry (by default it holds 100,000).
// An iteration caches memoryRows results, which takes seconds: run it
// with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	for _, d := range engines {
		b.Run(d.Name, func(b *testing.B) {
			dial := d.Open(b)
			seed(b, openDB(b, dial), memoryRows, 0)
			b.Run("gormcache", func(b *testing.B) {
				benchMemory(b, func() *handle {
					st, err := memory.New(memory.Config{MaxBytes: 1 << 30, MaxEntries: 10 * memoryRows})
					require.NoError(b, err)
					h := openGormcache(b, dial, st)
					closePlugin := h.close
					h.close = func() {
						closePlugin()
						require.NoError(b, st.Close())
					}
					return h
				})
			})
			b.Run("caches", func(b *testing.B) {
				benchMemory(b, func() *handle { return openCaches(b, dial) })
			})
		})
	}
}

// benchMemory measures the results cached through the handles open
// returns, one per iteration.
func benchMemory(b *testing.B, open func() *handle) {
	var stored, hit float64
	for b.Loop() {
		h := open()
		read := func(id int) {
			var u photos.User
			if err := h.First(&u, id).Error; err != nil || u.ID != uint(id) {
				b.Fatalf("%s: read user %d: got %d, %v", h.name, id, u.ID, err)
			}
		}
		read(memoryRows)
		start := heapAfterGC()
		for id := 1; id < memoryRows; id++ {
			read(id)
		}
		afterMisses := heapAfterGC()
		if hits, entries := h.counts().hits, h.entries(); hits != 0 || entries != memoryRows {
			b.Fatalf("%s: %d hits and %d entries after the misses, want 0 and %d", h.name, hits, entries, memoryRows)
		}
		for id := 1; id < memoryRows; id++ {
			read(id)
		}
		afterHits := heapAfterGC()
		if c := h.counts(); c.hits != memoryRows-1 {
			b.Fatalf("%s: %d hits, want %d", h.name, c.hits, memoryRows-1)
		}
		stored += float64(int64(afterMisses)-int64(start)) / (memoryRows - 1)
		hit += float64(int64(afterHits)-int64(start)) / (memoryRows - 1)
		h.close()
	}
	b.ReportMetric(stored/float64(b.N), "B/entry")
	b.ReportMetric(hit/float64(b.N), "B/entry+hit")
}

// heapAfterGC returns the bytes of live heap objects after a full
// collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
