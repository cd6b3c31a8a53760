// Package coalesce runs one call per key at a time for concurrent callers,
// as golang.org/x/sync/singleflight does, with the two differences a cache
// miss needs:
//
//   - a caller waiting for another's call waits only as long as its own
//     context lets it, as its own query would have: singleflight's Do keeps
//     it until the call returns, whatever its deadline;
//   - the first caller runs the call on its own goroutine: singleflight's
//     DoChan, and the groups that wait under a context built like it
//     (resenje.org/singleflight, github.com/exaring/contextflight), run
//     every call on a new goroutine, and waking one costs a miss more than
//     the rest of its own work on a machine of two cores (BENCHMARKS.md,
//     "an eighth look").
package coalesce

import (
	"context"
	"errors"
	"sync"
)

// ErrPanicked is the error the waiters of a call that panicked (or called
// runtime.Goexit) receive; the caller that ran it panics on.
var ErrPanicked = errors.New("coalesce: the call did not return")

// Group holds the calls under way, by key. The zero Group is ready to use.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	// done is made by the first waiter, under the Group's lock, and
	// closed when the call has returned: a call nobody waits for makes no
	// channel.
	done chan struct{}
	val  V
	err  error
}

// Do returns what fn returns for key. If no call for key is under way, it
// runs fn on the calling goroutine (leader is true). Otherwise it waits for
// the call under way and returns its result, or ctx's error as soon as ctx
// ends, leaving the call to go on.
func (g *Group[V]) Do(ctx context.Context, key string, fn func() (V, error)) (v V, err error, leader bool) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		if c.done == nil {
			c.done = make(chan struct{})
		}
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.val, c.err, false
		case <-ctx.Done():
			return v, ctx.Err(), false
		}
	}
	if g.calls == nil {
		g.calls = map[string]*call[V]{}
	}
	c := &call[V]{}
	g.calls[key] = c
	g.mu.Unlock()

	returned := false
	defer func() {
		if !returned {
			c.err = ErrPanicked
		}
		g.mu.Lock()
		delete(g.calls, key)
		if c.done != nil {
			close(c.done)
		}
		g.mu.Unlock()
	}()
	c.val, c.err = fn()
	returned = true
	return c.val, c.err, true
}
