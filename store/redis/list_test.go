package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
)

// TestListCount checks the count of a listing: exact when one page lists
// everything, within a factor of the truth on a single node otherwise,
// none on a Cluster.
func TestListCount(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			s := newStore(t, top.client(t), redis.Config{})
			ctx := t.Context()
			for i := range 5 {
				require.NoError(t, s.Set(ctx, fmt.Sprint("small", i), store.Entry{Value: []byte("v")}, time.Hour))
			}
			page, err := s.List(ctx, store.ListOptions{Limit: 100})
			require.NoError(t, err)
			require.Empty(t, page.Next)
			require.Equal(t, &store.ListCount{Total: 5}, page.Count)

			const n = 4000
			var g errgroup.Group
			g.SetLimit(16)
			for i := range n {
				g.Go(func() error { return s.Set(ctx, fmt.Sprint("k", i), store.Entry{Value: []byte("v")}, time.Hour) })
			}
			require.NoError(t, g.Wait())
			page, err = s.List(ctx, store.ListOptions{Limit: 200})
			require.NoError(t, err)
			require.NotEmpty(t, page.Next)
			if top.name == "cluster" {
				require.Nil(t, page.Count)
				return
			}
			require.NotNil(t, page.Count)
			require.True(t, page.Count.Estimated)
			require.InDelta(t, n, page.Count.Total, n/2, "estimate of %d entries", n)
			require.Zero(t, page.Count.Before)
			next, err := s.List(ctx, store.ListOptions{Limit: 200, Cursor: page.Next})
			require.NoError(t, err)
			require.InDelta(t, len(page.Entries), next.Count.Before, n/4, "entries before the second page")
		})
	}
}

// TestListContext checks that a listing stops when its context is done.
func TestListContext(t *testing.T) {
	s := newStore(t, topologies[0].client(t), redis.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	for i := range 50 {
		require.NoError(t, s.Set(ctx, fmt.Sprint("k", i), store.Entry{Value: []byte("v")}, time.Hour))
	}
	cancel()
	_, err := s.List(ctx, store.ListOptions{Limit: 10})
	require.ErrorIs(t, err, context.Canceled)
}

// TestReport checks the facts of INFO and the count of the store's keys.
func TestReport(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			s := newStore(t, top.client(t), redis.Config{})
			ctx := t.Context()
			dep := store.Dep{Table: "posts", Cond: "id=1"}
			for i := range 3 {
				require.NoError(t, s.Set(ctx, fmt.Sprint("k", i), store.Entry{Value: []byte("v"), Deps: []store.Dep{dep}, Stamps: stamps(t, s, dep)}, time.Hour))
			}
			facts, err := s.Report(ctx)
			require.NoError(t, err)
			got := map[string]string{}
			for _, f := range facts {
				got[f.Name] = f.Value
			}
			require.Regexp(t, `^\d+\.\d+`, got["Redis version"])
			require.Contains(t, got["Memory used"], "MiB of ")
			require.NotEmpty(t, got["Eviction policy"])
			for _, name := range []string{"Evicted keys", "Keyspace hits", "Keyspace misses", "Connected clients", "Keys in db 0"} {
				require.Regexp(t, `^\d+$`, got[name], name)
			}
			require.Equal(t, "3", got["Entries of this store"])
			require.Equal(t, "1", got["Stamps of this store"])
		})
	}
}
