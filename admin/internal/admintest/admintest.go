// Package admintest serves the admin of a plugin holding a few cached
// results, for the admin's tests and its browser test (module admin/e2e),
// and reads the admin's pages and JSON API back.
//
// A [Fixture] opens a fresh SQLite database with the models of package
// testdata/blog, inserts an author (Ada) with a published post ("Hello") and
// a draft, and two tags of post 1 (go, blue; sql, red); it then caches three
// entries: the published posts (whose key is [Fixture.Key]), the authors,
// and the [gormcache.Remember] result "greeting".
package admintest

import (
	"context"
	"encoding/json"
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
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/testdata/blog"
)

// Fixture is a plugin with a few cached results and an admin mounted at
// /cache/ of an httptest server, closed when the test ends.
type Fixture struct {
	DB     *gorm.DB
	Plugin *gormcache.Plugin
	Srv    *httptest.Server
	Key    string // the key of the cached "published posts" result
}

// Allow, as admin.Config.Authorize, lets every request in.
func Allow(*http.Request) bool { return true }

// NoDB, as admin.Config.DB, makes New leave DB unset.
var NoDB = new(gorm.DB)

// New returns a fixture on the memory store, whose admin has cfg with
// Plugin set, DB set unless cfg.DB is NoDB, and by default the models of
// package blog.
func New(t testing.TB, cfg admin.Config) *Fixture {
	return NewOn(t, nil, cfg)
}

// NewOn is New on the store s; nil is the plugin's default.
func NewOn(t testing.TB, s store.Store, cfg admin.Config) *Fixture {
	t.Helper()
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{Store: s, TTL: time.Hour})
	require.NoError(t, db.Use(p))
	require.NoError(t, blog.Migrate(db))
	require.NoError(t, db.Create(&blog.Author{Name: "Ada", Posts: []blog.Post{{Title: "Hello", Published: true}, {Title: "Draft"}}}).Error)
	require.NoError(t, db.Create(&[]blog.Tag{{PostID: 1, Name: "go", Color: "blue"}, {PostID: 1, Name: "sql", Color: "red"}}).Error)
	var posts []blog.Post
	require.NoError(t, db.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)
	var authors []blog.Author
	require.NoError(t, db.Clauses(gormcache.Cache()).Find(&authors).Error)
	_, err = gormcache.Remember(db, "greeting", func(context.Context) (string, error) { return "hello", nil })
	require.NoError(t, err)

	cfg.Plugin = p
	switch cfg.DB {
	case nil:
		cfg.DB = db
	case NoDB:
		cfg.DB = nil
	}
	if cfg.Models == nil {
		cfg.Models = blog.Models()
	}
	mux := http.NewServeMux()
	mux.Handle("/cache/", http.StripPrefix("/cache", admin.New(cfg)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &Fixture{DB: db, Plugin: p, Srv: srv}
	// The store's own listing: the admin may refuse this test's requests.
	opts := store.ListOptions{
		Filter: func(in store.EntryInfo, v []byte) bool { return strings.Contains(entry.SQL(in.Text, v), "published") },
	}
	var found []store.EntryInfo
	for {
		page, err := p.Store().(store.Lister).List(context.Background(), opts)
		require.NoError(t, err)
		found = append(found, page.Entries...)
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}
	require.Len(t, found, 1)
	f.Key = found[0].Key
	return f
}

// Do sends a request for path, below /cache/, with form as its
// url-encoded body unless nil, and the headers given as name, value pairs.
// It returns the response and its body.
func (f *Fixture) Do(t testing.TB, method, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.Srv.URL+"/cache/"+path, body)
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

// Get returns the status and body of a GET of path.
func (f *Fixture) Get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, body := f.Do(t, http.MethodGet, path, nil)
	return resp.StatusCode, body
}

// Post returns the status and body of a POST of form (nil: empty) to path.
func (f *Fixture) Post(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	resp, body := f.Do(t, http.MethodPost, path, form)
	return resp.StatusCode, body
}

// Entry is an entry as api/entries lists it.
type Entry struct {
	ID    string `json:"id"`
	Key   string `json:"key"`
	Kind  string `json:"kind"`
	SQL   string `json:"sql"`
	State string `json:"state"`
	Hits  int64  `json:"hits"`
}

// Page is one page of api/entries.
type Page struct {
	Entries        []Entry `json:"entries"`
	Next           string  `json:"next"`
	Total          int     `json:"total"`
	TotalEstimated bool    `json:"total_estimated"`
	Before         int     `json:"before"`
}

// Entries returns the page of api/entries that query selects, and fails
// the test unless it is served.
func (f *Fixture) Entries(t testing.TB, query string) Page {
	t.Helper()
	status, body := f.Get(t, "api/entries?"+query)
	require.Equal(t, http.StatusOK, status, body)
	var v Page
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	return v
}

// AllEntries pages through the entries that query selects: a store that
// lists with SCAN (Redis) may spread a few entries over several pages.
func (f *Fixture) AllEntries(t testing.TB, query string) []Entry {
	t.Helper()
	q, err := url.ParseQuery(query)
	require.NoError(t, err)
	var all []Entry
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "listing does not end")
		v := f.Entries(t, q.Encode())
		all = append(all, v.Entries...)
		if v.Next == "" {
			return all
		}
		q.Set("cursor", v.Next)
	}
}

// FindKey returns the key of the one entry whose key or SQL matches glob,
// and fails the test unless exactly one does.
func (f *Fixture) FindKey(t testing.TB, glob string) string {
	t.Helper()
	v := f.AllEntries(t, "q="+url.QueryEscape(glob))
	require.Len(t, v, 1, "entries matching %s", glob)
	return v[0].Key
}

// State returns the state (valid, invalid or expired) api/entry gives the
// entry of key, and fails the test unless it is served.
func (f *Fixture) State(t testing.TB, key string) string {
	t.Helper()
	status, body := f.Get(t, "api/entry?key="+url.QueryEscape(key))
	require.Equal(t, http.StatusOK, status, body)
	var v struct{ State string }
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	return v.State
}
