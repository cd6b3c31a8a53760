package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

// DefaultLease is the lease of a Near store whose NearConfig.Lease is zero.
const DefaultLease = 2 * time.Second

// NearConfig configures a Near store. The zero value is ready to use.
type NearConfig struct {
	// Lease is how long a lease in Redis lets an instance serve copies
	// from memory without asking Redis; it is renewed every quarter of
	// it, and the instance stops trusting its copies a tenth of it before
	// it lapses (see the package doc). It is also the longest a write
	// waits for an instance that does not acknowledge its invalidation
	// (crashed, paused, cut off), but for a round trip and a tick of
	// Redis' timer (see the package doc), and the least it waits when
	// Redis does not take the invalidation. It should be many times the
	// Store's Timeout, which bounds each renewal. Default DefaultLease
	// (2s).
	Lease time.Duration

	// Local configures the memory store of the copies. Its MaxStamps
	// bounds the stamps the near cache knows current (a map entry of some
	// 40 bytes each); beyond, it forgets them all, which costs each copy
	// one validation in Redis. Defaults: those of memory.Config.
	Local memory.Config
}

// Near is a store.Store that keeps a copy of the entries of a Store in
// process memory and serves them with no round trip to Redis while it
// holds a lease in Redis and a live subscription to the invalidations of
// every Near store on the same prefix; otherwise it validates them in Redis,
// as TwoLevel does. A write through any of them returns only once every
// instance that holds a lease has acknowledged its invalidation, or its
// lease has lapsed. See the package doc for the protocol and its costs.
//
// It is a store.Peeker, store.Flusher and store.SchemeRegistry, and has
// the capabilities the admin pages use. Close releases its lease and its
// goroutine.
type Near struct {
	remote *Store
	two    *TwoLevel // the copies, and the way to validate them in Redis
	known  *known
	cfg    NearConfig
	margin time.Duration // the lease is trusted until margin before it lapses

	id      string // this instance, in the lease registry
	keys    nearKeys
	sharded bool          // a Cluster client: sharded pub/sub
	tokens  atomic.Uint64 // numbers the invalidations this instance publishes

	// trust is when the near cache stops serving, by the monotonic clock
	// since base and by the wall clock, or nil while it does not.
	trust atomic.Pointer[deadline]
	base  time.Time

	stats          nearCounters
	lastLapseLog   atomic.Int64 // unix nanos, see logLapse
	unloggedLapses atomic.Uint64

	closing chan struct{}
	closed  atomic.Bool
	exited  sync.WaitGroup
}

// deadline is a point in time by two clocks: trust ends at whichever comes
// first, so that a clock that stood still (a suspended virtual machine)
// does not extend it.
type deadline struct {
	mono time.Duration // since Near.base
	wall int64         // Unix nanoseconds
}

var (
	_ store.Store          = (*Near)(nil)
	_ store.Peeker         = (*Near)(nil)
	_ store.Flusher        = (*Near)(nil)
	_ store.SchemeRegistry = (*Near)(nil)
	_ store.Describer      = (*Near)(nil)
	_ store.Inspector      = (*Near)(nil)
	_ store.Lister         = (*Near)(nil)
	_ store.Purger         = (*Near)(nil)
)

// NewNear returns a near cache over remote, which from then on delivers
// every invalidation (its own Invalidate's, and its retrier's) to the near
// caches of every instance, and waits for them. remote's client must be a
// single node, Sentinel (failover) or Cluster client. NewNear returns at
// once; the near cache serves from memory once it has subscribed and taken
// its lease, in a round trip or two. It returns an error starting with
// "gormcache: redis:" for a field of cfg out of range, a Ring client, or a
// remote that already has a Near store not yet closed.
//
// Every instance that writes under remote's prefix must use a Near store:
// the invalidations of a plain Store or TwoLevel do not reach near caches.
func NewNear(remote *Store, cfg NearConfig) (*Near, error) {
	if remote == nil {
		return nil, errors.New("gormcache: redis: nil Store")
	}
	if cfg.Lease < 0 {
		return nil, fmt.Errorf("gormcache: redis: Lease is %v, want 0 (the default) or more", cfg.Lease)
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	var sharded bool
	switch remote.client.(type) {
	case *goredis.Client:
	case *goredis.ClusterClient:
		sharded = true
	default:
		return nil, fmt.Errorf("gormcache: redis: a near cache needs a single node, failover or Cluster client, not %T", remote.client)
	}
	two, err := NewTwoLevel(remote, cfg.Local)
	if err != nil {
		return nil, err
	}
	maxStamps := cfg.Local.MaxStamps
	if maxStamps == 0 {
		maxStamps = defaultMaxKnown
	}
	n := &Near{
		remote:  remote,
		two:     two,
		known:   newKnown(maxStamps),
		cfg:     cfg,
		margin:  cfg.Lease / 10,
		id:      strconv.FormatUint(rand.Uint64(), 16),
		keys:    newNearKeys(remote.cfg.Prefix),
		sharded: sharded,
		base:    time.Now(),
		closing: make(chan struct{}),
	}
	two.known = n.known
	// A closed Near store is replaced: its Store went on delivering
	// invalidations through it, and does through the new one.
	if cur := remote.near.Load(); (cur != nil && !cur.closed.Load()) || !remote.near.CompareAndSwap(cur, n) {
		_ = two.Close()
		return nil, errors.New("gormcache: redis: the Store already has a near cache")
	}
	n.exited.Go(n.hold)
	return n, nil
}

// defaultMaxKnown bounds the stamps known current when Local.MaxStamps is
// zero: memory.Config's default.
const defaultMaxKnown = 1_000_000

// Close stops trusting the copies, releases the lease and the subscription
// and stops the goroutine that held them, then releases the copies. The
// remote Store goes on delivering its invalidations to the other
// instances' near caches; it is the caller's to close, after. Afterwards
// Get misses.
func (n *Near) Close() error {
	if n.closed.CompareAndSwap(false, true) {
		close(n.closing)
		n.exited.Wait()
		return n.two.Close()
	}
	return nil
}

// trusted reports whether the near cache may serve from memory now.
func (n *Near) trusted() bool {
	d := n.trust.Load()
	if d == nil {
		return false
	}
	now := time.Now()
	return now.Sub(n.base) < d.mono && now.UnixNano() < d.wall
}

// Peek implements store.Peeker: while the lease holds and every stamp of
// the copy is known current, the copy in memory, with no round trip;
// otherwise as TwoLevel.Peek, learning the stamps it finds current.
func (n *Near) Peek(ctx context.Context, key string) ([]byte, bool, error) {
	if n.closed.Load() || n.remote.retry.degraded.Load() {
		return nil, false, nil
	}
	if n.trusted() {
		if b, ok, _ := n.two.local.Peek(ctx, key); ok {
			if v, ok := n.known.vouch(b); ok {
				n.stats.hits.Add(1)
				return v, true, nil
			}
		}
	}
	n.stats.validated.Add(1)
	return n.two.Peek(ctx, key)
}

// Get is Peek, with a copy of the value the caller owns.
func (n *Near) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, ok, err := n.Peek(ctx, key)
	return bytes.Clone(v), ok, err
}

// Stamps is Store.Stamps. The near cache learns the stamps it returns, which
// a reader stores its entry with, so that the copy is served from memory
// from its first hit on. Like a hit, learning trusts Redis only once the
// servers behind new connections were checked (see watch.go).
func (n *Near) Stamps(ctx context.Context, deps []store.Dep) ([]store.Stamp, error) {
	g := n.known.begin()
	dials, trusted := n.remote.trusted(ctx)
	stamps, err := n.remote.Stamps(ctx, deps)
	if err == nil && trusted && n.remote.current(dials) {
		checks := make([]check, len(deps))
		for i, d := range deps {
			checks[i] = check{key: n.remote.stampKey(d), stamp: stamps[i]}
		}
		n.known.learn(g, checks)
	}
	return stamps, err
}

// Set stores e under key in Redis and in memory.
func (n *Near) Set(ctx context.Context, key string, e store.Entry, ttl time.Duration) error {
	return n.two.Set(ctx, key, e, ttl)
}

// Delete removes the entries stored under keys, in Redis and in this
// instance's memory. Other instances' copies outlive it until they expire,
// but are never served once their stamps changed.
func (n *Near) Delete(ctx context.Context, keys ...string) error {
	return n.two.Delete(ctx, keys...)
}

// Invalidate is Store.Invalidate, which waits for every near cache to drop
// the stamps of deps (see the package doc).
func (n *Near) Invalidate(ctx context.Context, deps ...store.Dep) error {
	return n.remote.Invalidate(ctx, deps...)
}

// Flush is Store.Flush, which has every near cache forget what it knew,
// and drops this instance's copies.
func (n *Near) Flush(ctx context.Context) error {
	return n.two.Flush(ctx)
}

// AddSchemes is Store.AddSchemes.
func (n *Near) AddSchemes(ctx context.Context, table string, schemes []string) error {
	return n.remote.AddSchemes(ctx, table, schemes)
}

// Schemes is Store.Schemes.
func (n *Near) Schemes(ctx context.Context, table string) ([]string, error) {
	return n.remote.Schemes(ctx, table)
}

// Describe is Store.Describe, of kind "redis+near".
func (n *Near) Describe(ctx context.Context) (store.Info, error) {
	info, err := n.remote.Describe(ctx)
	info.Kind = "redis+near"
	return info, err
}

// Inspect is Store.Inspect: it shows the entry in Redis.
func (n *Near) Inspect(ctx context.Context, key string) (store.EntryInfo, []byte, bool, error) {
	return n.remote.Inspect(ctx, key)
}

// List is Store.List: it lists the entries in Redis.
func (n *Near) List(ctx context.Context, opts store.ListOptions) (store.ListPage, error) {
	return n.remote.List(ctx, opts)
}

// Purge is Store.Purge. Copies in memory that no longer validate go when
// they are next read or expire.
func (n *Near) Purge(ctx context.Context) (int, error) {
	return n.remote.Purge(ctx)
}

// NearStats are the counters of a Near store since it was made, and its
// state now. Every counter only grows.
type NearStats struct {
	// Trusted is true while the near cache serves from memory: it holds
	// its lease and its subscription is live.
	Trusted bool
	// Hits counts lookups served from memory with no round trip;
	// Validated those that asked Redis (a copy not yet known current, no
	// copy, or no trust), whether they hit or not.
	Hits, Validated uint64
	// Fences counts the times the near cache stopped trusting its copies:
	// a lease not renewed in time, a lost subscription, a gap in the
	// invalidations, Redis renewing its registry of leases.
	Fences uint64
	// Renewals counts the leases taken and renewed; RenewalFailures the
	// attempts Redis did not answer.
	Renewals, RenewalFailures uint64
	// Applied counts the invalidations received from any instance and
	// applied, this one's own included.
	Applied uint64
	// Published counts the invalidations this instance published; Acked
	// those that waited for other instances' acknowledgements and got them
	// all; Lapsed those that waited for the lease of an instance that did
	// not acknowledge to lapse (a crashed, paused or cut-off instance), or
	// for Redis' registry of leases to be known complete, for LapseWait in
	// all.
	Published, Acked, Lapsed uint64
	LapseWait                time.Duration
}

type nearCounters struct {
	hits, validated, fences, renewals, renewalFailures, applied atomic.Uint64
	published, acked, lapsed                                    atomic.Uint64
	lapseWait                                                   atomic.Int64
}

// NearStats returns the near cache's counters and state.
func (n *Near) NearStats() NearStats {
	c := &n.stats
	return NearStats{
		Trusted:         n.trusted(),
		Hits:            c.hits.Load(),
		Validated:       c.validated.Load(),
		Fences:          c.fences.Load(),
		Renewals:        c.renewals.Load(),
		RenewalFailures: c.renewalFailures.Load(),
		Applied:         c.applied.Load(),
		Published:       c.published.Load(),
		Acked:           c.acked.Load(),
		Lapsed:          c.lapsed.Load(),
		LapseWait:       time.Duration(c.lapseWait.Load()),
	}
}
