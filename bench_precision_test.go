package gormcache_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

// openPhotos returns a new database of d's engine holding users users,
// each with perUser photos, without the plugin (plain), and withPlugin,
// which opens the same database again with a plugin configured by cfg.
func openPhotos(b *testing.B, d testdb.Dialector, users, perUser int) (plain *gorm.DB, withPlugin func(cfg gormcache.Config) (*gorm.DB, *gormcache.Plugin)) {
	dial := d.Open(b)
	open := func() *gorm.DB {
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		return db
	}
	plain = open()
	seedPhotos(b, plain, users, perUser)
	return plain, func(cfg gormcache.Config) (*gorm.DB, *gormcache.Plugin) {
		db := open()
		p := gormcache.New(cfg)
		require.NoError(b, db.Use(p))
		b.Cleanup(func() { _ = p.Close() })
		return db, p
	}
}

// seedPhotos creates the tables of the models in db, and users users, each
// with perUser photos.
func seedPhotos(b *testing.B, db *gorm.DB, users, perUser int) {
	require.NoError(b, db.AutoMigrate(models...))
	batch := make([]User, 0, 100)
	for u := 1; u <= users; u++ {
		user := User{Name: fmt.Sprint("user", u)}
		for i := range perUser {
			user.Photos = append(user.Photos, Photo{Title: fmt.Sprint("p", i), Status: i % 3})
		}
		batch = append(batch, user)
		if len(batch) == cap(batch) || u == users {
			require.NoError(b, db.Session(&gorm.Session{FullSaveAssociations: false}).Create(&batch).Error)
			batch = batch[:0]
		}
	}
}

// BenchmarkMixedWorkload runs 90% reads (a user's photos by status, a photo
// by primary key, a user with preloaded photos) and 10% writes (a photo's
// status or title changes, a photo is inserted or deleted) over 10,000
// photos of 1,000 users, keys drawn from a Zipf distribution, on every
// engine, and reports the hit ratio with row-level and with table-level
// precision: per statement (a preload is a statement of its own) and per
// read (a read is a hit when every statement it ran was).
func BenchmarkMixedWorkload(b *testing.B) {
	for _, d := range []testdb.Dialector{{Name: "sqlite"}, {Name: "postgres"}, {Name: "mysql"}} {
		b.Run(d.Name, func(b *testing.B) {
			for _, prec := range []struct {
				name string
				p    gormcache.Precision
			}{{"row", gormcache.RowLevel}, {"table", gormcache.TableLevel}} {
				b.Run(prec.name, func(b *testing.B) {
					const users, perUser = 1000, 10
					_, withPlugin := openPhotos(b, d, users, perUser)
					db, p := withPlugin(gormcache.Config{CacheAll: true, Precision: prec.p})
					w := newMixedWorkload(users, perUser)
					for range 20000 { // warm up: the steady state is what matters
						w.op(b, db, p)
					}
					before := p.Stats()
					w.reads, w.readHits = 0, 0
					b.ResetTimer()
					for b.Loop() {
						w.op(b, db, p)
					}
					s := p.Stats()
					hits, misses := s.Hits-before.Hits, s.Misses-before.Misses
					b.ReportMetric(float64(hits)/float64(max(1, hits+misses)), "hit-ratio")
					b.ReportMetric(float64(w.readHits)/float64(max(1, w.reads)), "read-hit-ratio")
				})
			}
		})
	}
}

// mixedWorkload is the workload of BenchmarkMixedWorkload, over users
// users with perUser photos each.
type mixedWorkload struct {
	r                   *rand.Rand
	userZipf, photoZipf *rand.Zipf
	reads, readHits     int // the reads of op, and those that hit
}

func newMixedWorkload(users, perUser int) *mixedWorkload {
	r := rand.New(rand.NewPCG(1, 2))
	return &mixedWorkload{
		r:         r,
		userZipf:  rand.NewZipf(r, 1.1, 1, uint64(users-1)),
		photoZipf: rand.NewZipf(r, 1.1, 1, uint64(users*perUser-1)),
	}
}

// op runs one operation of the workload on db, whose plugin is p.
func (w *mixedWorkload) op(b *testing.B, db *gorm.DB, p *gormcache.Plugin) {
	r := w.r
	u, ph := 1+w.userZipf.Uint64(), 1+w.photoZipf.Uint64()
	op := r.IntN(100)
	if op < 90 {
		// A read is a hit when all its statements (a preload included)
		// were served by the cache.
		misses := p.Stats().Misses
		defer func() {
			w.reads++
			if p.Stats().Misses == misses {
				w.readHits++
			}
		}()
	}
	switch {
	case op < 30:
		var ps []Photo
		require.NoError(b, db.Where("user_id = ? AND status = ?", u, r.IntN(3)).Find(&ps).Error)
	case op < 60:
		var p Photo
		_ = db.First(&p, ph).Error
	case op < 90:
		var usr User
		_ = db.Preload("Photos").First(&usr, u).Error
	case op < 93:
		require.NoError(b, db.Model(&Photo{ID: uint(ph)}).Update("status", r.IntN(3)).Error)
	case op < 96:
		require.NoError(b, db.Model(&Photo{ID: uint(ph)}).Update("title", fmt.Sprint("t", r.IntN(100))).Error)
	case op < 98:
		require.NoError(b, db.Create(&Photo{UserID: uint(u), Title: "new", Status: r.IntN(3)}).Error)
	default:
		require.NoError(b, db.Delete(&Photo{}, ph).Error)
	}
}

// BenchmarkUpdateByPK measures the write overhead of row-level precision on
// PostgreSQL and MySQL: an update by primary key with the plugin (its old
// row read under lock, its new row read back or, on MySQL, taken from the
// SET clause, the schemes matched after commit) and without it, apart and
// paired (both in every iteration, in a random order, on one database:
// their ratio does not drift with the machine's load); and the floor of
// that overhead, the plain update paired with the same update after a bare
// read of its row under lock.
func BenchmarkUpdateByPK(b *testing.B) {
	for _, d := range []testdb.Dialector{{Name: "postgres"}, {Name: "mysql"}} {
		b.Run(d.Name, func(b *testing.B) {
			plain, withPlugin := openPhotos(b, d, 100, 10)
			cached, _ := withPlugin(gormcache.Config{})
			// Cached reads register the schemes a write must match.
			var ps []Photo
			require.NoError(b, cached.Clauses(gormcache.Cache()).Where("user_id = ? AND status = ?", 1, 1).Find(&ps).Error)
			require.NoError(b, cached.Clauses(gormcache.Cache()).First(&Photo{}, 1).Error)
			update := func(db *gorm.DB, i int) {
				require.NoError(b, db.Model(&Photo{ID: uint(1 + i%1000)}).Update("status", i%3).Error)
			}
			for _, way := range []struct {
				name string
				db   *gorm.DB
			}{{"plain", plain}, {"rowlevel", cached}} {
				b.Run(way.name, func(b *testing.B) {
					i := 0
					b.ReportAllocs()
					for b.Loop() {
						i++
						update(way.db, i)
					}
				})
			}
			// paired runs the plain update and way's in every iteration,
			// in a random order, each on rows of its own, and reports the
			// ratio of their times.
			paired := func(b *testing.B, way *gorm.DB, unit string) {
				ways := []*gorm.DB{plain, way}
				spent := make([]time.Duration, len(ways))
				i := 0
				for b.Loop() {
					i++
					for _, w := range rand.Perm(len(ways)) {
						start := time.Now()
						update(ways[w], i+w*500)
						spent[w] += time.Since(start)
					}
				}
				b.ReportMetric(float64(spent[1])/float64(spent[0]), unit)
			}
			b.Run("paired", func(b *testing.B) { paired(b, cached, "rowlevel/plain") })
			// floor pairs the plain update with the same update after
			// the least the plugin must do: a callback that reads the
			// row under lock in the update's transaction, as the plugin
			// sends it, and drains it. The plugin's own work is what
			// rowlevel/plain costs beyond floor/plain.
			b.Run("floor", func(b *testing.B) {
				floored, err := gorm.Open(plain.Dialector, &gorm.Config{Logger: logger.Discard})
				require.NoError(b, err)
				require.NoError(b, floored.Callback().Update().Before("gorm:update").Register("bench:read", func(db *gorm.DB) {
					id := db.Statement.Model.(*Photo).ID
					query := "SELECT * FROM photos WHERE id = $1 AND deleted_at IS NULL LIMIT 1001 FOR UPDATE"
					var args []any
					if d.Name == "mysql" {
						query = fmt.Sprintf("SELECT * FROM `photos` WHERE `photos`.`deleted_at` IS NULL AND `id` = %d LIMIT 1001 FOR UPDATE", id)
					} else {
						args = []any{id}
					}
					rows, err := db.Statement.ConnPool.QueryContext(db.Statement.Context, query, args...)
					if err == nil {
						for rows.Next() {
						}
						err = rows.Close()
					}
					db.AddError(err)
				}))
				paired(b, floored, "floor/plain")
			})
		})
	}
}

// BenchmarkInvalidationCost measures one row-level write while 1,000 or
// 100,000 entries are cached for its table: invalidation renews the stamps
// of the write's rows, whatever the number of entries.
func BenchmarkInvalidationCost(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, withPlugin := openPhotos(b, testdb.Dialector{Name: "sqlite"}, 10, 10)
			db, p := withPlugin(gormcache.Config{})
			for i := range n {
				var ps []Photo
				require.NoError(b, db.Clauses(gormcache.Cache()).Where("user_id = ?", 1000+i).Find(&ps).Error)
			}
			if fills := p.Stats().Fills; fills < uint64(n) {
				b.Fatalf("cached %d entries, want %d", fills, n)
			}
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				i++
				require.NoError(b, db.Model(&Photo{ID: uint(1 + i%100)}).Update("status", i%3).Error)
			}
		})
	}
}

// BenchmarkSQLiteConcurrentWriters runs updates by primary key from 8
// goroutines on a SQLite file whose transactions begin deferred (the
// driver's default), without the plugin and with it (row-level, schemes
// registered; and table-level), and reports the updates that failed: with
// the plugin, reading the old rows must not turn lock waits into "database
// is locked".
func BenchmarkSQLiteConcurrentWriters(b *testing.B) {
	run := func(b *testing.B, cfg *gormcache.Config) {
		dsn := filepath.Join(b.TempDir(), "w.db") + "?_busy_timeout=10000&_journal_mode=WAL"
		db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		b.Cleanup(func() {
			if sqlDB, err := db.DB(); err == nil {
				_ = sqlDB.Close()
			}
		})
		require.NoError(b, db.AutoMigrate(&Counter{}))
		const rows = 64
		for i := 1; i <= rows; i++ {
			require.NoError(b, db.Create(&Counter{ID: uint(i)}).Error)
		}
		if cfg != nil {
			require.NoError(b, db.Use(gormcache.New(*cfg)))
			require.NoError(b, db.Clauses(gormcache.Cache()).First(&Counter{}, 1).Error)
		}
		var failed, next atomic.Int64
		b.SetParallelism(4) // 8 goroutines on 2 processors
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := 1 + next.Add(1)%rows
				if err := db.Model(&Counter{ID: uint(id)}).Update("version", gorm.Expr("version + 1")).Error; err != nil {
					failed.Add(1)
				}
			}
		})
		b.ReportMetric(float64(failed.Load()), "errors")
	}
	b.Run("plain", func(b *testing.B) { run(b, nil) })
	b.Run("rowlevel", func(b *testing.B) { run(b, &gormcache.Config{}) })
	b.Run("tablelevel", func(b *testing.B) { run(b, &gormcache.Config{Precision: gormcache.TableLevel}) })
}
