package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gormcache/gormcache/store"
)

// This file reads what requests ask for: their parameters, the keys they
// name, and the list they show; and it clips what answers echo of them.

// errBadRequest marks errors caused by the request: they answer 400.
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// maxEcho bounds what an answer repeats of a request's input.
const maxEcho = 120

// clip returns s, quoted, cut to maxEcho bytes with how long it was: an
// error answer never repeats a whole input, which may be a megabyte.
func clip(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(strings.ToValidUTF8(s[:maxEcho], "")), len(s))
}

// query returns the parameters of r's URL, refusing a malformed one
// (url.Query drops what it cannot decode).
func query(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("malformed query: %s", clip(err.Error()))
	}
	return v, nil
}

// ID returns the identifier of a key in URLs, forms and the JSON API: its
// bytes in base64url without padding, which round-trips every key, those
// with a newline or bytes that are not UTF-8 included.
func ID(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// keysOf returns the keys that f names: each id (see ID), then each key
// (the key itself, for keys that are text). It is an error when none is
// named, or one is empty or not base64url.
func keysOf(f url.Values) ([]string, error) {
	keys := slices.Clone(f["key"])
	for _, id := range f["id"] {
		k, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil {
			return nil, badRequest("id %s: not the base64url of a key", clip(id))
		}
		keys = append(keys, string(k))
	}
	switch {
	case len(keys) == 0:
		return nil, badRequest("no id (or key)")
	case slices.Contains(keys, ""):
		return nil, badRequest("an empty key")
	}
	return keys, nil
}

// oneKey returns the one key f names (see keysOf).
func oneKey(f url.Values) (string, error) {
	keys, err := keysOf(f)
	if err != nil {
		return "", err
	}
	if len(keys) > 1 {
		return "", badRequest("%d entries named: want one", len(keys))
	}
	return keys[0], nil
}

// shown returns key as people read it: as it is when it is printable text,
// else quoted, with its newlines and bytes that are not UTF-8 escaped.
func shown(key string) string {
	if utf8.ValidString(key) && !strings.ContainsFunc(key, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
		return key
	}
	return strconv.Quote(key)
}

// short returns s cut in its middle to at most n runes.
func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	tail := n / 3
	return string(r[:n-tail-1]) + "…" + string(r[len(r)-tail:])
}

// ListQuery are the parameters of the entry browser.
type ListQuery struct {
	Search string `json:"q,omitempty"`     // as given
	Table  string `json:"table,omitempty"` // only entries depending on it
	State  string `json:"state,omitempty"` // valid, invalid or "" for all
	Sort   string `json:"sort"`            // key, age, ttl, size or hits
	Dir    string `json:"dir"`             // asc or desc
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit"`
	// Back are the cursors of the pages before this one, the first page's
	// "" included, for the link to the previous page; Page is its number.
	Back []string `json:"-"`
	Page int      `json:"-"`
	// Select ticks every entry of the page.
	Select bool `json:"-"`
}

// defaultDir is the direction each sort lists in unless told: keys from
// first to last, the newest first (the least age), the soonest to expire
// first, the largest first, the most read first.
var defaultDir = map[string]string{"key": "asc", "age": "asc", "ttl": "asc", "size": "desc", "hits": "desc"}

// sortOf is the store's Sort order of a sort.
var sortOf = map[string]string{"key": store.SortKey, "age": store.SortAge, "ttl": store.SortTTL, "size": store.SortSize, "hits": store.SortHits}

// maxBack bounds the bytes of the cursors a page link carries back.
const maxBack = 2048

// filters returns the parameters of q that select entries.
func (q ListQuery) filters() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Search, "table": q.Table, "state": q.State} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// values returns the parameters of the page of q.
func (q ListQuery) values() url.Values {
	v := q.filters()
	v.Set("sort", q.Sort)
	v.Set("dir", q.Dir)
	v.Set("limit", strconv.Itoa(q.Limit))
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	for _, c := range q.Back {
		v.Add("back", c)
	}
	return v
}

// url returns the relative link of the page of q.
func (q ListQuery) url() string { return "entries?" + q.values().Encode() }

// next returns the query of the page after q's, which starts at cursor.
func (q ListQuery) next(cursor string) ListQuery {
	n := q
	n.Select = false
	n.Back = append(slices.Clone(q.Back), q.Cursor)
	size := 0
	for _, c := range n.Back {
		size += len(c)
	}
	for size > maxBack { // forget the oldest
		size -= len(n.Back[0])
		n.Back = n.Back[1:]
	}
	n.Cursor, n.Page = cursor, q.Page+1
	return n
}

// prev returns the query of the page before q's, and false when it is
// not known (the first page, or one whose way back was cut).
func (q ListQuery) prev() (ListQuery, bool) {
	if len(q.Back) == 0 {
		return q, false
	}
	p := q
	p.Select = false
	p.Cursor, p.Back, p.Page = q.Back[len(q.Back)-1], q.Back[:len(q.Back)-1], q.Page-1
	return p, true
}

// parseList reads and checks the parameters of the entry browser.
func (h *handler) parseList(f url.Values) (ListQuery, error) {
	q := ListQuery{
		Search: f.Get("q"), Table: f.Get("table"), State: f.Get("state"),
		Sort: f.Get("sort"), Dir: f.Get("dir"), Cursor: f.Get("cursor"), Limit: h.cfg.PageSize,
		Back: f["back"], Page: 1, Select: f.Get("select") == "all",
	}
	if s := f.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return q, badRequest("limit %s: want a number from 1 to %d", clip(s), MaxPageSize)
		}
		q.Limit = n
	}
	if s := f.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, badRequest("page %s: want a number from 1", clip(s))
		}
		q.Page = n
	}
	if q.Sort == "" {
		q.Sort = "key"
	}
	if _, ok := sortOf[q.Sort]; !ok {
		return q, badRequest("sort %s: want key, age, ttl, size or hits", clip(q.Sort))
	}
	switch q.Dir {
	case "":
		q.Dir = defaultDir[q.Sort]
	case "asc", "desc":
	default:
		return q, badRequest("dir %s: want asc or desc", clip(q.Dir))
	}
	if err := h.checkFilters(&q); err != nil {
		return q, err
	}
	return q, nil
}

// checkFilters checks the filters of q, normalizing its table.
func (h *handler) checkFilters(q *ListQuery) error {
	switch q.State {
	case "", "valid", "invalid":
	case "expired":
		return badRequest("state expired: the stores remove an entry when its TTL ends (memory at once, Redis on its own), " +
			"so none is ever listed as expired; want valid or invalid")
	default:
		return badRequest("state %s: want valid or invalid", clip(q.State))
	}
	if q.Table != "" {
		t, err := h.knownTable(q.Table)
		if err != nil {
			return err
		}
		q.Table = t
	}
	return nil
}

// glob returns the pattern a search means: a glob as given when it has a
// *, ? or [, else the text itself anywhere (*text*, its backslashes
// quoted).
func glob(search string) string {
	if strings.ContainsAny(search, "*?[") {
		return search
	}
	return "*" + strings.ReplaceAll(search, `\`, `\\`) + "*"
}
