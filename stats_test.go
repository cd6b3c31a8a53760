package gormcache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

func TestTableStats(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{Prefix: "app:"})
		e.seed()
		var users []User
		var photos []Photo
		for range 3 {
			require.NoError(t, e.cached().Find(&users).Error)
		}
		require.NoError(t, e.cached().Where("user_id = ?", 1).Find(&photos).Error)
		var n int
		require.NoError(t, e.cached().Raw("SELECT count(*) FROM photos").Scan(&n).Error)
		before := e.p.TableStats()["photos"].Invalidated
		require.NoError(t, e.db.Model(&Photo{}).Where("id = ?", 1).Update("title", "new").Error)

		got := e.p.TableStats()
		userStats := got["users"]
		userStats.Invalidated = 0 // by the seed's creates
		require.Equal(t, gormcache.TableStats{Hits: 2, Misses: 1, Fills: 1}, userStats)
		photoStats := got["photos"]
		require.Equal(t, uint64(0), photoStats.Hits)
		require.Equal(t, uint64(2), photoStats.Misses, "a Find and a raw read of photos")
		require.Equal(t, uint64(2), photoStats.Fills)
		require.Greater(t, photoStats.Invalidated, before, "the update of a photo")
		require.InDelta(t, 2.0/3, got["users"].HitRatio(), 1e-9)

		all := e.stats()
		var hits, misses uint64
		for _, s := range got {
			hits += s.Hits
			misses += s.Misses
		}
		require.Equal(t, all.Hits, hits)
		require.Equal(t, all.Misses, misses)

		// Remember keys and InvalidateAll belong to no table.
		_, err := gormcache.Remember(e.db, "report", func(context.Context) (int, error) { return 1, nil })
		require.NoError(t, err)
		require.NoError(t, gormcache.Forget(e.db, "report"))
		require.NoError(t, gormcache.InvalidateAll(e.db))
		for table := range e.p.TableStats() {
			require.Contains(t, []string{"users", "photos", "tags", "profiles", "user_tags"}, table)
		}
	})
}

func TestTableStatsBounded(t *testing.T) {
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{})
	require.NoError(t, db.Use(p))
	for i := range gormcache.MaxTableStats + 100 {
		require.NoError(t, gormcache.InvalidateTable(db, fmt.Sprintf("t%04d", i)))
	}
	got := p.TableStats()
	require.Len(t, got, gormcache.MaxTableStats+1)
	require.Equal(t, uint64(100), got[gormcache.OtherTables].Invalidated)
	require.Equal(t, uint64(1), got["t0000"].Invalidated)
}
