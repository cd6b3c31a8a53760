package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/metrics"
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

	c := metrics.NewCollector(p, metrics.Options{ConstLabels: prometheus.Labels{"db": "main"}})
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
}
