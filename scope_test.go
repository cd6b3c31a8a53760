package gormcache_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/store"
)

// countingStore counts the calls the plugin makes to the store it wraps,
// which is what a request scope spares, and keeps the store's abilities
// the plugin uses (SchemeRegistry; Peeker with countingPeeker).
type countingStore struct {
	store.Store
	reg   store.SchemeRegistry
	calls atomic.Int64
	// afterGet, when set, runs once, right after a Get or Peek.
	afterGet atomic.Pointer[func()]
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.calls.Add(1)
	v, ok, err := s.Store.Get(ctx, key)
	s.gotten()
	return v, ok, err
}

func (s *countingStore) gotten() {
	if fn := s.afterGet.Swap(nil); fn != nil {
		(*fn)()
	}
}

func (s *countingStore) Stamps(ctx context.Context, deps []store.Dep) ([]store.Stamp, error) {
	s.calls.Add(1)
	return s.Store.Stamps(ctx, deps)
}

func (s *countingStore) Set(ctx context.Context, key string, e store.Entry, ttl time.Duration) error {
	s.calls.Add(1)
	return s.Store.Set(ctx, key, e, ttl)
}

func (s *countingStore) Delete(ctx context.Context, keys ...string) error {
	s.calls.Add(1)
	return s.Store.Delete(ctx, keys...)
}

func (s *countingStore) Invalidate(ctx context.Context, deps ...store.Dep) error {
	s.calls.Add(1)
	return s.Store.Invalidate(ctx, deps...)
}

func (s *countingStore) AddSchemes(ctx context.Context, table string, schemes []string) error {
	s.calls.Add(1)
	return s.reg.AddSchemes(ctx, table, schemes)
}

func (s *countingStore) Schemes(ctx context.Context, table string) ([]string, error) {
	s.calls.Add(1)
	return s.reg.Schemes(ctx, table)
}

type countingPeeker struct {
	*countingStore
	peeker store.Peeker
}

func (s countingPeeker) Peek(ctx context.Context, key string) ([]byte, bool, error) {
	s.calls.Add(1)
	v, ok, err := s.peeker.Peek(ctx, key)
	s.gotten()
	return v, ok, err
}

// counting wraps st in a countingStore.
func counting(t testing.TB, st store.Store) (store.Store, *countingStore) {
	t.Helper()
	reg, ok := st.(store.SchemeRegistry)
	require.True(t, ok, "%T has no scheme registry", st)
	c := &countingStore{Store: st, reg: reg}
	if pk, ok := st.(store.Peeker); ok {
		return countingPeeker{c, pk}, c
	}
	return c, c
}

// scopeEnv is an env whose store counts its calls, and whose db caches
// every query.
type scopeEnv struct {
	*env
	store *countingStore
}

func newScopeEnv(t *testing.T, b backend, cfg gormcache.Config) *scopeEnv {
	t.Helper()
	var c *countingStore
	cfg.Store, c = counting(t, b.store.new(t))
	cfg.CacheAll = true
	e := newEnv(t, b, cfg)
	e.seed()
	return &scopeEnv{env: e, store: c}
}

// calls returns the store calls fn makes.
func (e *scopeEnv) calls(fn func()) int64 {
	before := e.store.calls.Load()
	fn()
	return e.store.calls.Load() - before
}

// scoped returns e.db with a new request scope.
func (e *scopeEnv) scoped() *gorm.DB {
	return e.db.WithContext(gormcache.WithRequestScope(context.Background()))
}

// wantScope reads the name of user id through db, and fails unless it is
// want, answered by the request scope: with no store call.
func (e *scopeEnv) wantScope(t *testing.T, db *gorm.DB, id uint, want, what string) {
	t.Helper()
	if n := e.calls(func() { require.Equal(t, want, name(t, db, id), what) }); n != 0 {
		t.Errorf("%s: got %d store calls, want 0", what, n)
	}
}

// wantStore is wantScope for a read answered by the store or the
// database: with store calls.
func (e *scopeEnv) wantStore(t *testing.T, db *gorm.DB, id uint, want, what string) {
	t.Helper()
	if n := e.calls(func() { require.Equal(t, want, name(t, db, id), what) }); n == 0 {
		t.Errorf("%s: got no store call", what)
	}
}

// name reads the name of user id through db.
func name(t *testing.T, db *gorm.DB, id uint) string {
	t.Helper()
	var u User
	require.NoError(t, db.First(&u, id).Error)
	return u.Name
}

// TestRequestScopeAnswersRepeats checks that every kind of read answered
// once in a scope is answered again by the scope, with no store call, the
// same as the first time, and that without a scope each repeat calls the
// store.
func TestRequestScopeAnswersRepeats(t *testing.T) {
	reads := []struct {
		name string
		read func(db *gorm.DB) (string, error)
	}{
		{"First by primary key", func(db *gorm.DB) (string, error) {
			var u User
			err := db.First(&u, 1).Error
			return fmt.Sprint(u.ID, u.Name, u.Email), err
		}},
		{"Find with a condition", func(db *gorm.DB) (string, error) {
			var ps []Photo
			err := db.Where("user_id = ? AND status = ?", 1, 2).Order("id").Find(&ps).Error
			return fmt.Sprint(len(ps), ps[0].Title, ps[1].Title), err
		}},
		{"not found", func(db *gorm.DB) (string, error) {
			var u User
			err := db.First(&u, 99).Error
			return fmt.Sprint(err), nil
		}},
		{"Count", func(db *gorm.DB) (string, error) {
			var n int64
			err := db.Model(&Photo{}).Where("user_id = ?", 1).Count(&n).Error
			return fmt.Sprint(n), err
		}},
		{"Pluck", func(db *gorm.DB) (string, error) {
			var titles []string
			err := db.Model(&Photo{}).Order("id").Pluck("title", &titles).Error
			return strings.Join(titles, ","), err
		}},
		{"Find into maps", func(db *gorm.DB) (string, error) {
			var rows []map[string]any
			err := db.Model(&User{}).Order("id").Find(&rows).Error
			return fmt.Sprint(len(rows), rows[1]["name"]), err
		}},
		{"Preload", func(db *gorm.DB) (string, error) {
			var u User
			err := db.Preload("Photos").Preload("Tags").First(&u, 1).Error
			return fmt.Sprint(u.Name, len(u.Photos), len(u.Tags)), err
		}},
		{"Raw Scan", func(db *gorm.DB) (string, error) {
			var n int
			err := db.Raw("SELECT count(*) FROM photos WHERE status = ?", 2).Scan(&n).Error
			return fmt.Sprint(n), err
		}},
		{"Row", func(db *gorm.DB) (string, error) {
			var n string
			err := db.Model(&User{}).Select("name").Where("id = ?", 2).Row().Scan(&n)
			return n, err
		}},
		{"Rows", func(db *gorm.DB) (string, error) {
			rows, err := db.Model(&User{}).Select("name").Order("id").Rows()
			if err != nil {
				return "", err
			}
			defer rows.Close()
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return "", err
				}
				names = append(names, n)
			}
			return strings.Join(names, ","), rows.Err()
		}},
	}
	each(t, func(t *testing.T, b backend) {
		for _, memory := range []int64{0, -1} { // copied from a kept result, or replayed
			e := newScopeEnv(t, b, gormcache.Config{ResultMemory: memory})
			for _, r := range reads {
				t.Run(fmt.Sprintf("%s/ResultMemory=%d", r.name, memory), func(t *testing.T) {
					want, err := r.read(e.db)
					require.NoError(t, err)
					scoped := e.scoped()
					hits := e.stats().ScopeHits
					if n := e.calls(func() { _, err = r.read(scoped) }); n == 0 {
						t.Fatal("the scope's first read made no store call")
					}
					require.NoError(t, err)
					for range 3 {
						var got string
						if n := e.calls(func() { got, err = r.read(scoped) }); n != 0 {
							t.Errorf("a repeat in the scope: got %d store calls, want 0", n)
						}
						require.NoError(t, err)
						require.Equal(t, want, got)
					}
					require.Greater(t, e.stats().ScopeHits, hits)
					if n := e.calls(func() { _, err = r.read(e.db) }); n == 0 {
						t.Error("a repeat without a scope made no store call")
					}
				})
			}
		}
	})
}

// TestRequestScopeHandsOutCopies checks that the callers a scope answers
// never share memory: what one changes in its result, another does not see.
func TestRequestScopeHandsOutCopies(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		for _, memory := range []int64{0, -1} {
			t.Run(fmt.Sprint("ResultMemory=", memory), func(t *testing.T) {
				e := newScopeEnv(t, b, gormcache.Config{ResultMemory: memory})
				scoped := e.scoped()
				for range 3 {
					var u User
					require.NoError(t, scoped.Preload("Photos").First(&u, 1).Error)
					require.Equal(t, "ada", u.Name)
					require.Equal(t, "a1", u.Photos[0].Title)
					u.Name, u.Photos[0].Title = "changed", "changed"
					var ps []*Photo
					require.NoError(t, scoped.Where("user_id = ?", 1).Order("id").Find(&ps).Error)
					require.Equal(t, "a1", ps[0].Title)
					ps[0].Title = "changed"
				}
				type report struct{ Titles []string }
				for range 3 {
					r, err := gormcache.Remember(scoped, "titles", func(context.Context) (report, error) {
						return report{Titles: []string{"a1", "a2"}}, nil
					})
					require.NoError(t, err)
					require.Equal(t, []string{"a1", "a2"}, r.Titles)
					r.Titles[0] = "changed"
				}
			})
		}
	})
}

// TestRequestScopeReadsItsOwnWrites checks that a write through a scope
// drops from it, before the write returns, the answers the write changes
// and those only: in autocommit, in a transaction once it commits, a
// create, a delete, a raw Exec and a manual invalidation.
func TestRequestScopeReadsItsOwnWrites(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		scoped := e.scoped()
		photos := func() string {
			var ps []Photo
			require.NoError(t, scoped.Where("user_id = ?", 1).Order("id").Find(&ps).Error)
			titles := make([]string, len(ps))
			for i, p := range ps {
				titles[i] = p.Title
			}
			return strings.Join(titles, ",")
		}
		require.Equal(t, "ada", name(t, scoped, 1))
		require.Equal(t, "grace", name(t, scoped, 2))
		require.Equal(t, "a1,a2,a3", photos())

		require.NoError(t, scoped.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		require.Equal(t, "lovelace", name(t, scoped, 1))
		e.wantScope(t, scoped, 2, "grace", "a row the write did not change")
		if n := e.calls(func() { require.Equal(t, "a1,a2,a3", photos()) }); n != 0 {
			t.Errorf("a table the write did not change: got %d store calls, want 0", n)
		}

		require.NoError(t, scoped.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&User{ID: 1}).Update("name", "ada lovelace").Error; err != nil {
				return err
			}
			require.Equal(t, "ada lovelace", name(t, tx, 1), "a read in the transaction")
			require.Equal(t, "lovelace", name(t, scoped, 1), "a read in the scope, before the commit")
			return nil
		}))
		require.Equal(t, "ada lovelace", name(t, scoped, 1), "after the commit")

		require.NoError(t, scoped.Create(&Photo{UserID: 1, Title: "a4"}).Error)
		require.Equal(t, "a1,a2,a3,a4", photos())
		require.NoError(t, scoped.Delete(&Photo{}, 1).Error)
		require.Equal(t, "a2,a3,a4", photos())
		require.NoError(t, scoped.Exec("UPDATE photos SET title = 'A2' WHERE id = 2").Error)
		require.Equal(t, "A2,a3,a4", photos())
		sqlDB, err := e.db.DB()
		require.NoError(t, err)
		_, err = sqlDB.Exec("UPDATE users SET name = 'behind gorm' WHERE id = 2")
		require.NoError(t, err)
		require.Equal(t, "grace", name(t, scoped, 2), "a write GORM does not see")
		require.NoError(t, gormcache.InvalidateObject(scoped, &User{ID: 2, Name: "grace"}))
		require.Equal(t, "behind gorm", name(t, scoped, 2), "after InvalidateObject")
	})
}

// TestRequestScopesApart checks that a scope's answers serve no other
// scope, nor reads without one; that a write through one scope reaches the
// answers of another that it changes, and none else.
func TestRequestScopesApart(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		a, other := e.scoped(), e.scoped()
		require.Equal(t, "ada", name(t, a, 1))
		e.wantStore(t, other, 1, "ada", "another scope's first read")
		e.wantStore(t, e.db, 1, "ada", "a read without a scope")
		require.Equal(t, "grace", name(t, other, 2))

		require.NoError(t, a.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		e.wantStore(t, other, 1, "lovelace", "the other scope's answer the write changed")
		e.wantScope(t, other, 2, "grace", "the other scope's answer the write did not change")
	})
}

// TestRequestScopeSnapshot checks what a scope trades: the writes of
// another process sharing the store (here another Plugin on the same store
// and database) are seen by reads without a scope at once, and by a scope
// only once it has ended.
func TestRequestScopeSnapshot(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		dial, shared := b.Open(t), b.store.new(t)
		open := func() *gorm.DB {
			db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: shared, CacheAll: true})))
			return db
		}
		here, there := open(), open()
		require.NoError(t, here.AutoMigrate(models...))
		require.NoError(t, here.Create(&User{Name: "ada"}).Error)

		scoped := here.WithContext(gormcache.WithRequestScope(context.Background()))
		require.Equal(t, "ada", name(t, scoped, 1))
		require.NoError(t, there.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		require.Equal(t, "lovelace", name(t, here, 1), "without a scope")
		require.Equal(t, "ada", name(t, scoped, 1), "in the scope: its first answer")
		require.Equal(t, "lovelace", name(t, here.WithContext(gormcache.WithRequestScope(context.Background())), 1), "in a new scope")
	})
}

// TestRequestScopeMemory checks that a scope keeps answers until
// Config.ScopeMemory, then keeps no more and serves those it has, and that
// a negative ScopeMemory keeps none.
func TestRequestScopeMemory(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		const users = 30
		for _, tt := range []struct {
			memory int64
			kept   func(kept int) bool
		}{
			{4 << 10, func(kept int) bool { return kept > 0 && kept < users }},
			{-1, func(kept int) bool { return kept == 0 }},
		} {
			t.Run(fmt.Sprint("ScopeMemory=", tt.memory), func(t *testing.T) {
				e := newScopeEnv(t, b, gormcache.Config{ScopeMemory: tt.memory})
				for i := 3; i <= users; i++ {
					require.NoError(t, e.db.Create(&User{Name: fmt.Sprint("user", i)}).Error)
				}
				scoped := e.scoped()
				for id := uint(1); id <= users; id++ {
					name(t, scoped, id)
				}
				// The scope kept the first answers, as many as fit.
				var served []bool
				for id := uint(1); id <= users; id++ {
					served = append(served, e.calls(func() { name(t, scoped, id) }) == 0)
				}
				kept := 0
				for kept < users && served[kept] {
					kept++
				}
				for _, s := range served[kept:] {
					if s {
						t.Fatalf("the scope served %v: want the first answers, then none", served)
					}
				}
				if !tt.kept(kept) {
					t.Fatalf("the scope served the first %d of %d answers", kept, users)
				}
				t.Logf("the scope kept %d answers", kept)
			})
		}
	})
}

// TestRequestScopeRemember checks that Remember honours a scope: a value
// remembered once is served by the scope, a write to what it depends on or
// a Forget through the scope recomputes it, and a cached error is served
// like a value.
func TestRequestScopeRemember(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		var calls atomic.Int64
		remember := func(db *gorm.DB) string {
			t.Helper()
			v, err := gormcache.Remember(db, gormcache.Key("user", 1), func(ctx context.Context) (string, error) {
				calls.Add(1)
				return name(t, e.uncached().WithContext(ctx), 1), nil
			}, gormcache.DependsOn(&User{ID: 1}))
			require.NoError(t, err)
			return v
		}
		scoped := e.scoped()
		require.Equal(t, "ada", remember(scoped))
		for range 3 {
			if n := e.calls(func() { require.Equal(t, "ada", remember(scoped)) }); n != 0 {
				t.Errorf("a repeat in the scope: got %d store calls, want 0", n)
			}
		}
		require.Equal(t, int64(1), calls.Load())
		if n := e.calls(func() { require.Equal(t, "ada", remember(e.scoped())) }); n == 0 {
			t.Error("another scope: got no store call")
		}
		require.Equal(t, int64(1), calls.Load(), "another scope's first call hits the store")

		require.NoError(t, scoped.Model(&User{ID: 2}).Update("name", "hopper").Error)
		if n := e.calls(func() { require.Equal(t, "ada", remember(scoped)) }); n != 0 {
			t.Errorf("after a write it does not depend on: got %d store calls, want 0", n)
		}
		require.NoError(t, scoped.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		require.Equal(t, "lovelace", remember(scoped), "after a write it depends on")
		require.Equal(t, int64(2), calls.Load())
		require.NoError(t, gormcache.Forget(scoped, gormcache.Key("user", 1)))
		require.Equal(t, "lovelace", remember(scoped), "after Forget")
		require.Equal(t, int64(3), calls.Load())

		errNone := fmt.Errorf("none")
		for range 3 {
			_, err := gormcache.Remember(scoped, "missing", func(context.Context) (int, error) {
				calls.Add(1)
				return 0, fmt.Errorf("looking: %w", errNone)
			}, gormcache.CacheErrors(errNone))
			require.ErrorIs(t, err, errNone)
		}
		require.Equal(t, int64(4), calls.Load(), "a cached error")
	})
}

// TestRequestScopeBypassedInTransactions checks that reads inside a
// transaction neither use a scope nor fill it, as they bypass the cache.
func TestRequestScopeBypassedInTransactions(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		scoped := e.scoped()
		require.Equal(t, "ada", name(t, scoped, 1)) // kept by the scope
		before := e.stats()
		require.NoError(t, scoped.Transaction(func(tx *gorm.DB) error {
			if n := e.calls(func() {
				require.Equal(t, "ada", name(t, tx, 1))
				require.Equal(t, "grace", name(t, tx, 2))
				_, err := gormcache.Remember(tx, "k", func(context.Context) (int, error) { return 1, nil })
				require.NoError(t, err)
			}); n != 0 {
				t.Errorf("reads in a transaction: got %d store calls, want 0", n)
			}
			return nil
		}))
		after := e.stats()
		require.Equal(t, before.Hits, after.Hits)
		require.Equal(t, before.Misses, after.Misses)
		require.Equal(t, before.Bypassed+3, after.Bypassed)
		e.wantStore(t, scoped, 2, "grace", "a read in the scope after the transaction read it")
	})
}

// TestRequestScopeConcurrent races goroutines sharing one scope, each
// writing a row of its own and reading every row: each reads its own
// writes, and what they are handed is theirs to change (-race).
func TestRequestScopeConcurrent(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		const workers, rounds = 4, 15
		e := newScopeEnv(t, b, gormcache.Config{})
		for i := 3; i <= workers; i++ {
			require.NoError(t, e.db.Create(&User{Name: fmt.Sprint("user", i)}).Error)
		}
		scoped := e.scoped()
		hits := e.stats().ScopeHits
		var wg sync.WaitGroup
		for w := uint(1); w <= workers; w++ {
			wg.Go(func() {
				for r := range rounds {
					for id := uint(1); id <= workers; id++ {
						var u User
						if err := scoped.Preload("Photos").First(&u, id).Error; err != nil {
							t.Error(err)
							return
						}
						u.Name = "scratched" // the caller's own copy
						for i := range u.Photos {
							u.Photos[i].Title = "scratched"
						}
					}
					want := fmt.Sprint("worker", w, "round", r)
					if err := scoped.Model(&User{ID: w}).Update("name", want).Error; err != nil {
						t.Error(err)
						return
					}
					var u User
					if err := scoped.First(&u, w).Error; err != nil || u.Name != want {
						t.Errorf("worker %d after its write: got %q (%v), want %q", w, u.Name, err, want)
						return
					}
				}
			})
		}
		wg.Wait()
		if e.stats().ScopeHits == hits {
			t.Error("the scope answered nothing: the test proves nothing")
		}
	})
}

// TestRequestScopeKeepsNoRacedAnswer checks that an answer a write raced
// is served once, as the store gave it, but not kept: a write invalidated
// what it depends on after its lookup began, so that a read in the scope
// after the write returned gets the write's rows.
func TestRequestScopeKeepsNoRacedAnswer(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		require.Equal(t, "ada", name(t, e.db, 1)) // stored
		write := func() {
			require.NoError(t, e.db.Model(&User{ID: 1}).Update("name", "lovelace").Error)
		}
		e.store.afterGet.Store(&write)
		scoped := e.scoped()
		require.Equal(t, "ada", name(t, scoped, 1), "the read the write raced")
		require.Nil(t, e.store.afterGet.Load(), "the write did not run")
		require.Equal(t, "lovelace", name(t, scoped, 1), "a read in the scope after the write returned")
	})
}

// TestRequestScopeOutlivesTheStoreSchemes checks that a store losing its
// registry of schemes (a flush, a Redis restart) cannot make a write miss
// an answer a scope keeps: the write still computes the conjunction the
// answer depends on.
func TestRequestScopeOutlivesTheStoreSchemes(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		scoped := e.scoped()
		count := func() int64 {
			var n int64
			require.NoError(t, scoped.Model(&Photo{}).Where("user_id = ?", 1).Count(&n).Error)
			return n
		}
		require.Equal(t, int64(3), count())
		require.NoError(t, e.store.Store.(store.Flusher).Flush(context.Background()))
		require.NoError(t, scoped.Create(&Photo{UserID: 1, Title: "a4"}).Error)
		require.Equal(t, int64(4), count())
	})
}

// TestRequestScopeFallsBehind checks that a scope that falls behind the
// log of invalidations by more than it holds drops every answer.
func TestRequestScopeFallsBehind(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		scoped := e.scoped()
		require.Equal(t, "ada", name(t, scoped, 1))
		for range 4100 { // more than the log holds, of an unrelated table
			require.NoError(t, gormcache.InvalidateTable(e.db, "elsewhere"))
		}
		e.wantStore(t, scoped, 1, "ada", "a scope behind the log")
		e.wantScope(t, scoped, 1, "ada", "the repeat")
	})
}

// TestRequestScopeHandler checks that RequestScopeHandler gives each
// request a scope of its own, which WithRequestScope then keeps.
func TestRequestScopeHandler(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newScopeEnv(t, b, gormcache.Config{})
		srv := httptest.NewServer(gormcache.RequestScopeHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			db := e.db.WithContext(gormcache.WithRequestScope(r.Context())) // the request's scope
			for range 3 {
				if err := db.First(&User{}, 1).Error; err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
		})))
		defer srv.Close()
		for i := range 2 {
			hits := e.stats().ScopeHits
			resp, err := http.Get(srv.URL)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, hits+2, e.stats().ScopeHits, "request %d: the first read is the store's, the repeats the scope's", i)
		}
	})
}

// TestWithRequestScope checks that a context keeps the scope it carries,
// and that a nil one is taken as context.Background().
func TestWithRequestScope(t *testing.T) {
	ctx := gormcache.WithRequestScope(context.Background())
	require.Equal(t, ctx, gormcache.WithRequestScope(ctx))
	//lint:ignore SA1012 a nil context, on purpose
	scoped := gormcache.WithRequestScope(nil)
	require.NotNil(t, scoped)
	require.Equal(t, scoped, gormcache.WithRequestScope(scoped))
}
