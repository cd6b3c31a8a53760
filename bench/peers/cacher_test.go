package peers

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/go-gorm/caches/v4"
)

// memoryCacher is the in-memory caches.Cacher that go-gorm/caches' README
// shows ("Cacher Example (Memory)"), as a user writes it from there: each
// result marshalled with caches.Query.Marshal (JSON) into a sync.Map under
// the plugin's key, unmarshalled into the destination on a hit, and every
// result dropped by Invalidate, which the plugin calls on every create,
// update and delete. Unlike the README's, its Invalidate clears the map in
// place, so that it does not race with Get; and it counts its hits and
// misses for the benchmarks.
type memoryCacher struct {
	results      sync.Map // key -> []byte
	hits, misses atomic.Uint64
}

var _ caches.Cacher = (*memoryCacher)(nil)

// Get implements caches.Cacher: nil, nil when key is not cached.
func (c *memoryCacher) Get(_ context.Context, key string, q *caches.Query[any]) (*caches.Query[any], error) {
	v, ok := c.results.Load(key)
	if !ok {
		c.misses.Add(1)
		return nil, nil
	}
	c.hits.Add(1)
	if err := q.Unmarshal(v.([]byte)); err != nil {
		return nil, err
	}
	return q, nil
}

// Store implements caches.Cacher.
func (c *memoryCacher) Store(_ context.Context, key string, val *caches.Query[any]) error {
	b, err := val.Marshal()
	if err != nil {
		return err
	}
	c.results.Store(key, b)
	return nil
}

// Invalidate implements caches.Cacher: it drops every result.
func (c *memoryCacher) Invalidate(context.Context) error {
	c.results.Clear()
	return nil
}

// len returns the number of results cached.
func (c *memoryCacher) len() int {
	n := 0
	c.results.Range(func(any, any) bool {
		n++
		return true
	})
	return n
}
