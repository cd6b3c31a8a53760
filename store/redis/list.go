package redis

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/store"
)

var (
	_ store.Describer = (*Store)(nil)
	_ store.Inspector = (*Store)(nil)
	_ store.Lister    = (*Store)(nil)
	_ store.Purger    = (*Store)(nil)
)

// Describe implements store.Describer. The number of entries and their
// size are unknown (-1): counting them would scan every key of Redis. It
// lacks store.CapHits: counting the hits of an entry would make every hit
// a write.
func (s *Store) Describe(context.Context) (store.Info, error) {
	return store.Info{
		Kind:     "redis",
		Location: s.location(),
		Capabilities: []string{
			store.CapList, store.CapInspect, store.CapFlush, store.CapPurge, store.CapRows,
			store.CapTTL, store.CapReport,
		},
		Entries: -1,
		Bytes:   -1,
	}, nil
}

// location names the Redis of the store and its prefix, without
// credentials.
func (s *Store) location() string {
	var where string
	switch c := s.client.(type) {
	case *goredis.Client:
		o := c.Options()
		where = fmt.Sprintf("redis %s db %d", o.Addr, o.DB)
	case *goredis.ClusterClient:
		where = "redis cluster " + strings.Join(c.Options().Addrs, ",")
	default:
		where = fmt.Sprintf("redis (%T)", c)
	}
	return fmt.Sprintf("%s, prefix %q", where, s.cfg.Prefix)
}

// Inspect implements store.Inspector in two round trips: the entry, then
// its stamps and the epoch. Created is unknown (zero), and so are Hits (-1).
func (s *Store) Inspect(ctx context.Context, key string) (store.EntryInfo, []byte, bool, error) {
	got, err := s.inspect(ctx, []string{s.entryKey(key)})
	if err != nil {
		return store.EntryInfo{}, nil, false, fmt.Errorf("gormcache: redis: inspect: %w", err)
	}
	if got[0].value == nil {
		return store.EntryInfo{}, nil, false, nil
	}
	return got[0].info, got[0].value, true, nil
}

// inspected is an entry as inspect found it; value is nil if there was
// none.
type inspected struct {
	info  store.EntryInfo
	value []byte
}

// inspect reads the entries stored under the full keys keys, then their
// stamps and the epoch: two round trips, whatever the number of keys.
func (s *Store) inspect(ctx context.Context, keys []string) ([]inspected, error) {
	hashes := make([]*goredis.MapStringStringCmd, len(keys))
	ttls := make([]*goredis.DurationCmd, len(keys))
	bctx, cancel := s.bounded(ctx)
	defer cancel()
	err := s.pipelined(bctx, func(p goredis.Pipeliner, _ runner) {
		for i, k := range keys {
			hashes[i], ttls[i] = p.HGetAll(ctx, k), p.PTTL(ctx, k)
		}
	})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]inspected, len(keys))
	stampKeys := []string{s.epochKey}
	for i, k := range keys {
		fields := hashes[i].Val()
		value, ok := fields[valueField]
		if !ok {
			continue
		}
		in := store.EntryInfo{Key: strings.TrimPrefix(k, s.cfg.Prefix+entryPrefix), Text: fields[textField], Size: len(k), Hits: -1}
		if ttl := ttls[i].Val(); ttl > 0 {
			in.Expires = now.Add(ttl)
		}
		fieldNames := make([]string, 0, len(fields)-1)
		for f, v := range fields {
			in.Size += len(f) + len(v)
			if f != valueField && f != textField {
				fieldNames = append(fieldNames, f)
			}
		}
		slices.Sort(fieldNames)
		for _, f := range fieldNames {
			st, _ := parseStamp(fields[f])
			in.Deps = append(in.Deps, s.depOf(f))
			in.Stamps = append(in.Stamps, st)
			stampKeys = append(stampKeys, f)
		}
		out[i] = inspected{info: in, value: []byte(value)}
	}

	raws := make([]*goredis.StringCmd, len(stampKeys))
	bctx, cancel = s.bounded(ctx)
	defer cancel()
	_ = s.pipelined(bctx, func(p goredis.Pipeliner, _ runner) {
		for i, k := range stampKeys {
			raws[i] = p.HGet(ctx, k, stampField)
		}
	})
	for _, r := range raws {
		if err := r.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
	}
	epoch, next := raws[0].Val(), 1
	for i := range out {
		in := &out[i].info
		in.Current = make([]store.Stamp, len(in.Deps))
		in.Valid = true
		for j := range in.Deps {
			if raw := raws[next].Val(); raw != "" && epoch != "" {
				in.Current[j] = mix(raw, epoch)
			}
			in.Valid = in.Valid && in.Current[j] == in.Stamps[j]
			next++
		}
	}
	return out, nil
}

// depOf returns the Dep whose stamp key is k (see keys.go).
func (s *Store) depOf(k string) store.Dep {
	rest, ok := strings.CutPrefix(k, s.cfg.Prefix+"{")
	end := strings.IndexByte(rest, '}')
	if !ok || end < 0 {
		return store.Dep{Table: k} // not a stamp key of this store
	}
	d := store.Dep{Table: unescapeTag(rest[:end])}
	d.Cond, _ = strings.CutPrefix(rest[end+1:], "?")
	return d
}

// unescapeTag is the inverse of writeTag.
func unescapeTag(tag string) string {
	if tag == "%" {
		return ""
	}
	return strings.NewReplacer("%25", "%", "%7B", "{", "%7D", "}").Replace(tag)
}

// maxListScans bounds the SCAN calls of one List call, so that a page whose
// filter matches little still answers soon.
const maxListScans = 10

// List implements store.Lister with SCAN on every master. A page goes on
// with SCAN calls until it holds Limit entries, it has made maxListScans
// calls (SCAN also meets the stamps of rows, and Filter may reject
// entries), or the listing ends: a page may hold fewer
// than Limit entries, even none, and still have a Next. It lists in Redis's
// order, whatever opts.Sort, may list an entry twice, and costs two more
// round trips per SCAN call to read the entries. It stops with ctx's error
// when ctx is done.
//
// Its ListPage.Count is exact when one page lists everything, else an
// estimate on a single node (or Sentinel): the entries a page selected,
// divided by the part of Redis's hash table its SCAN calls went through,
// which the cursor tells. On a Redis Cluster, whose cursors also name slots
// on Redis 7.4 and later, it has none.
func (s *Store) List(ctx context.Context, opts store.ListOptions) (store.ListPage, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = store.DefaultListLimit
	}
	at, err := parseCursor(opts.Cursor)
	if err != nil {
		return store.ListPage{}, err
	}
	nodes, err := s.sortedNodes(ctx)
	if err != nil {
		return store.ListPage{}, fmt.Errorf("gormcache: redis: list: %w", err)
	}
	if at.node >= len(nodes) {
		return store.ListPage{}, fmt.Errorf("%w %q", store.ErrBadCursor, opts.Cursor)
	}

	sctx, cancel := s.bounded(ctx)
	defer cancel()
	var page store.ListPage
	start := at
	for scans := 0; at.node < len(nodes) && len(page.Entries) < limit && scans < maxListScans; scans++ {
		if err := ctx.Err(); err != nil {
			return store.ListPage{}, err
		}
		keys, next, err := nodes[at.node].Scan(sctx, at.scan, s.entryKeys(), int64(limit)).Result()
		if err != nil {
			return store.ListPage{}, fmt.Errorf("gormcache: redis: list: %w", err)
		}
		// A SCAN batch is listed whole, even when it holds more keys than
		// limit: resuming inside a batch would need its order, which Redis
		// does not keep while it rehashes, and skipping an entry is worse
		// than a long page.
		at = cursor{node: at.node, scan: next}
		if next == 0 {
			at = cursor{node: at.node + 1}
		}
		if len(keys) == 0 {
			continue
		}
		found, err := s.inspect(ctx, keys)
		if err != nil {
			return store.ListPage{}, fmt.Errorf("gormcache: redis: list: %w", err)
		}
		for _, f := range found {
			if f.value != nil && (opts.Match == nil || opts.Match(f.info.Key, f.info.Text, f.value)) &&
				(opts.Filter == nil || opts.Filter(f.info, f.value)) {
				page.Entries = append(page.Entries, f.info)
				if opts.Values {
					page.Values = append(page.Values, f.value)
				}
			}
		}
	}
	if at.node < len(nodes) {
		page.Next = at.String()
	}
	page.Count = s.count(start, at, len(nodes), len(page.Entries))
	return page, nil
}

// count returns the ListCount of a page that went from cursor start to end
// through n nodes and selected found entries.
func (s *Store) count(start, end cursor, n, found int) *store.ListCount {
	from, to := progress(start, n), progress(end, n)
	switch _, cluster := s.client.(*goredis.ClusterClient); {
	case from == 0 && to == 1:
		return &store.ListCount{Total: found}
	case cluster || to <= from:
		return nil
	}
	total := float64(found) / (to - from)
	return &store.ListCount{Total: int(math.Round(total)), Before: int(math.Round(from * total)), Estimated: true}
}

// progress returns how far through a listing of n nodes c is, from 0 to
// 1: the nodes done, and the part of the current node's hash table SCAN
// has gone through, which its cursor holds bit-reversed (SCAN increments
// the reversed cursor, so that a table that grows or shrinks meanwhile
// loses no key).
func progress(c cursor, n int) float64 {
	if c.node >= n {
		return 1
	}
	return (float64(c.node) + float64(bits.Reverse64(c.scan))/(1<<64)) / float64(n)
}

// sortedNodes is nodes in an order that stays the same from page to page.
func (s *Store) sortedNodes(ctx context.Context) ([]goredis.UniversalClient, error) {
	nodes, err := s.nodes(ctx)
	slices.SortFunc(nodes, func(a, b goredis.UniversalClient) int { return cmp.Compare(nodeName(a), nodeName(b)) })
	return nodes, err
}

// cursor is a place in a listing: the node, and the SCAN cursor of the next
// batch on it.
type cursor struct {
	node int
	scan uint64
}

// String returns c as base64url("node.scan").
func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.node, c.scan))
}

func parseCursor(c string) (cursor, error) {
	if c == "" {
		return cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if parts := strings.Split(string(b), "."); err == nil && len(parts) == 2 {
		node, err1 := strconv.Atoi(parts[0])
		scan, err2 := strconv.ParseUint(parts[1], 10, 64)
		if err1 == nil && err2 == nil && node >= 0 {
			return cursor{node: node, scan: scan}, nil
		}
	}
	return cursor{}, fmt.Errorf("%w %q", store.ErrBadCursor, c)
}

// Purge implements store.Purger: it scans every entry, a batch at a time,
// and deletes those that no longer validate; Redis removes expired ones on
// its own. An entry stored again between its check and its deletion is
// deleted too, which costs a miss.
func (s *Store) Purge(ctx context.Context) (int, error) {
	removed := 0
	err := s.scan(ctx, s.entryKeys(), func(keys []string) error {
		found, err := s.inspect(ctx, keys)
		if err != nil {
			return err
		}
		var invalid []string
		for i, f := range found {
			if f.value != nil && !f.info.Valid {
				invalid = append(invalid, keys[i])
			}
		}
		if len(invalid) == 0 {
			return nil
		}
		dctx, cancel := s.bounded(ctx)
		defer cancel()
		if err := s.del(dctx, invalid); err != nil {
			return err
		}
		removed += len(invalid)
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("gormcache: redis: purge: %w", err)
	}
	return removed, nil
}

var (
	_ store.Describer = (*TwoLevel)(nil)
	_ store.Inspector = (*TwoLevel)(nil)
	_ store.Lister    = (*TwoLevel)(nil)
	_ store.Purger    = (*TwoLevel)(nil)
)

// Describe is Store.Describe, of kind "redis+memory".
func (t *TwoLevel) Describe(ctx context.Context) (store.Info, error) {
	info, err := t.remote.Describe(ctx)
	info.Kind = "redis+memory"
	return info, err
}

// Inspect is Store.Inspect: it shows the entry in Redis.
func (t *TwoLevel) Inspect(ctx context.Context, key string) (store.EntryInfo, []byte, bool, error) {
	return t.remote.Inspect(ctx, key)
}

// List is Store.List: it lists the entries in Redis.
func (t *TwoLevel) List(ctx context.Context, opts store.ListOptions) (store.ListPage, error) {
	return t.remote.List(ctx, opts)
}

// Purge is Store.Purge. Copies in memory that no longer validate go when
// they are next read or expire.
func (t *TwoLevel) Purge(ctx context.Context) (int, error) {
	return t.remote.Purge(ctx)
}
