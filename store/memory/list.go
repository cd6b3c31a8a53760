package memory

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/gormcache/gormcache/store"
)

var (
	_ store.Lister    = (*Store)(nil)
	_ store.Inspector = (*Store)(nil)
	_ store.Describer = (*Store)(nil)
	_ store.Purger    = (*Store)(nil)
	_ store.TTLSetter = (*Store)(nil)
	_ store.Reporter  = (*Store)(nil)
)

// Describe implements store.Describer. It never fails.
func (s *Store) Describe(context.Context) (store.Info, error) {
	return store.Info{
		Kind:     "memory",
		Location: "process memory",
		Capabilities: []string{
			store.CapList, store.CapSort, store.CapInspect, store.CapFlush, store.CapPurge,
			store.CapRows, store.CapHits, store.CapTTL, store.CapReport,
		},
		Entries: s.Len(),
		Bytes:   s.Bytes(),
	}, nil
}

// Report implements store.Reporter: the memory and the entries used, of
// those Config allows, the entries evicted to make room, and the stamps
// that writes stored (reads store none). It never fails.
func (s *Store) Report(context.Context) ([]store.Fact, error) {
	const mib = 1 << 20
	used := s.Bytes()
	return []store.Fact{
		{Name: "Memory used", Value: fmt.Sprintf("%.1f MiB of %.1f MiB (MaxBytes), %.0f%%",
			float64(used)/mib, float64(s.cfg.MaxBytes)/mib, 100*float64(used)/float64(s.cfg.MaxBytes))},
		{Name: "Entries", Value: fmt.Sprintf("%d of %d (MaxEntries)", s.Len(), s.cfg.MaxEntries)},
		{Name: "Evicted for room", Value: fmt.Sprintf("%d entries since the store was made", s.evicted.Load())},
		{Name: "Stamps stored by writes", Value: fmt.Sprintf("%d of %d (MaxStamps)", s.stamps.EstimatedSize(), s.cfg.MaxStamps)},
	}, nil
}

// SetTTL implements store.TTLSetter: the entry, if there is one, is
// replaced by a copy that expires ttl from now.
func (s *Store) SetTTL(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("%w: TTL %v is not positive", store.ErrInvalidEntry, ttl)
	}
	now := s.clock.Now().UnixNano()
	_, ok := s.entries.ComputeIfPresent(key, func(cur *entry) (*entry, otter.ComputeOp) {
		e := &entry{value: cur.value, text: cur.text, created: cur.created, expires: now + int64(ttl)}
		e.hits.Store(cur.hits.Load())
		return e, otter.WriteOp
	})
	if ok {
		s.wrote(0)
	}
	return ok, nil
}

// Inspect implements store.Inspector. It sees entries that no longer
// validate but not those that have expired, which the store no longer holds.
func (s *Store) Inspect(_ context.Context, key string) (store.EntryInfo, []byte, bool, error) {
	e, ok := s.entries.GetIfPresent(key)
	if !ok {
		return store.EntryInfo{}, nil, false, nil
	}
	return s.info(key, e), bytes.Clone(e.ownValue()), true, nil
}

// info describes e, stored under key.
func (s *Store) info(key string, e *entry) store.EntryInfo {
	n := e.numChecks()
	in := store.EntryInfo{
		Key:     key,
		Text:    e.textOf(),
		Size:    e.size(key),
		Created: time.Unix(0, e.created),
		Expires: time.Unix(0, e.expires),
		Deps:    make([]store.Dep, 0, n),
		Stamps:  make([]store.Stamp, 0, n),
		Current: make([]store.Stamp, 0, n),
		Valid:   true,
		Hits:    e.hits.Load(),
	}
	for d, st := range e.checks() {
		cur := s.stamp(d)
		in.Deps, in.Stamps, in.Current = append(in.Deps, d), append(in.Stamps, st), append(in.Current, cur)
		if cur != st {
			in.Valid = false
		}
	}
	return in
}

// valid reports whether every stamp of e is current, like Get. It looks
// the stamps up only when an Invalidate or Flush has completed since the
// last time they were all current. One that has not completed may be
// missed, as it may be by a check that ran just before it.
func (s *Store) valid(e *entry) bool {
	gen := s.generation.Load()
	if e.validAt.Load() == gen {
		return true
	}
	for d, st := range e.checks() {
		if s.stamp(d) != st {
			return false
		}
	}
	e.validAt.Store(gen)
	return true
}

// size is the memory e holds, stored under key (the weight Set gives it,
// but for the MaxEntries floor).
func (e *entry) size(key string) int {
	return entryOverhead + len(key) + cap(e.value)
}

// Purge implements store.Purger: it removes the entries that no longer
// validate, and lets otter drop the expired ones.
func (s *Store) Purge(context.Context) (int, error) {
	s.entries.CleanUp()
	n := 0
	for k, e := range s.entries.All() {
		if !s.valid(e) {
			s.remove(k, e)
			n++
		}
	}
	return n, nil
}

// List implements store.Lister with every Sort order, in either direction,
// and counts the entries it selects (ListPage.Count, exact). It walks every
// entry, and calls Match and Filter on each: a page costs O(n log Limit)
// for n entries, about 10 ms per 100,000 without them (see BENCHMARKS.md). It
// stops with ctx's error when ctx is done.
func (s *Store) List(ctx context.Context, opts store.ListOptions) (store.ListPage, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = store.DefaultListLimit
	}
	rankOf, code, err := ranker(opts.Sort)
	if err != nil {
		return store.ListPage{}, err
	}
	dir := 1
	if opts.Reverse {
		dir, code = -1, code-'a'+'A'
	}
	after, resume, err := decodeCursor(opts.Cursor, code)
	if err != nil {
		return store.ListPage{}, err
	}
	// page is a heap whose root is the last entry of the page so far.
	page := &positions{dir: dir}
	count := &store.ListCount{}
	seen := 0
	for k, e := range s.entries.All() {
		if seen++; seen%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return store.ListPage{}, err
			}
		}
		if !s.keep(opts, k, e) {
			continue
		}
		count.Total++
		p := position{rank: rankOf(k, e), key: k, e: e}
		if resume && dir*p.compare(after) <= 0 {
			count.Before++
			continue
		}
		if page.Len() == limit {
			if dir*p.compare(page.items[0].pos()) >= 0 {
				continue // beyond this page
			}
			heap.Pop(page)
		}
		heap.Push(page, p)
	}
	sorted := page.items
	slices.SortFunc(sorted, func(a, b position) int { return dir * a.compare(b.pos()) })
	out := store.ListPage{Entries: make([]store.EntryInfo, len(sorted)), Count: count}
	if opts.Values {
		out.Values = make([][]byte, len(sorted))
	}
	for i, p := range sorted {
		out.Entries[i] = s.info(p.key, p.e)
		if opts.Values {
			out.Values[i] = p.e.ownValue() // never modified (see Peek)
		}
	}
	if count.Before+len(sorted) < count.Total && len(sorted) > 0 {
		out.Next = encodeCursor(code, sorted[len(sorted)-1].pos())
	}
	return out, nil
}

func (s *Store) keep(opts store.ListOptions, key string, e *entry) bool {
	return (opts.Match == nil || opts.Match(key, e.textOf(), e.ownValue())) &&
		(opts.Filter == nil || opts.Filter(s.info(key, e), e.ownValue()))
}

// ranker returns the rank function of a sort order, and its cursor code.
func ranker(order string) (func(string, *entry) int64, byte, error) {
	switch order {
	case store.SortKey:
		return func(string, *entry) int64 { return 0 }, 'k', nil
	case store.SortAge:
		return func(_ string, e *entry) int64 { return -e.created }, 'a', nil
	case store.SortTTL:
		return func(_ string, e *entry) int64 { return e.expires }, 't', nil
	case store.SortSize:
		return func(k string, e *entry) int64 { return -int64(e.size(k)) }, 's', nil
	case store.SortHits:
		return func(_ string, e *entry) int64 { return -e.hits.Load() }, 'h', nil
	}
	return nil, 0, fmt.Errorf("memory: unknown sort order %q", order)
}

// pos is a place in a listing: entries are ordered by rank, then key.
type pos struct {
	rank int64
	key  string
}

type position struct {
	rank int64
	key  string
	e    *entry
}

func (p position) pos() pos { return pos{p.rank, p.key} }

func (p position) compare(q pos) int {
	if c := cmp.Compare(p.rank, q.rank); c != 0 {
		return c
	}
	return cmp.Compare(p.key, q.key)
}

// positions is a heap for container/heap whose root is the last of its
// positions in the listing's direction dir (1 or -1).
type positions struct {
	items []position
	dir   int
}

func (h *positions) Len() int           { return len(h.items) }
func (h *positions) Less(i, j int) bool { return h.dir*h.items[i].compare(h.items[j].pos()) > 0 }
func (h *positions) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *positions) Push(x any)         { h.items = append(h.items, x.(position)) }
func (h *positions) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// A cursor is base64url of the sort code (upper case when reversed), the
// rank as a varint and the key.
func encodeCursor(code byte, p pos) string {
	b := binary.AppendVarint([]byte{code}, p.rank)
	return base64.RawURLEncoding.EncodeToString(append(b, p.key...))
}

func decodeCursor(c string, code byte) (pos, bool, error) {
	if c == "" {
		return pos{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != code {
		return pos{}, false, fmt.Errorf("%w %q", store.ErrBadCursor, c)
	}
	rank, n := binary.Varint(b[1:])
	if n <= 0 {
		return pos{}, false, fmt.Errorf("%w %q", store.ErrBadCursor, c)
	}
	return pos{rank: rank, key: string(b[1+n:])}, true, nil
}
