package gormcache_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/blog"
)

// traceLog is a GORM logger that keeps what Trace is given.
type traceLog struct {
	logger.Interface
	mu    sync.Mutex
	lines []traced
}

type traced struct {
	sql     string
	rows    int64
	elapsed time.Duration
}

func (l *traceLog) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *traceLog) Trace(_ context.Context, begin time.Time, fc func() (string, int64), _ error) {
	sql, rows := fc()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, traced{sql, rows, time.Since(begin)})
}

// since returns the lines logged after the first n.
func (l *traceLog) since(n int) []traced {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines[n:])
}

func (l *traceLog) last() traced {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[len(l.lines)-1]
}

// TestHitLogged checks that GORM's logger logs a hit as it logs any query,
// with its SQL, rows and duration, and says the cache served it.
func TestHitLogged(t *testing.T) {
	log := &traceLog{Interface: logger.Discard}
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: log})
	require.NoError(t, err)
	require.NoError(t, db.Use(gormcache.New(gormcache.Config{})))
	require.NoError(t, blog.Seed(db))
	for _, read := range []struct {
		name string
		run  func(*gorm.DB) error
	}{
		{"Find", func(db *gorm.DB) error { return db.Where("published = ?", true).Find(&[]blog.Post{}).Error }},
		{"First", func(db *gorm.DB) error { return db.First(&blog.Post{}, 1).Error }},
		{"Row", func(db *gorm.DB) error {
			var n int
			return db.Model(&blog.Post{}).Select("count(*)").Row().Scan(&n)
		}},
	} {
		require.NoError(t, read.run(db.Clauses(gormcache.Cache())), read.name)
		miss := log.last()
		require.NotContains(t, miss.sql, "gormcache", read.name)
		require.NoError(t, read.run(db.Clauses(gormcache.Cache())), read.name)
		hit := log.last()
		require.Equal(t, miss.sql+" /* gormcache: hit */", hit.sql, read.name)
		require.Equal(t, miss.rows, hit.rows, read.name)
		require.Less(t, hit.elapsed, time.Second, read.name)
		require.Positive(t, hit.elapsed, read.name)
	}
	require.NoError(t, db.Clauses(gormcache.NoCache()).Find(&[]blog.Post{}).Error)
	require.False(t, strings.Contains(log.last().sql, "gormcache"), "a bypass is a database read")
}

// TestImageReadLogged checks that GORM's logger logs the plugin's read of
// the rows a write changes, as it logs the write itself: the read runs on
// the write's transaction without GORM's callbacks, not unseen.
func TestImageReadLogged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		log := &traceLog{Interface: logger.Discard}
		db, err := gorm.Open(d.Open(t), &gorm.Config{Logger: log})
		require.NoError(t, err)
		require.NoError(t, db.Use(gormcache.New(gormcache.Config{})))
		require.NoError(t, blog.Seed(db))
		require.NoError(t, db.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&[]blog.Post{}).Error)
		n := len(log.since(0))
		require.NoError(t, db.Model(&blog.Post{ID: 1}).Update("title", "Logged").Error)
		lines := log.since(n)
		i := slices.IndexFunc(lines, func(l traced) bool { return strings.HasPrefix(l.sql, "SELECT * FROM") })
		require.GreaterOrEqual(t, i, 0, "the read of the old row is logged: %v", lines)
		read := lines[i]
		require.Contains(t, read.sql, "posts")
		require.Equal(t, int64(1), read.rows)
		if d.Name != "sqlite" {
			require.Contains(t, read.sql, "FOR UPDATE")
		}
	})
}
