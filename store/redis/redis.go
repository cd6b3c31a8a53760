package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/store"
)

// Store is a store.Store on Redis, shared by every process that uses the
// same Redis and Config.Prefix. It is also a store.Flusher and a
// store.SchemeRegistry, and has the capabilities the admin pages use
// (store.Describer, Inspector, Lister, Purger). Its methods are safe for
// concurrent use. The Store methods make one round trip each, to all the
// Redis nodes involved at once, but Get on a Cluster, which makes two (see
// the package doc).
type Store struct {
	client   goredis.UniversalClient
	cfg      Config
	single   bool // one node: getScript validates entries in one round trip
	epochKey string

	// lastStamp is the candidate proposed last for a raw stamp value (see
	// freshLua, which adds the server's clock to it): candidates come from
	// this counter, which starts at a random point below 1<<63, so a
	// process never proposes one twice, but in a call go-redis sends
	// again, and two processes (or two lives of one) practically never do.
	lastStamp atomic.Uint64

	retry      retrier
	identities identities
	outages    outages

	// near is the Near store over this one, if any: every invalidation
	// then goes through its protocol (see notify.go).
	near atomic.Pointer[Near]
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Flusher = (*Store)(nil)
)

// New returns a store on client, which may be a single node, a Sentinel
// (failover) or a Cluster client. It returns an error starting with
// "gormcache: redis:" if a field of cfg is out of range, if client does not
// honour context deadlines (ContextTimeoutEnabled unset in its options),
// which Config.Timeout relies on, or if it reads from replicas (ReadOnly,
// RouteByLatency or RouteRandomly), which may lag behind an invalidation.
//
// New reads maxmemory-policy from every master, waiting at most
// Config.Timeout in all, and warns through Config.Logf if it is an
// allkeys-* policy, or if it cannot read it (see the package doc).
func New(client goredis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("gormcache: redis: nil client")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkClient(client); err != nil {
		return nil, err
	}
	s := &Store{client: client, cfg: cfg, epochKey: cfg.Prefix + epochName}
	_, s.single = client.(*goredis.Client)
	s.lastStamp.Store(rand.Uint64() >> 1)
	s.retry.s = s
	s.retry.closing = make(chan struct{})
	s.checkEviction()
	s.watch(client)
	if err := s.checkIdentities(context.Background()); err != nil {
		s.identities.blind = true
		s.cfg.Logf("gormcache: redis: cannot read the masters' identities: %v; the epoch will be renewed once they can be", err)
	}
	return s, nil
}

// checkClient returns an error for a go-redis client that ignores the
// deadlines of contexts, and so waits for its own read timeout (3s by
// default) on a Redis that does not answer, or that reads from replicas.
func checkClient(c goredis.UniversalClient) error {
	var honoursContext, replicas bool
	switch c := c.(type) {
	case *goredis.Client:
		honoursContext = c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		o := c.Options()
		honoursContext, replicas = o.ContextTimeoutEnabled, o.ReadOnly || o.RouteByLatency || o.RouteRandomly
	case *goredis.Ring:
		honoursContext = c.Options().ContextTimeoutEnabled
	default:
		return nil
	}
	if !honoursContext {
		return errors.New("gormcache: redis: the client ignores context deadlines, which bound every call to Config.Timeout: set ContextTimeoutEnabled in its options")
	}
	if replicas {
		return errors.New("gormcache: redis: the client reads from replicas (ReadOnly, RouteByLatency or RouteRandomly), " +
			"which may serve stamps that an invalidation has deleted on the master")
	}
	return nil
}

// bounded returns ctx limited to Config.Timeout.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// next reserves n candidates for raw stamp values and returns the first.
func (s *Store) next(n int) uint64 {
	return s.lastStamp.Add(uint64(n)) - uint64(n) + 1
}

// check is a stamp key and the stamp an entry recorded for it.
type check struct {
	key   string
	stamp store.Stamp
}

// found is an entry found valid.
type found struct {
	value  []byte
	checks []check       // only when asked for
	ttl    time.Duration // remaining; only when asked for
}

// Get returns the value stored under key if every stamp it was stored with
// is still current, in one round trip on a single node and two on a sharded
// client. It misses without asking Redis while invalidations wait to be
// retried or the epoch to be renewed (see the package doc).
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	f, ok, err := s.fetch(ctx, key, false)
	return f.value, ok, err
}

// fetch returns the entry stored under key if it is valid, with its checks
// and remaining TTL if full is set.
func (s *Store) fetch(ctx context.Context, key string, full bool) (found, bool, error) {
	if s.retry.degraded.Load() {
		return found{}, false, nil
	}
	dials, trusted := s.trusted(ctx)
	if !trusted {
		return found{}, false, nil
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var (
		f   found
		ok  bool
		err error
	)
	if s.single {
		f, ok, err = s.fetchScript(ctx, key, full)
	} else {
		f, ok, err = s.fetchSharded(ctx, key, full)
	}
	if err != nil {
		return found{}, false, fmt.Errorf("gormcache: redis: get: %w", err)
	}
	if ok && !s.current(dials) {
		return found{}, false, nil // read on a new connection: see identities
	}
	return f, ok, nil
}

// fetchScript is fetch on a single node: one getScript call.
func (s *Store) fetchScript(ctx context.Context, key string, full bool) (found, bool, error) {
	arg := "0"
	if full {
		arg = "1"
	}
	cmd := getScript.Run(ctx, s.client, []string{s.entryKey(key), s.epochKey}, arg)
	if err := cmd.Err(); err != nil {
		if errors.Is(err, goredis.Nil) {
			err = nil
		}
		return found{}, false, err
	}
	if !full {
		v, err := cmd.Text()
		return found{value: []byte(v)}, err == nil, err
	}
	parts, err := cmd.StringSlice()
	if err != nil {
		return found{}, false, err
	}
	if len(parts) < 2 || len(parts)%2 != 0 {
		return found{}, false, fmt.Errorf("getScript returned %d values", len(parts))
	}
	f := found{value: []byte(parts[0]), checks: make([]check, 0, len(parts)/2-1)}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return found{}, false, err
	}
	f.ttl = time.Duration(ms) * time.Millisecond
	for i := 2; i < len(parts); i += 2 {
		st, ok := parseStamp(parts[i+1])
		if !ok {
			return found{}, false, nil
		}
		f.checks = append(f.checks, check{key: parts[i], stamp: st})
	}
	return f, true, nil
}

// fetchSharded is fetch on a sharded client: the entry's stamps live on
// other nodes, so it reads the entry, then validates it.
func (s *Store) fetchSharded(ctx context.Context, key string, full bool) (found, bool, error) {
	k := s.entryKey(key)
	var (
		hash *goredis.MapStringStringCmd
		pttl *goredis.DurationCmd
	)
	if full {
		err := s.pipelined(ctx, func(p goredis.Pipeliner, _ runner) {
			hash, pttl = p.HGetAll(ctx, k), p.PTTL(ctx, k)
		})
		if err != nil {
			return found{}, false, err
		}
	} else if hash = s.client.HGetAll(ctx, k); hash.Err() != nil {
		return found{}, false, hash.Err()
	}
	fields := hash.Val()
	value, ok := fields[valueField]
	if !ok {
		return found{}, false, nil
	}
	f := found{value: []byte(value), checks: make([]check, 0, len(fields)-1)}
	for field, recorded := range fields {
		if field == valueField || field == textField {
			continue
		}
		st, ok := parseStamp(recorded)
		if !ok {
			return found{}, false, nil
		}
		f.checks = append(f.checks, check{key: field, stamp: st})
	}
	if valid, err := s.validate(ctx, f.checks); err != nil || !valid {
		return found{}, false, err
	}
	if full {
		f.ttl = pttl.Val()
	} else {
		f.checks = nil
	}
	return f, true, nil
}

// validate reports whether every stamp key of checks holds the stamp
// recorded for it under the current epoch: one HGET per key, in one
// pipeline, so one round trip. Each node's part of the pipeline starts with
// a write that changes nothing (PEXPIRE of a key that never exists, in the
// slot of the keys read after it): CLIENT PAUSE WRITE (what a manual
// failover uses) holds it back, and with it the reads, so that validation
// waits while invalidations wait instead of approving entries whose
// invalidation the pause holds back. (A script would do too, at a
// measured 15 to 40 µs more per hit.)
func (s *Store) validate(ctx context.Context, checks []check) (bool, error) {
	if len(checks) == 0 {
		return true, nil
	}
	keys := make([]string, 1+len(checks))
	keys[0] = s.epochKey
	for i, c := range checks {
		keys[1+i] = c.key
	}
	cmds := make([]*goredis.StringCmd, len(keys))
	_ = s.pipelined(ctx, func(p goredis.Pipeliner, _ runner) {
		for _, g := range s.group(keys) {
			p.PExpire(ctx, pauseGuard(keys[g[0]]), time.Millisecond)
			for _, k := range g {
				cmds[k] = p.HGet(ctx, keys[k], stampField)
			}
		}
	})
	valid := true
	for _, c := range cmds {
		if err := c.Err(); errors.Is(err, goredis.Nil) {
			valid = false
		} else if err != nil {
			return false, err
		}
	}
	if !valid {
		return false, nil
	}
	epoch := cmds[0].Val()
	for i, c := range checks {
		if mix(cmds[1+i].Val(), epoch) != c.stamp {
			return false, nil
		}
	}
	return true, nil
}

// Stamps returns the current stamps of deps, creating those missing, and
// renews their TTL (Config.StampTTL). It costs one round trip: one script
// call on a single node, one per table on a sharded client, pipelined.
// Concurrent calls for one Dep agree on its stamp.
func (s *Store) Stamps(ctx context.Context, deps []store.Dep) ([]store.Stamp, error) {
	stamps := make([]store.Stamp, len(deps))
	if len(deps) == 0 {
		return stamps, nil
	}
	keys := make([]string, 1+len(deps))
	keys[0] = s.epochKey
	for i, d := range deps {
		keys[i+1] = s.stampKey(d)
	}
	first := s.next(len(keys))
	ttl := strconv.FormatInt(s.cfg.StampTTL.Milliseconds(), 10)
	groups := s.group(keys)
	cmds := make([]*goredis.Cmd, len(groups))

	ctx, cancel := s.bounded(ctx)
	defer cancel()
	err := s.pipelined(ctx, func(_ goredis.Pipeliner, run runner) {
		for i, g := range groups {
			args := make([]any, 2+len(g))
			args[0], args[1] = ttl, 0
			if g[0] == 0 { // the epoch, which has no TTL
				args[1] = 1
			}
			for j, k := range g {
				args[2+j] = strconv.FormatUint(first+uint64(k), 10)
			}
			cmds[i] = run(stampsScript, pick(keys, g), args...)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("gormcache: redis: stamps: %w", err)
	}
	raws := make([]string, len(keys))
	for i, g := range groups {
		got, err := cmds[i].StringSlice()
		if err == nil && len(got) != len(g) {
			err = fmt.Errorf("script returned %d stamps for %d keys", len(got), len(g))
		}
		if err != nil {
			return nil, fmt.Errorf("gormcache: redis: stamps: %w", err)
		}
		for j, k := range g {
			raws[k] = got[j]
		}
	}
	for i := range deps {
		stamps[i] = mix(raws[1+i], raws[0])
	}
	return stamps, nil
}

// Set stores e under key for ttl, replacing any previous entry: one
// MULTI/EXEC of DEL, HSET and PEXPIRE, one round trip.
func (s *Store) Set(ctx context.Context, key string, e store.Entry, ttl time.Duration) error {
	checks, ok, err := s.checksOf(e, ttl)
	if err != nil {
		return err
	}
	if !ok {
		return s.Delete(ctx, key)
	}
	return s.set(ctx, key, e.Value, e.Text, checks, ttl)
}

// set stores value and text with checks under key for ttl.
func (s *Store) set(ctx context.Context, key string, value []byte, text string, checks []check, ttl time.Duration) error {
	fields := make([]any, 0, 4+2*len(checks))
	fields = append(fields, valueField, value)
	if text != "" {
		fields = append(fields, textField, text)
	}
	for _, c := range checks {
		fields = append(fields, c.key, formatStamp(c.stamp))
	}
	k := s.entryKey(key)
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, fields...)
		p.PExpire(ctx, k, max(ttl, time.Millisecond))
		return nil
	})
	if err != nil {
		return fmt.Errorf("gormcache: redis: set: %w", err)
	}
	return nil
}

// checksOf returns the checks of e, or an error wrapping
// store.ErrInvalidEntry. ok is false if e names one Dep twice with two
// stamps: such an entry can never be valid.
func (s *Store) checksOf(e store.Entry, ttl time.Duration) (checks []check, ok bool, err error) {
	if ttl <= 0 {
		return nil, false, fmt.Errorf("%w: TTL %v is not positive", store.ErrInvalidEntry, ttl)
	}
	if len(e.Deps) != len(e.Stamps) {
		return nil, false, fmt.Errorf("%w: %d deps and %d stamps", store.ErrInvalidEntry, len(e.Deps), len(e.Stamps))
	}
	var seen map[store.Dep]store.Stamp
	if len(e.Deps) > 1 {
		seen = make(map[store.Dep]store.Stamp, len(e.Deps))
	}
	checks = make([]check, 0, len(e.Deps))
	for i, d := range e.Deps {
		if seen != nil {
			if st, dup := seen[d]; dup {
				if st != e.Stamps[i] {
					return nil, false, nil
				}
				continue
			}
			seen[d] = e.Stamps[i]
		}
		checks = append(checks, check{key: s.stampKey(d), stamp: e.Stamps[i]})
	}
	return checks, true, nil
}

// Delete removes the entries stored under keys, in one round trip.
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.entryKey(k)
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.del(ctx, full); err != nil {
		return fmt.Errorf("gormcache: redis: delete: %w", err)
	}
	return nil
}

// del deletes keys with one DEL per group, in one pipeline.
func (s *Store) del(ctx context.Context, keys []string) error {
	groups := s.group(keys)
	return s.pipelined(ctx, func(p goredis.Pipeliner, _ runner) {
		for _, g := range groups {
			p.Del(ctx, pick(keys, g)...)
		}
	})
}

// Invalidate deletes the stamps of deps, in one round trip: the next Stamps
// call creates new ones. When Redis does not take the deletion it tries
// again, every retryInterval, until Config.WriteWait has passed; then it
// queues the deletion for the background retrier, Get misses until that is
// done (see the package doc), and the error says so. When Redis refuses the
// deletion (an error reply, not a fault: a key longer than it accepts), the
// epoch is renewed at once instead, which invalidates everything.
func (s *Store) Invalidate(ctx context.Context, deps ...store.Dep) error {
	if len(deps) == 0 {
		return nil
	}
	keys := make([]string, len(deps))
	for i, d := range deps {
		keys[i] = s.stampKey(d)
	}
	wait := s.cfg.WriteWait
	if n := s.near.Load(); n != nil {
		// Near caches trust their copies until their leases lapse.
		wait = max(wait, n.cfg.Lease)
	}
	deadline := time.Now().Add(wait)
	for {
		err := s.deleteStamps(ctx, keys)
		var refused goredis.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &refused) && s.bump(ctx) == nil:
			s.cfg.Logf("gormcache: redis: Redis refused to delete %d stamps (%v): the epoch is renewed instead", len(keys), err)
			if n := s.near.Load(); n != nil {
				return n.invalidate(ctx, keys, false)
			}
			return nil
		case time.Now().Add(retryInterval).After(deadline) || ctx.Err() != nil:
			// Near caches serve their copies from memory whatever the
			// node of the stamps does (a Cluster master paused by a
			// failover while the registry's answers): the epoch is
			// renewed now, which makes each forget what it knew, or by
			// the retrier as soon as Redis takes it.
			renew := false
			if s.near.Load() != nil {
				renew = s.renewEpoch(context.WithoutCancel(ctx)) != nil
				if !renew {
					s.cfg.Logf("gormcache: redis: Redis did not take the deletion of %d stamps for %v (%v): the epoch is renewed, every entry stored before is invalid", len(keys), wait, err)
				}
			}
			s.retry.add(keys, renew)
			return fmt.Errorf("gormcache: redis: invalidate (queued for retry): %w", err)
		}
		time.Sleep(retryInterval)
	}
}

// deleteStamps deletes the stamp keys keys, in one round trip; with a Near
// store, it delivers their invalidation to every near cache, and waits for
// them (see notify.go).
func (s *Store) deleteStamps(ctx context.Context, keys []string) error {
	if n := s.near.Load(); n != nil {
		return n.invalidate(ctx, keys, true)
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	return s.del(ctx, keys)
}

// renewEpoch is bump, and with a Near store, has every near cache forget
// the stamps it knows, which the epoch was part of, and waits for them.
func (s *Store) renewEpoch(ctx context.Context) error {
	if err := s.bump(ctx); err != nil {
		return err
	}
	if n := s.near.Load(); n != nil {
		return n.reset(ctx)
	}
	return nil
}

// bump renews the epoch, as Invalidate renews a stamp: by deleting it.
// Every entry stored with stamps read before stops validating.
func (s *Store) bump(ctx context.Context) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	return s.client.Del(ctx, s.epochKey).Err()
}

// Close stops the goroutine that retries failed invalidations, after one
// last attempt to deliver them; what it cannot deliver is logged. It does
// not close the client, which is the caller's. Afterwards the store misses
// on every Get.
func (s *Store) Close() error {
	s.retry.mu.Lock()
	select {
	case <-s.retry.closing:
	default:
		close(s.retry.closing)
	}
	s.retry.degraded.Store(true)
	s.retry.mu.Unlock()
	s.retry.exited.Wait()
	return nil
}

// Flush renews the epoch, which invalidates every entry at once, then
// deletes every key of the store (entries, stamps, the epoch; not the
// lease registry of near caches), found with
// SCAN on every master. Each Redis command is bounded by Config.Timeout,
// not the whole Flush, which takes time in proportion to the keys of the
// Redis nodes, not only the store's.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.renewEpoch(ctx); err != nil {
		return fmt.Errorf("gormcache: redis: flush: %w", err)
	}
	// The lease registry of the near caches stays: losing it would make
	// the next writes wait a lease (see nearscripts.go).
	registry := s.cfg.Prefix + nearRegistry
	err := s.scan(ctx, s.ownKeys(), func(keys []string) error {
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == registry })
		if len(keys) == 0 {
			return nil
		}
		ctx, cancel := s.bounded(ctx)
		defer cancel()
		return s.del(ctx, keys)
	})
	if err != nil {
		return fmt.Errorf("gormcache: redis: flush: %w", err)
	}
	return nil
}

// scan calls fn with each batch of keys matching match on every master.
func (s *Store) scan(ctx context.Context, match string, fn func(keys []string) error) error {
	nodes, err := s.nodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		var cursor uint64
		for {
			sctx, cancel := s.bounded(ctx)
			keys, next, err := n.Scan(sctx, cursor, match, 1000).Result()
			cancel()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := fn(keys); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// nodes returns a client for each master: the keys of the store are spread
// over them.
func (s *Store) nodes(ctx context.Context) ([]goredis.UniversalClient, error) {
	var (
		mu  sync.Mutex
		out []goredis.UniversalClient
	)
	collect := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, c)
		return nil
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var err error
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *goredis.Ring:
		err = c.ForEachShard(ctx, collect)
	default:
		out = []goredis.UniversalClient{c}
	}
	return out, err
}

// globEscape escapes the characters special to SCAN's MATCH in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkEviction warns through Config.Logf about an allkeys-* maxmemory
// policy on any master. It waits at most Config.Timeout in all.
func (s *Store) checkEviction() {
	ctx, cancel := s.bounded(context.Background())
	defer cancel()
	nodes, err := s.nodes(ctx)
	if err != nil {
		s.cfg.Logf("gormcache: redis: cannot check maxmemory-policy: %v", err)
		return
	}
	for _, n := range nodes {
		got, err := n.ConfigGet(ctx, "maxmemory-policy").Result()
		if err != nil {
			s.cfg.Logf("gormcache: redis: cannot check maxmemory-policy%s: %v", nodeName(n), err)
			return
		}
		if policy := got["maxmemory-policy"]; strings.HasPrefix(policy, "allkeys-") {
			s.cfg.Logf("gormcache: redis: maxmemory-policy is %s%s: Redis may evict the epoch and the stamps "+
				"that cached entries rely on, which costs hits (never freshness); prefer a volatile-* policy or noeviction",
				policy, nodeName(n))
		}
	}
}

// nodeName returns " on <address>" for a client of one node.
func nodeName(c goredis.UniversalClient) string {
	if c, ok := c.(*goredis.Client); ok {
		return " on " + c.Options().Addr
	}
	return ""
}
