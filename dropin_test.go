package gormcache_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
)

// The tests of this file check that the plugin is a drop-in: a GORM
// application that registers it, even caching everything, behaves exactly as
// without it.

// widget and widgetV2 are one table before and after a migration.
type widget struct {
	ID   uint
	Name string
}

type widgetV2 struct {
	ID    uint
	Name  string
	Color string `gorm:"index"`
}

func (widgetV2) TableName() string { return "widgets" }

// TestMigrationsUnderCacheAll runs a model's migrations with every query
// cached: the Migrator's reads of the system catalogues are never served
// from the cache, and DDL invalidates what read the table it changes.
func TestMigrationsUnderCacheAll(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		m := e.db.Migrator()

		require.False(t, m.HasTable(&widget{}))
		require.NoError(t, e.db.AutoMigrate(&widget{}))
		require.True(t, m.HasTable(&widget{}), "HasTable served from before CreateTable")
		require.NoError(t, e.db.AutoMigrate(&widget{}), "a second AutoMigrate must find the table")
		require.NoError(t, e.db.Create(&widget{Name: "a"}).Error)

		var before []map[string]any
		require.NoError(t, e.db.Table("widgets").Find(&before).Error)
		require.Len(t, before, 1)
		require.NotContains(t, before[0], "color")

		require.False(t, m.HasColumn(&widgetV2{}, "Color"))
		require.False(t, m.HasIndex(&widgetV2{}, "Color"))
		require.NoError(t, e.db.AutoMigrate(&widgetV2{}))
		assert.True(t, m.HasColumn(&widgetV2{}, "Color"), "HasColumn served from before AddColumn")
		assert.True(t, m.HasIndex(&widgetV2{}, "Color"), "HasIndex served from before CreateIndex")
		types, err := m.ColumnTypes(&widgetV2{})
		require.NoError(t, err)
		var names []string
		for _, ct := range types {
			names = append(names, ct.Name())
		}
		assert.Contains(t, names, "color", "ColumnTypes served from before AddColumn")

		var after []map[string]any
		err = e.db.Table("widgets").Find(&after).Error
		if err != nil && strings.Contains(err.Error(), "cached plan must not change result type") {
			// pgx's statement cache answers so once per connection after
			// ALTER TABLE, with or without the plugin.
			err = e.db.Table("widgets").Find(&after).Error
		}
		require.NoError(t, err)
		require.Len(t, after, 1)
		assert.Contains(t, after[0], "color", "a read of the table served from before ALTER TABLE")

		require.NoError(t, m.DropIndex(&widgetV2{}, "Color"))
		assert.False(t, m.HasIndex(&widgetV2{}, "Color"), "HasIndex served from before DropIndex")
		require.NoError(t, m.DropTable(&widgetV2{}))
		assert.False(t, m.HasTable(&widgetV2{}), "HasTable served from before DropTable")
		require.NoError(t, e.db.AutoMigrate(&widget{}))
	})
}

// TestNondeterministicReadsAreNotCached checks that a read whose result
// changes without a write — the clock, a random number, a sequence — is
// answered by the database every time.
func TestNondeterministicReadsAreNotCached(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()
		distinct := func(sql string) {
			t.Helper()
			seen := map[string]bool{}
			for range 5 {
				var v string
				require.NoError(t, e.db.Raw(sql).Scan(&v).Error)
				seen[v] = true
			}
			assert.Greater(t, len(seen), 1, "%s always gave one answer: it was cached", sql)
		}
		distinct("SELECT random()")
		distinct("SELECT random() FROM users LIMIT 1")
		if b.Name == "postgres" {
			require.NoError(t, e.db.Exec("CREATE SEQUENCE widget_seq").Error)
			distinct("SELECT nextval('widget_seq')")
			distinct("SELECT clock_timestamp()::text")
		}
	})
}
