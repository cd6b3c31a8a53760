package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/testdata/blog"
)

func TestClosedByDefault(t *testing.T) {
	f := admintest.New(t, admin.Config{})
	for _, path := range []string{"", "entries", "api/store", "entry?id=eA"} {
		resp, body := f.Do(t, http.MethodGet, path, nil)
		if got, want := resp.StatusCode, http.StatusForbidden; got != want {
			t.Errorf("GET %s: got %v, want %v", path, got, want)
		}
		require.Contains(t, body, "Authorize", path)
		require.NotContains(t, body, `href="entries"`, "a refused page links to pages refused too")
	}
	// The refusal is styled: the stylesheet is served to anyone.
	_, body := f.Do(t, http.MethodGet, "entries", nil)
	require.Contains(t, body, `<link rel="stylesheet" href="static/admin.css">`)
	resp, body := f.Do(t, http.MethodGet, "static/admin.css", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/css")
	require.Contains(t, body, "@media")
	for _, m := range []struct {
		path string
		form url.Values
	}{
		{"api/flush", nil},
		{"api/delete", url.Values{"key": {f.Key, "fn:greeting"}}},
		{"api/invalidate-object", url.Values{"model": {"*blog.Post"}, "pk": {"1"}}},
	} {
		if status, _ := f.Post(t, m.path, m.form); status != http.StatusForbidden {
			t.Errorf("POST %s: got %v, want 403", m.path, status)
		}
	}
	in, _, ok, err := f.Plugin.Store().(store.Inspector).Inspect(context.Background(), f.Key)
	require.NoError(t, err)
	require.True(t, ok, "a refused action removed the entry")
	require.True(t, in.Valid, "a refused action invalidated the entry")
}

func TestUnauthorized(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: func(r *http.Request) bool { return r.Header.Get("X-Ok") == "1" }})
	if status, _ := f.Get(t, "api/store"); status != http.StatusForbidden {
		t.Errorf("got %v, want 403", status)
	}
	resp, _ := f.Do(t, http.MethodGet, "api/store", nil, "X-Ok", "1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, path := range []string{"delete", "api/delete", "invalidate-object", "api/invalidate-object"} {
		form := url.Values{"key": {f.Key, "fn:greeting"}, "model": {"*blog.Post"}, "pk": {"1"}, "confirm": {"yes"}}
		if status, _ := f.Post(t, path, form); status != http.StatusForbidden {
			t.Errorf("POST %s: got %v, want 403", path, status)
		}
	}
	resp, _ = f.Do(t, http.MethodGet, "api/entry?key="+url.QueryEscape(f.Key), nil, "X-Ok", "1")
	require.Equal(t, http.StatusOK, resp.StatusCode, "an unauthorized delete removed the entry")

	g := admintest.New(t, admin.Config{Realm: "gormcache", Authorize: func(*http.Request) bool { return false }})
	resp, body := g.Do(t, http.MethodGet, "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `Basic realm="gormcache"`)
	require.Contains(t, body, `id="retry"`, "a way to sign in again")
	require.NotContains(t, body, "<nav>")
	// Below the mount point, the stylesheet is found all the same.
	resp, body = g.Do(t, http.MethodGet, "no/such/page", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, `href="../../static/admin.css"`)
}

func TestPages(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	tests := []struct {
		path, want, contentType string
	}{
		{"", "Hit ratio", "text/html"},
		{"entries", "published", "text/html"},
		{"entries?sort=age&state=valid&table=posts&limit=10&q=" + url.QueryEscape("*post*"), "published", "text/html"},
		{"entry?key=" + url.QueryEscape(f.Key), "Hello", "text/html"},
		{"entry?key=" + url.QueryEscape("fn:greeting"), "hello", "text/html"},
		{"actions", "Invalidate a model", "text/html"},
		{"actions", `name="pk.post_id"`, "text/html"},
		{"", "Statistics per table", "text/html"},
		{"entries?sort=hits", `<option value="hits" selected>`, "text/html"},
		{"entries", `type="checkbox" name="id"`, "text/html"},
		{"api/entries?sort=hits", `"hits": 0`, "application/json"},
		{"api/store", `"table_stats"`, "application/json"},
		{"static/admin.css", "body", "text/css"},
		{"api/store", `"hit_ratio"`, "application/json"},
		{"api/entries?sort=size", `"entries"`, "application/json"},
		{"api/entry?key=" + url.QueryEscape(f.Key), `"Hello"`, "application/json"},
		{"api/entry?key=" + url.QueryEscape(f.Key), "the rows of posts where published = true", "application/json"},
	}
	for _, tt := range tests {
		resp, body := f.Do(t, http.MethodGet, tt.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got %v, want 200: %s", tt.path, resp.StatusCode, body)
			continue
		}
		require.Contains(t, body, tt.want, tt.path)
		require.Contains(t, resp.Header.Get("Content-Type"), tt.contentType, tt.path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), tt.path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), tt.path)
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'", tt.path)
		require.NotContains(t, csp, "unsafe-inline", tt.path)
		require.NotContains(t, body, "<script", tt.path)
	}
}

func TestBadInput(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	tests := []struct {
		method, path string
		form         url.Values
		want         int
	}{
		{"GET", "entry?key=nope", nil, 404},
		{"GET", "api/entry?key=nope", nil, 404},
		{"GET", "api/entry", nil, 400},
		{"GET", "entries?cursor=!!", nil, 400},
		{"GET", "api/entries?cursor=" + url.QueryEscape("eGV5"), nil, 400},
		{"GET", "api/entries?sort=age&cursor=" + url.QueryEscape("aw"), nil, 400},
		{"GET", "api/entries?q=" + url.QueryEscape("[abc"), nil, 400},
		{"GET", "entries?q=" + url.QueryEscape("*a\\"), nil, 400},
		{"GET", "api/entries?q=" + strings.Repeat("x", store.MaxGlobLen+1), nil, 400},
		{"GET", "api/entries?q=%zz", nil, 400},
		{"GET", "entries?table=posts&q=%2", nil, 400},
		{"GET", "api/entry?key=%zz", nil, 400},
		{"GET", "api/store?%zz", nil, 400},
		{"GET", "api/entry?id=" + url.QueryEscape("!!"), nil, 400},
		{"GET", "api/entry?id=eA&id=eQ", nil, 400},
		{"GET", "api/entries?dir=up", nil, 400},
		{"GET", "api/entries?page=0", nil, 400},
		{"GET", "api/entries?state=expired", nil, 400},
		{"GET", "api/entries?limit=100000", nil, 400},
		{"GET", "api/entries?limit=0", nil, 400},
		{"GET", "api/entries?limit=x", nil, 400},
		{"GET", "api/entries?table=nosuch", nil, 400},
		{"GET", "api/entries?table=" + url.QueryEscape("1; drop"), nil, 400},
		{"GET", "api/entries?sort=visits", nil, 400},
		{"GET", "api/entries?state=stale", nil, 400},
		{"GET", "no/such/page", nil, 404},
		{"GET", "flush", nil, 405},
		{"GET", "api/delete", nil, 405},
		{"POST", "entries", url.Values{}, 405},
		{"POST", "api/store", url.Values{}, 405},
		{"PUT", "", url.Values{}, 405},
		{"POST", "api/delete", url.Values{"key": {"nope"}}, 404},
		{"POST", "delete", url.Values{}, 400},
		{"POST", "api/invalidate", url.Values{"table": {"nosuch"}}, 400},
		{"POST", "api/invalidate", url.Values{"model": {"*main.Nope"}}, 400},
		{"POST", "api/invalidate", url.Values{"model": {"*blog.Post"}, "table": {"posts"}}, 400},
		{"POST", "invalidate", url.Values{}, 400},
	}
	for _, tt := range tests {
		resp, body := f.Do(t, tt.method, tt.path, tt.form)
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: got %v, want %v: %s", tt.method, tt.path, resp.StatusCode, tt.want, body)
		}
	}
	require.Equal(t, "valid", f.State(t, f.Key), "bad input changed nothing")
	resp, _ := f.Do(t, http.MethodGet, "api/flush", nil)
	require.Equal(t, "POST", resp.Header.Get("Allow"))
	resp, _ = f.Do(t, http.MethodPost, "entries", url.Values{})
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
}

func TestReadOnly(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow, ReadOnly: true})
	for _, path := range []string{"delete", "invalidate", "invalidate-object", "purge", "flush",
		"api/delete", "api/invalidate", "api/invalidate-object", "api/purge", "api/flush"} {
		form := url.Values{"key": {f.Key, "fn:greeting"}, "table": {"posts"}, "model": {"*blog.Post"}, "pk": {"1"}, "confirm": {"yes"}}
		status, _ := f.Post(t, path, form)
		if status != http.StatusForbidden {
			t.Errorf("POST %s: got %v, want 403", path, status)
		}
	}
	_, body := f.Get(t, "actions")
	require.Contains(t, body, "read-only")
	require.NotContains(t, body, "invalidate-object")
	_, body = f.Get(t, "entry?key="+url.QueryEscape(f.Key))
	require.NotContains(t, body, `action="delete"`)
	_, body = f.Get(t, "entries")
	require.NotContains(t, body, `action="delete"`)
	require.NotContains(t, body, `type="checkbox"`)
	// Neither the links nor the help of what it refuses.
	for _, path := range []string{"", "entries", "entry?key=" + url.QueryEscape(f.Key), "no/such/page"} {
		_, body := f.Get(t, path)
		for _, refused := range []string{`href="actions"`, `href="../../actions"`, "delete-matching", "select-all", "Tick entries",
			`action="ttl"`, "Delete the entry, or invalidate"} {
			require.NotContains(t, body, refused, path)
		}
	}
	require.Equal(t, "valid", f.State(t, f.Key))
	require.Equal(t, "valid", f.State(t, "fn:greeting"))
}

func TestCrossOrigin(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	form := url.Values{"confirm": {"yes"}, "key": {f.Key, "fn:greeting"}, "model": {"*blog.Post"}, "pk": {"1"}}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "http://evil.example"},
	} {
		for _, path := range []string{"flush", "delete", "invalidate-object"} {
			resp, _ := f.Do(t, http.MethodPost, path, form, h...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s, %s: got %v, want 403", path, h, resp.StatusCode)
			}
			resp, _ = f.Do(t, http.MethodPost, "api/"+path, form, h...)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("api/%s, %s: got %v, want 403", path, h, resp.StatusCode)
			}
		}
	}
	require.Len(t, f.Entries(t, "").Entries, 3)
	require.Equal(t, "valid", f.State(t, f.Key))
	resp, _ := f.Do(t, http.MethodPost, "api/purge", url.Values{}, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestActions(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})

	// The pages confirm first, and change nothing until confirmed.
	status, body := f.Post(t, "delete", url.Values{"key": {f.Key}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `name="confirm" value="yes"`)
	require.Equal(t, "valid", f.State(t, f.Key))
	status, body = f.Post(t, "delete", url.Values{"key": {f.Key}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Deleted")
	status, _ = f.Get(t, "api/entry?key="+url.QueryEscape(f.Key))
	require.Equal(t, http.StatusNotFound, status)

	// Invalidating a model makes its entries invalid; purge removes them.
	authors := f.FindKey(t, "*authors*")
	status, body = f.Post(t, "invalidate", url.Values{"model": {"*blog.Author"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "invalid", f.State(t, authors))
	require.Len(t, f.Entries(t, "state=invalid").Entries, 1)
	status, body = f.Post(t, "api/purge", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Purged 1 entry that had expired or no longer validated.")

	status, _ = f.Post(t, "api/invalidate", url.Values{"table": {"authors"}})
	require.Equal(t, http.StatusOK, status)

	status, body = f.Post(t, "flush", url.Values{})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Remove every entry")
	status, _ = f.Post(t, "flush", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, f.Entries(t, "").Entries)
	_, body = f.Get(t, "entries")
	require.Contains(t, body, "No entries.")
}

func TestPagination(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	ctx := context.Background()
	const n = 1234
	for i := range n {
		require.NoError(t, f.Plugin.Store().Set(ctx, fmt.Sprintf("extra%04d", i), store.Entry{Value: []byte("v")}, time.Hour))
	}
	for _, sort := range []string{"key", "age", "ttl", "size", "hits"} {
		seen := map[string]bool{}
		query := url.Values{"sort": {sort}, "limit": {"100"}, "q": {"extra*"}}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			v := f.Entries(t, query.Encode())
			for _, e := range v.Entries {
				require.False(t, seen[e.Key], "%s listed twice", e.Key)
				seen[e.Key] = true
			}
			if v.Next == "" {
				break
			}
			query.Set("cursor", v.Next)
		}
		require.Len(t, seen, n, sort)
	}
	// The page's Next link carries the cursor and the filters.
	_, body := f.Get(t, "entries?limit=10&q=extra*")
	require.Contains(t, body, `id="next"`)
	require.Contains(t, body, "q=extra%2A")
}

func TestTableStats(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	stats := func() map[string]map[string]float64 {
		t.Helper()
		status, body := f.Get(t, "api/store")
		require.Equal(t, http.StatusOK, status, body)
		var v struct {
			TableStats []map[string]any `json:"table_stats"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		out := map[string]map[string]float64{}
		for _, ts := range v.TableStats {
			row := map[string]float64{}
			for k, x := range ts {
				if n, ok := x.(float64); ok {
					row[k] = n
				}
			}
			out[ts["table"].(string)] = row
		}
		return out
	}
	// The fixture inserted rows in every table, then read the published
	// posts and the authors once each.
	before := stats()
	require.ElementsMatch(t, []string{"authors", "posts", "tags"}, slices.Collect(maps.Keys(before)))
	for _, table := range []string{"authors", "posts"} {
		require.Equal(t, map[string]float64{"hits": 0, "misses": 1, "fills": 1, "hit_ratio": 0,
			"invalidated": before[table]["invalidated"]}, before[table], table)
		require.Positive(t, before[table]["invalidated"], "%s: the inserts", table)
	}

	var posts []blog.Post
	for range 3 {
		require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)
	}
	status, body := f.Post(t, "api/invalidate", url.Values{"table": {"authors"}})
	require.Equal(t, http.StatusOK, status, body)
	after := stats()
	require.Equal(t, map[string]float64{"hits": 3, "misses": 1, "fills": 1, "hit_ratio": 0.75,
		"invalidated": before["posts"]["invalidated"]}, after["posts"])
	require.Equal(t, float64(0), after["authors"]["hits"])
	require.Greater(t, after["authors"]["invalidated"], before["authors"]["invalidated"])

	_, body = f.Get(t, "")
	require.Contains(t, body, `id="table-stats"`)
	require.Contains(t, body, fmt.Sprintf(`<tr><td data-label="Table">posts</td><td data-label="Hit ratio">75.0%%</td>`+
		`<td data-label="Hits">3</td><td data-label="Misses">1</td><td data-label="Fills">1</td><td data-label="Invalidations">%d</td></tr>`,
		int(after["posts"]["invalidated"])))
}

func TestSortByHits(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	authors := f.FindKey(t, "*authors*")
	for range 2 {
		var a []blog.Author
		require.NoError(t, f.DB.Clauses(gormcache.Cache()).Find(&a).Error)
	}
	var posts []blog.Post
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)

	// One entry a page, so that each page resumes after the previous one.
	var got []admintest.Entry
	for _, e := range f.AllEntries(t, "sort=hits&limit=1") {
		got = append(got, admintest.Entry{Key: e.Key, Hits: e.Hits})
	}
	want := []admintest.Entry{{Key: authors, Hits: 2}, {Key: f.Key, Hits: 1}, {Key: "fn:greeting", Hits: 0}}
	require.Equal(t, want, got)

	_, body := f.Get(t, "entries?sort=hits")
	require.Contains(t, body, `<td class="hits" data-label="Hits">2</td>`)
	require.Less(t, strings.Index(body, authors), strings.Index(body, f.Key), "the most hit entry first")
	_, body = f.Get(t, "entry?key="+url.QueryEscape(authors))
	require.Contains(t, body, `<td id="hits">2</td>`)
}

// TestScopeHits shows the hits request scopes answered, in the page and
// the JSON API.
func TestScopeHits(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	ctx := gormcache.WithRequestScope(t.Context())
	for range 3 {
		var posts []blog.Post
		require.NoError(t, f.DB.WithContext(ctx).Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)
	}
	require.EqualValues(t, 2, f.Plugin.Stats().ScopeHits)
	status, body := f.Get(t, "api/store")
	require.Equal(t, http.StatusOK, status, body)
	var v struct {
		Stats struct {
			ScopeHits uint64 `json:"scope_hits"`
		} `json:"stats"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	require.EqualValues(t, 2, v.Stats.ScopeHits)
	_, body = f.Get(t, "")
	require.Contains(t, body, `<td id="scope-hits">2</td>`)
}
