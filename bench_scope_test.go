package gormcache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
)

// BenchmarkRequestScope measures a request — one op — that runs the same
// First by primary key `reads` times, all of them hits, with and without a
// request scope (scope=true, false), on the Redis store and, for
// reference, on the memory store: its time, and its round trips to Redis
// (roundtrips/op); paired runs both, back to back, and reports the ratio
// of their times (noscope/scope). reads=1 is the cost of a scope to a
// request that repeats nothing.
func BenchmarkRequestScope(b *testing.B) {
	client := testredis.Client(b)
	rt := testredis.CountRoundTrips(client)
	mem, err := memory.New(memory.Config{})
	require.NoError(b, err)
	for _, st := range []struct {
		name  string
		store store.Store
	}{
		{"redis", newRedisStore(b, client, redis.Config{})},
		{"memory", mem},
	} {
		db, err := gorm.Open(testdb.Dialector{Name: "sqlite"}.Open(b), &gorm.Config{Logger: logger.Discard})
		require.NoError(b, err)
		p := gormcache.New(gormcache.Config{Store: st.store, CacheAll: true})
		require.NoError(b, db.Use(p))
		require.NoError(b, db.AutoMigrate(models...))
		require.NoError(b, db.Create(&User{Name: "ada", Email: "ada@example.com"}).Error)
		require.NoError(b, db.First(&User{}, 1).Error) // stored: every read below hits
		request := func(reads int, scoped bool) {
			ctx := context.Background()
			if scoped {
				ctx = gormcache.WithRequestScope(ctx)
			}
			db := db.WithContext(ctx)
			for range reads {
				var u User
				if err := db.First(&u, 1).Error; err != nil || u.Name != "ada" {
					b.Fatalf("got %q, %v", u.Name, err)
				}
			}
		}
		for _, reads := range []int{1, 10} {
			for _, scoped := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/reads=%d/scope=%t", st.name, reads, scoped), func(b *testing.B) {
					misses, trips := p.Stats().Misses, rt.Load()
					b.ReportAllocs()
					for b.Loop() {
						request(reads, scoped)
					}
					if p.Stats().Misses != misses {
						b.Fatal("a read missed")
					}
					if st.name == "redis" {
						b.ReportMetric(float64(rt.Load()-trips)/float64(b.N), "roundtrips/op")
					}
				})
			}
			b.Run(fmt.Sprintf("%s/reads=%d/paired", st.name, reads), func(b *testing.B) {
				// Each iteration runs a request without a scope and one with,
				// in a random order, so that the ratio does not drift with
				// the load of a shared machine between runs.
				var spent [2]time.Duration
				for b.Loop() {
					for _, i := range rand.Perm(2) {
						start := time.Now()
						request(reads, i == 1)
						spent[i] += time.Since(start)
					}
				}
				b.ReportMetric(float64(spent[0])/float64(spent[1]), "noscope/scope")
			})
		}
	}
}
