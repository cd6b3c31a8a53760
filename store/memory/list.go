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

	"github.com/gormcache/gormcache/store"
)

var (
	_ store.Lister    = (*Store)(nil)
	_ store.Inspector = (*Store)(nil)
	_ store.Describer = (*Store)(nil)
	_ store.Purger    = (*Store)(nil)
)

// Describe implements store.Describer. It never fails.
func (s *Store) Describe(context.Context) (store.Info, error) {
	return store.Info{
		Kind:     "memory",
		Location: "process memory",
		Capabilities: []string{
			store.CapList, store.CapSort, store.CapInspect,
			store.CapFlush, store.CapPurge, store.CapRows, store.CapHits,
		},
		Entries: s.Len(),
		Bytes:   s.Bytes(),
	}, nil
}

// Inspect implements store.Inspector. It sees entries that no longer
// validate but not those that have expired, which the store no longer holds.
func (s *Store) Inspect(_ context.Context, key string) (store.EntryInfo, []byte, bool, error) {
	e, ok := s.entries.GetIfPresent(key)
	if !ok {
		return store.EntryInfo{}, nil, false, nil
	}
	return s.info(key, e), bytes.Clone(e.value), true, nil
}

// info describes e, stored under key.
func (s *Store) info(key string, e *entry) store.EntryInfo {
	n := e.numChecks()
	in := store.EntryInfo{
		Key:     key,
		Size:    e.size(key),
		Created: time.Unix(0, e.created),
		Expires: time.Unix(0, e.created).Add(e.ttl),
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

// List implements store.Lister with every Sort order. It walks every entry:
// a page costs O(n log Limit) for n entries, about 10 ms per 100,000.
func (s *Store) List(_ context.Context, opts store.ListOptions) (store.ListPage, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = store.DefaultListLimit
	}
	rankOf, code, err := ranker(opts.Sort)
	if err != nil {
		return store.ListPage{}, err
	}
	after, resume, err := decodeCursor(opts.Cursor, code)
	if err != nil {
		return store.ListPage{}, err
	}
	// page is a max-heap of the least positions seen: its root is the last
	// entry of the page so far.
	page := &positions{}
	more := false
	for k, e := range s.entries.All() {
		p := position{rank: rankOf(k, e), key: k, e: e}
		if resume && p.compare(after) <= 0 {
			continue
		}
		full := page.Len() == limit
		if full && p.compare((*page)[0].pos()) >= 0 {
			// Beyond this page: it only matters whether one exists.
			if !more && s.keep(opts.Filter, k, e) {
				more = true
			}
			continue
		}
		if !s.keep(opts.Filter, k, e) {
			continue
		}
		heap.Push(page, p)
		if full {
			heap.Pop(page)
			more = true
		}
	}
	sorted := []position(*page)
	slices.SortFunc(sorted, func(a, b position) int { return a.compare(b.pos()) })
	out := store.ListPage{Entries: make([]store.EntryInfo, len(sorted))}
	if opts.Values {
		out.Values = make([][]byte, len(sorted))
	}
	for i, p := range sorted {
		out.Entries[i] = s.info(p.key, p.e)
		if opts.Values {
			out.Values[i] = p.e.ownValue() // never modified (see Peek)
		}
	}
	if more && len(sorted) > 0 {
		out.Next = encodeCursor(code, sorted[len(sorted)-1].pos())
	}
	return out, nil
}

func (s *Store) keep(filter func(store.EntryInfo, []byte) bool, key string, e *entry) bool {
	return filter == nil || filter(s.info(key, e), e.ownValue())
}

// ranker returns the rank function of a sort order, and its cursor code.
func ranker(order string) (func(string, *entry) int64, byte, error) {
	switch order {
	case store.SortKey:
		return func(string, *entry) int64 { return 0 }, 'k', nil
	case store.SortAge:
		return func(_ string, e *entry) int64 { return -e.created }, 'a', nil
	case store.SortTTL:
		return func(_ string, e *entry) int64 { return e.created + int64(e.ttl) }, 't', nil
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

// positions is a max-heap for container/heap.
type positions []position

func (h positions) Len() int           { return len(h) }
func (h positions) Less(i, j int) bool { return h[i].compare(h[j].pos()) > 0 }
func (h positions) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *positions) Push(x any)        { *h = append(*h, x.(position)) }
func (h *positions) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// A cursor is base64url of the sort code, the rank as a varint and the key.
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
