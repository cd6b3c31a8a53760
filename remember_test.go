package gormcache_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

// titles is a computation to remember: the titles of every photo, read
// through db (uncached), counted in calls.
func titles(db *gorm.DB, calls *atomic.Int64) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		calls.Add(1)
		var ts []string
		err := db.WithContext(ctx).Model(&Photo{}).Order("id").Pluck("title", &ts).Error
		return ts, err
	}
}

// rememberResult is the outcome of a Remember call.
type rememberResult[T any] struct {
	v   T
	err error
}

// goRemember calls Remember in a new goroutine and sends its outcome.
func goRemember[T any](db *gorm.DB, key string, fn func(context.Context) (T, error), opts ...gormcache.RememberOption) <-chan rememberResult[T] {
	ch := make(chan rememberResult[T], 1)
	go func() {
		v, err := gormcache.Remember(db, key, fn, opts...)
		ch <- rememberResult[T]{v, err}
	}()
	return ch
}

// TestRememberRecomputesOnceAfterDependentWrite checks every form of
// dependency against writes to its rows, to other rows of its table and to
// other tables: a dependent write makes exactly the next call compute the
// value again, with the new rows; an unrelated one changes nothing.
func TestRememberRecomputesOnceAfterDependentWrite(t *testing.T) {
	// Each form reads exactly the rows it declares.
	deps := []struct {
		name  string
		opt   gormcache.RememberOption
		scope func(db *gorm.DB) *gorm.DB
	}{
		{"model", gormcache.DependsOn(&Photo{}), func(db *gorm.DB) *gorm.DB { return db }},
		{"nil model pointer", gormcache.DependsOn((*Photo)(nil)), func(db *gorm.DB) *gorm.DB { return db }},
		{"row", gormcache.DependsOn(&Photo{ID: 1}), func(db *gorm.DB) *gorm.DB { return db.Where("id = ?", 1) }},
		{"rows", gormcache.DependsOn([]Photo{{ID: 1}, {ID: 2}}), func(db *gorm.DB) *gorm.DB { return db.Where("id IN ?", []int{1, 2}) }},
		{"where", gormcache.DependsOnRows(&Photo{}, "UserID", 1), func(db *gorm.DB) *gorm.DB { return db.Where("user_id = ?", 1) }},
		{"DependsOnRows on a column, in DependsOn", gormcache.DependsOn(gormcache.DependsOnRows(&Photo{}, "user_id", 1)), func(db *gorm.DB) *gorm.DB { return db.Where("user_id = ?", 1) }},
	}
	const ( // bits of deps
		model = 1<<0 | 1<<1
		row   = 1 << 2
		rows  = 1 << 3
		where = 1<<4 | 1<<5
		all   = model | row | rows | where
	)
	writes := []struct {
		name      string
		write     func(db *gorm.DB) error
		recompute int // bit i set: deps[i] recomputes
	}{
		{"create in another table", func(db *gorm.DB) error { return db.Create(&Tag{Name: "new"}).Error }, 0},
		{"update of another table", func(db *gorm.DB) error { return db.Model(&User{ID: 1}).Update("name", "ada2").Error }, 0},
		{"InvalidateModel of another model", func(db *gorm.DB) error { return gormcache.InvalidateModel(db, &Profile{}) }, 0},
		{"update of row 1", func(db *gorm.DB) error { return db.Model(&Photo{ID: 1}).Update("title", "a1'").Error }, all},
		{"update of grace's row", func(db *gorm.DB) error { return db.Model(&Photo{ID: 4}).Update("title", "g1'").Error }, model},
		{"create for grace", func(db *gorm.DB) error { return db.Create(&Photo{UserID: 2, Title: "g2"}).Error }, model},
		{"create for ada", func(db *gorm.DB) error { return db.Create(&Photo{UserID: 1, Title: "a9"}).Error }, model | where},
		{"delete of row 2", func(db *gorm.DB) error { return db.Delete(&Photo{}, 2).Error }, model | rows | where},
		{"raw exec", func(db *gorm.DB) error { return db.Exec("UPDATE photos SET status = 3 WHERE id = 3").Error }, all},
		{"write in a transaction", func(db *gorm.DB) error {
			return db.Transaction(func(tx *gorm.DB) error { return tx.Model(&Photo{ID: 3}).Update("title", "a3'").Error })
		}, model | where},
		{"InvalidateModel", func(db *gorm.DB) error { return gormcache.InvalidateModel(db, &Photo{}) }, all},
		{"InvalidateAll", gormcache.InvalidateAll, all},
	}
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		calls := make([]atomic.Int64, len(deps))
		remember := func(i int) []string {
			t.Helper()
			fn := func(ctx context.Context) ([]string, error) {
				calls[i].Add(1)
				var ts []string
				err := deps[i].scope(e.uncached().WithContext(ctx)).Model(&Photo{}).Order("id").Pluck("title", &ts).Error
				return ts, err
			}
			v, err := gormcache.Remember(e.db, "titles/"+deps[i].name, fn, deps[i].opt)
			require.NoError(t, err)
			return v
		}
		want := func(i int) []string {
			var ts []string
			require.NoError(t, deps[i].scope(e.uncached()).Model(&Photo{}).Order("id").Pluck("title", &ts).Error)
			return ts
		}
		for i := range deps {
			require.Equal(t, want(i), remember(i))
			require.Equal(t, want(i), remember(i))
			require.Equal(t, int64(1), calls[i].Load(), "%s: fn calls before any write", deps[i].name)
		}
		for _, w := range writes {
			require.NoError(t, w.write(e.db), w.name)
			for i, d := range deps {
				before := calls[i].Load()
				for range 3 {
					if got := remember(i); !slices.Equal(got, want(i)) {
						t.Fatalf("%s after %s: got %q, want %q", d.name, w.name, got, want(i))
					}
				}
				want := int64(0)
				if w.recompute&(1<<i) != 0 {
					want = 1
				}
				if n := calls[i].Load() - before; n != want {
					t.Errorf("%s after %s: fn ran %d times, want %d", d.name, w.name, n, want)
				}
			}
		}
	})
}

// TestRememberRunsFnOnceForConcurrentCalls checks that concurrent calls for
// one key share one fn call, whatever its outcome, and that only a value is
// cached.
func TestRememberRunsFnOnceForConcurrentCalls(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		outcome func() ([]int, error)
		check   func(t *testing.T, v []int, err error)
		cached  bool
	}{
		{"value", func() ([]int, error) { return []int{1, 2, 3}, nil }, func(t *testing.T, v []int, err error) {
			require.NoError(t, err)
			require.Equal(t, []int{1, 2, 3}, v)
		}, true},
		{"error", func() ([]int, error) { return nil, errBoom }, func(t *testing.T, v []int, err error) {
			require.ErrorIs(t, err, errBoom)
			require.Nil(t, v)
		}, false},
		{"panic", func() ([]int, error) { panic("kaboom") }, func(t *testing.T, v []int, err error) {
			require.ErrorIs(t, err, gormcache.ErrPanicked)
			require.ErrorContains(t, err, "kaboom")
			require.Nil(t, v)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, b backend) {
				e := newEnv(t, b, gormcache.Config{})
				var calls atomic.Int64
				release := make(chan struct{})
				fn := func(context.Context) ([]int, error) {
					calls.Add(1)
					<-release
					return tt.outcome()
				}
				const n = 32
				values := make([][]int, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						values[i], errs[i] = gormcache.Remember(e.db, "k", fn, gormcache.DependsOn(&Photo{}))
					}()
				}
				time.Sleep(200 * time.Millisecond) // every call joins the first one
				close(release)
				wg.Wait()

				if got := calls.Load(); got != 1 {
					t.Fatalf("fn calls: got %d, want 1 for %d concurrent calls", got, n)
				}
				for i := range n {
					tt.check(t, values[i], errs[i])
				}
				wantFills, wantCalls := uint64(0), int64(2) // the next call runs fn again
				if tt.cached {
					wantFills, wantCalls = 1, 1
				}
				if s := e.stats(); s.Fills != wantFills || s.Misses != n {
					t.Fatalf("Fills, Misses: got %d, %d, want %d, %d", s.Fills, s.Misses, wantFills, n)
				}
				if tt.cached {
					values[0][0] = 100 // every caller has its own copy
					require.Equal(t, 1, values[1][0])
				}
				v, err := gormcache.Remember(e.db, "k", fn, gormcache.DependsOn(&Photo{}))
				tt.check(t, v, err)
				if got := calls.Load(); got != wantCalls {
					t.Fatalf("fn calls after the concurrent ones: got %d, want %d", got, wantCalls)
				}
			})
		})
	}
}

// TestRememberWaiterAfterWriteGetsFreshValue makes a call join one whose fn
// read the rows before a write that committed before the joining call began:
// it must compute its own value, and the first one must never be served.
func TestRememberWaiterAfterWriteGetsFreshValue(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		var calls atomic.Int64
		read, release := make(chan struct{}), make(chan struct{})
		fn := func(ctx context.Context) ([]string, error) {
			v, err := titles(e.uncached(), &calls)(ctx)
			if calls.Load() == 1 {
				close(read)
				<-release
			}
			return v, err
		}
		first := goRemember(e.db, "titles", fn, gormcache.DependsOn(&Photo{}))
		<-read
		require.NoError(t, e.db.Model(&Photo{ID: 1}).Update("title", "new").Error)
		second := goRemember(e.db, "titles", fn, gormcache.DependsOn(&Photo{}))
		time.Sleep(100 * time.Millisecond) // the second call joins the first
		close(release)

		r := <-first
		require.NoError(t, r.err)
		require.Equal(t, "a1", r.v[0], "the first call began before the write")
		r = <-second
		require.NoError(t, r.err)
		require.Equal(t, "new", r.v[0], "the second call began after the write")
		require.Equal(t, int64(2), calls.Load())
		v, err := gormcache.Remember(e.db, "titles", fn, gormcache.DependsOn(&Photo{}))
		require.NoError(t, err)
		require.Equal(t, "new", v[0], "the first value was cached with stamps older than the write")
	})
}

// TestRememberWaiterOutlivesCanceledCaller cancels the call that runs fn:
// it returns its error, and the call waiting for it runs fn again rather
// than failing with another caller's cancellation.
func TestRememberWaiterOutlivesCanceledCaller(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		var calls atomic.Int64
		started := make(chan struct{})
		fn := func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				close(started)
				<-ctx.Done()
				return "", ctx.Err()
			}
			return "computed", nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		first := goRemember(e.db.WithContext(ctx), "k", fn)
		<-started
		second := goRemember(e.db, "k", fn)
		time.Sleep(100 * time.Millisecond) // the second call joins the first
		cancel()

		require.ErrorIs(t, (<-first).err, context.Canceled)
		r := <-second
		require.NoError(t, r.err)
		require.Equal(t, "computed", r.v)
		require.Equal(t, int64(2), calls.Load())
	})
}

// TestRememberWaiterGivesUpWithItsContext checks that a call waiting for
// another one's fn returns when its own context ends.
func TestRememberWaiterGivesUpWithItsContext(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		started, release := make(chan struct{}), make(chan struct{})
		fn := func(context.Context) (string, error) {
			close(started)
			<-release
			return "computed", nil
		}
		first := goRemember(e.db, "k", fn)
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := gormcache.Remember(e.db.WithContext(ctx), "k", fn)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		close(release)
		r := <-first
		require.NoError(t, r.err)
		require.Equal(t, "computed", r.v)
	})
}

// TestRememberCacheErrors caches gorm.ErrRecordNotFound, and only it, until
// the row is created.
func TestRememberCacheErrors(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		var calls atomic.Int64
		user := func(ctx context.Context) (User, error) {
			calls.Add(1)
			var u User
			err := e.uncached().WithContext(ctx).First(&u, 7).Error
			return u, err
		}
		opts := []gormcache.RememberOption{gormcache.DependsOn(&User{}), gormcache.CacheErrors(gorm.ErrRecordNotFound)}
		for range 2 {
			_, err := gormcache.Remember(e.db, "user/7", user, opts...)
			require.ErrorIs(t, err, gorm.ErrRecordNotFound)
		}
		require.Equal(t, int64(1), calls.Load(), "the not-found error is cached")

		require.NoError(t, e.db.Create(&User{ID: 7, Name: "seven"}).Error)
		for range 2 {
			u, err := gormcache.Remember(e.db, "user/7", user, opts...)
			require.NoError(t, err)
			require.Equal(t, "seven", u.Name)
		}
		require.Equal(t, int64(2), calls.Load())

		errOther := errors.New("unavailable")
		failing := func(context.Context) (User, error) { calls.Add(1); return User{}, errOther }
		for range 2 {
			_, err := gormcache.Remember(e.db, "user/8", failing, opts...)
			require.ErrorIs(t, err, errOther)
		}
		require.Equal(t, int64(4), calls.Load(), "an error not listed is never cached")
	})
}

// TestRememberTTL lets values expire by the memory store's fake clock.
func TestRememberTTL(t *testing.T) {
	tests := []struct {
		name string
		cfg  time.Duration // Config.TTL
		opts []gormcache.RememberOption
		ttl  time.Duration
	}{
		{"Config.TTL", time.Hour, nil, time.Hour},
		{"RememberTTL", time.Hour, []gormcache.RememberOption{gormcache.RememberTTL(time.Minute)}, time.Minute},
		{"non-positive RememberTTL", time.Hour, []gormcache.RememberOption{gormcache.RememberTTL(-time.Minute)}, time.Hour},
	}
	each(t, func(t *testing.T, b backend) {
		if b.store.name != "memory" {
			t.Skip("expiry is tested with the memory store's fake clock")
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				clock := newFakeClock()
				s, err := memory.New(memory.Config{Clock: clock})
				require.NoError(t, err)
				e := newEnv(t, b, gormcache.Config{Store: s, TTL: tt.cfg})
				var calls atomic.Int64
				fn := func(context.Context) (int64, error) { return calls.Add(1), nil }
				remember := func() int64 {
					v, err := gormcache.Remember(e.db, "k", fn, tt.opts...)
					require.NoError(t, err)
					return v
				}
				require.Equal(t, int64(1), remember())
				clock.Advance(tt.ttl - time.Second)
				require.Equal(t, int64(1), remember(), "before the TTL")
				clock.Advance(2 * time.Second)
				require.Equal(t, int64(2), remember(), "after the TTL")
			})
		}
	})
}

// TestRememberTTLBoundsAge checks that a call's TTL, RememberTTL or the
// Config.TTL of the instance that calls, bounds the age of the value it is
// served, whatever TTL the call that stored it had, as it does for queries.
func TestRememberTTLBoundsAge(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		shared := b.store.new(t)
		long := newEnv(t, b, gormcache.Config{Store: shared, TTL: time.Hour})
		short := newEnvOn(t, b.Open(t), gormcache.Config{Store: shared, TTL: 40 * time.Millisecond})
		var calls atomic.Int64
		fn := func(context.Context) (int64, error) { return calls.Add(1), nil }
		remember := func(db *gorm.DB, opts ...gormcache.RememberOption) int64 {
			v, err := gormcache.Remember(db, "k", fn, opts...)
			require.NoError(t, err)
			return v
		}
		require.Equal(t, int64(1), remember(long.db))
		time.Sleep(80 * time.Millisecond)
		require.Equal(t, int64(1), remember(long.db), "within the TTL of the call")
		require.Equal(t, int64(2), remember(long.db, gormcache.RememberTTL(40*time.Millisecond)), "older than RememberTTL")
		time.Sleep(80 * time.Millisecond)
		require.Equal(t, int64(3), remember(short.db), "older than the Config.TTL of the instance")
		require.Equal(t, int64(3), remember(long.db))
	})
}

// TestRememberInTransaction checks that Remember neither reads nor fills
// the cache inside a transaction.
func TestRememberInTransaction(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		var calls atomic.Int64
		fn := func(context.Context) (int64, error) { return calls.Add(1), nil }
		v, err := gormcache.Remember(e.db, "outside", fn)
		require.NoError(t, err)
		require.Equal(t, int64(1), v)

		require.NoError(t, e.db.Transaction(func(tx *gorm.DB) error {
			for _, key := range []string{"outside", "inside", "inside"} {
				before := calls.Load()
				v, err := gormcache.Remember(tx, key, fn)
				require.NoError(t, err)
				require.Equal(t, before+1, v, "key %s: fn must run inside a transaction", key)
			}
			return nil
		}))
		if s := e.stats(); s.Bypassed != 3 || s.Hits != 0 {
			t.Fatalf("Bypassed, Hits: got %d, %d, want 3, 0", s.Bypassed, s.Hits)
		}
		v, err = gormcache.Remember(e.db, "inside", fn)
		require.NoError(t, err)
		require.Equal(t, int64(5), v, "nothing was cached inside the transaction")
	})
}

// TestRememberInvalidArguments checks the errors returned before fn runs.
func TestRememberInvalidArguments(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []gormcache.RememberOption
		err  error
		msg  []string // the message names these
	}{
		{"unknown DependsOnRows field", "k", []gormcache.RememberOption{gormcache.DependsOnRows(&Photo{}, "Nope", 1)}, gormcache.ErrInvalidDependency, []string{`"Nope"`, "Photo"}},
		{"DependsOnRows on a relation", "k", []gormcache.RememberOption{gormcache.DependsOnRows(&Photo{}, "User", 1)}, gormcache.ErrInvalidDependency, []string{`"User"`, "Photo", "not a column"}},
		{"DependsOnRows on no model", "k", []gormcache.RememberOption{gormcache.DependsOnRows("photos", "id", 1)}, gormcache.ErrInvalidDependency, []string{"string"}},
		{"not a model", "k", []gormcache.RememberOption{gormcache.DependsOn(42)}, gormcache.ErrInvalidDependency, []string{"int is not a GORM model"}},
		{"nil", "k", []gormcache.RememberOption{gormcache.DependsOn(nil)}, gormcache.ErrInvalidDependency, []string{"nil"}},
		{"pointer to a nil interface", "k", []gormcache.RememberOption{gormcache.DependsOn(new(any))}, gormcache.ErrInvalidDependency, []string{"interface holding nil"}},
		{"empty key", "", nil, gormcache.ErrInvalidKey, nil},
		{"key with a brace", "a{b}", nil, gormcache.ErrInvalidKey, []string{"a{b}"}},
	}
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		fn := func(context.Context) (int, error) {
			t.Error("fn called")
			return 0, nil
		}
		for _, tt := range tests {
			_, err := gormcache.Remember(e.db, tt.key, fn, tt.opts...)
			require.ErrorIs(t, err, tt.err, tt.name)
			for _, m := range tt.msg {
				require.ErrorContains(t, err, m, tt.name)
			}
		}
		require.ErrorIs(t, gormcache.Forget(e.db, ""), gormcache.ErrInvalidKey)

		plain, err := gorm.Open(b.Open(t), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		_, err = gormcache.Remember(plain, "k", fn)
		require.ErrorIs(t, err, gormcache.ErrNotRegistered)
		require.ErrorIs(t, gormcache.Forget(plain, "k"), gormcache.ErrNotRegistered)
	})
}

// TestForget checks that Forget makes the next call compute the value, and
// that inside a transaction it waits for the commit.
func TestForget(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		var calls atomic.Int64
		fn := func(context.Context) (int64, error) { return calls.Add(1), nil }
		remember := func() int64 {
			v, err := gormcache.Remember(e.db, "k", fn, gormcache.DependsOn(&Photo{}))
			require.NoError(t, err)
			return v
		}
		require.Equal(t, int64(1), remember())
		require.NoError(t, gormcache.Forget(e.db, "other"))
		require.Equal(t, int64(1), remember(), "Forget of another key")
		require.NoError(t, gormcache.Forget(e.db, "k"))
		require.Equal(t, int64(2), remember())
		require.Equal(t, int64(2), remember())

		tx := e.db.Begin()
		require.NoError(t, gormcache.Forget(tx, "k"))
		require.Equal(t, int64(2), remember(), "Forget before its transaction commits")
		require.NoError(t, tx.Rollback().Error)
		require.Equal(t, int64(2), remember(), "Forget rolled back")

		tx = e.db.Begin()
		require.NoError(t, gormcache.Forget(tx, "k"))
		require.NoError(t, tx.Commit().Error)
		require.Equal(t, int64(3), remember(), "Forget committed")
	})
}

// failingStore fails every operation, like a store whose server is down.
type failingStore struct{}

var errStoreDown = errors.New("store down")

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, errStoreDown
}
func (failingStore) Stamps(context.Context, []store.Dep) ([]store.Stamp, error) {
	return nil, errStoreDown
}
func (failingStore) Set(context.Context, string, store.Entry, time.Duration) error {
	return errStoreDown
}
func (failingStore) Delete(context.Context, ...string) error        { return errStoreDown }
func (failingStore) Invalidate(context.Context, ...store.Dep) error { return errStoreDown }

// TestRememberStoreDown checks that a failing store degrades to calling fn,
// counted, never returned.
func TestRememberStoreDown(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{Store: failingStore{}})
		var calls atomic.Int64
		fn := func(context.Context) (int64, error) { return calls.Add(1), nil }
		for i := range 3 {
			v, err := gormcache.Remember(e.db, "k", fn, gormcache.DependsOn(&Photo{}))
			require.NoError(t, err)
			require.Equal(t, int64(i+1), v)
		}
		require.NoError(t, gormcache.Forget(e.db, "k"))
		if s := e.stats(); s.Errors < 3 || s.Fills != 0 {
			t.Fatalf("Errors, Fills: got %d, %d, want at least 3, 0", s.Errors, s.Fills)
		}
	})
}

// Unencodable holds a channel, which JSONCodec cannot encode.
type Unencodable struct {
	Name string
	C    chan int
}

// TestRememberUnencodableValue checks that a value the codec cannot encode
// is returned as fn returned it, counted as an error and not cached.
func TestRememberUnencodableValue(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		ch := make(chan int)
		var calls atomic.Int64
		fn := func(context.Context) (Unencodable, error) {
			calls.Add(1)
			return Unencodable{Name: "x", C: ch}, nil
		}
		for i := range 2 {
			v, err := gormcache.Remember(e.db, "k", fn)
			require.NoError(t, err)
			require.Equal(t, Unencodable{Name: "x", C: ch}, v)
			require.Equal(t, int64(i+1), calls.Load())
		}
		if s := e.stats(); s.Errors != 2 || s.Fills != 0 {
			t.Fatalf("Errors, Fills: got %d, %d, want 2, 0", s.Errors, s.Fills)
		}
	})
}

// SalesReport is a value with every kind of field JSONCodec round-trips.
type SalesReport struct {
	Title   string
	Day     time.Time
	Counts  map[string]int
	ByUser  map[uint][]Photo
	Top     *Photo
	Missing *Photo
	Zero    *int
	Active  *bool
	Empty   []string
	Nil     []string
	Raw     []byte
	Deleted gorm.DeletedAt
	Nested  struct{ Tags []Tag }
}

func newSalesReport() SalesReport {
	zero, active := 0, false
	day := time.Date(2024, 2, 29, 13, 14, 15, 16, time.UTC)
	return SalesReport{
		Title:   "weekly",
		Day:     day,
		Counts:  map[string]int{"a": 1, "b": 0},
		ByUser:  map[uint][]Photo{1: {{ID: 1, UserID: 1, Title: "a1", Status: 1}}, 2: {}},
		Top:     &Photo{ID: 2, Title: "a2", DeletedAt: gorm.DeletedAt{Time: day, Valid: true}},
		Zero:    &zero,
		Active:  &active,
		Empty:   []string{},
		Raw:     []byte{0, 1, 255},
		Deleted: gorm.DeletedAt{Time: day, Valid: true},
		Nested:  struct{ Tags []Tag }{Tags: []Tag{{ID: 3, Name: "t"}}},
	}
}

// TestRememberRoundTrip checks that a miss and a hit return a value equal
// to what fn returned, for every kind of field the default codec supports.
func TestRememberRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		fn := func(context.Context) (SalesReport, error) { return newSalesReport(), nil }
		for _, what := range []string{"miss", "hit"} {
			got, err := gormcache.Remember(e.db, "report", fn)
			require.NoError(t, err)
			require.Equal(t, newSalesReport(), got, what)
		}
		require.Equal(t, uint64(1), e.stats().Hits)
	})
}

// gobCodec is a Codec with encoding/gob that counts its calls.
type gobCodec struct{ calls *atomic.Int64 }

func (c gobCodec) Marshal(v any) ([]byte, error) {
	c.calls.Add(1)
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

func (c gobCodec) Unmarshal(data []byte, v any) error {
	c.calls.Add(1)
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// TestRememberCodec checks that RememberCodec replaces the default codec,
// and that a panic in a codec only keeps the value out of the cache.
func TestRememberCodec(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		var codecCalls, calls atomic.Int64
		codec := gormcache.RememberCodec(gobCodec{&codecCalls})
		fn := func(context.Context) (map[string][]int, error) {
			calls.Add(1)
			return map[string][]int{"a": {1, 2}}, nil
		}
		for range 2 {
			v, err := gormcache.Remember(e.db, "k", fn, codec)
			require.NoError(t, err)
			require.Equal(t, map[string][]int{"a": {1, 2}}, v)
		}
		require.Equal(t, int64(1), calls.Load())
		require.Equal(t, int64(3), codecCalls.Load(), "encode and decode on the miss, decode on the hit")

		// gob panics on a nil pointer.
		nilPhoto := func(context.Context) (*Photo, error) { calls.Add(1); return nil, nil }
		for range 2 {
			v, err := gormcache.Remember(e.db, "nil", nilPhoto, codec)
			require.NoError(t, err)
			require.Nil(t, v)
		}
		require.Equal(t, int64(3), calls.Load(), "a value the codec panics on is not cached")
	})
}

// TestRememberKeysAreNamespaced checks that Remember keys carry the plugin's
// prefix and a marker of their own, apart from query keys.
func TestRememberKeysAreNamespaced(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{Prefix: "app1:"})
		_, err := gormcache.Remember(e.db, "k", func(context.Context) (int, error) { return 1, nil })
		require.NoError(t, err)
		_, ok, err := e.p.Store().Get(context.Background(), "app1:fn:k")
		require.NoError(t, err)
		require.True(t, ok, "entry under app1:fn:k")
	})
}

// BenchmarkRememberHit measures a Remember call served by the memory store.
func BenchmarkRememberHit(b *testing.B) {
	e := newEnv(b, backend{Dialector: testdb.Dialector{Name: "sqlite"}, store: storeFactories[0]}, gormcache.Config{})
	fn := func(context.Context) (SalesReport, error) { return newSalesReport(), nil }
	opt := gormcache.DependsOn(&Photo{})
	_, err := gormcache.Remember(e.db, "report", fn, opt)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gormcache.Remember(e.db, "report", fn, opt); err != nil {
			b.Fatal(err)
		}
	}
	s := e.stats()
	b.ReportMetric(s.HitRatio(), "hit-ratio")
}

// TestRememberIgnoresTheCallersScope runs fn for a caller whose request
// scope answered a read before another instance wrote: the value Remember
// stores for every caller must not be computed from the scope's older
// answers.
func TestRememberIgnoresTheCallersScope(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "sqlite" {
			t.Skip("the scope is the same on every database")
		}
		shared := b.store.new(t)
		dir := t.TempDir()
		d := sqlite.Open(filepath.Join(dir, "shared.db"))
		instance := func() *gorm.DB {
			db := openWith(t, d, gormcache.New(gormcache.Config{Store: shared}))
			require.NoError(t, db.AutoMigrate(models...))
			return db
		}
		a, other := instance(), instance()
		require.NoError(t, a.Create(&User{ID: 1, Name: "ada"}).Error)
		name := func(db *gorm.DB) func(ctx context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				var u User
				err := db.WithContext(ctx).Clauses(gormcache.Cache()).First(&u, 1).Error
				return u.Name, err
			}
		}
		request := a.WithContext(gormcache.WithRequestScope(context.Background()))
		require.NoError(t, request.Clauses(gormcache.Cache()).First(&User{}, 1).Error) // the scope keeps "ada"
		require.NoError(t, other.Model(&User{ID: 1}).Update("name", "grace").Error)
		_, err := gormcache.Remember(request, "name", name(a), gormcache.DependsOn(&User{ID: 1}))
		require.NoError(t, err)
		v, err := gormcache.Remember(other, "name", name(other), gormcache.DependsOn(&User{ID: 1}))
		require.NoError(t, err)
		assert.Equal(t, "grace", v, "the value was computed from a request scope's older answer")
	})
}

// TestRememberWhenFnExits checks that a fn that ends its goroutine
// (runtime.Goexit, as t.FailNow does) ends its caller's, as it would
// without the plugin, and that a caller waiting for it computes the value
// itself rather than waiting for ever.
func TestRememberWhenFnExits(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		started, release := make(chan struct{}), make(chan struct{})
		var calls atomic.Int64
		fn := func(context.Context) (string, error) {
			if calls.Add(1) == 1 {
				close(started)
				<-release
				runtime.Goexit()
			}
			return "computed", nil
		}
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			_, _ = gormcache.Remember(e.db, "k", fn)
			t.Error("Remember returned after fn ended its goroutine")
		}()
		<-started
		second := goRemember(e.db, "k", fn)
		time.Sleep(50 * time.Millisecond) // the second call joins the first
		close(release)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Fatal("the caller of a fn that exited still waits")
		}
		select {
		case r := <-second:
			require.NoError(t, r.err)
			require.Equal(t, "computed", r.v)
		case <-time.After(10 * time.Second):
			t.Fatal("the caller waiting for a fn that exited still waits")
		}
	})
}
