package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
)

// TestRedisStore runs the admin on the Redis store, which lists in its own
// order and counts no hits.
func TestRedisStore(t *testing.T) {
	f := onRedis(t)

	status, body := f.Get(t, "api/store")
	require.Equal(t, http.StatusOK, status, body)
	var st struct {
		Kind         string
		Capabilities []string
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Equal(t, "redis", st.Kind)
	require.NotContains(t, st.Capabilities, store.CapHits)

	entries := f.AllEntries(t, "")
	require.Len(t, entries, 3)
	sqls := 0
	for _, e := range entries {
		require.Equal(t, int64(-1), e.Hits, e.Key)
		if e.Key == f.Key {
			require.Contains(t, e.SQL, "published", "the SQL of the listed query entry")
			sqls++
		}
	}
	require.Equal(t, 1, sqls, "the query entry is listed")
	_, body = f.Get(t, "entries")
	require.NotContains(t, body, `value="hits"`)
	require.NotContains(t, body, "<th>Hits</th>")
	_, body = f.Get(t, "entry?key="+url.QueryEscape(f.Key))
	require.NotContains(t, body, `id="hits"`)
	for _, path := range []string{"api/entries?sort=hits", "entries?sort=hits"} {
		status, body = f.Get(t, path)
		if status != http.StatusBadRequest || !strings.Contains(errorText(body), "sort hits: this store (redis) does not count the hits of its entries") {
			t.Errorf("GET %s: got %v %s, want 400 and why", path, status, body)
		}
	}

	// The store page: what INFO says, and the store's own keys.
	_, body = f.Get(t, "")
	for _, fact := range []string{"Redis version", "Uptime", "Memory used", "Eviction policy", "Evicted keys",
		"Keyspace hits", "Keyspace misses", "Connected clients", "<tr><th>Entries of this store</th><td>3</td></tr>"} {
		require.Contains(t, body, fact)
	}
	// One page lists the three entries: their count is exact.
	page := f.Entries(t, "")
	require.Equal(t, 3, page.Total)
	require.False(t, page.TotalEstimated)

	// Change the TTL of an entry.
	status, body = f.Post(t, "api/ttl", url.Values{"id": {admin.ID(f.Key)}, "ttl": {"90s"}})
	require.Equal(t, http.StatusOK, status, body)
	var d struct {
		TTLMs int64 `json:"ttl_ms"`
	}
	_, body = f.Get(t, "api/entry?id="+admin.ID(f.Key))
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	require.InDelta(t, 90_000, d.TTLMs, 5000)

	// Invalidate the published post's row, then delete two entries at once.
	status, body = f.Post(t, "api/invalidate-object", url.Values{"model": {"*blog.Post"}, "pk": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "invalid", f.State(t, f.Key))
	status, body = f.Post(t, "api/delete", url.Values{"key": {f.Key, "fn:greeting"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"removed": 2`)
	require.Len(t, f.AllEntries(t, ""), 1)
	status, body = f.Post(t, "api/delete-matching", url.Values{"q": {"authors"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"removed": 1`)
	require.Empty(t, f.AllEntries(t, ""))
}

// TestRedisTotalEstimated checks that a count of entries the Redis store
// extrapolates from part of its keys is said to be an estimate, and is
// one. Over 60 runs, the estimate of a page of 50 (about a tenth of the
// entries) had a standard deviation of 10% of the count and ranged over
// 404–623; a page of 10 had 25% and missed the ±300 asserted here 3
// times, as it once did in CI.
func TestRedisTotalEstimated(t *testing.T) {
	f := onRedis(t)
	for i := range 500 {
		set(t, f, fmt.Sprintf("extra%03d", i), "x")
	}
	page := f.Entries(t, "limit=50")
	require.True(t, page.TotalEstimated, "500 entries, a page of 50")
	require.InDelta(t, 503, page.Total, 300)
	_, body := f.Get(t, "entries?limit=50")
	require.Contains(t, body, `about <strong id="total">`)
	require.Contains(t, body, "(an estimate: this store lists with SCAN")
}

// onRedis returns the admin's fixture on a Redis store of its own prefix.
func onRedis(t *testing.T) *admintest.Fixture {
	s, err := redis.New(testredis.Client(t), redis.Config{Prefix: testredis.Prefix(t), Timeout: 5 * time.Second, Logf: t.Logf})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Flush(context.Background())) })
	return admintest.NewOn(t, s, admin.Config{Authorize: admintest.Allow})
}
