package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
)

// This file gathers what pages and API answers show, with the JSON names of
// the API.

// errNotFound marks errors for something that does not exist: 404.
var errNotFound = errors.New("not found")

// errUnsupported marks what the store cannot do: 501.
var errUnsupported = errors.New("not supported by this store")

// errNoDB is the error of "invalidate object" without Config.DB: 501.
var errNoDB = errors.New("invalidating an object needs the database: " +
	"set admin.Config.DB to the *gorm.DB the plugin is registered on")

// StoreView is the stores page and GET api/store.
type StoreView struct {
	Kind         string   `json:"kind"`
	Location     string   `json:"location"`
	Prefix       string   `json:"prefix"`
	DefaultTTL   string   `json:"default_ttl"`
	DefaultTTLMs int64    `json:"default_ttl_ms"`
	Capabilities []string `json:"capabilities"`
	Entries      int      `json:"entries"` // -1 when unknown
	Bytes        int64    `json:"bytes"`   // -1 when unknown
	// Facts are what the store reports of itself (store.Reporter): its
	// server, capacity, evictions, key counts.
	Facts []Fact `json:"facts"`
	Stats Stats  `json:"stats"`
	// TableStats are the plugin's counters per table, by table name.
	TableStats []TableStats `json:"table_stats"`
	Tables     []string     `json:"tables"`
	ReadOnly   bool         `json:"read_only"`
}

// Fact is a store.Fact.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Stats are the plugin's counters (gormcache.Stats), overall.
type Stats struct {
	Hits uint64 `json:"hits"`
	// ScopeHits are the Hits that request scopes answered.
	ScopeHits   uint64  `json:"scope_hits"`
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
		DefaultTTLMs: cfg.TTL.Milliseconds(),
		Capabilities: info.Capabilities,
		Entries:      info.Entries,
		Bytes:        info.Bytes,
		Facts:        []Fact{},
		Stats: Stats{Hits: st.Hits, ScopeHits: st.ScopeHits, Misses: st.Misses, Fills: st.Fills, Invalidated: st.Invalidated,
			Bypassed: st.Bypassed, Errors: st.Errors, HitRatio: st.HitRatio()},
		TableStats: []TableStats{},
		Tables:     h.tables,
		ReadOnly:   h.cfg.ReadOnly,
	}
	if r, ok := h.plugin.Store().(store.Reporter); ok {
		facts, err := r.Report(ctx)
		if err != nil {
			return StoreView{}, err
		}
		for _, f := range facts {
			v.Facts = append(v.Facts, Fact(f))
		}
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
		{store.CapTTL, is[store.TTLSetter](s)},
		{store.CapReport, is[store.Reporter](s)},
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
	// ID names the entry in URLs, forms and the API (see ID); Key is the
	// key as text, with U+FFFD for the bytes that are not UTF-8.
	ID      string     `json:"id"`
	Key     string     `json:"key"`
	Kind    string     `json:"kind"` // query, value, error or unknown
	SQL     string     `json:"sql,omitempty"`
	Tables  []string   `json:"tables"`
	Size    int        `json:"size"`
	Created *time.Time `json:"created"` // null when the store does not know it
	Expires time.Time  `json:"expires"`
	TTL     string     `json:"ttl"` // time left, or "expired"
	TTLMs   int64      `json:"ttl_ms"`
	Age     string     `json:"age"` // or "unknown"
	AgeMs   *int64     `json:"age_ms"`
	State   string     `json:"state"` // valid, invalid or expired
	Hits    int64      `json:"hits"`  // -1 when the store does not count them
	Deps    []DepView  `json:"deps,omitempty"`
	// Shown is the key for people (quoted when it is not printable text),
	// Short that cut to fit a list.
	Shown string `json:"-"`
	Short string `json:"-"`
}

// DepView is a dependency of an entry and whether its stamp still matches.
// Stamps are strings in JSON: they exceed 2^53.
type DepView struct {
	Table   string `json:"table"`
	Cond    string `json:"cond,omitempty"` // "" every row, "*" any row, else a conjunction
	Stamp   uint64 `json:"stamp,string"`
	Current uint64 `json:"current,string"` // 0 when the dependency has no stamp now
	Valid   bool   `json:"valid"`
	// Note says what the dependency stands for, its condition as SQL.
	Note string `json:"note,omitempty"`
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
	Kind string `json:"kind"`
	// SQL is the statement of a query result, with its vars inlined.
	SQL string `json:"sql,omitempty"`
	// Columns and Rows are a query result, each value as text: NULL for a
	// null, hex for bytes that are not UTF-8.
	Columns []string   `json:"columns,omitempty"`
	Rows    [][]string `json:"rows,omitempty"`
	// Text is a Remember value as its codec encoded it (JSON by default),
	// or the message of a Remember error.
	Text string `json:"text,omitempty"`
}

func (h *handler) entryView(in store.EntryInfo, kind, sql string, now time.Time) EntryView {
	v := EntryView{
		ID: ID(in.Key), Key: in.Key, Kind: kind, Size: in.Size, Expires: in.Expires, Hits: in.Hits,
		State: state(in, now), SQL: sql, Tables: []string{},
		TTL: in.Expires.Sub(now).Round(time.Second).String(), TTLMs: in.Expires.Sub(now).Milliseconds(),
		Age: "unknown", Shown: shown(in.Key),
	}
	v.Short = short(v.Shown, 48)
	if in.Expired(now) {
		v.TTL, v.TTLMs = "expired", 0
	}
	if !in.Created.IsZero() {
		created, age := in.Created, now.Sub(in.Created)
		ms := age.Milliseconds()
		v.Created, v.Age, v.AgeMs = &created, age.Round(time.Second).String(), &ms
	}
	prefix := h.plugin.Config().Prefix
	for i, d := range in.Deps {
		t := entry.Table(prefix, d)
		dv := DepView{Table: d.Table, Cond: d.Cond, Stamp: uint64(in.Stamps[i]), Current: uint64(in.Current[i])}
		dv.Valid = dv.Stamp == dv.Current
		switch {
		case t == "" && d == entry.Global(prefix):
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

// withCreated returns in with its Created time, where the store does not
// know it (Redis), from value when it is a query result, which says when its
// rows were read.
func withCreated(in store.EntryInfo, value []byte) store.EntryInfo {
	if in.Created.IsZero() {
		in.Created, _ = entry.Created(value)
	}
	return in
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
	Query ListQuery `json:"query"`
	// Glob is the pattern the search ran: a plain word w runs as *w*.
	Glob    string      `json:"glob,omitempty"`
	Entries []EntryView `json:"entries"`
	Next    string      `json:"next,omitempty"`
	// Total is the number of entries the filters select, -1 when the
	// store cannot tell; TotalEstimated marks an estimate (Redis).
	Total          int  `json:"total"`
	TotalEstimated bool `json:"total_estimated"`
	// Before is the number of them before this page, -1 when unknown.
	Before int  `json:"before"`
	Sorted bool `json:"sorted"` // false when the store lists in its own order
	// The rest is for the page.
	NextURL, PrevURL, FirstURL, SelectURL, ClearURL, RefreshURL template.URL `json:"-"`
	// Here is the page's own link, for the forms that come back to it.
	Here string `json:"-"`
	// CountsHits is whether the store counts the hits of each entry
	// (store.CapHits), and so can sort by them.
	CountsHits bool `json:"-"`
	// UsualDir is the direction of the sort unless told.
	UsualDir string `json:"-"`
}

// listRequest lists the page of entries the query of r asks for.
func (h *handler) listRequest(r *http.Request) (ListView, error) {
	f, err := query(r)
	if err != nil {
		return ListView{}, err
	}
	q, err := h.parseList(f)
	if err != nil {
		return ListView{}, err
	}
	return h.list(r.Context(), q)
}

// selection returns the options of a listing that selects the entries the
// filters of q select, and the glob its search runs.
func (h *handler) selection(q ListQuery) (store.ListOptions, string, error) {
	var opts store.ListOptions
	var pattern string
	if q.Search != "" {
		pattern = glob(q.Search)
		match, err := store.CompileGlob(pattern)
		if err != nil {
			return opts, "", fmt.Errorf("%w: search: %w", errBadRequest, err)
		}
		var sql entry.SQLReader
		opts.Match = func(key, text string, value []byte) bool { return match(key) || match(sql.SQL(text, value)) }
	}
	if q.State != "" || q.Table != "" {
		now := h.cfg.Now()
		dep := h.plugin.Config().Prefix + q.Table
		opts.Filter = func(in store.EntryInfo, _ []byte) bool {
			return (q.State == "" || state(in, now) == q.State) &&
				(q.Table == "" || slices.ContainsFunc(in.Deps, func(d store.Dep) bool { return d.Table == dep }))
		}
	}
	return opts, pattern, nil
}

func (h *handler) lister() (store.Lister, error) {
	l, ok := h.plugin.Store().(store.Lister)
	if !ok {
		return nil, fmt.Errorf("%w: listing entries", errUnsupported)
	}
	return l, nil
}

func (h *handler) list(ctx context.Context, q ListQuery) (ListView, error) {
	lister, err := h.lister()
	if err != nil {
		return ListView{}, err
	}
	info, err := h.describe(ctx)
	if err != nil {
		return ListView{}, err
	}
	countsHits := slices.Contains(info.Capabilities, store.CapHits)
	if q.Sort == "hits" && !countsHits {
		return ListView{}, badRequest("sort hits: this store (%s) does not count the hits of its entries; sort by key, age, ttl or size", info.Kind)
	}
	opts, pattern, err := h.selection(q)
	if err != nil {
		return ListView{}, err
	}
	opts.Cursor, opts.Limit, opts.Sort, opts.Values = q.Cursor, q.Limit, sortOf[q.Sort], true
	opts.Reverse = q.Dir != defaultDir[q.Sort]
	page, err := lister.List(ctx, opts)
	if errors.Is(err, store.ErrBadCursor) {
		return ListView{}, badRequest("cursor %s is not one this listing made (with this sort and direction)", clip(q.Cursor))
	}
	if err != nil {
		return ListView{}, err
	}
	v := ListView{Query: q, Glob: pattern, Next: page.Next, Entries: make([]EntryView, 0, len(page.Entries)),
		Total: -1, Before: -1, Sorted: slices.Contains(info.Capabilities, store.CapSort), CountsHits: countsHits,
		UsualDir: defaultDir[q.Sort]}
	if c := page.Count; c != nil {
		v.Total, v.TotalEstimated, v.Before = c.Total, c.Estimated, c.Before
	}
	now := h.cfg.Now()
	var sql entry.SQLReader
	for i, in := range page.Entries {
		var value []byte
		if i < len(page.Values) {
			value = page.Values[i]
		}
		ev := h.entryView(withCreated(in, value), entry.KindOf(value), sql.SQL(in.Text, value), now)
		ev.Deps = nil
		if len(ev.SQL) > 300 {
			ev.SQL = strings.ToValidUTF8(ev.SQL[:300], "") + "…"
		}
		v.Entries = append(v.Entries, ev)
	}
	h.links(&v)
	return v, nil
}

// links sets the links of the page of v.
func (h *handler) links(v *ListView) {
	q := v.Query
	v.Here = q.url()
	v.RefreshURL = template.URL(v.Here)
	if v.Next != "" {
		v.NextURL = template.URL(q.next(v.Next).url())
	}
	if p, ok := q.prev(); ok {
		v.PrevURL = template.URL(p.url())
	}
	if q.Cursor != "" {
		first := q
		first.Cursor, first.Back, first.Page, first.Select = "", nil, 1, false
		v.FirstURL = template.URL(first.url())
	}
	u := q.values()
	if q.Select {
		v.ClearURL = template.URL("entries?" + u.Encode())
	} else {
		u.Set("select", "all")
		v.SelectURL = template.URL("entries?" + u.Encode())
	}
}

func (h *handler) detail(ctx context.Context, key string) (EntryDetail, error) {
	inspector, ok := h.plugin.Store().(store.Inspector)
	if !ok {
		return EntryDetail{}, fmt.Errorf("%w: inspecting entries", errUnsupported)
	}
	in, value, ok, err := inspector.Inspect(ctx, key)
	if err != nil {
		return EntryDetail{}, err
	}
	if !ok {
		return EntryDetail{}, fmt.Errorf("%w: no entry %s (it may have expired or been removed)", errNotFound, clip(key))
	}
	c, err := entry.Describe(in.Text, value)
	d := EntryDetail{EntryView: h.entryView(withCreated(in, value), c.Kind, c.SQL, h.cfg.Now()), Content: Content(c)}
	if err != nil {
		d.Error = err.Error()
	}
	return d, nil
}

// pretty returns text indented when it is JSON, as it is else.
func pretty(text string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(text), "", "  ") != nil {
		return text
	}
	return b.String()
}

// knownTable returns the normalized name of table, or a bad request error
// when it is not a table name or not one of the known tables.
func (h *handler) knownTable(table string) (string, error) {
	t := sqlscan.NormalizeTable(table)
	if strings.TrimSpace(t) == "" {
		return "", badRequest("%s is not a table name", clip(table))
	}
	if len(h.tables) > 0 && !slices.Contains(h.tables, t) {
		return "", badRequest("unknown table %s; known tables: %s", clip(table), strings.Join(h.tables, ", "))
	}
	return t, nil
}

// count counts the entries the filters of q select, as "12 entries" or
// "about 1200 entries" (an estimate); "" when the store cannot tell.
func (h *handler) count(ctx context.Context, q ListQuery) string {
	lister, err := h.lister()
	if err != nil {
		return ""
	}
	opts, _, err := h.selection(q)
	if err != nil {
		return ""
	}
	opts.Limit = MaxPageSize
	page, err := lister.List(ctx, opts)
	if err != nil || page.Count == nil {
		return ""
	}
	return entries(page.Count.Total, page.Count.Estimated)
}

// entries says "1 entry", "12 entries", or "about 1200 entries" for an
// estimate.
func entries(n int, estimated bool) string {
	s := fmt.Sprintf("%d entries", n)
	if n == 1 {
		s = "1 entry"
	}
	if estimated {
		s = "about " + s
	}
	return s
}
