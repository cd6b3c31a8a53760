package gormcache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/hints"
	"gorm.io/plugin/optimisticlock"
	"gorm.io/plugin/soft_delete"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// The tests of this file run the plugin beside GORM's own plugins that
// work through a model's fields and a statement's clauses rather than
// db.Use: soft_delete (a soft delete that stores a unix time, a flag, or
// both), optimisticlock (a version every update checks and increments),
// and hints (optimizer hints and comments in the SQL).

// Memo is soft-deleted with the unix second of its deletion.
type Memo struct {
	ID        uint
	OwnerID   uint
	Body      string `gorm:"size:64"`
	DeletedAt soft_delete.DeletedAt
}

// Task is soft-deleted with a flag, and the time, in milliseconds.
type Task struct {
	ID        uint
	OwnerID   uint
	Title     string `gorm:"size:64"`
	DeletedAt int64
	IsDel     soft_delete.DeletedAt `gorm:"softDelete:flag,DeletedAtField:DeletedAt,DeletedAtFieldUnit:milli"`
}

// Jotting is soft-deleted with the unix second of its deletion in a column
// that is NULL until then (soft_delete's nullable mode): a NULL its
// non-pointer field reads as zero.
type Jotting struct {
	ID        uint
	OwnerID   uint
	Text      string                `gorm:"size:64"`
	DeletedAt soft_delete.DeletedAt `gorm:"default:null"`
}

// Item is updated under an optimistic lock.
type Item struct {
	ID      uint
	Stock   int
	Version optimisticlock.Version
}

func newPluginsEnv(t *testing.T, b backend) *env {
	e := newEnv(t, b, gormcache.Config{})
	require.NoError(t, e.db.AutoMigrate(&Memo{}, &Task{}, &Jotting{}, &Item{}))
	db := e.db.Clauses(gormcache.NoCache()).Session(&gorm.Session{})
	require.NoError(t, db.Create(&[]Memo{{OwnerID: 1, Body: "n1"}, {OwnerID: 1, Body: "n2"}, {OwnerID: 2, Body: "n3"}}).Error)
	require.NoError(t, db.Create(&[]Task{{OwnerID: 1, Title: "t1"}, {OwnerID: 1, Title: "t2"}, {OwnerID: 2, Title: "t3"}}).Error)
	require.NoError(t, db.Delete(&Task{}, 2).Error) // in the trash from the start
	require.NoError(t, db.Create(&[]Jotting{{OwnerID: 1, Text: "a"}, {OwnerID: 2, Text: "b"}, {OwnerID: 1, Text: "c"}}).Error)
	require.NoError(t, db.Delete(&Jotting{}, 3).Error)
	require.NoError(t, db.Create(&[]Item{{Stock: 5}, {Stock: 0}}).Error)
	return e
}

var pluginReads = freshness.Reads{
	"memos of owner 1": func(t testing.TB, db *gorm.DB) any {
		var ns []Memo
		require.NoError(t, db.Where("owner_id = ?", 1).Order("id").Find(&ns).Error)
		return ns
	},
	"every memo": func(t testing.TB, db *gorm.DB) any {
		var bodies []string
		require.NoError(t, db.Unscoped().Model(&Memo{}).Order("id").Pluck("body", &bodies).Error)
		return bodies
	},
	"tasks of owner 1": func(t testing.TB, db *gorm.DB) any {
		var ts []Task
		require.NoError(t, db.Where("owner_id = ?", 1).Order("id").Find(&ts).Error)
		return ts
	},
	"the trash": func(t testing.TB, db *gorm.DB) any {
		var titles []string
		require.NoError(t, db.Unscoped().Model(&Task{}).Where("is_del = ?", 1).Order("id").Pluck("title", &titles).Error)
		return titles
	},
	"owner 1's trash": func(t testing.TB, db *gorm.DB) any {
		var titles []string
		require.NoError(t, db.Unscoped().Model(&Task{}).Where("owner_id = ? AND is_del = ?", 1, 1).Order("id").Pluck("title", &titles).Error)
		return titles
	},
	"jottings of owner 1": func(t testing.TB, db *gorm.DB) any {
		var ns []Jotting
		require.NoError(t, db.Where("owner_id = ?", 1).Order("id").Find(&ns).Error)
		return ns
	},
	"how many jottings": func(t testing.TB, db *gorm.DB) any {
		var n int64
		require.NoError(t, db.Model(&Jotting{}).Count(&n).Error)
		return n
	},
	"item 1": func(t testing.TB, db *gorm.DB) any {
		var it Item
		require.NoError(t, db.First(&it, 1).Error)
		return it
	},
	"items in stock, with hints": func(t testing.TB, db *gorm.DB) any {
		var ids []uint
		require.NoError(t, db.Clauses(hints.New("NO_INDEX_MERGE(items)"), hints.Comment("select", "stock report")).
			Model(&Item{}).Where("stock > ?", 0).Order("id").Pluck("id", &ids).Error)
		return ids
	},
}

var pluginWrites = freshness.Writes{
	"soft delete a memo": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Delete(&Memo{}, 1).Error)
	},
	"hard delete a memo": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Unscoped().Delete(&Memo{}, 3).Error)
	},
	"restore a memo": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Delete(&Memo{}, 2).Error)
		require.NoError(t, db.Unscoped().Model(&Memo{}).Where("id = ?", 2).Update("deleted_at", 0).Error)
		require.NoError(t, db.Model(&Memo{}).Where("id = ?", 2).Update("body", "n2 again").Error)
	},
	"move a task to the trash": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Delete(&Task{ID: 1}).Error)
	},
	"empty the trash": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Unscoped().Where("is_del = ?", 1).Delete(&Task{}).Error)
	},
	"take a task out of the trash": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Unscoped().Model(&Task{}).Where("id = ?", 2).Updates(map[string]any{"is_del": 0, "deleted_at": 0}).Error)
	},
	"soft delete a jotting": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Delete(&Jotting{}, 1).Error)
	},
	"write a jotting": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Create(&Jotting{OwnerID: 1, Text: "d"}).Error)
	},
	"restore a jotting": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Unscoped().Model(&Jotting{}).Where("id = ?", 3).Update("deleted_at", nil).Error)
	},
	"update under the lock": func(t testing.TB, db *gorm.DB) {
		var it Item
		require.NoError(t, db.Clauses(gormcache.NoCache()).First(&it, 1).Error)
		stale := it
		require.NoError(t, db.Model(&it).Update("stock", 4).Error)
		// A second update from the same read finds another version, and
		// changes nothing.
		res := db.Model(&stale).Update("stock", 0)
		require.NoError(t, res.Error)
		require.Zero(t, res.RowsAffected)
	},
	"sell out": func(t testing.TB, db *gorm.DB) {
		var it Item
		require.NoError(t, db.Clauses(gormcache.NoCache()).First(&it, 1).Error)
		require.NoError(t, db.Model(&it).Updates(Item{Stock: -1}).Error)
		// Zero is not written by Updates with a struct: the map is.
		require.NoError(t, db.Model(&Item{}).Where("id = ?", 1).Updates(map[string]any{"stock": 0}).Error)
	},
	"restock": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Item{ID: 2}).Update("stock", 3).Error)
	},
}

// TestPluginsBeside checks every read against every write, as
// TestFreshness does, with the models of soft_delete, optimisticlock and
// hints.
func TestPluginsBeside(t *testing.T) {
	checkFreshness(t, newPluginsEnv, pluginReads, pluginWrites)
}

// TestSoftDeleteTime checks that a soft delete stores the time the
// soft_delete plugin gives it, so that the rows it leaves are those the
// reads above see: the plugin changes nothing of the write.
func TestSoftDeleteTime(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newPluginsEnv(t, b)
		before := time.Now().Add(-time.Second).Unix()
		require.NoError(t, e.db.Delete(&Memo{}, 1).Error)
		var n Memo
		require.NoError(t, e.uncached().Unscoped().First(&n, 1).Error)
		require.GreaterOrEqual(t, int64(n.DeletedAt), before)
	})
}

// TestSoftDeleteKeepsRowPrecision checks that a soft delete, of either
// kind, evicts the results its rows change and no other.
func TestSoftDeleteKeepsRowPrecision(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newPluginsEnv(t, b)
		tasks := func(owner uint) []Task {
			var ts []Task
			require.NoError(t, e.cached().Where("owner_id = ?", owner).Order("id").Find(&ts).Error)
			return ts
		}
		photos := func(user uint) []Photo {
			var ps []Photo
			require.NoError(t, e.cached().Where("user_id = ?", user).Order("id").Find(&ps).Error)
			return ps
		}
		e.seed()
		for _, read := range []func(){func() { tasks(1) }, func() { tasks(2) }, func() { photos(1) }, func() { photos(2) }} {
			e.mustMiss(read)
			e.mustHit(read)
		}
		require.NoError(t, e.db.Delete(&Task{ID: 1}).Error)
		require.NoError(t, e.db.Delete(&Photo{}, 1).Error) // ada's: gorm.DeletedAt
		e.mustHit(func() { require.Len(t, tasks(2), 1) })
		e.mustHit(func() { require.Len(t, photos(2), 1) })
		e.mustMiss(func() { require.Empty(t, tasks(1)) })
		e.mustMiss(func() { require.Len(t, photos(1), 2) })
	})
}
