package gormcache_test

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
)

// precisionReads are cached reads with narrow filters.
var precisionReads = map[string]func(t testing.TB, db *gorm.DB) any{
	"ada's photos of status 2": func(t testing.TB, db *gorm.DB) any {
		var ps []Photo
		require.NoError(t, db.Where("user_id = ? AND status = ?", 1, 2).Order("id").Find(&ps).Error)
		return ps
	},
	"ada by primary key": func(t testing.TB, db *gorm.DB) any {
		var u User
		require.NoError(t, db.First(&u, 1).Error)
		return u
	},
	"ada with photos and tags": func(t testing.TB, db *gorm.DB) any {
		var u User
		require.NoError(t, db.Preload("Photos").Preload("Tags").First(&u, 1).Error)
		return u
	},
}

// TestPrecision checks that writes that cannot change a cached result leave
// it cached, and that writes that can change it evict it.
func TestPrecision(t *testing.T) {
	keep := map[string]func(t testing.TB, db *gorm.DB){
		"another user's new photo": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&Photo{UserID: 2, Title: "g2", Status: 2}).Error)
		},
		"another user's photo changes": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 4}).Updates(map[string]any{"title": "x", "status": 1}).Error)
		},
		"another user's photo deleted": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Delete(&Photo{ID: 4}).Error)
		},
		"another user renamed": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&User{ID: 2}).Update("name", "hopper").Error)
		},
	}
	evict := map[string]struct {
		write func(t testing.TB, db *gorm.DB)
		reads []string // the reads it must evict
	}{
		"a matching new photo": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&Photo{UserID: 1, Title: "a4", Status: 2}).Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"a photo entering by status": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 1}).Update("status", 2).Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"a photo leaving by status": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 2}).Update("status", 1).Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"a photo moving to ada": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 4}).Updates(map[string]any{"user_id": 1, "status": 2}).Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"a returned photo retitled": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{}).Where("id = ?", 3).Update("title", "retitled").Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"a returned photo soft deleted": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Delete(&Photo{ID: 2}).Error)
		}, []string{"ada's photos of status 2", "ada with photos and tags"}},
		"ada renamed": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		}, []string{"ada by primary key", "ada with photos and tags"}},
		"ada tagged": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&User{ID: 1}).Association("Tags").Append(&Tag{ID: 3}))
		}, []string{"ada with photos and tags"}},
		"a tag of ada renamed": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Tag{ID: 1}).Update("name", "maths").Error)
		}, []string{"ada with photos and tags"}},
	}

	each(t, func(t *testing.T, b backend) {
		fill := func(t *testing.T, e *env) {
			for _, read := range precisionReads {
				read(t, e.cached())
			}
			for _, read := range precisionReads {
				e.mustHit(func() { read(t, e.cached()) })
			}
		}
		for name, write := range keep {
			t.Run("keeps after "+name, func(t *testing.T) {
				e := newEnv(t, b, gormcache.Config{})
				e.seed()
				fill(t, e)
				write(t, e.db)
				for rname, read := range precisionReads {
					var got any
					e.mustHit(func() { got = read(t, e.cached()) })
					if want := read(t, e.uncached()); !reflect.DeepEqual(got, want) {
						t.Fatalf("%s: kept a stale result", rname)
					}
				}
			})
		}
		for name, w := range evict {
			for _, rname := range w.reads {
				t.Run("evicts "+rname+" after "+name, func(t *testing.T) {
					e := newEnv(t, b, gormcache.Config{})
					e.seed()
					read := precisionReads[rname]
					read(t, e.cached())
					e.mustHit(func() { read(t, e.cached()) })
					w.write(t, e.db)
					before := e.stats().Misses
					got := read(t, e.cached())
					if e.stats().Misses == before {
						t.Errorf("still served from the cache")
					}
					if want := read(t, e.uncached()); !reflect.DeepEqual(got, want) {
						t.Errorf("stale result")
					}
				})
			}
		}
	})
}

// TestCacheFields checks Cache(fields...): terms on other columns are not
// tracked (coarser, never stale), preloads track everything, and an unknown
// field is an error naming it.
func TestCacheFields(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := func() []Photo {
			var ps []Photo
			require.NoError(t, e.db.Clauses(gormcache.Cache("UserID")).Where("user_id = ? AND status = ?", 1, 2).Order("id").Find(&ps).Error)
			return ps
		}
		e.mustMiss(func() { read() })
		e.mustHit(func() { read() })
		// Status is not tracked: ada's photo of status 1 changing evicts the result.
		require.NoError(t, e.db.Model(&Photo{ID: 1}).Update("title", "x").Error)
		e.mustMiss(func() { read() })
		// Grace's photos are still told apart.
		require.NoError(t, e.db.Model(&Photo{ID: 4}).Update("status", 2).Error)
		e.mustHit(func() { read() })

		var us []User
		err := e.db.Clauses(gormcache.Cache("Name")).Preload("Photos").Where("name = ?", "ada").Find(&us).Error
		require.NoError(t, err, "a preload must not inherit the parent's fields")
		require.Len(t, us, 1)
		require.Len(t, us[0].Photos, 3)

		err = e.db.Clauses(gormcache.Cache("Nope")).Find(&[]Photo{}).Error
		require.ErrorContains(t, err, "Nope")
	})
}

func TestInvalidateObject(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		reads := map[string]func(){
			"photo 2":       func() { require.NoError(t, e.cached().First(&Photo{}, 2).Error) },
			"photo 4":       func() { require.NoError(t, e.cached().First(&Photo{}, 4).Error) },
			"ada's photos":  func() { require.NoError(t, e.cached().Where("user_id = ?", 1).Find(&[]Photo{}).Error) },
			"grace's photo": func() { require.NoError(t, e.cached().Where("user_id = ?", 2).Find(&[]Photo{}).Error) },
		}
		for _, r := range reads {
			r()
		}
		var old Photo
		require.NoError(t, e.uncached().First(&old, 2).Error)
		// A change behind GORM's back goes unseen...
		sqlDB, err := e.db.DB()
		require.NoError(t, err)
		_, err = sqlDB.Exec("UPDATE photos SET title = 'changed', user_id = 2 WHERE id = 2")
		require.NoError(t, err)
		e.mustHit(reads["photo 2"])
		e.mustHit(reads["grace's photo"])
		// ...until the application tells, passing the row as it was: the
		// results that held its old values and those its new ones belong
		// to are invalidated, and no other.
		require.NoError(t, gormcache.InvalidateObject(e.db, &old))
		e.mustMiss(reads["photo 2"])
		e.mustMiss(reads["ada's photos"])
		e.mustMiss(reads["grace's photo"])
		e.mustHit(reads["photo 4"])

		// Passing only the primary key leaves the old values unknown:
		// every result of the table goes.
		_, err = sqlDB.Exec("UPDATE photos SET user_id = 1 WHERE id = 2")
		require.NoError(t, err)
		require.NoError(t, gormcache.InvalidateObject(e.db, &[]Photo{{ID: 2}}))
		for name, r := range reads {
			before := e.stats().Misses
			r()
			assert.Greater(t, e.stats().Misses, before, "%s was served from the cache", name)
		}

		for name, bad := range map[string]any{"nil": nil, "nil pointer": (*Photo)(nil), "zero key": &Photo{},
			"zero key in a slice": []Photo{{ID: 1}, {}}, "empty slice": &[]Photo{}, "not a model": new(int),
			"pointer to a nil interface": new(any)} {
			if err := gormcache.InvalidateObject(e.db, bad); err == nil {
				t.Errorf("InvalidateObject, %s: got no error", name)
			}
		}
		for name, bad := range map[string]any{"nil": nil, "not a model": new(int), "pointer to a nil interface": new(any)} {
			if err := gormcache.InvalidateModel(e.db, bad); err == nil {
				t.Errorf("InvalidateModel, %s: got no error", name)
			}
		}
		plain, err := gorm.Open(b.Open(t), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		require.ErrorIs(t, gormcache.InvalidateObject(plain, &Photo{ID: 1}), gormcache.ErrNotRegistered)
	})
}

// TestStringPrecision checks that a cached read of the users named "ada"
// is evicted by a write of a name the database finds equal to it, and
// kept after one it does not: byte for byte in SQLite and PostgreSQL; in
// MariaDB as the column's collation compares (utf8mb4_general_ci ignores
// case, accents and trailing spaces; after DDL through GORM made it
// utf8mb4_bin, only trailing spaces), and never from a comparison of the
// column with a number, which MySQL converts ('grace' = 0).
func TestStringPrecision(t *testing.T) {
	type values struct{ equal, other []string }
	exact := values{equal: []string{"ada"}, other: []string{"ADA", "ada ", "ádá", "bob"}}
	cases := map[string]map[string]values{
		"sqlite":   {"": exact},
		"postgres": {"": exact},
		"mysql": {
			"":                                 {equal: []string{"ada", "ADA ", "Ádá", "ada  "}, other: []string{"bob", "adb", "ada\t", "ad"}},
			"varchar(191) COLLATE utf8mb4_bin": {equal: []string{"ada", "ada "}, other: []string{"ADA", "ádá", "bob"}},
		},
	}
	each(t, func(t *testing.T, b backend) {
		for typ, vals := range cases[b.Name] {
			open := func(t *testing.T) *env {
				e := newEnv(t, b, gormcache.Config{})
				e.seed()
				if typ != "" {
					require.NoError(t, e.db.Exec("ALTER TABLE users MODIFY name "+typ).Error)
				}
				return e
			}
			named := func(db *gorm.DB, name any) []User {
				var us []User
				require.NoError(t, db.Where("name = ?", name).Order("id").Find(&us).Error)
				return us
			}
			for _, equal := range []bool{true, false} {
				names, verb, check, want := vals.other, " keeps after ", (*env).mustHit, 1
				if equal {
					names, verb, check, want = vals.equal, " evicts after ", (*env).mustMiss, 2
				}
				for _, v := range names {
					t.Run(typ+verb+strconv.Quote(v), func(t *testing.T) {
						e := open(t)
						e.mustMiss(func() { named(e.cached(), "ada") })
						require.NoError(t, e.db.Model(&User{ID: 2}).Update("name", v).Error)
						check(e, func() { assert.Len(t, named(e.cached(), "ada"), want) })
					})
				}
			}
		}
		if b.Name == "mysql" {
			t.Run("a number compared with a string column", func(t *testing.T) {
				e := newEnv(t, b, gormcache.Config{})
				e.seed()
				named := func(db *gorm.DB) []User {
					var us []User
					require.NoError(t, db.Where("name = ?", 0).Order("id").Find(&us).Error)
					return us
				}
				require.Len(t, named(e.cached()), 2, "MySQL converts 'ada' and 'grace' to 0")
				require.NoError(t, e.db.Create(&User{Name: "7"}).Error)
				require.NoError(t, e.db.Model(&User{ID: 2}).Update("name", "00").Error)
				assert.Equal(t, named(e.uncached()), named(e.cached()))
			})
		}
	})
}
