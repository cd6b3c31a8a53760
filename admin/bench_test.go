package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
)

// benchEntries is the number of entries BenchmarkSearch lists.
const benchEntries = 100_000

// searches are the patterns BenchmarkSearch runs: the one of the issue
// (400 stars, now refused for its length), the longest patterns accepted
// that make a backtracking matcher slow, and a plain word.
var searches = []struct{ name, q string }{
	{"stars400", strings.Repeat("*", 400) + "abc"},
	{"stars", strings.Repeat("*", store.MaxGlobLen-3) + "abc"},
	{"starsA", strings.Repeat("*a", store.MaxGlobLen/2-1) + "*"},
	{"questions", "*" + strings.Repeat("?", 60) + "x*"},
	{"questions2", "*" + strings.Repeat("?", 70) + "x*"},
	{"sets", "*" + strings.Repeat("[a-z]", store.MaxGlobLen/5-1) + "*"},
	{"word", "published"},
}

// BenchmarkSearch measures a page of api/entries searched with each of
// searches on benchEntries entries, on the memory store and on Redis: the
// whole request, as the issue measured it. Each entry is a copy of the
// fixture's published posts (its SQL, about 100 bytes, and dependencies)
// under a key of its own.
func BenchmarkSearch(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		s, err := memory.New(memory.Config{MaxEntries: 2 * benchEntries, MaxBytes: 1 << 30})
		require.NoError(b, err)
		benchSearch(b, s)
	})
	b.Run("redis", func(b *testing.B) {
		s, err := redis.New(testredis.Client(b), redis.Config{Prefix: testredis.Prefix(b), Timeout: 10 * time.Second})
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, s.Flush(context.Background())) })
		benchSearch(b, s)
	})
}

func benchSearch(b *testing.B, s store.Store) {
	f := admintest.NewOn(b, s, admin.Config{Authorize: admintest.Allow})
	ctx := context.Background()
	in, value, ok, err := s.(store.Inspector).Inspect(ctx, f.Key)
	require.NoError(b, err)
	require.True(b, ok)
	e := store.Entry{Value: value, Deps: in.Deps, Stamps: in.Stamps, Text: in.Text}
	var g errgroup.Group
	g.SetLimit(32)
	for w := range 32 {
		g.Go(func() error {
			for i := w; i < benchEntries; i += 32 {
				if err := s.Set(ctx, fmt.Sprintf("bench%027d", i), e, time.Hour); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(b, g.Wait())
	for _, search := range searches {
		b.Run(search.name, func(b *testing.B) {
			path := "api/entries?q=" + url.QueryEscape(search.q)
			want := http.StatusOK
			if len(search.q) > store.MaxGlobLen {
				want = http.StatusBadRequest
			}
			for b.Loop() {
				if status, body := f.Get(b, path); status != want {
					b.Fatalf("got %d, want %d: %.200s", status, want, body)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/search")
		})
	}
}
