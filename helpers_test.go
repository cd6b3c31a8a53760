package gormcache_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/testdata/photos"
)

// User, Photo, Tag and Profile are the models most tests share, those of
// package photos.
type (
	User    = photos.User
	Photo   = photos.Photo
	Tag     = photos.Tag
	Profile = photos.Profile
)

var models = photos.All()

// storeFactory makes a fresh store for one test. Every plugin test runs
// once per factory and per database engine.
type storeFactory struct {
	name string
	new  func(t testing.TB) store.Store
}

// storeFactories lists the stores plugin tests run against. Files that add
// a store (Redis) append to it from an init function.
var storeFactories = []storeFactory{
	{name: "memory", new: func(t testing.TB) store.Store {
		s, err := memory.New(memory.Config{})
		require.NoError(t, err)
		return s
	}},
}

// backend is one database engine with one store.
type backend struct {
	testdb.Dialector
	store storeFactory
}

// each runs fn as a subtest for every database engine and every store.
func each(t *testing.T, fn func(t *testing.T, b backend)) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		for _, sf := range storeFactories {
			t.Run(sf.name, func(t *testing.T) { fn(t, backend{Dialector: d, store: sf}) })
		}
	})
}

// env is a database with the plugin registered and the shared models
// migrated.
type env struct {
	t  testing.TB
	db *gorm.DB
	p  *gormcache.Plugin
}

// newEnv opens a new database of b's engine and registers a plugin
// configured by cfg, with a new store of b's kind unless cfg names one.
func newEnv(t testing.TB, b backend, cfg gormcache.Config) *env {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = b.store.new(t)
	}
	return newEnvOn(t, b.Open(t), cfg)
}

// newEnvOn is newEnv on the database d opens, with the memory store unless
// cfg names one.
func newEnvOn(t testing.TB, d gorm.Dialector, cfg gormcache.Config) *env {
	t.Helper()
	p := gormcache.New(cfg)
	db := openWith(t, d, p)
	require.NoError(t, db.AutoMigrate(models...))
	return &env{t: t, db: db, p: p}
}

// openWith opens d, whose pool is closed in t.Cleanup, with p registered.
func openWith(t testing.TB, d gorm.Dialector, p *gormcache.Plugin) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	require.NoError(t, db.Use(p))
	return db
}

// seed creates two users with photos, a profile and tags.
func (e *env) seed() {
	e.t.Helper()
	users := []User{
		{Name: "ada", Email: "ada@example.com",
			Photos:  []Photo{{Title: "a1", Status: 1}, {Title: "a2", Status: 2}, {Title: "a3", Status: 2}},
			Profile: &Profile{Bio: "mathematician"},
			Tags:    []Tag{{Name: "math"}, {Name: "poetry"}}},
		{Name: "grace", Email: "grace@example.com",
			Photos: []Photo{{Title: "g1", Status: 1}},
			Tags:   []Tag{{Name: "navy"}}},
	}
	require.NoError(e.t, e.db.Create(&users).Error)
}

// cached runs fn with a cached session; uncached with NoCache.
func (e *env) cached() *gorm.DB   { return e.db.Clauses(gormcache.Cache()) }
func (e *env) uncached() *gorm.DB { return e.db.Clauses(gormcache.NoCache()) }

func (e *env) stats() gormcache.Stats { return e.p.Stats() }

// mustHit runs fn and fails unless all its statements (a query and its
// preloads) were served by the cache.
func (e *env) mustHit(fn func()) {
	e.t.Helper()
	freshness.MustHit(e.t, e.p, "the statements", fn)
}

// mustMiss runs fn and fails unless all its statements went to the database.
func (e *env) mustMiss(fn func()) {
	e.t.Helper()
	freshness.MustMiss(e.t, e.p, "the statements", fn)
}

// fakeClock is a manually advanced clock for TTL tests; the store reads it
// from its own goroutines too.
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Now().UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }
