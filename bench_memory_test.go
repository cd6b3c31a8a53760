package gormcache_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/testdata/photos"
)

// memoryRows is how many results the memory benchmarks cache: as many
// users as there are results.
const memoryRows = 100_000

// seedUsers creates the users table of package photos in db with n users.
func seedUsers(tb testing.TB, db *gorm.DB, n int) {
	tb.Helper()
	require.NoError(tb, db.AutoMigrate(&photos.User{}))
	users := make([]photos.User, 0, 1000)
	for u := 1; u <= n; u++ {
		users = append(users, photos.User{ID: uint(u), Name: fmt.Sprintf("user%d", u), Email: "u@example.com"})
		if len(users) == cap(users) || u == n {
			require.NoError(tb, db.Create(&users).Error)
			users = users[:0]
		}
	}
}

// heapAfterGC returns the bytes of live heap objects after a full
// collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkEntryMemory measures the heap that cached First results hold:
// memoryRows misses on distinct users (each storing its entry and what
// its dependencies need), then one hit on each (which keeps its decoded
// result, up to Config.ResultMemory). It reports the growth of the live
// heap per result after each phase: what a cache of that many results
// costs the process. The store is large enough to keep every entry.
func BenchmarkEntryMemory(b *testing.B) {
	dial := testdb.Dialector{Name: "sqlite"}.Open(b)
	plain, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(b, err)
	seedUsers(b, plain, memoryRows)
	var entryBytes, decodedBytes float64
	for b.Loop() {
		st, err := memory.New(memory.Config{MaxBytes: 1 << 30, MaxEntries: 10 * memoryRows})
		require.NoError(b, err)
		p := gormcache.New(gormcache.Config{Store: st, CacheAll: true, ResultMemory: 1 << 30})
		cached, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		require.NoError(b, cached.Use(p))
		read := func(id int) {
			var u photos.User
			if err := cached.First(&u, id).Error; err != nil {
				b.Fatal(err)
			}
		}
		read(memoryRows) // what the first read of a statement creates once
		before := heapAfterGC()
		for id := 1; id < memoryRows; id++ {
			read(id)
		}
		stored := heapAfterGC()
		for id := 1; id < memoryRows; id++ {
			read(id)
		}
		hit := heapAfterGC()
		s := p.Stats()
		if s.Hits != memoryRows-1 || st.Len() != memoryRows {
			b.Fatalf("%d hits and %d entries, want %d and %d", s.Hits, st.Len(), memoryRows-1, memoryRows)
		}
		entryBytes += float64(stored-before) / (memoryRows - 1)
		decodedBytes += float64(hit-stored) / (memoryRows - 1)
		require.NoError(b, p.Close())
		runtime.KeepAlive(st)
	}
	b.ReportMetric(entryBytes/float64(b.N), "B/entry")
	b.ReportMetric(decodedBytes/float64(b.N), "B/decoded")
}

// TestResultMemoryBoundsTheHeap fills Config.ResultMemory with decoded
// results — 100,000 First results hit once each, then Find results of forty
// photos — and checks that the heap they hold is the cap, within 20%.
func TestResultMemoryBoundsTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("caches 100,000 results")
	}
	const limit = 8 << 20
	dial := testdb.Dialector{Name: "sqlite"}.Open(t)
	plain, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	seedUsers(t, plain, memoryRows)
	require.NoError(t, plain.AutoMigrate(&photos.Photo{}))
	const users, perUser = 3000, 40
	ps := make([]photos.Photo, 0, users*perUser)
	for u := 1; u <= users; u++ {
		for i := range perUser {
			ps = append(ps, photos.Photo{UserID: uint(u), Title: fmt.Sprintf("photo %d of user %d", i, u)})
		}
	}
	require.NoError(t, plain.CreateInBatches(ps, 1000).Error)

	for _, tc := range []struct {
		name string
		n    int
		read func(db *gorm.DB, i int) error
	}{
		{"First", memoryRows, func(db *gorm.DB, i int) error { return db.First(&photos.User{}, i).Error }},
		{"Find", users, func(db *gorm.DB, i int) error {
			var got []photos.Photo
			return db.Where("user_id = ?", i).Find(&got).Error
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := memory.New(memory.Config{MaxBytes: 1 << 30, MaxEntries: 10 * memoryRows})
			require.NoError(t, err)
			p := gormcache.New(gormcache.Config{Store: st, CacheAll: true, ResultMemory: limit})
			t.Cleanup(func() { _ = p.Close() })
			cached, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			require.NoError(t, cached.Use(p))
			for i := 1; i <= tc.n; i++ {
				require.NoError(t, tc.read(cached, i))
			}
			stored := heapAfterGC()
			for i := 1; i <= tc.n; i++ {
				require.NoError(t, tc.read(cached, i))
			}
			grown := float64(heapAfterGC()) - float64(stored)
			require.Equal(t, uint64(tc.n), p.Stats().Hits)
			t.Logf("decoded results hold %.1f MiB of a %d MiB cap", grown/(1<<20), limit>>20)
			if grown < 0.8*limit || grown > 1.2*limit {
				t.Errorf("heap held by decoded results: got %.0f bytes, want within 20%% of %d", grown, limit)
			}
			runtime.KeepAlive(st)
		})
	}
}
