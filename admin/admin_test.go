package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
)

type Author struct {
	ID    uint
	Name  string
	Posts []Post
}

type Post struct {
	ID        uint
	AuthorID  uint
	Title     string
	Published bool
}

// fixture is a plugin with a few cached results and an admin mounted at
// /cache/ of an httptest server.
type fixture struct {
	db     *gorm.DB
	plugin *gormcache.Plugin
	srv    *httptest.Server
	key    string // the key of the cached "published posts" result
}

func allow(*http.Request) bool { return true }

func newFixture(t testing.TB, cfg admin.Config) *fixture {
	t.Helper()
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{TTL: time.Hour})
	require.NoError(t, db.Use(p))
	require.NoError(t, db.AutoMigrate(&Author{}, &Post{}))
	require.NoError(t, db.Create(&Author{Name: "Ada", Posts: []Post{{Title: "Hello", Published: true}, {Title: "Draft"}}}).Error)
	var posts []Post
	require.NoError(t, db.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)
	var authors []Author
	require.NoError(t, db.Clauses(gormcache.Cache()).Find(&authors).Error)
	_, err = gormcache.Remember(db, "greeting", func(context.Context) (string, error) { return "hello", nil })
	require.NoError(t, err)

	cfg.Plugin = p
	if cfg.Models == nil {
		cfg.Models = []any{&Author{}, &Post{}}
	}
	mux := http.NewServeMux()
	mux.Handle("/cache/", http.StripPrefix("/cache", admin.New(cfg)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &fixture{db: db, plugin: p, srv: srv}
	page, err := p.Store().(store.Lister).List(context.Background(), store.ListOptions{
		Filter: func(_ store.EntryInfo, v []byte) bool { return strings.Contains(gormcache.EntrySQL(v), "published") },
	})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	f.key = page.Entries[0].Key
	return f
}

func (f *fixture) do(t testing.TB, method, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+"/cache/"+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func (f *fixture) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, body := f.do(t, http.MethodGet, path, nil)
	return resp.StatusCode, body
}

func (f *fixture) post(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	resp, body := f.do(t, http.MethodPost, path, form)
	return resp.StatusCode, body
}

type entriesJSON struct {
	Entries []struct {
		Key   string `json:"key"`
		SQL   string `json:"sql"`
		State string `json:"state"`
	} `json:"entries"`
	Next string `json:"next"`
}

func (f *fixture) entries(t testing.TB, query string) entriesJSON {
	t.Helper()
	status, body := f.get(t, "api/entries?"+query)
	require.Equal(t, http.StatusOK, status, body)
	var v entriesJSON
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	return v
}

func (f *fixture) findKey(t testing.TB, glob string) string {
	t.Helper()
	v := f.entries(t, "q="+url.QueryEscape(glob))
	require.Len(t, v.Entries, 1, "entries matching %s", glob)
	return v.Entries[0].Key
}

func (f *fixture) state(t testing.TB, key string) string {
	t.Helper()
	status, body := f.get(t, "api/entry?key="+url.QueryEscape(key))
	require.Equal(t, http.StatusOK, status, body)
	var v struct{ State string }
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	return v.State
}

func TestClosedByDefault(t *testing.T) {
	f := newFixture(t, admin.Config{})
	for _, path := range []string{"", "entries", "api/store", "static/admin.css"} {
		resp, body := f.do(t, http.MethodGet, path, nil)
		if got, want := resp.StatusCode, http.StatusForbidden; got != want {
			t.Errorf("GET %s: got %v, want %v", path, got, want)
		}
		require.Contains(t, body, "Authorize", path)
	}
	status, _ := f.post(t, "api/flush", nil)
	require.Equal(t, http.StatusForbidden, status)
	_, _, ok, err := f.plugin.Store().(store.Inspector).Inspect(context.Background(), f.key)
	require.NoError(t, err)
	require.True(t, ok, "a refused flush removed the entry")
}

func TestUnauthorized(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: func(r *http.Request) bool { return r.Header.Get("X-Ok") == "1" }})
	if status, _ := f.get(t, "api/store"); status != http.StatusForbidden {
		t.Errorf("got %v, want 403", status)
	}
	resp, _ := f.do(t, http.MethodGet, "api/store", nil, "X-Ok", "1")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	g := newFixture(t, admin.Config{Realm: "gormcache", Authorize: func(*http.Request) bool { return false }})
	resp, _ = g.do(t, http.MethodGet, "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `Basic realm="gormcache"`)
}

func TestPages(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: allow})
	tests := []struct {
		path, want, contentType string
	}{
		{"", "Hit ratio", "text/html"},
		{"entries", "published", "text/html"},
		{"entries?sort=age&state=valid&table=posts&limit=10&q=" + url.QueryEscape("*post*"), "published", "text/html"},
		{"entry?key=" + url.QueryEscape(f.key), "Hello", "text/html"},
		{"entry?key=" + url.QueryEscape("fn:greeting"), "hello", "text/html"},
		{"actions", "Invalidate a model", "text/html"},
		{"static/admin.css", "body", "text/css"},
		{"api/store", `"hit_ratio"`, "application/json"},
		{"api/entries?sort=size", `"entries"`, "application/json"},
		{"api/entry?key=" + url.QueryEscape(f.key), `"Hello"`, "application/json"},
	}
	for _, tt := range tests {
		resp, body := f.do(t, http.MethodGet, tt.path, nil)
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
	f := newFixture(t, admin.Config{Authorize: allow})
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
		{"GET", "entries?q=" + url.QueryEscape("a\\"), nil, 400},
		{"GET", "api/entries?limit=100000", nil, 400},
		{"GET", "api/entries?limit=0", nil, 400},
		{"GET", "api/entries?limit=x", nil, 400},
		{"GET", "api/entries?table=nosuch", nil, 400},
		{"GET", "api/entries?table=" + url.QueryEscape("1; drop"), nil, 400},
		{"GET", "api/entries?sort=hits", nil, 400},
		{"GET", "api/entries?state=stale", nil, 400},
		{"GET", "no/such/page", nil, 404},
		{"GET", "flush", nil, 404},
		{"POST", "api/delete", url.Values{"key": {"nope"}}, 404},
		{"POST", "delete", url.Values{}, 400},
		{"POST", "api/invalidate", url.Values{"table": {"nosuch"}}, 400},
		{"POST", "api/invalidate", url.Values{"model": {"*main.Nope"}}, 400},
		{"POST", "api/invalidate", url.Values{"model": {"*admin_test.Post"}, "table": {"posts"}}, 400},
		{"POST", "invalidate", url.Values{}, 400},
	}
	for _, tt := range tests {
		resp, body := f.do(t, tt.method, tt.path, tt.form)
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: got %v, want %v: %s", tt.method, tt.path, resp.StatusCode, tt.want, body)
		}
	}
	require.Equal(t, "valid", f.state(t, f.key), "bad input changed nothing")
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: allow, ReadOnly: true})
	for _, path := range []string{"delete", "invalidate", "purge", "flush", "api/delete", "api/invalidate", "api/purge", "api/flush"} {
		status, _ := f.post(t, path, url.Values{"key": {f.key}, "table": {"posts"}, "confirm": {"yes"}})
		if status != http.StatusForbidden {
			t.Errorf("POST %s: got %v, want 403", path, status)
		}
	}
	_, body := f.get(t, "actions")
	require.Contains(t, body, "read-only")
	_, body = f.get(t, "entry?key="+url.QueryEscape(f.key))
	require.NotContains(t, body, `action="delete"`)
	require.Equal(t, "valid", f.state(t, f.key))
}

func TestCrossOrigin(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: allow})
	form := url.Values{"confirm": {"yes"}}
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "http://evil.example"},
	} {
		resp, _ := f.do(t, http.MethodPost, "flush", form, h...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %v, want 403", h, resp.StatusCode)
		}
		resp, _ = f.do(t, http.MethodPost, "api/flush", form, h...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("api, %s: got %v, want 403", h, resp.StatusCode)
		}
	}
	require.NotEmpty(t, f.entries(t, "").Entries)
	resp, _ := f.do(t, http.MethodPost, "api/purge", url.Values{}, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestActions(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: allow})

	// The pages confirm first, and change nothing until confirmed.
	status, body := f.post(t, "delete", url.Values{"key": {f.key}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `name="confirm" value="yes"`)
	require.Equal(t, "valid", f.state(t, f.key))
	status, body = f.post(t, "delete", url.Values{"key": {f.key}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Deleted")
	status, _ = f.get(t, "api/entry?key="+url.QueryEscape(f.key))
	require.Equal(t, http.StatusNotFound, status)

	// Invalidating a model makes its entries invalid; purge removes them.
	authors := f.findKey(t, "*authors*")
	status, body = f.post(t, "invalidate", url.Values{"model": {"*admin_test.Author"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "invalid", f.state(t, authors))
	require.Len(t, f.entries(t, "state=invalid").Entries, 1)
	status, body = f.post(t, "api/purge", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Purged 1 entries")

	status, _ = f.post(t, "api/invalidate", url.Values{"table": {"authors"}})
	require.Equal(t, http.StatusOK, status)

	status, body = f.post(t, "flush", url.Values{})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Remove every entry")
	status, _ = f.post(t, "flush", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, f.entries(t, "").Entries)
	_, body = f.get(t, "entries")
	require.Contains(t, body, "No entries.")
}

func TestPagination(t *testing.T) {
	f := newFixture(t, admin.Config{Authorize: allow})
	ctx := context.Background()
	const n = 1234
	for i := range n {
		require.NoError(t, f.plugin.Store().Set(ctx, fmt.Sprintf("extra%04d", i), store.Entry{Value: []byte("v")}, time.Hour))
	}
	for _, sort := range []string{"key", "age", "ttl", "size"} {
		seen := map[string]bool{}
		query := url.Values{"sort": {sort}, "limit": {"100"}, "q": {"extra*"}}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			v := f.entries(t, query.Encode())
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
	_, body := f.get(t, "entries?limit=10&q=extra*")
	require.Contains(t, body, `id="next"`)
	require.Contains(t, body, "q=extra%2A")
}
