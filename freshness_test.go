package gormcache_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// reads are the cached queries the freshness tests watch. Each returns a
// value to compare and reads through db (cached or not).
var reads = freshness.Reads{
	"photos of ada": func(t testing.TB, db *gorm.DB) any {
		var ps []Photo
		require.NoError(t, db.Where("user_id = ?", 1).Order("id").Find(&ps).Error)
		return ps
	},
	"count of status 2": func(t testing.TB, db *gorm.DB) any {
		var n int64
		require.NoError(t, db.Model(&Photo{}).Where("status = ?", 2).Count(&n).Error)
		return n
	},
	"ada with photos and tags": func(t testing.TB, db *gorm.DB) any {
		var u User
		require.NoError(t, db.Preload("Photos", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).
			Preload("Tags", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).First(&u, 1).Error)
		return u
	},
	"photos joined with users": func(t testing.TB, db *gorm.DB) any {
		var ps []Photo
		require.NoError(t, db.Joins("User").Where("photos.user_id = ?", 2).Order("photos.id").Find(&ps).Error)
		return ps
	},
	"titles": func(t testing.TB, db *gorm.DB) any {
		var titles []string
		require.NoError(t, db.Model(&Photo{}).Order("title").Pluck("title", &titles).Error)
		return titles
	},
	"titles joined by hand": func(t testing.TB, db *gorm.DB) any {
		var rows []struct{ Title, Name string }
		require.NoError(t, db.Table("photos").Select("photos.title, users.name").
			Joins("JOIN users ON users.id = photos.user_id AND photos.deleted_at IS NULL").
			Where("users.name = ?", "grace").Order("photos.title").Scan(&rows).Error)
		return rows
	},
	"photos of users named ada": func(t testing.TB, db *gorm.DB) any {
		var ps []Photo
		sub := db.Session(&gorm.Session{NewDB: true}).Model(&User{}).Select("id").Where("name = ?", "ada")
		require.NoError(t, db.Where("user_id IN (?)", sub).Order("id").Find(&ps).Error)
		return ps
	},
	"photos in batches": func(t testing.TB, db *gorm.DB) any {
		var titles []string
		var batch []Photo
		require.NoError(t, db.Order("id").FindInBatches(&batch, 2, func(tx *gorm.DB, _ int) error {
			for _, p := range batch {
				titles = append(titles, p.Title)
			}
			return nil
		}).Error)
		return titles
	},
	"users with many photos": func(t testing.TB, db *gorm.DB) any {
		var rows []struct {
			UserID uint
			N      int
		}
		require.NoError(t, db.Model(&Photo{}).Select("user_id, count(*) AS n").Group("user_id").
			Having("count(*) > ?", 1).Order("user_id").Scan(&rows).Error)
		return rows
	},
	"second page of photos": func(t testing.TB, db *gorm.DB) any {
		var ps []Photo
		require.NoError(t, db.Order("id").Limit(2).Offset(2).Find(&ps).Error)
		return ps
	},
	"tag names": func(t testing.TB, db *gorm.DB) any {
		var rows []map[string]any
		require.NoError(t, db.Raw("SELECT t.name FROM tags t JOIN user_tags ut ON ut.tag_id = t.id ORDER BY t.name, ut.user_id").Scan(&rows).Error)
		return rows
	},
}

// writes are one of each kind of write GORM performs.
var writes = freshness.Writes{
	"create": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Create(&Photo{UserID: 1, Title: "a4", Status: 2}).Error)
	},
	"create in batches": func(t testing.TB, db *gorm.DB) {
		ps := []Photo{{UserID: 2, Title: "g2", Status: 2}, {UserID: 1, Title: "a5", Status: 1}}
		require.NoError(t, db.CreateInBatches(&ps, 1).Error)
	},
	"update": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Photo{ID: 1}).Update("status", 2).Error)
	},
	"updates map": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Photo{ID: 4}).Updates(map[string]any{"title": "zz", "status": 2}).Error)
	},
	"update column": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Photo{ID: 2}).UpdateColumn("title", "0first").Error)
	},
	"save": func(t testing.TB, db *gorm.DB) {
		var p Photo
		require.NoError(t, db.Clauses(gormcache.NoCache()).First(&p, 4).Error)
		p.Title, p.Status, p.UserID = "moved", 2, 1
		require.NoError(t, db.Save(&p).Error)
	},
	"bulk update": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Photo{}).Where("status = ?", 1).Update("status", 2).Error)
	},
	"soft delete": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Delete(&Photo{}, 2).Error)
	},
	"hard delete": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Unscoped().Delete(&Photo{}, 3).Error)
	},
	"bulk delete": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Where("status = ?", 2).Delete(&Photo{}).Error)
	},
	"upsert": func(t testing.TB, db *gorm.DB) {
		p := Photo{ID: 4, UserID: 1, Title: "upserted", Status: 2}
		require.NoError(t, db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&p).Error)
	},
	"association append": func(t testing.TB, db *gorm.DB) {
		u := User{ID: 1}
		require.NoError(t, db.Model(&u).Association("Tags").Append(&Tag{ID: 3}))
		require.NoError(t, db.Model(&u).Association("Photos").Append(&Photo{ID: 4}))
	},
	"association replace": func(t testing.TB, db *gorm.DB) {
		u := User{ID: 1}
		require.NoError(t, db.Model(&u).Association("Tags").Replace(&Tag{ID: 3}))
	},
	"association delete": func(t testing.TB, db *gorm.DB) {
		u := User{ID: 1}
		require.NoError(t, db.Model(&u).Association("Tags").Delete(&Tag{ID: 1}))
		require.NoError(t, db.Model(&u).Association("Photos").Delete(&Photo{ID: 1}))
	},
	"association clear": func(t testing.TB, db *gorm.DB) {
		u := User{ID: 1}
		require.NoError(t, db.Model(&u).Association("Tags").Clear())
		require.NoError(t, db.Model(&u).Association("Photos").Clear())
	},
	"has-many re-parenting": func(t testing.TB, db *gorm.DB) {
		u := User{ID: 2}
		require.NoError(t, db.Model(&u).Association("Photos").Replace(&Photo{ID: 1}, &Photo{ID: 2}))
	},
	"raw exec": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Exec("UPDATE photos SET title = ?, status = ? WHERE id = ?", "raw", 2, 1).Error)
		require.NoError(t, db.Exec("DELETE FROM user_tags WHERE tag_id = ?", 2).Error)
		require.NoError(t, db.Exec("UPDATE users SET name = ? WHERE id = ?", "grace2", 2).Error)
	},
	"raw write through Scan": func(t testing.TB, db *gorm.DB) {
		var ids []int
		update := "UPDATE photos SET status = 2, title = 'zz' WHERE id = 1 RETURNING id"
		if db.Dialector.Name() == "mysql" { // MariaDB returns rows from INSERT and DELETE only
			update = "INSERT INTO photos (user_id, title, status) VALUES (1, 'zz', 2) RETURNING id"
		}
		require.NoError(t, db.Raw(update).Scan(&ids).Error)
		require.NoError(t, db.Raw("DELETE FROM user_tags WHERE tag_id = 1 RETURNING tag_id").Scan(&ids).Error)
	},
	"transaction": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&Photo{UserID: 1, Title: "a0", Status: 2}).Error; err != nil {
				return err
			}
			if err := tx.Model(&User{ID: 2}).Association("Tags").Append(&Tag{ID: 1}); err != nil {
				return err
			}
			return tx.Model(&User{}).Where("id = ?", 2).Update("name", "hopper").Error
		}))
	},
	"nested transaction": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			_ = tx.Transaction(func(tx2 *gorm.DB) error {
				require.NoError(t, tx2.Create(&Photo{UserID: 1, Title: "rolled back", Status: 2}).Error)
				return errors.New("roll back the savepoint")
			})
			if err := tx.Model(&Photo{ID: 1}).Update("status", 2).Error; err != nil {
				return err
			}
			return tx.Model(&User{ID: 1}).Association("Tags").Clear()
		}))
	},
	"savepoint rolled back to": func(t testing.TB, db *gorm.DB) {
		tx := db.Begin()
		require.NoError(t, tx.Error)
		require.NoError(t, tx.Model(&Photo{ID: 1}).Update("status", 2).Error)
		require.NoError(t, tx.SavePoint("sp").Error)
		require.NoError(t, tx.Model(&Photo{ID: 4}).Update("title", "rolled back").Error)
		require.NoError(t, tx.RollbackTo("sp").Error)
		require.NoError(t, tx.Create(&Photo{UserID: 2, Title: "g0", Status: 2}).Error)
		require.NoError(t, tx.Commit().Error)
	},
	"dedicated connection": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Connection(func(conn *gorm.DB) error {
			if err := conn.Model(&Photo{ID: 1}).Update("status", 2).Error; err != nil {
				return err
			}
			return conn.Exec("UPDATE users SET name = ? WHERE id = ?", "grace2", 2).Error
		}))
	},
	"without the default transaction": func(t testing.TB, db *gorm.DB) {
		s := db.Session(&gorm.Session{SkipDefaultTransaction: true})
		require.NoError(t, s.Create(&Photo{UserID: 1, Title: "a4", Status: 2}).Error)
		require.NoError(t, s.Model(&Photo{ID: 4}).Updates(map[string]any{"user_id": 1, "status": 2}).Error)
		require.NoError(t, s.Delete(&Photo{}, 2).Error)
	},
	"first or create": func(t testing.TB, db *gorm.DB) {
		// Assign updates the row found; Attrs only initialises a new one.
		var found, created Photo
		require.NoError(t, db.Where(Photo{Title: "g1"}).Assign(Photo{Status: 2}).FirstOrCreate(&found).Error)
		require.NoError(t, db.Where(Photo{Title: "a4"}).Attrs(Photo{UserID: 1, Status: 2}).FirstOrCreate(&created).Error)
		require.NotZero(t, created.ID)
	},
	"delete returning": func(t testing.TB, db *gorm.DB) {
		var deleted []Photo
		if db.Dialector.Name() == "mysql" { // MariaDB returns rows from INSERT and DELETE only
			db = db.Unscoped()
		}
		require.NoError(t, db.Clauses(clause.Returning{}).Where("status = ?", 2).Delete(&deleted).Error)
		require.Len(t, deleted, 2)
	},
	"generics set update": func(t testing.TB, db *gorm.DB) {
		_, err := gorm.G[Photo](db).Where("status = ?", 1).
			Set(clause.Assignment{Column: clause.Column{Name: "status"}, Value: 2}).Update(t.Context())
		require.NoError(t, err)
	},
}

// TestFreshness checks every read against every write: after the write the
// cached read returns what the database returns.
func TestFreshness(t *testing.T) {
	checkFreshness(t, func(t *testing.T, b backend) *env {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		return e
	}, reads, writes)
}

// TestFreshnessUnderGORMOptions runs TestFreshness's matrix with the GORM
// options that change how statements reach the database: prepared
// statements (the pool becomes a *gorm.PreparedStmtDB), writes without
// GORM's default transaction, and every column named in SELECT.
func TestFreshnessUnderGORMOptions(t *testing.T) {
	for name, session := range map[string]*gorm.Session{
		"PrepareStmt":            {PrepareStmt: true},
		"SkipDefaultTransaction": {SkipDefaultTransaction: true},
		"QueryFields":            {QueryFields: true},
	} {
		t.Run(name, func(t *testing.T) {
			checkFreshness(t, func(t *testing.T, b backend) *env {
				e := newEnv(t, b, gormcache.Config{})
				e.seed()
				e.db = e.db.Session(session)
				return e
			}, reads, writes)
		})
	}
}

// checkFreshness runs freshness.Check on every engine and store, with the
// databases newSeeded opens and seeds.
func checkFreshness(t *testing.T, newSeeded func(t *testing.T, b backend) *env, reads freshness.Reads, writes freshness.Writes) {
	each(t, func(t *testing.T, b backend) {
		freshness.Check(t, func(t *testing.T) (*gorm.DB, *gormcache.Plugin) {
			e := newSeeded(t, b)
			return e.db, e.p
		}, reads, writes)
	})
}

func TestRollbackLeavesCacheValid(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := reads["photos of ada"]
		var first any
		e.mustMiss(func() { first = read(t, e.cached()) })

		err := e.db.Transaction(func(tx *gorm.DB) error {
			require.NoError(t, tx.Create(&Photo{UserID: 1, Title: "never", Status: 2}).Error)
			require.NoError(t, tx.Model(&Photo{ID: 1}).Update("title", "never").Error)
			return errors.New("roll back")
		})
		require.Error(t, err)

		require.Equal(t, first, read(t, e.uncached()), "the rollback left a change in the database")
		e.mustHit(func() { require.Equal(t, first, read(t, e.cached())) })
	})
}

func TestReadsInTransactionBypass(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := reads["photos of ada"]
		read(t, e.cached()) // fill

		tx := e.db.Begin()
		require.NoError(t, tx.Error)
		defer tx.Rollback()
		require.NoError(t, tx.Create(&Photo{UserID: 1, Title: "in tx", Status: 1}).Error)

		before := e.stats()
		got := read(t, tx.Clauses(gormcache.Cache())).([]Photo)
		after := e.stats()
		if len(got) != 4 {
			t.Fatalf("read in the transaction: got %d photos, want 4 (its own insert included)", len(got))
		}
		if after.Hits != before.Hits || after.Misses != before.Misses || after.Fills != before.Fills {
			t.Fatalf("read in a transaction touched the cache: %+v -> %+v", before, after)
		}
		if after.Bypassed != before.Bypassed+1 {
			t.Fatalf("Bypassed: got %d, want %d", after.Bypassed, before.Bypassed+1)
		}
		// Outside, before the commit, the cached result is still right.
		e.mustHit(func() {
			if n := len(read(t, e.cached()).([]Photo)); n != 3 {
				t.Fatalf("outside the transaction: got %d photos, want 3", n)
			}
		})
		require.NoError(t, tx.Commit().Error)
		e.mustMiss(func() {
			if n := len(read(t, e.cached()).([]Photo)); n != 4 {
				t.Fatalf("after commit: got %d photos, want 4", n)
			}
		})
	})
}

// Employee references itself: deleting a manager sets its reports'
// manager_id to NULL in the database, rows the write's images do not show.
type Employee struct {
	ID        uint
	Name      string
	ManagerID *uint
	Manager   *Employee `gorm:"constraint:OnDelete:SET NULL"`
}

func TestSelfReferencingCascade(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&Employee{}))
		boss := Employee{Name: "boss"}
		require.NoError(t, e.db.Create(&boss).Error)
		require.NoError(t, e.db.Create(&Employee{Name: "report", ManagerID: &boss.ID}).Error)
		reports := func(db *gorm.DB) []Employee {
			var es []Employee
			require.NoError(t, db.Where("manager_id = ?", boss.ID).Find(&es).Error)
			return es
		}
		require.Len(t, reports(e.cached()), 1)
		require.NoError(t, e.db.Delete(&Employee{}, boss.ID).Error)
		require.Empty(t, reports(e.uncached()), "the database did not cascade")
		require.Empty(t, reports(e.cached()), "stale: the cascade changed rows the write did not image")
	})
}
