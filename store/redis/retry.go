package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// retryInterval is the pause between two attempts to deliver an
// invalidation, in Invalidate and in the retrier: short, so that the
// retrier delivers within it once Redis answers again (an attempt on a
// Redis that does not answer lasts Config.Timeout anyway, and one that
// refuses connections costs little).
const retryInterval = 10 * time.Millisecond

// retrier delivers in the background the invalidations whose first attempt
// failed, and renews the epoch when some cannot be delivered, or when near
// caches could not be told of one (see Store.Invalidate).
//
// While it has work the store is degraded: Get misses without asking Redis,
// since an entry whose invalidation waits here may be stale. The work ends,
// and hits resume, when every queued invalidation has been delivered and the
// epoch renewed after the last call for it. Its goroutine runs only while there is
// work.
type retrier struct {
	s        *Store
	degraded atomic.Bool

	mu     sync.Mutex
	queue  []pending
	queued int    // stamp keys in queue
	resets uint64 // times a drop emptied queue
	// calls counts the renewals of the epoch called for: one by each drop,
	// and by each invalidation queued without near caches told of it;
	// renewed is the value of calls the latest renewal covered.
	calls, renewed uint64
	running        bool // a goroutine runs run

	closing chan struct{}  // closed by Store.Close
	exited  sync.WaitGroup // the goroutine of run
}

// pending is the stamp keys of one failed Invalidate.
type pending struct {
	keys  []string
	since time.Time
}

// add queues the deletion of keys, which failed, and starts the goroutine
// that retries it if none runs; with renew, it renews the epoch first.
func (r *retrier) add(keys []string, renew bool) {
	var msg string
	r.mu.Lock()
	r.degraded.Store(true)
	if renew {
		r.calls++
	}
	if r.queued+len(keys) > r.s.cfg.RetryQueue {
		msg = r.drop(len(keys), fmt.Sprintf("the retry queue is full (RetryQueue is %d)", r.s.cfg.RetryQueue))
	} else {
		r.queue = append(r.queue, pending{keys: keys, since: time.Now()})
		r.queued += len(keys)
	}
	start := !r.running && !r.isClosed()
	r.running = r.running || start
	r.mu.Unlock()
	if msg != "" {
		r.s.cfg.Logf("%s", msg)
	}
	if start {
		r.exited.Go(r.run)
	}
}

func (r *retrier) isClosed() bool {
	select {
	case <-r.closing:
		return true
	default:
		return false
	}
}

// drop empties the queue, plus extra invalidations not queued, and calls for
// renewing the epoch, which covers them. It returns the message to log.
// r.mu must be held.
func (r *retrier) drop(extra int, reason string) string {
	n := r.queued + extra
	r.queue, r.queued = nil, 0
	r.resets++
	r.calls++
	return fmt.Sprintf("gormcache: redis: %d stamp invalidations dropped, %s: no hits from this store until the epoch is renewed", n, reason)
}

// run retries until there is no work left, or the client or the store is
// closed; a closed store makes one last attempt at once.
func (r *retrier) run() {
	for last := false; ; {
		select {
		case <-time.After(retryInterval):
		case <-r.closing:
			last = true
		}
		r.mu.Lock()
		batch, resets, calls := r.queue, r.resets, r.calls
		renew := calls != r.renewed
		r.mu.Unlock()

		var err error
		if renew {
			// Renewing the epoch covers every invalidation queued before:
			// no entry stored with stamps read before validates after it.
			err = r.s.renewEpoch(context.Background())
		} else if len(batch) > 0 {
			err = r.deliver(batch)
		}

		var msg string
		r.mu.Lock()
		switch {
		case err == nil:
			if renew {
				r.renewed = calls
				msg = "gormcache: redis: epoch renewed: every entry stored before is invalid, hits resume"
			}
			if r.resets == resets { // batch is still the head of the queue
				r.queue = r.queue[len(batch):]
				for _, p := range batch {
					r.queued -= len(p.keys)
				}
			}
		case !renew && time.Since(batch[0].since) >= r.s.cfg.RetryFor:
			msg = r.drop(0, fmt.Sprintf("undelivered for RetryFor (%v): %v", r.s.cfg.RetryFor, err))
		}
		closed := errors.Is(err, goredis.ErrClosed) || last
		done := closed || (len(r.queue) == 0 && r.calls == r.renewed)
		if last && !(len(r.queue) == 0 && r.calls == r.renewed) {
			msg = fmt.Sprintf("gormcache: redis: store closed with %d stamp invalidations undelivered", r.queued)
		}
		if done {
			r.running = false
			// A closed client serves no hits anyway: stay degraded.
			r.degraded.Store(closed)
		}
		r.mu.Unlock()
		if msg != "" {
			r.s.cfg.Logf("%s", msg)
		}
		if done {
			return
		}
	}
}

// deliver deletes the stamp keys of batch.
func (r *retrier) deliver(batch []pending) error {
	var keys []string
	for _, p := range batch {
		keys = append(keys, p.keys...)
	}
	return r.s.deleteStamps(context.Background(), keys)
}
