package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/metrics"
	"github.com/gormcache/gormcache/store/redis"
)

type User struct {
	ID   uint
	Name string
}

func TestCollector(t *testing.T) {
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{})
	require.NoError(t, db.Use(p))
	require.NoError(t, db.AutoMigrate(&User{}))
	require.NoError(t, db.Create(&User{Name: "ada"}).Error)
	for range 3 {
		var u User
		require.NoError(t, db.Clauses(gormcache.Cache()).First(&u, 1).Error)
	}
	scoped := db.WithContext(gormcache.WithRequestScope(context.Background()))
	for range 2 { // a hit of the store, then of the scope
		var u User
		require.NoError(t, scoped.Clauses(gormcache.Cache()).First(&u, 1).Error)
	}

	got := gather(t, metrics.NewCollector(p, metrics.Options{ConstLabels: prometheus.Labels{"db": "main"}}))
	for name, want := range map[string]float64{
		"gormcache_hits_total":                      4,
		"gormcache_scope_hits_total":                1,
		"gormcache_misses_total":                    1,
		"gormcache_fills_total":                     1,
		"gormcache_table_hits_total{table=users}":   4,
		"gormcache_table_misses_total{table=users}": 1,
		"gormcache_store_entries":                   1,
	} {
		if got[name] != want {
			t.Errorf("%s: got %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
	require.Greater(t, got["gormcache_invalidations_total"], 0.0, "the create")
	require.Greater(t, got["gormcache_store_bytes"], 0.0)
	require.NotContains(t, got, "gormcache_near_trusted", "a memory store has no near cache")
}

// gather registers c with a pedantic registry, lints it and returns the
// value of each metric, by name and labels but the const label db, which
// must be "main" where present.
func gather(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)

	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "db" {
					require.Equal(t, "main", l.GetValue())
				} else {
					name += "{" + l.GetName() + "=" + l.GetValue() + "}"
				}
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return got
}

// TestCollectorNear runs two instances on near caches over one Redis and
// exports the first's: its lease state, hits from memory, and the writes
// that waited for the other's acknowledgement.
func TestCollectorNear(t *testing.T) {
	dial, prefix := testdb.Sqlite(t), testredis.Prefix(t)
	open := func() (*gorm.DB, *gormcache.Plugin, *redis.Near) {
		rs, err := redis.New(testredis.Client(t), redis.Config{Prefix: prefix, Logf: t.Logf})
		require.NoError(t, err)
		n, err := redis.NewNear(rs, redis.NearConfig{Lease: time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, n.Close()) })
		db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		p := gormcache.New(gormcache.Config{Store: n})
		require.NoError(t, db.Use(p))
		return db, p, n
	}
	db, p, n := open()
	_, _, other := open()
	for start := time.Now(); !n.NearStats().Trusted || !other.NearStats().Trusted; time.Sleep(10 * time.Millisecond) {
		require.Less(t, time.Since(start), 10*time.Second, "the near caches do not serve from memory after 10s")
	}
	require.NoError(t, db.AutoMigrate(&User{}))
	require.NoError(t, db.Create(&User{Name: "ada"}).Error)
	require.NoError(t, db.Model(&User{ID: 1}).Update("name", "grace").Error)
	for start := time.Now(); n.NearStats().Hits == 0; {
		require.Less(t, time.Since(start), 10*time.Second, "no hit from memory after 10s")
		require.NoError(t, db.Clauses(gormcache.Cache()).First(&User{}, 1).Error)
	}

	c := metrics.NewCollector(p, metrics.Options{ConstLabels: prometheus.Labels{"db": "main"}})
	before := n.NearStats()
	got := gather(t, c)
	after := n.NearStats()
	require.True(t, before.Trusted && after.Trusted, "the near cache stopped serving from memory: the test proves little")
	require.Equal(t, 1.0, got["gormcache_near_trusted"])
	// The counters the lease's goroutine moves may grow during the scrape.
	for name, v := range map[string][2]uint64{
		"gormcache_near_hits_total":                    {before.Hits, after.Hits},
		"gormcache_near_validations_total":             {before.Validated, after.Validated},
		"gormcache_near_fences_total":                  {before.Fences, after.Fences},
		"gormcache_near_renewals_total":                {before.Renewals, after.Renewals},
		"gormcache_near_renewal_failures_total":        {before.RenewalFailures, after.RenewalFailures},
		"gormcache_near_invalidations_applied_total":   {before.Applied, after.Applied},
		"gormcache_near_invalidations_published_total": {before.Published, after.Published},
		"gormcache_near_writes_acked_total":            {before.Acked, after.Acked},
		"gormcache_near_writes_lapsed_total":           {before.Lapsed, after.Lapsed},
	} {
		if got[name] < float64(v[0]) || got[name] > float64(v[1]) {
			t.Errorf("%s: got %v, want between %d and %d", name, got[name], v[0], v[1])
		}
	}
	require.Equal(t, after.LapseWait.Seconds(), got["gormcache_near_lapse_wait_seconds_total"])
	require.NotZero(t, got["gormcache_near_hits_total"])
	require.NotZero(t, got["gormcache_near_renewals_total"])
	require.NotZero(t, got["gormcache_near_writes_acked_total"], "no write waited for the other instance")
}
