package gormcache_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store/memory"
)

// Note is cached by its model policy.
type Note struct {
	ID   uint
	Body string
}

func (Note) CachePolicy() gormcache.Policy {
	return gormcache.Policy{CacheAll: true, TTL: time.Hour}
}

// Author's primary-key lookups are cached by its policy.
type Author struct {
	ID   uint
	Name string
}

func (*Author) CachePolicy() gormcache.Policy { return gormcache.Policy{CacheGet: true} }

func TestPolicies(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		t.Run("model CacheAll", func(t *testing.T) {
			e := newEnv(t, b, gormcache.Config{})
			require.NoError(t, e.db.AutoMigrate(&Note{}))
			require.NoError(t, e.db.Create(&Note{Body: "n"}).Error)
			var ns []Note
			e.mustMiss(func() { require.NoError(t, e.db.Find(&ns).Error) })
			e.mustHit(func() { require.NoError(t, e.db.Find(&ns).Error) })
			// Other models are not cached.
			before := e.stats()
			var us []User
			require.NoError(t, e.db.Find(&us).Error)
			require.NoError(t, e.db.Find(&us).Error)
			require.Equal(t, before, e.stats(), "a model without a policy was cached")
		})
		t.Run("model CacheGet", func(t *testing.T) {
			e := newEnv(t, b, gormcache.Config{})
			require.NoError(t, e.db.AutoMigrate(&Author{}))
			require.NoError(t, e.db.Create(&[]Author{{Name: "a"}, {Name: "b"}}).Error)
			e.mustMiss(func() { require.NoError(t, e.db.First(&Author{}, 1).Error) })
			e.mustHit(func() { require.NoError(t, e.db.First(&Author{}, 1).Error) })
			e.mustMiss(func() { require.NoError(t, e.db.Take(&Author{ID: 2}).Error) })
			e.mustHit(func() { require.NoError(t, e.db.Take(&Author{ID: 2}).Error) })
			before := e.stats()
			var as []Author
			require.NoError(t, e.db.Where("name = ?", "a").Find(&as).Error)
			require.NoError(t, e.db.Where("name = ?", "a").Find(&as).Error)
			require.Equal(t, before, e.stats(), "a non primary-key query was cached under CacheGet")
		})
		t.Run("config CacheAll and NoCache", func(t *testing.T) {
			e := newEnv(t, b, gormcache.Config{CacheAll: true})
			e.seed()
			var us []User
			e.mustMiss(func() { require.NoError(t, e.db.Where("name = ?", "ada").Find(&us).Error) })
			e.mustHit(func() { require.NoError(t, e.db.Where("name = ?", "ada").Find(&us).Error) })
			before := e.stats()
			require.NoError(t, e.db.Clauses(gormcache.NoCache()).Where("name = ?", "ada").Find(&us).Error)
			after := e.stats()
			if after.Hits != before.Hits || after.Misses != before.Misses || after.Bypassed != before.Bypassed+1 {
				t.Fatalf("NoCache: stats went from %+v to %+v, want one more Bypassed only", before, after)
			}
		})
		t.Run("config CacheGet", func(t *testing.T) {
			e := newEnv(t, b, gormcache.Config{CacheGet: true})
			e.seed()
			e.mustMiss(func() { require.NoError(t, e.db.First(&User{}, 2).Error) })
			e.mustHit(func() { require.NoError(t, e.db.First(&User{}, 2).Error) })
			e.mustMiss(func() { require.NoError(t, e.db.Find(&[]User{}, []int{1, 2}).Error) })
			e.mustHit(func() { require.NoError(t, e.db.Find(&[]User{}, []int{1, 2}).Error) })
			// Soft-deleted models keep their deleted_at condition and are still lookups.
			e.mustMiss(func() { require.NoError(t, e.db.First(&Photo{}, 1).Error) })
			e.mustHit(func() { require.NoError(t, e.db.First(&Photo{}, 1).Error) })
			before := e.stats()
			require.NoError(t, e.db.Where("name = ?", "ada").First(&User{}).Error)
			require.NoError(t, e.db.Where("name = ?", "ada").First(&User{}).Error)
			require.Equal(t, before, e.stats(), "a non primary-key query was cached under CacheGet")
		})
		t.Run("locking reads bypass", func(t *testing.T) {
			if b.Name == "sqlite" {
				t.Skip("SQLite has no FOR UPDATE")
			}
			e := newEnv(t, b, gormcache.Config{CacheAll: true})
			e.seed()
			before := e.stats()
			var us []User
			require.NoError(t, e.db.Clauses(lockingUpdate).Find(&us).Error)
			require.NoError(t, e.db.Raw("SELECT * FROM users FOR UPDATE").Scan(&us).Error)
			after := e.stats()
			if after.Bypassed != before.Bypassed+2 || after.Hits+after.Misses != before.Hits+before.Misses {
				t.Fatalf("locking reads: stats went from %+v to %+v, want two more Bypassed only", before, after)
			}
		})
	})
}

func TestTTL(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		clock := newFakeClock()
		st, err := memory.New(memory.Config{Clock: clock})
		require.NoError(t, err)
		e := newEnv(t, b, gormcache.Config{Store: st, TTL: time.Minute})
		e.seed()
		short := func() { require.NoError(t, e.cached().Find(&[]User{}).Error) }
		long := func() { require.NoError(t, e.db.Clauses(gormcache.TTL(10*time.Minute)).Find(&[]Photo{}).Error) }
		e.mustMiss(short)
		e.mustMiss(long)
		clock.Advance(59 * time.Second)
		e.mustHit(short)
		clock.Advance(2 * time.Second)
		e.mustMiss(short) // the Config's TTL passed
		e.mustHit(long)   // its own did not
		clock.Advance(10 * time.Minute)
		e.mustMiss(long)
	})
}

func TestPrefixIsolation(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		shared := b.store.new(t)
		e1 := newEnv(t, b, gormcache.Config{Store: shared, Prefix: "app1:"})
		e1.seed()
		// A second application on its own database, sharing the store.
		e2 := newEnv(t, b, gormcache.Config{Store: shared, Prefix: "app2:"})
		require.NoError(t, e2.db.Create(&User{Name: "other"}).Error)

		var u1, u2 []User
		e1.mustMiss(func() { require.NoError(t, e1.cached().Order("id").Find(&u1).Error) })
		e2.mustMiss(func() { require.NoError(t, e2.cached().Order("id").Find(&u2).Error) })
		require.Len(t, u1, 2)
		require.Len(t, u2, 1)
		e1.mustHit(func() { require.NoError(t, e1.cached().Order("id").Find(&u1).Error) })

		// A write in app2 does not invalidate app1's entries.
		require.NoError(t, e2.db.Create(&User{Name: "another"}).Error)
		e1.mustHit(func() { require.NoError(t, e1.cached().Order("id").Find(&u1).Error) })
		e2.mustMiss(func() { require.NoError(t, e2.cached().Order("id").Find(&u2).Error) })
		require.Len(t, u2, 2)
	})
}

var lockingUpdate = clause.Locking{Strength: "UPDATE"}

// holdingPool counts the reads of the test (those ending in ORDER BY id)
// and holds the first until released.
type holdingPool struct {
	gorm.ConnPool
	mu      sync.Mutex
	reads   int
	release chan struct{}
}

func (h *holdingPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if !strings.HasSuffix(query, "ORDER BY id") {
		// Not the test's read: the plugin's own, of the catalogue.
		return h.ConnPool.QueryContext(ctx, query, args...)
	}
	h.mu.Lock()
	h.reads++
	first := h.reads == 1
	h.mu.Unlock()
	if first {
		<-h.release
	}
	return h.ConnPool.QueryContext(ctx, query, args...)
}

// TestConcurrentMissesQueryOnce checks the singleflight: concurrent misses of
// one key share one database read.
func TestConcurrentMissesQueryOnce(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		pool := &holdingPool{ConnPool: e.db.ConnPool, release: make(chan struct{})}
		const n = 8
		var wg sync.WaitGroup
		results := make([][]User, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := e.cached().Session(&gorm.Session{})
				db.Statement.ConnPool = pool
				require.NoError(t, db.Order("id").Find(&results[i]).Error)
			}()
		}
		time.Sleep(500 * time.Millisecond) // let every reader reach the flight
		close(pool.release)
		wg.Wait()
		if pool.reads != 1 {
			t.Fatalf("database reads: got %d, want 1 for %d concurrent misses", pool.reads, n)
		}
		if s := e.stats(); s.Fills != 1 {
			t.Fatalf("Fills: got %d, want 1", s.Fills)
		}
		for i := range results {
			require.Len(t, results[i], 2)
		}
	})
}

// TestWaitersKeepTheirDeadline checks that a miss waiting for another
// caller's read of its key waits no longer than its context lets it: it
// fails as its own read would have, with its context's error, while the
// other read goes on and fills the cache.
func TestWaitersKeepTheirDeadline(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		pool := &holdingPool{ConnPool: e.db.ConnPool, release: make(chan struct{})}
		read := func(ctx context.Context) ([]User, error) {
			db := e.cached().Session(&gorm.Session{Context: ctx})
			db.Statement.ConnPool = pool
			var users []User
			err := db.Order("id").Find(&users).Error
			return users, err
		}
		led := make(chan error, 1)
		go func() {
			_, err := read(context.Background())
			led <- err
		}()
		for reads := 0; reads == 0; {
			time.Sleep(10 * time.Millisecond)
			pool.mu.Lock()
			reads = pool.reads
			pool.mu.Unlock()
		}
		// Without the deadline, the waiter would wait for the release.
		released := time.AfterFunc(3*time.Second, func() { close(pool.release) })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		began := time.Now()
		_, err := read(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(began), 2*time.Second, "the waiter outlived its deadline")
		if released.Stop() {
			close(pool.release)
		}
		require.NoError(t, <-led)
		e.mustHit(func() {
			users, err := read(context.Background())
			require.NoError(t, err)
			require.Len(t, users, 2)
		})
	})
}

// TestEndedContextsFailAsWithoutThePlugin: a read whose context has ended
// fails with the context's error, as GORM fails it without the plugin,
// even when the cache or a request scope holds its result.
func TestEndedContextsFailAsWithoutThePlugin(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		scope := gormcache.WithRequestScope(context.Background())
		reads := map[string]func(db *gorm.DB) error{
			"Find": func(db *gorm.DB) error {
				var users []User
				return db.Order("id").Find(&users).Error
			},
			"First": func(db *gorm.DB) error {
				var u User
				return db.First(&u, "name = ?", "ada").Error
			},
			"Row": func(db *gorm.DB) error {
				var n int64
				return db.Model(&User{}).Select("count(*)").Row().Scan(&n)
			},
		}
		for name, read := range reads {
			e.mustMiss(func() { require.NoError(t, read(e.cached().WithContext(scope))) })
			e.mustHit(func() { require.NoError(t, read(e.cached())) })
			for _, parent := range []context.Context{context.Background(), scope} {
				ctx, cancel := context.WithCancel(parent)
				cancel()
				before := e.stats()
				assert.ErrorIs(t, read(e.cached().WithContext(ctx)), context.Canceled, "%s with an ended context", name)
				after := e.stats()
				assert.Equal(t, before.Hits, after.Hits, "%s: a hit served an ended context", name)
				assert.Equal(t, before.Bypassed+1, after.Bypassed, name)
				assert.ErrorIs(t, read(e.uncached().WithContext(ctx)), context.Canceled, "%s without the cache", name)
			}
		}
	})
}

// TestTTLBoundsTheAgeOfHits: a read's TTL bounds how old a result it is
// served, even when the read that stored the result asked for a longer
// one (another call site, another instance's Config).
func TestTTLBoundsTheAgeOfHits(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := func(ttl time.Duration) User {
			var u User
			require.NoError(t, e.db.Clauses(gormcache.TTL(ttl)).First(&u, 1).Error)
			return u
		}
		e.mustMiss(func() { read(time.Hour) })
		e.mustHit(func() { read(time.Hour) })
		time.Sleep(150 * time.Millisecond)
		e.mustHit(func() { read(time.Second) })
		// Changed behind GORM's back: only a TTL bounds how long it shows.
		require.NoError(t, e.db.Exec("UPDATE users SET name = 'changed' WHERE id = 1").Error)
		e.mustMiss(func() { read(time.Hour) }) // the Exec invalidated: stored again
		sqlDB, err := e.db.DB()
		require.NoError(t, err)
		_, err = sqlDB.Exec("UPDATE users SET name = 'behind' WHERE id = 1")
		require.NoError(t, err)
		time.Sleep(150 * time.Millisecond)
		e.mustHit(func() { require.Equal(t, "changed", read(time.Hour).Name) })
		e.mustMiss(func() { require.Equal(t, "behind", read(100*time.Millisecond).Name) })
		e.mustHit(func() { require.Equal(t, "behind", read(time.Hour).Name) })
	})
}

// holdingIdentity holds the plugin's first read of which database it
// reaches (see database.go) until released.
type holdingIdentity struct {
	gorm.ConnPool
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (h *holdingIdentity) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if strings.Contains(query, "pragma_database_list") {
		h.once.Do(func() {
			close(h.held)
			<-h.release
		})
	}
	return h.ConnPool.QueryContext(ctx, query, args...)
}

// TestIdentityWaitersKeepTheirDeadline checks that the first reads of a
// database, which wait for one read of which database it is, wait no
// longer than their context lets them.
func TestIdentityWaitersKeepTheirDeadline(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "sqlite" {
			t.Skip("the held query is SQLite's")
		}
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		pool := &holdingIdentity{ConnPool: e.db.ConnPool, held: make(chan struct{}), release: make(chan struct{})}
		read := func(ctx context.Context) error {
			db := e.cached().Session(&gorm.Session{Context: ctx})
			db.Statement.ConnPool = pool
			var users []User
			return db.Order("id").Find(&users).Error
		}
		first := make(chan error, 1)
		go func() { first <- read(context.Background()) }()
		select {
		case <-pool.held:
		case err := <-first:
			t.Fatalf("the first read returned (%v) without reading which database it reaches through the pool", err)
		}
		released := time.AfterFunc(3*time.Second, func() { close(pool.release) })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		began := time.Now()
		assert.ErrorIs(t, read(ctx), context.DeadlineExceeded)
		assert.Less(t, time.Since(began), 2*time.Second, "the waiter outlived its deadline")
		if released.Stop() {
			close(pool.release)
		}
		require.NoError(t, <-first)
	})
}

// TestConfigErrors checks that Use fails with ErrConfig, saying what is
// wrong, for each field out of range.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  gormcache.Config
		want string
	}{
		{gormcache.Config{TTL: -time.Second}, "TTL is negative (-1s)"},
		{gormcache.Config{MaxWriteRows: -1}, "MaxWriteRows is negative (-1)"},
		{gormcache.Config{Precision: 99}, "Precision 99 is none of"},
		{gormcache.Config{Prefix: "a{b}:"}, `Prefix "a{b}:" contains a brace`},
	} {
		db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		err = db.Use(gormcache.New(tc.cfg))
		require.ErrorIs(t, err, gormcache.ErrConfig)
		require.ErrorContains(t, err, tc.want)
	}
}
