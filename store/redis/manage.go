package redis

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/store"
)

// What an operator asks of a store besides listing it: a report of the
// server and of the store's keys, and changing the TTL of an entry.

var (
	_ store.TTLSetter = (*Store)(nil)
	_ store.Reporter  = (*Store)(nil)
	_ store.TTLSetter = (*TwoLevel)(nil)
	_ store.Reporter  = (*TwoLevel)(nil)
	_ store.TTLSetter = (*Near)(nil)
	_ store.Reporter  = (*Near)(nil)
)

// SetTTL implements store.TTLSetter with PEXPIRE, in one round trip.
func (s *Store) SetTTL(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("%w: TTL %v is not positive", store.ErrInvalidEntry, ttl)
	}
	bctx, cancel := s.bounded(ctx)
	defer cancel()
	ok, err := s.client.PExpire(bctx, s.entryKey(key), max(ttl, time.Millisecond)).Result()
	if err != nil {
		return false, fmt.Errorf("gormcache: redis: set TTL: %w", err)
	}
	return ok, nil
}

// reportScan bounds the time Report spends counting the store's keys.
const reportScan = 250 * time.Millisecond

// Report implements store.Reporter: what INFO says of every master
// (version, uptime, memory used and its limit, eviction policy, evicted
// keys, keyspace hits and misses, connected clients, keys of the
// database), summed over the masters of a Cluster, and the entries and
// stamps of this store, counted with SCAN for at most reportScan: exactly
// when that is enough, else extrapolated (see List) or, on a Cluster, as a
// lower bound.
func (s *Store) Report(ctx context.Context) ([]store.Fact, error) {
	nodes, err := s.sortedNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("gormcache: redis: report: %w", err)
	}
	infos := make([]map[string]string, len(nodes))
	for i, n := range nodes {
		bctx, cancel := s.bounded(ctx)
		raw, err := n.Info(bctx, "default").Result()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("gormcache: redis: report: INFO%s: %w", nodeName(n), err)
		}
		infos[i] = parseInfo(raw)
	}
	distinct := func(field string) string {
		var vs []string
		for _, in := range infos {
			vs = append(vs, in[field])
		}
		slices.Sort(vs)
		return strings.Join(slices.Compact(vs), ", ")
	}
	sum := func(field string) int64 {
		var n int64
		for _, in := range infos {
			v, _ := strconv.ParseInt(in[field], 10, 64)
			n += v
		}
		return n
	}
	uptime := int64(math.MaxInt64)
	for _, in := range infos {
		v, _ := strconv.ParseInt(in["uptime_in_seconds"], 10, 64)
		uptime = min(uptime, v)
	}
	db := 0
	if c, ok := s.client.(*goredis.Client); ok {
		db = c.Options().DB
	}
	var dbKeys int64
	for _, in := range infos {
		dbKeys += keyspaceKeys(in[fmt.Sprintf("db%d", db)])
	}
	const mib = 1 << 20
	limit := "no limit (maxmemory 0)"
	if m := sum("maxmemory"); m > 0 {
		limit = fmt.Sprintf("%.1f MiB (maxmemory)", float64(m)/mib)
	}
	facts := []store.Fact{
		{Name: "Redis version", Value: distinct("redis_version")},
		{Name: "Masters", Value: strconv.Itoa(len(nodes))},
		{Name: "Uptime", Value: (time.Duration(uptime) * time.Second).String()},
		{Name: "Memory used", Value: fmt.Sprintf("%.1f MiB of %s", float64(sum("used_memory"))/mib, limit)},
		{Name: "Eviction policy", Value: distinct("maxmemory_policy")},
		{Name: "Evicted keys", Value: strconv.FormatInt(sum("evicted_keys"), 10)},
		{Name: "Keyspace hits", Value: strconv.FormatInt(sum("keyspace_hits"), 10)},
		{Name: "Keyspace misses", Value: strconv.FormatInt(sum("keyspace_misses"), 10)},
		{Name: "Connected clients", Value: strconv.FormatInt(sum("connected_clients"), 10)},
		{Name: fmt.Sprintf("Keys in db %d", db), Value: strconv.FormatInt(dbKeys, 10)},
	}
	entries, stamps, how, err := s.countKeys(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("gormcache: redis: report: %w", err)
	}
	return append(facts,
		store.Fact{Name: "Entries of this store", Value: how + strconv.Itoa(entries)},
		store.Fact{Name: "Stamps of this store", Value: how + strconv.Itoa(stamps)},
	), nil
}

// countKeys counts the entries and the stamps of the store on nodes with
// SCAN, for at most reportScan. how is "" for an exact count, "about " for
// one extrapolated from the part of the hash tables scanned, or "at least "
// on a Cluster.
func (s *Store) countKeys(ctx context.Context, nodes []goredis.UniversalClient) (entries, stamps int, how string, err error) {
	deadline := time.Now().Add(reportScan)
	entryPrefix := s.cfg.Prefix + entryPrefix
	at := cursor{}
	for at.node < len(nodes) {
		if time.Now().After(deadline) {
			if _, cluster := s.client.(*goredis.ClusterClient); cluster {
				return entries, stamps, "at least ", nil
			}
			done := progress(at, len(nodes))
			return int(math.Round(float64(entries) / done)), int(math.Round(float64(stamps) / done)), "about ", nil
		}
		bctx, cancel := s.bounded(ctx)
		keys, next, err := nodes[at.node].Scan(bctx, at.scan, s.ownKeys(), 1000).Result()
		cancel()
		if err != nil {
			return 0, 0, "", err
		}
		for _, k := range keys {
			switch {
			case strings.HasPrefix(k, entryPrefix):
				entries++
			case k != s.epochKey:
				stamps++
			}
		}
		at.scan = next
		if next == 0 {
			at = cursor{node: at.node + 1}
		}
	}
	return entries, stamps, "", nil
}

// parseInfo returns the fields of an INFO reply.
func parseInfo(raw string) map[string]string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && !strings.HasPrefix(k, "#") {
			fields[k] = v
		}
	}
	return fields
}

// keyspaceKeys returns the keys of a keyspace line of INFO,
// "keys=12,expires=3,avg_ttl=0".
func keyspaceKeys(line string) int64 {
	for kv := range strings.SplitSeq(line, ",") {
		if v, ok := strings.CutPrefix(kv, "keys="); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// SetTTL is Store.SetTTL. The copy this process keeps in memory gets the
// TTL too; those of other processes keep theirs (each of their hits still
// validates the stamps in Redis).
func (t *TwoLevel) SetTTL(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := t.remote.SetTTL(ctx, key, ttl)
	if err == nil {
		_, _ = t.local.SetTTL(ctx, key, ttl)
	}
	return ok, err
}

// Report is Store.Report.
func (t *TwoLevel) Report(ctx context.Context) ([]store.Fact, error) {
	return t.remote.Report(ctx)
}

// SetTTL is TwoLevel.SetTTL: the entry in Redis and this instance's copy
// get the TTL; other instances' copies keep theirs, which changes when
// they expire, never what they serve.
func (n *Near) SetTTL(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return n.two.SetTTL(ctx, key, ttl)
}

// Report is Store.Report, followed by the state and counters of this
// instance's near cache (see NearStats).
func (n *Near) Report(ctx context.Context) ([]store.Fact, error) {
	facts, err := n.remote.Report(ctx)
	if err != nil {
		return nil, err
	}
	s := n.NearStats()
	state := "validating hits in Redis: it holds no lease now"
	if s.Trusted {
		state = "serving hits from memory: it holds its lease"
	}
	return append(facts,
		store.Fact{Name: "Near cache of this instance", Value: state},
		store.Fact{Name: "Lease", Value: fmt.Sprintf("%v, renewed %d times, %d renewals failed; stopped trusting its copies %d times",
			n.cfg.Lease, s.Renewals, s.RenewalFailures, s.Fences)},
		store.Fact{Name: "Lookups", Value: fmt.Sprintf("%d served from memory, %d validated in Redis", s.Hits, s.Validated)},
		store.Fact{Name: "Invalidations", Value: fmt.Sprintf("%d applied; %d published, %d acknowledged by every lease holder, %d waited %v for a lease to lapse",
			s.Applied, s.Published, s.Acked, s.Lapsed, s.LapseWait.Round(time.Millisecond))},
	), nil
}
