package gormcache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

// User, Photo, Tag and Profile are the models most tests share.
type User struct {
	ID      uint
	Name    string
	Email   string
	Photos  []Photo
	Profile *Profile
	Tags    []Tag `gorm:"many2many:user_tags"`
}

type Photo struct {
	ID        uint
	UserID    uint
	Title     string
	Status    int
	DeletedAt gorm.DeletedAt `gorm:"index"`
	User      *User
}

type Tag struct {
	ID   uint
	Name string `gorm:"uniqueIndex"`
}

type Profile struct {
	ID     uint
	UserID uint
	Bio    string
}

var models = []any{&User{}, &Photo{}, &Tag{}, &Profile{}}

// env is a database with the plugin registered and the shared models
// migrated.
type env struct {
	t  testing.TB
	db *gorm.DB
	p  *gormcache.Plugin
}

func newEnv(t testing.TB, d testdb.Dialector, cfg gormcache.Config) *env {
	t.Helper()
	db, err := gorm.Open(d.Open(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	p := gormcache.New(cfg)
	require.NoError(t, db.Use(p))
	require.NoError(t, db.AutoMigrate(models...))
	return &env{t: t, db: db, p: p}
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
	before := e.stats()
	fn()
	after := e.stats()
	if after.Hits == before.Hits || after.Misses != before.Misses {
		e.t.Fatalf("want hits only, got %d hits and %d misses", after.Hits-before.Hits, after.Misses-before.Misses)
	}
}

// mustMiss runs fn and fails unless all its statements went to the database.
func (e *env) mustMiss(fn func()) {
	e.t.Helper()
	before := e.stats()
	fn()
	after := e.stats()
	if after.Misses == before.Misses || after.Hits != before.Hits {
		e.t.Fatalf("want misses only, got %d hits and %d misses", after.Hits-before.Hits, after.Misses-before.Misses)
	}
}

// fakeClock is a manually advanced clock for TTL tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }
