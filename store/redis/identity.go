package redis

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

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

// watch counts the connections client opens from now on: the hook goes on
// every node client, those of a Cluster or Ring created later included. The
// hook stays on the client for its life. Until the first check, nothing is
// verified.
func (w *identities) watch(client goredis.UniversalClient) {
	w.verified.Store(^uint64(0))
	hook := dialCounter{&w.dials}
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

// dialCounter is a goredis.Hook that counts the connections opened.
type dialCounter struct{ dials *atomic.Uint64 }

func (h dialCounter) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil {
			h.dials.Add(1)
		}
		return conn, err
	}
}

func (dialCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (dialCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// trusted checks, when the client opened connections since the last check,
// that every master is still the server the store knew, and renews the
// epoch when one is not. It returns the count of connections to compare
// with current after the hit was read, and false when the store must miss.
func (s *Store) trusted(ctx context.Context) (uint64, bool) {
	w := &s.identities
	d := w.dials.Load()
	if d == w.verified.Load() {
		return d, true
	}
	if err := s.checkIdentities(ctx); err != nil {
		return 0, false
	}
	d = w.dials.Load()
	return d, d == w.verified.Load()
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
		s.cfg.Logf("gormcache: redis: a master is not the server it was (restarted or failed over): " +
			"the epoch is renewed, every entry stored before is invalid")
	}
	w.known, w.blind = ids, false
	w.verified.Store(d)
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
