package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// identities watches for a Redis server that may have lost writes it had
// acknowledged: one restarted from an RDB snapshot or an AOF written every
// second, or a replica promoted before the master's last writes reached
// it. Such a server brings back stamps that invalidations had deleted, and
// with them the entries that recorded them.
//
// Whatever the cause, the client had to open new connections to the server:
// a dial hook counts them. A hit is trusted only if no connection was opened
// since the store last checked, with INFO, that every master is the server
// it knew (its run_id, which a restart changes, and its master_replid, which
// a promotion changes). When one is not, the store renews the epoch, which
// invalidates every entry, before it trusts a hit again. A connection opened
// while a hit was being read makes that hit a miss.
type identities struct {
	dials    atomic.Uint64 // connections the client opened
	verified atomic.Uint64 // the value of dials when the masters were last checked

	mu    sync.Mutex        // one check at a time
	known map[string]string // master address -> run_id:master_replid
	// blind is set when New could not read the masters' identities: the
	// first check that can renews the epoch, since a server may have been
	// restarted before the store knew it.
	blind bool
}

// watch installs, on every node client of client (those a Cluster or Ring
// creates later included), the hook through which the store sees every
// connection the client opens and every command that fails. The hook stays
// on the client for its life. Until the first check of the masters'
// identities, nothing is verified.
func (s *Store) watch(client goredis.UniversalClient) {
	s.identities.verified.Store(^uint64(0))
	hook := clientWatch{s}
	add := func(_ context.Context, c *goredis.Client) error {
		c.AddHook(hook)
		return nil
	}
	switch c := client.(type) {
	case *goredis.ClusterClient:
		c.OnNewNode(func(n *goredis.Client) { n.AddHook(hook) })
		_ = c.ForEachShard(context.Background(), add)
	case *goredis.Ring:
		c.OnNewNode(func(n *goredis.Client) { n.AddHook(hook) })
		_ = c.ForEachShard(context.Background(), add)
	default:
		c.AddHook(hook)
	}
}

// clientWatch is the goredis.Hook of watch: it counts the connections
// opened, and reports every command that fails for want of an answer.
type clientWatch struct{ s *Store }

func (h clientWatch) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil {
			h.s.identities.dials.Add(1)
		}
		return conn, err
	}
}

func (h clientWatch) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		h.s.outages.observe(err, h.s.cfg.WriteWait)
		return err
	}
}

func (h clientWatch) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		h.s.outages.observe(err, h.s.cfg.WriteWait)
		return err
	}
}

// outages watches for Redis failing to answer for as long as a write waits
// for its invalidation (Config.WriteWait): a writer, then, may have given up
// and queued it, and once Redis answers again, an entry it concerns would
// validate until the writer's retrier delivers it. So a store that has seen
// failures spanning WriteWait renews the epoch, before it trusts a hit. A
// store that sent nothing to Redis during the outage cannot know: the
// package doc bounds what it may serve.
type outages struct {
	mu          sync.Mutex
	first, last time.Time // the current run of failures: less than WriteWait apart
	suspect     atomic.Bool
	// graceUntil is when the store trusts hits again after it renewed the
	// epoch for an outage or a server that is not the one it knew (unix
	// nanoseconds; 0: no grace running). See reconnectGrace.
	graceUntil atomic.Int64
}

// reconnectGrace is how long a store keeps missing after it renewed the
// epoch because Redis was out or restarted. Another instance's client may
// reach Redis again later than this one's: go-redis's pool, once it has
// failed to dial as many times as it holds connections, fails every call
// at once and probes the server only once a second (internal/pool's
// tryDial). A writer whose client is still failing queues its
// invalidations while Redis answers the others; an entry they concern,
// stored after this store's renewal, would validate until the writer's
// retrier delivers them, within 10 ms of its client reaching Redis
// (TestFaultsThreeInstances, "kill and restart", found such reads). The
// grace outlasts that probe, so that such entries are invalid before the
// store trusts a hit.
const reconnectGrace = 1500 * time.Millisecond

// renewed starts the grace of reconnectGrace after a renewal of the epoch.
func (o *outages) renewed() { o.graceUntil.Store(time.Now().Add(reconnectGrace).UnixNano()) }

// inGrace reports whether a grace started by renewed is still running.
func (o *outages) inGrace() bool {
	until := o.graceUntil.Load()
	if until == 0 {
		return false
	}
	if time.Now().UnixNano() < until {
		return true
	}
	o.graceUntil.CompareAndSwap(until, 0)
	return false
}

// observe records the outcome of a command: a fault (no answer, a broken
// connection), as opposed to a reply, extends the current run of failures.
func (o *outages) observe(err error, writeWait time.Duration) {
	var reply goredis.Error
	if err == nil || errors.Is(err, goredis.Nil) || errors.As(err, &reply) {
		return
	}
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last.IsZero() || now.Sub(o.last) > writeWait {
		o.first = now
	}
	o.last = now
	if now.Sub(o.first) >= writeWait {
		o.suspect.Store(true)
	}
}

// trusted checks, before a hit is read, what watch saw: after an outage
// as long as WriteWait it renews the epoch; when the client opened
// connections since the last check, it checks that every master is still
// the server the store knew, and renews the epoch when one is not. Either
// renewal is followed by reconnectGrace of misses. It returns the count of
// connections to compare with current after the hit was read, and false
// when the store must miss.
func (s *Store) trusted(ctx context.Context) (uint64, bool) {
	if s.outages.suspect.Load() {
		if s.bump(ctx) == nil {
			s.outages.suspect.Store(false)
			s.outages.renewed()
			s.cfg.Logf("gormcache: redis: Redis did not answer for %v or more, as long as a write waits for its invalidation: "+
				"the epoch is renewed, every entry stored before is invalid", s.cfg.WriteWait)
		}
		return 0, false
	}
	w := &s.identities
	d := w.dials.Load()
	if d != w.verified.Load() {
		if err := s.checkIdentities(ctx); err != nil {
			return 0, false
		}
		d = w.dials.Load()
		if d != w.verified.Load() {
			return d, false
		}
	}
	return d, !s.outages.inGrace()
}

// current reports whether no connection was opened since dials was read.
func (s *Store) current(dials uint64) bool { return s.identities.dials.Load() == dials }

// checkIdentities reads the identity of every master; when one differs from
// what the store knew, or is new, it renews the epoch before it records
// them. On success the current count of connections is verified.
func (s *Store) checkIdentities(ctx context.Context) error {
	w := &s.identities
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dials.Load()
	if d == w.verified.Load() {
		return nil // another caller has just checked
	}
	ids, err := s.readIdentities(ctx)
	if err != nil {
		return err
	}
	changed := w.blind
	if w.known != nil {
		for addr, id := range ids {
			if w.known[addr] != id {
				changed = true
			}
		}
	}
	if changed {
		if err := s.bump(ctx); err != nil {
			return err
		}
		s.outages.renewed()
		s.cfg.Logf("gormcache: redis: a master is not the server it was (restarted or failed over): " +
			"the epoch is renewed, every entry stored before is invalid")
	}
	w.known, w.blind = ids, false
	// The connections opened while the identities were read (INFO's own,
	// say) reached the servers just read.
	w.verified.Store(w.dials.Load())
	return nil
}

// readIdentities returns run_id:master_replid of every master, by address.
func (s *Store) readIdentities(ctx context.Context) (map[string]string, error) {
	nodes, err := s.nodes(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	ids := make(map[string]string, len(nodes))
	for _, n := range nodes {
		info, err := n.Info(ctx, "server", "replication").Result()
		if err != nil {
			return nil, err
		}
		var runID, replID string
		for line := range strings.Lines(info) {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "run_id:"); ok {
				runID = v
			} else if v, ok := strings.CutPrefix(line, "master_replid:"); ok {
				replID = v
			}
		}
		if runID == "" {
			return nil, fmt.Errorf("INFO%s has no run_id", nodeName(n))
		}
		addr := ""
		if c, ok := n.(*goredis.Client); ok {
			addr = c.Options().Addr
		}
		ids[addr] = runID + ":" + replID
	}
	return ids, nil
}
