package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
)

// This file gathers what pages and API answers show, with the JSON names of
// the API.

// errBadRequest marks errors caused by the request: they answer 400.
var errBadRequest = errors.New("bad request")

// errNotFound marks errors for something that does not exist: 404.
var errNotFound = errors.New("not found")

// errUnsupported marks what the store cannot do: 501.
var errUnsupported = errors.New("not supported by this store")

// errNoDB is the error of "invalidate object" without Config.DB: 501.
var errNoDB = errors.New("invalidating an object needs the database: " +
	"set admin.Config.DB to the *gorm.DB the plugin is registered on")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// StoreView is the stores page and GET api/store.
type StoreView struct {
	Kind         string   `json:"kind"`
	Location     string   `json:"location"`
	Prefix       string   `json:"prefix"`
	DefaultTTL   string   `json:"default_ttl"`
	Capabilities []string `json:"capabilities"`
	Entries      int      `json:"entries"` // -1 when unknown
	Bytes        int64    `json:"bytes"`   // -1 when unknown
	Stats        Stats    `json:"stats"`
	// TableStats are the plugin's counters per table, by table name.
	TableStats []TableStats `json:"table_stats"`
	Tables     []string     `json:"tables"`
	ReadOnly   bool         `json:"read_only"`
}

// Stats are the plugin's counters (gormcache.Stats), overall.
type Stats struct {
	Hits        uint64  `json:"hits"`
	Misses      uint64  `json:"misses"`
	Fills       uint64  `json:"fills"`
	Invalidated uint64  `json:"invalidated"`
	Bypassed    uint64  `json:"bypassed"`
	Errors      uint64  `json:"errors"`
	HitRatio    float64 `json:"hit_ratio"`
}

// TableStats are the plugin's counters of one table
// (gormcache.TableStats): the queries whose main table it is, and the
// renewed stamps of its rows.
type TableStats struct {
	Table       string  `json:"table"`
	Hits        uint64  `json:"hits"`
	Misses      uint64  `json:"misses"`
	Fills       uint64  `json:"fills"`
	Invalidated uint64  `json:"invalidated"`
	HitRatio    float64 `json:"hit_ratio"`
}

func (h *handler) storeView(ctx context.Context) (StoreView, error) {
	info, err := h.describe(ctx)
	if err != nil {
		return StoreView{}, err
	}
	cfg := h.plugin.Config()
	st := h.plugin.Stats()
	v := StoreView{
		Kind:         info.Kind,
		Location:     info.Location,
		Prefix:       cfg.Prefix,
		DefaultTTL:   cfg.TTL.String(),
		Capabilities: info.Capabilities,
		Entries:      info.Entries,
		Bytes:        info.Bytes,
		Stats: Stats{Hits: st.Hits, Misses: st.Misses, Fills: st.Fills, Invalidated: st.Invalidated,
			Bypassed: st.Bypassed, Errors: st.Errors, HitRatio: st.HitRatio()},
		TableStats: []TableStats{},
		Tables:     h.tables,
		ReadOnly:   h.cfg.ReadOnly,
	}
	for t, ts := range h.plugin.TableStats() {
		v.TableStats = append(v.TableStats, TableStats{Table: t, Hits: ts.Hits, Misses: ts.Misses,
			Fills: ts.Fills, Invalidated: ts.Invalidated, HitRatio: ts.HitRatio()})
	}
	slices.SortFunc(v.TableStats, func(a, b TableStats) int { return strings.Compare(a.Table, b.Table) })
	return v, nil
}

// describe returns the store's description, or for a store that does not
// describe itself, its type and the capabilities of its interfaces.
func (h *handler) describe(ctx context.Context) (store.Info, error) {
	if d, ok := h.plugin.Store().(store.Describer); ok {
		return d.Describe(ctx)
	}
	return store.Info{Kind: fmt.Sprintf("%T", h.plugin.Store()), Capabilities: h.capabilities(), Entries: -1, Bytes: -1}, nil
}

// capabilities are those of the store's interfaces, for a store that does
// not describe itself. Whether it counts hits (store.CapHits) no interface
// says: such a store is taken not to.
func (h *handler) capabilities() []string {
	var caps []string
	s := h.plugin.Store()
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{store.CapList, is[store.Lister](s)},
		{store.CapInspect, is[store.Inspector](s)},
		{store.CapFlush, is[store.Flusher](s)},
		{store.CapPurge, is[store.Purger](s)},
		{store.CapRows, is[store.SchemeRegistry](s)},
	} {
		if c.ok {
			caps = append(caps, c.name)
		}
	}
	return caps
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// EntryView is an entry as the entry browser and detail show it.
type EntryView struct {
	Key     string    `json:"key"`
	Kind    string    `json:"kind,omitempty"`
	SQL     string    `json:"sql,omitempty"`
	Tables  []string  `json:"tables"`
	Size    int       `json:"size"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	TTL     string    `json:"ttl"` // time left
	Age     string    `json:"age"`
	State   string    `json:"state"` // valid, invalid or expired
	Hits    int64     `json:"hits"`  // -1 when the store does not count them
	Deps    []DepView `json:"deps,omitempty"`
}

// DepView is a dependency of an entry and whether its stamp still matches.
type DepView struct {
	Table   string `json:"table"`
	Cond    string `json:"cond,omitempty"` // "" every row, "*" any row, else a conjunction
	Stamp   uint64 `json:"stamp"`
	Current uint64 `json:"current"` // 0 when the dependency has no stamp now
	Valid   bool   `json:"valid"`
	Note    string `json:"note,omitempty"`
}

// EntryDetail is the entry page and GET api/entry.
type EntryDetail struct {
	EntryView
	Content Content `json:"content"`
	Error   string  `json:"decode_error,omitempty"`
}

// Content is a cached value decoded for people.
type Content struct {
	// Kind is "query" (a query result), "value" (a Remember value),
	// "error" (a Remember error, cached by CacheErrors) or "unknown".
	Kind string
	// SQL is the statement of a query result, with its vars inlined.
	SQL string
	// Columns and Rows are a query result, each value as text: NULL for a
	// null, hex for bytes that are not UTF-8.
	Columns []string
	Rows    [][]string
	// Text is a Remember value as its codec encoded it (JSON by default),
	// or the message of a Remember error.
	Text string
}

func (h *handler) entryView(in store.EntryInfo, sql string, now time.Time) EntryView {
	v := EntryView{
		Key: in.Key, Size: in.Size, Created: in.Created, Expires: in.Expires, Hits: in.Hits,
		State: state(in, now),
		TTL:   in.Expires.Sub(now).Round(time.Second).String(),
		Age:   now.Sub(in.Created).Round(time.Second).String(),
		SQL:   sql,
	}
	if in.Expired(now) {
		v.TTL = "expired"
	}
	if in.Created.IsZero() {
		v.Age = "unknown"
	}
	for i, d := range in.Deps {
		t := entry.Table(h.plugin.Config().Prefix, d)
		dv := DepView{Table: d.Table, Cond: d.Cond, Stamp: uint64(in.Stamps[i]), Current: uint64(in.Current[i])}
		dv.Valid = dv.Stamp == dv.Current
		switch {
		case t == "" && d == entry.Global(h.plugin.Config().Prefix):
			dv.Note = "every entry: renewed by InvalidateAll"
		case t == "":
			dv.Note = "a Remember key: renewed by Forget"
		case d.Cond == "":
			dv.Note = "every row of " + t
		case d.Cond == "*":
			dv.Note = "any row of " + t
		default:
			cond := d.Cond
			if c, err := deps.ParseConj(d.Cond); err == nil {
				cond = c.String()
			}
			dv.Note = "the rows of " + t + " where " + cond
		}
		if t != "" && !slices.Contains(v.Tables, t) {
			v.Tables = append(v.Tables, t)
		}
		v.Deps = append(v.Deps, dv)
	}
	return v
}

func state(in store.EntryInfo, now time.Time) string {
	switch {
	case in.Expired(now):
		return "expired"
	case !in.Valid:
		return "invalid"
	}
	return "valid"
}

// ListView is the entry browser and GET api/entries.
type ListView struct {
	Query   ListQuery   `json:"query"`
	Entries []EntryView `json:"entries"`
	Next    string      `json:"next,omitempty"`
	// NextURL is the relative link of the next page, "" on the last.
	NextURL template.URL `json:"-"`
	Sorted  bool         `json:"sorted"` // false when the store lists in its own order
	// CountsHits is whether the store counts the hits of each entry
	// (store.CapHits), and so can sort by them.
	CountsHits bool `json:"-"`
}

// ListQuery are the parameters of the entry browser.
type ListQuery struct {
	Search string `json:"q,omitempty"`      // glob on key and SQL
	Table  string `json:"table,omitempty"`  // only entries depending on it
	State  string `json:"state,omitempty"`  // valid, invalid, expired or "" for all
	Sort   string `json:"sort,omitempty"`   // "" (by key), age, ttl, size or hits
	Cursor string `json:"cursor,omitempty"` // from the previous page's next
	Limit  int    `json:"limit"`
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Search, "table": q.Table, "state": q.State, "sort": q.Sort, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("limit", strconv.Itoa(q.Limit))
	return v
}

// parseList reads and checks the parameters of the entry browser.
func (h *handler) parseList(r *http.Request) (ListQuery, error) {
	f := r.URL.Query()
	q := ListQuery{
		Search: f.Get("q"), Table: f.Get("table"), State: f.Get("state"),
		Sort: f.Get("sort"), Cursor: f.Get("cursor"), Limit: h.cfg.PageSize,
	}
	if s := f.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return q, badRequest("limit %q: want a number from 1 to %d", s, MaxPageSize)
		}
		q.Limit = n
	}
	if q.Sort == "key" {
		q.Sort = store.SortKey
	}
	switch q.Sort {
	case store.SortKey, store.SortAge, store.SortTTL, store.SortSize, store.SortHits:
	default:
		return q, badRequest("sort %q: want key, age, ttl, size or hits", q.Sort)
	}
	switch q.State {
	case "", "valid", "invalid", "expired":
	default:
		return q, badRequest("state %q: want valid, invalid or expired", q.State)
	}
	if q.Table != "" {
		t, err := h.knownTable(q.Table)
		if err != nil {
			return q, err
		}
		q.Table = t
	}
	return q, nil
}

// knownTable returns the normalized name of table, or a bad request error
// when it is not a table name or not one of the known tables.
func (h *handler) knownTable(table string) (string, error) {
	t := sqlscan.NormalizeTable(table)
	if strings.TrimSpace(t) == "" {
		return "", badRequest("%q is not a table name", table)
	}
	if len(h.tables) > 0 && !slices.Contains(h.tables, t) {
		return "", badRequest("unknown table %q; known tables: %s", table, strings.Join(h.tables, ", "))
	}
	return t, nil
}

// listRequest lists the page of entries the query of r asks for.
func (h *handler) listRequest(r *http.Request) (ListView, error) {
	q, err := h.parseList(r)
	if err != nil {
		return ListView{}, err
	}
	return h.list(r.Context(), q)
}

func (h *handler) list(ctx context.Context, q ListQuery) (ListView, error) {
	lister, ok := h.plugin.Store().(store.Lister)
	if !ok {
		return ListView{}, fmt.Errorf("%w: listing entries", errUnsupported)
	}
	info, err := h.describe(ctx)
	if err != nil {
		return ListView{}, err
	}
	countsHits := slices.Contains(info.Capabilities, store.CapHits)
	if q.Sort == store.SortHits && !countsHits {
		return ListView{}, badRequest("sort hits: this store (%s) does not count the hits of its entries; sort by key, age, ttl or size", info.Kind)
	}
	var match func(string) bool
	if q.Search != "" {
		m, err := store.CompileGlob(q.Search)
		if err != nil {
			return ListView{}, fmt.Errorf("%w: search: %w", errBadRequest, err)
		}
		match = m
	}
	now := h.cfg.Now()
	prefix := h.plugin.Config().Prefix + q.Table
	sorted := slices.Contains(info.Capabilities, store.CapSort)
	filter := func(in store.EntryInfo, _ []byte) bool {
		if q.State != "" && state(in, now) != q.State {
			return false
		}
		if q.Table != "" && !slices.ContainsFunc(in.Deps, func(d store.Dep) bool { return d.Table == prefix }) {
			return false
		}
		return true
	}
	opts := store.ListOptions{Cursor: q.Cursor, Limit: q.Limit, Sort: q.Sort, Values: true}
	if match != nil {
		var sql entry.SQLReader
		opts.Match = func(key string, value []byte) bool { return match(key) || match(sql.SQL(value)) }
	}
	if q.State != "" || q.Table != "" {
		opts.Filter = filter
	}
	page, err := lister.List(ctx, opts)
	if errors.Is(err, store.ErrBadCursor) {
		return ListView{}, fmt.Errorf("%w: cursor %q is not one this listing made", errBadRequest, q.Cursor)
	}
	if err != nil {
		return ListView{}, err
	}
	v := ListView{Query: q, Next: page.Next, Entries: make([]EntryView, 0, len(page.Entries)),
		Sorted: sorted, CountsHits: countsHits}
	for i, in := range page.Entries {
		var sql string
		if i < len(page.Values) {
			sql = entry.SQL(page.Values[i])
		}
		ev := h.entryView(in, sql, now)
		ev.Deps = nil
		if len(ev.SQL) > 300 {
			ev.SQL = strings.ToValidUTF8(ev.SQL[:300], "") + "…"
		}
		v.Entries = append(v.Entries, ev)
	}
	if page.Next != "" {
		next := q
		next.Cursor = page.Next
		v.NextURL = template.URL("entries?" + next.values().Encode())
	}
	return v, nil
}

func (h *handler) detail(ctx context.Context, key string) (EntryDetail, error) {
	if key == "" {
		return EntryDetail{}, badRequest("no key")
	}
	inspector, ok := h.plugin.Store().(store.Inspector)
	if !ok {
		return EntryDetail{}, fmt.Errorf("%w: inspecting entries", errUnsupported)
	}
	in, value, ok, err := inspector.Inspect(ctx, key)
	if err != nil {
		return EntryDetail{}, err
	}
	if !ok {
		return EntryDetail{}, fmt.Errorf("%w: no entry %q (it may have expired or been removed)", errNotFound, key)
	}
	d := EntryDetail{EntryView: h.entryView(in, entry.SQL(value), h.cfg.Now())}
	c, err := entry.Describe(value)
	if err != nil {
		d.Error = err.Error()
	}
	d.Content = Content(c)
	d.Kind = d.Content.Kind
	return d, nil
}
