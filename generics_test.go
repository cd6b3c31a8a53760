package gormcache_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
)

// The tests of this file use GORM's generics API (gorm.G, GORM 1.30 and
// later), which builds its statements in ways the chained API does not: a
// model that is a struct value, not a pointer; updates whose SET is a
// clause.Set and whose values are an empty map; creates from a map of
// assignments. Every write through it must evict what it changes, and
// every cached read must answer what the database does.

// photoTitles reads the titles of user's photos with status, through the
// generics API, and checks them against the database read without the
// cache.
func photoTitles(t *testing.T, e *env, user uint, status int) []string {
	t.Helper()
	ctx := context.Background()
	read := func(opt clause.Expression) []string {
		ps, err := gorm.G[Photo](e.db, opt).Where("user_id = ? AND status = ?", user, status).Order("id").Find(ctx)
		require.NoError(t, err)
		titles := make([]string, len(ps))
		for i, p := range ps {
			titles[i] = p.Title
		}
		return titles
	}
	got := read(gormcache.Cache())
	require.Equal(t, read(gormcache.NoCache()), got, "the cached read differs from the database")
	return got
}

func TestGenericsReadsAreCached(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		ctx := context.Background()

		first := func() User {
			u, err := gorm.G[User](e.db, gormcache.Cache()).Where("name = ?", "ada").First(ctx)
			require.NoError(t, err)
			return u
		}
		var u User
		e.mustMiss(func() { u = first() })
		e.mustHit(func() { assert.Equal(t, u, first()) })

		count := func() int64 {
			n, err := gorm.G[Photo](e.db, gormcache.Cache()).Where("user_id = ?", u.ID).Count(ctx, "*")
			require.NoError(t, err)
			return n
		}
		e.mustMiss(func() { assert.EqualValues(t, 3, count()) })
		e.mustHit(func() { assert.EqualValues(t, 3, count()) })

		raw := func() []Photo {
			ps, err := gorm.G[Photo](e.db, gormcache.Cache()).Raw("SELECT * FROM photos WHERE user_id = ? ORDER BY id", u.ID).Find(ctx)
			require.NoError(t, err)
			return ps
		}
		var ps []Photo
		e.mustMiss(func() { ps = raw() })
		require.Len(t, ps, 3)
		e.mustHit(func() { assert.Equal(t, ps, raw()) })

		// A generic Create invalidates the count and the raw read.
		require.NoError(t, gorm.G[Photo](e.db).Create(ctx, &Photo{UserID: u.ID, Title: "a4", Status: 1}))
		e.mustMiss(func() { assert.EqualValues(t, 4, count()) })
		e.mustMiss(func() { assert.Len(t, raw(), 4) })
	})
}

// seededWithAda returns a seeded env and ada, the first user.
func seededWithAda(t *testing.T, b backend) (*env, User) {
	e := newEnv(t, b, gormcache.Config{})
	e.seed()
	var ada User
	require.NoError(t, e.uncached().Where("name = ?", "ada").First(&ada).Error)
	return e, ada
}

func TestGenericsWritesInvalidate(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e, ada := seededWithAda(t, b)
		ctx := context.Background()
		a1 := func() uint {
			p, err := gorm.G[Photo](e.uncached()).Where("title = ?", "a1").First(ctx)
			require.NoError(t, err)
			return p.ID
		}()

		// Before each write, both reads are cached: what they answer after
		// it shows that it evicted them.
		cacheBoth := func(t *testing.T) {
			t.Helper()
			photoTitles(t, e, ada.ID, 1)
			photoTitles(t, e, ada.ID, 2)
			e.mustHit(func() {
				photoTitles(t, e, ada.ID, 1)
				photoTitles(t, e, ada.ID, 2)
			})
		}
		require.Equal(t, []string{"a2", "a3"}, photoTitles(t, e, ada.ID, 2))
		require.Equal(t, []string{"a1"}, photoTitles(t, e, ada.ID, 1))

		t.Run("Update", func(t *testing.T) {
			cacheBoth(t)
			n, err := gorm.G[Photo](e.db).Where("id = ?", a1).Update(ctx, "status", 2)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Equal(t, []string{"a1", "a2", "a3"}, photoTitles(t, e, ada.ID, 2))
			assert.Empty(t, photoTitles(t, e, ada.ID, 1))
		})
		t.Run("SetUpdate", func(t *testing.T) {
			cacheBoth(t)
			// The SET is a clause.Set; the values GORM is handed, an
			// empty map.
			n, err := gorm.G[Photo](e.db).Where("id = ?", a1).
				Set(clause.Assignment{Column: clause.Column{Name: "status"}, Value: 1}).Update(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Equal(t, []string{"a2", "a3"}, photoTitles(t, e, ada.ID, 2))
			assert.Equal(t, []string{"a1"}, photoTitles(t, e, ada.ID, 1))
		})
		t.Run("Updates", func(t *testing.T) {
			cacheBoth(t)
			// A struct value, not a pointer, and no Model.
			n, err := gorm.G[Photo](e.db).Where("id = ?", a1).Updates(ctx, Photo{Title: "a1b"})
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Equal(t, []string{"a1b"}, photoTitles(t, e, ada.ID, 1))
		})
		t.Run("SetCreate", func(t *testing.T) {
			cacheBoth(t)
			// Created from a map of the assignments, on Model(T{}).
			require.NoError(t, gorm.G[Photo](e.db).Set(
				clause.Assignment{Column: clause.Column{Name: "user_id"}, Value: ada.ID},
				clause.Assignment{Column: clause.Column{Name: "title"}, Value: "a5"},
				clause.Assignment{Column: clause.Column{Name: "status"}, Value: 1},
			).Create(ctx))
			assert.Equal(t, []string{"a1b", "a5"}, photoTitles(t, e, ada.ID, 1))
		})
		t.Run("CreateInBatches", func(t *testing.T) {
			cacheBoth(t)
			batch := []Photo{{UserID: ada.ID, Title: "a6", Status: 2}, {UserID: ada.ID, Title: "a7", Status: 2}}
			require.NoError(t, gorm.G[Photo](e.db).CreateInBatches(ctx, &batch, 1))
			assert.Equal(t, []string{"a2", "a3", "a6", "a7"}, photoTitles(t, e, ada.ID, 2))
		})
		t.Run("Upsert", func(t *testing.T) {
			cacheBoth(t)
			p := Photo{ID: a1, UserID: ada.ID, Title: "a1c", Status: 2}
			require.NoError(t, gorm.G[Photo](e.db, clause.OnConflict{UpdateAll: true}).Create(ctx, &p))
			assert.Equal(t, []string{"a1c", "a2", "a3", "a6", "a7"}, photoTitles(t, e, ada.ID, 2))
			assert.Equal(t, []string{"a5"}, photoTitles(t, e, ada.ID, 1))
		})
		t.Run("Delete", func(t *testing.T) {
			cacheBoth(t)
			n, err := gorm.G[Photo](e.db).Where("title = ?", "a6").Delete(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Equal(t, []string{"a1c", "a2", "a3", "a7"}, photoTitles(t, e, ada.ID, 2))
		})
		t.Run("Exec", func(t *testing.T) {
			cacheBoth(t)
			require.NoError(t, gorm.G[Photo](e.db).Exec(ctx, "UPDATE photos SET status = ? WHERE title = ?", 1, "a7"))
			assert.Equal(t, []string{"a1c", "a2", "a3"}, photoTitles(t, e, ada.ID, 2))
			assert.Equal(t, []string{"a5", "a7"}, photoTitles(t, e, ada.ID, 1))
		})
	})
}

func TestGenericsJoinsAndPreloads(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e, ada := seededWithAda(t, b)
		ctx := context.Background()

		// Photos joined to their user, filtered on the user's name.
		joined := func(opt clause.Expression) []string {
			ps, err := gorm.G[Photo](e.db, opt).Joins(clause.InnerJoin.Association("User"), func(jb gorm.JoinBuilder, _, _ clause.Table) error {
				jb.Where("name = ?", "ada")
				return nil
			}).Where("status = ?", 2).Order("photos.id").Find(ctx)
			require.NoError(t, err)
			titles := make([]string, len(ps))
			for i, p := range ps {
				titles[i] = p.Title + "/" + p.User.Name
			}
			return titles
		}
		// The latest photo of each user, preloaded with LimitPerRecord.
		preloaded := func(opt clause.Expression) []string {
			us, err := gorm.G[User](e.db, opt).Preload("Photos", func(pb gorm.PreloadBuilder) error {
				pb.Order("id DESC").LimitPerRecord(1)
				return nil
			}).Order("id").Find(ctx)
			require.NoError(t, err)
			var titles []string
			for _, u := range us {
				for _, p := range u.Photos {
					titles = append(titles, u.Name+"/"+p.Title)
				}
			}
			return titles
		}
		check := func(want, wantLatest []string) {
			t.Helper()
			assert.Equal(t, want, joined(gormcache.NoCache()))
			assert.Equal(t, want, joined(gormcache.Cache()))
			assert.Equal(t, wantLatest, preloaded(gormcache.NoCache()))
			assert.Equal(t, wantLatest, preloaded(gormcache.Cache()))
		}
		check([]string{"a2/ada", "a3/ada"}, []string{"ada/a3", "grace/g1"})
		e.mustHit(func() { joined(gormcache.Cache()) })
		e.mustHit(func() { preloaded(gormcache.Cache()) })

		// Renaming the user changes what the join matches.
		_, err := gorm.G[User](e.db).Where("id = ?", ada.ID).Update(ctx, "name", "lovelace")
		require.NoError(t, err)
		check([]string{}, []string{"lovelace/a3", "grace/g1"})

		_, err = gorm.G[User](e.db).Where("id = ?", ada.ID).Update(ctx, "name", "ada")
		require.NoError(t, err)
		require.NoError(t, gorm.G[Photo](e.db).Create(ctx, &Photo{UserID: ada.ID, Title: "a4", Status: 2}))
		check([]string{"a2/ada", "a3/ada", "a4/ada"}, []string{"ada/a4", "grace/g1"})
	})
}

// TestGenericsMapColumnsOnHits reads the same statement with and without
// MapColumns: a result kept decoded by the reads without must not answer
// the one that maps a column to another field.
func TestGenericsMapColumnsOnHits(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()
		ctx := context.Background()
		read := func(opt clause.Expression, mapped bool) []Photo {
			q := gorm.G[Photo](e.db, opt).Where("id = ?", 2) // user 1, status 2
			if mapped {
				q = q.MapColumns(map[string]string{"status": "user_id"})
			}
			ps, err := q.Find(ctx)
			require.NoError(t, err)
			return ps
		}
		for range 2 { // a miss, then a hit that keeps the decoded result
			require.Equal(t, read(gormcache.NoCache(), false), read(gormcache.Cache(), false))
		}
		for range 2 {
			require.Equal(t, read(gormcache.NoCache(), true), read(gormcache.Cache(), true), "a mapped read")
		}
	})
}
