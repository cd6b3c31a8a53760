package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/testdata/blog"
)

// set stores under key the entry of a Remember value that a codec encoded
// as v, valid and depending on nothing.
func set(t *testing.T, f *admintest.Fixture, key, v string) {
	t.Helper()
	value := entry.AppendRemembered(nil, entry.RememberedValue, time.Now(), []byte(v))
	require.NoError(t, f.Plugin.Store().Set(context.Background(), key, store.Entry{Value: value}, time.Hour))
}

// TestKeysByID checks that keys that are not printable text, or not UTF-8,
// can be named, shown and deleted: by the base64url of their bytes.
func TestKeysByID(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	odd := []string{"fn:line\nbreak", "fn:\xff\xfebytes", "fn:tab\there"}
	for _, k := range odd {
		set(t, f, k, "x")
	}
	listed := map[string]admintest.Entry{}
	for _, e := range f.AllEntries(t, "q=fn:*") {
		listed[e.ID] = e
	}
	for _, k := range odd {
		e, ok := listed[admin.ID(k)]
		require.True(t, ok, "%q listed by its id", k)
		require.Equal(t, string([]rune(k)), e.Key, "the key as text, U+FFFD for each byte that is not UTF-8")
		require.Equal(t, "value", e.Kind)

		status, body := f.Get(t, "api/entry?id="+admin.ID(k))
		require.Equal(t, http.StatusOK, status, body)
		status, body = f.Get(t, "entry?id="+admin.ID(k))
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, jsonQuote(t, k), "the key shown quoted")
	}
	// Delete one from the page, two through the API.
	status, body := f.Post(t, "delete", url.Values{"id": {admin.ID(odd[0])}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `name="id" value="`+admin.ID(odd[0])+`"`)
	status, body = f.Post(t, "delete", url.Values{"id": {admin.ID(odd[0])}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, errorText(body), `Deleted the entry "fn:line\nbreak".`)
	status, body = f.Post(t, "api/delete", url.Values{"id": {admin.ID(odd[1]), admin.ID(odd[2])}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"removed": 2`)
	require.Len(t, f.AllEntries(t, "q=fn:*"), 1, "the odd keys are gone, the greeting stays")
}

// jsonQuote is how an odd key is shown: quoted as Go quotes it, as the page
// escapes it.
func jsonQuote(t *testing.T, k string) string {
	t.Helper()
	return strings.ReplaceAll(fmt.Sprintf("%q", k), `"`, "&#34;")
}

func TestSearch(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	for _, tt := range []struct {
		q    string
		want int
		glob string
	}{
		{"published", 1, "*published*"}, // a word, anywhere in the SQL
		{"Published", 0, "*Published*"}, // with its case
		{"greeting", 1, "*greeting*"},   // or in the key
		{"published = true", 1, "*published = true*"},
		{"*FROM `authors`", 1, "*FROM `authors`"}, // a glob, whole
		{"FROM `authors`", 1, "*FROM `authors`*"},
		{`a\b`, 0, `*a\\b*`},
	} {
		status, body := f.Get(t, "api/entries?q="+url.QueryEscape(tt.q))
		require.Equal(t, http.StatusOK, status, body)
		var v struct {
			Glob    string
			Entries []admintest.Entry
		}
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		if len(v.Entries) != tt.want || v.Glob != tt.glob {
			t.Errorf("q=%q: got %d entries, glob %q; want %d, %q", tt.q, len(v.Entries), v.Glob, tt.want, tt.glob)
		}
	}
	_, body := f.Get(t, "entries?q=published")
	require.Contains(t, body, "The search runs as <code>*published*</code>, case-sensitive.")

	long := strings.Repeat("*", store.MaxGlobLen) + "x"
	status, body := f.Get(t, "api/entries?q="+long)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, errorText(body), fmt.Sprintf("search: store: invalid glob: the pattern is %d bytes long, longer than 256", len(long)))
}

// TestEchoes checks that an error answer repeats a short part of what it
// refuses, however long.
func TestEchoes(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	huge := strings.Repeat("k", 900<<10)
	for _, tt := range []struct{ method, path string }{
		{"GET", "api/entry?key=" + huge},
		{"GET", "entry?key=" + huge},
		{"GET", "api/entries?table=" + huge},
		{"GET", "api/entries?sort=" + huge},
		{"GET", "api/entries?cursor=" + huge},
	} {
		resp, body := f.Do(t, tt.method, tt.path, nil)
		require.GreaterOrEqual(t, resp.StatusCode, 400, tt.path[:20])
		require.Less(t, len(body), 4096, "%s: the answer repeats the input", tt.path[:20])
		require.Contains(t, errorText(body), fmt.Sprintf("(%d bytes)", len(huge)), tt.path[:20])
	}
	status, body := f.Post(t, "api/delete", url.Values{"key": {huge}})
	require.Equal(t, http.StatusNotFound, status)
	require.Less(t, len(body), 4096)
}

func TestFormTooLarge(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	for _, path := range []string{"api/delete", "delete"} {
		status, body := f.Post(t, path, url.Values{"key": {strings.Repeat("k", 2<<20)}})
		require.Equal(t, http.StatusRequestEntityTooLarge, status, path)
		require.Contains(t, errorText(body), "the form is larger than 1048576 bytes", path)
	}
}

// TestJSONNames checks that every name of the API is snake_case, that
// stamps are strings and durations also milliseconds.
func TestJSONNames(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snake.MatchString(k) {
					t.Errorf("%s: %q is not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	decode := func(path string) map[string]any {
		status, body := f.Get(t, path)
		require.Equal(t, http.StatusOK, status, body)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		walk(path, v)
		return v
	}
	decode("api/store")
	list := decode("api/entries")
	e := list["entries"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "key", "kind", "ttl", "ttl_ms", "age_ms", "created", "expires", "state", "hits", "size"} {
		require.Contains(t, e, k)
	}
	d := decode("api/entry?key=" + url.QueryEscape(f.Key))
	require.IsType(t, float64(0), d["ttl_ms"])
	require.InDelta(t, time.Hour.Milliseconds(), d["ttl_ms"], 5000)
	dep := d["deps"].([]any)[0].(map[string]any)
	require.IsType(t, "", dep["stamp"], "a stamp exceeds 2^53: a string")
	require.IsType(t, "", dep["current"])
	content := d["content"].(map[string]any)
	require.Equal(t, "query", content["kind"])
	require.Contains(t, content, "columns")
	require.Contains(t, content, "rows")
}

// TestListPages checks the position, count and links of each page, in
// both directions, and selecting a whole page.
func TestListPages(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	for i := range 25 {
		set(t, f, fmt.Sprintf("extra%02d", i), "x")
	}
	page := f.Entries(t, "q=extra&limit=10")
	require.Equal(t, 25, page.Total)
	require.False(t, page.TotalEstimated)
	require.Equal(t, 0, page.Before)
	require.Equal(t, "extra00", page.Entries[0].Key)

	_, body := f.Get(t, "entries?q=extra&limit=10")
	require.Contains(t, body, `Entries 1–10 of <strong id="total">25</strong> selected.`)
	next := link(t, body, "next")
	_, body = f.Get(t, next)
	require.Contains(t, body, `Entries 11–20 of <strong id="total">25</strong>`)
	require.Contains(t, body, `id="first"`)
	_, body = f.Get(t, link(t, body, "next"))
	require.Contains(t, body, `Entries 21–25 of`)
	require.NotContains(t, body, `id="next"`)
	_, body = f.Get(t, link(t, body, "prev"))
	require.Contains(t, body, `Entries 11–20 of`, "back to the second page")
	_, body = f.Get(t, link(t, body, "prev"))
	require.Contains(t, body, `Entries 1–10 of`)
	require.NotContains(t, body, `id="prev"`)

	desc := f.Entries(t, "q=extra&limit=10&dir=desc")
	require.Equal(t, "extra24", desc.Entries[0].Key)
	desc2 := f.Entries(t, "q=extra&limit=10&dir=desc&cursor="+url.QueryEscape(desc.Next))
	require.Equal(t, "extra14", desc2.Entries[0].Key)
	status, _ := f.Get(t, "api/entries?q=extra&limit=10&dir=asc&cursor="+url.QueryEscape(desc.Next))
	require.Equal(t, http.StatusBadRequest, status, "a cursor of the other direction")
	bySize := f.Entries(t, "sort=size")
	require.Equal(t, f.Key, bySize.Entries[0].Key, "the largest first")

	_, body = f.Get(t, "entries?q=extra&limit=10")
	require.NotContains(t, body, " checked")
	_, body = f.Get(t, link(t, body, "select-all"))
	require.Equal(t, 10, strings.Count(body, `aria-label="select" checked`))
	require.Contains(t, body, `id="clear-selection"`)
	require.Contains(t, link(t, body, "refresh"), "q=extra")
}

// link returns the href of the element with id in body, unescaped.
func link(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)" id="` + id + `"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no link #%s", id)
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestDeleteMatching(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	for i := range 30 {
		set(t, f, fmt.Sprintf("extra%02d", i), "x")
	}
	form := url.Values{"q": {"extra"}, "back": {"entries?q=extra&limit=10"}}
	status, body := f.Post(t, "delete-matching", form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `Delete the 30 entries that match the search &#34;extra&#34;?`)
	require.Equal(t, 20, strings.Count(body, "<li><code>value "), "the first entries listed")
	require.Contains(t, body, `href="entries?q=extra&amp;limit=10" id="cancel"`, "cancel keeps the filters")
	require.Len(t, f.AllEntries(t, "q=extra"), 30, "nothing deleted before confirming")

	form.Set("confirm", "yes")
	status, body = f.Post(t, "delete-matching", form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `Deleted 30 entries that matched the search &#34;extra&#34;.`)
	require.Contains(t, body, `href="entries?q=extra&amp;limit=10" id="back"`, "the result goes back to the filters")
	require.Empty(t, f.AllEntries(t, "q=extra"))
	require.Len(t, f.AllEntries(t, ""), 3, "the others stay")

	// The SQL of what a search selects, and the API.
	status, body = f.Post(t, "delete-matching", url.Values{"table": {"posts"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<li><code>SELECT * FROM `posts` WHERE published = true</code></li>")
	status, body = f.Post(t, "api/delete-matching", url.Values{"table": {"posts"}, "state": {"valid"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"removed": 1`)
	status, body = f.Post(t, "api/delete-matching", url.Values{"q": {"nothing like it"}})
	require.Equal(t, http.StatusNotFound, status, body)
	status, _ = f.Post(t, "api/delete-matching", url.Values{"state": {"expired"}})
	require.Equal(t, http.StatusBadRequest, status)
}

func TestDeleteConfirmationListsSQL(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	status, body := f.Post(t, "delete", url.Values{"key": {f.Key, "fn:greeting"}, "back": {"entries?sort=age"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<li><code>SELECT * FROM `posts` WHERE published = true</code></li>")
	require.Contains(t, body, "<li><code>value fn:greeting</code></li>")
	require.Contains(t, body, `href="entries?sort=age" id="cancel"`)
	// A back link elsewhere is not followed.
	_, body = f.Post(t, "delete", url.Values{"key": {f.Key}, "back": {"https://evil.example/entries"}})
	require.Contains(t, body, `href="entries" id="cancel"`)
}

func TestTTL(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	id := admin.ID(f.Key)
	_, body := f.Get(t, "entry?id="+id)
	require.Contains(t, body, `action="ttl"`)
	require.Contains(t, body, "The value cannot be edited here")

	status, body := f.Post(t, "ttl", url.Values{"id": {id}, "ttl": {"10m"}, "back": {"entry?id=" + id}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Make this entry expire in 10m0s")
	status, body = f.Post(t, "ttl", url.Values{"id": {id}, "ttl": {"10m"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "now expires in 10m0s")
	var d struct {
		TTLMs int64 `json:"ttl_ms"`
		State string
	}
	_, body = f.Get(t, "api/entry?id="+id)
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	require.InDelta(t, (10 * time.Minute).Milliseconds(), d.TTLMs, 5000)
	require.Equal(t, "valid", d.State)

	status, body = f.Post(t, "api/ttl", url.Values{"id": {id}, "ttl": {"7200"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"expires"`)
	_, body = f.Get(t, "api/entry?id="+id)
	require.NoError(t, json.Unmarshal([]byte(body), &d))
	require.InDelta(t, (2 * time.Hour).Milliseconds(), d.TTLMs, 5000, "seconds")

	for _, tt := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"id": {id}, "ttl": {"0s"}}, 400},
		{url.Values{"id": {id}, "ttl": {"soon"}}, 400},
		{url.Values{"id": {id}, "ttl": {"9000h"}}, 400},
		{url.Values{"id": {id, admin.ID("fn:greeting")}, "ttl": {"1m"}}, 400},
		{url.Values{"key": {"nope"}, "ttl": {"1m"}}, 404},
	} {
		if status, body := f.Post(t, "api/ttl", tt.form); status != tt.want {
			t.Errorf("%s: got %d %s, want %d", tt.form.Encode(), status, body, tt.want)
		}
	}
}

func TestInvalidateResults(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	status, body := f.Post(t, "api/invalidate-object", url.Values{"model": {"*blog.Post"}, "pk": {"99"}})
	require.Equal(t, http.StatusNotFound, status, body)
	require.Contains(t, errorText(body), "no row of posts where id = 99: nothing was invalidated")
	require.Equal(t, "valid", f.State(t, f.Key))

	require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&[]blog.Post{}).Error)
	status, body = f.Post(t, "api/invalidate", url.Values{"table": {"posts"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, messageOf(t, body), `Invalidated the 1 entry that read "posts"`)
	status, body = f.Post(t, "api/flush", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, messageOf(t, body), "Flushed the store: 3 entries and their stamps are gone.")
}

// messageOf returns the message of an action's JSON answer.
func messageOf(t *testing.T, body string) string {
	t.Helper()
	var v struct{ Message string }
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v.Message
}

func TestStorePage(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	_, body := f.Get(t, "")
	require.Contains(t, body, "<tr><th>Entries</th><td>3 of 1000000 (MaxEntries)</td></tr>")
	require.Contains(t, body, "MiB of 64.0 MiB (MaxBytes)")
	require.Contains(t, body, "<tr><th>Evicted for room</th><td>0 entries since the store was made</td></tr>")
	var v struct {
		Facts        []struct{ Name, Value string }
		DefaultTTLMs int64 `json:"default_ttl_ms"`
	}
	_, body = f.Get(t, "api/store")
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	require.Len(t, v.Facts, 4)
	require.Equal(t, time.Hour.Milliseconds(), v.DefaultTTLMs)
}

func TestEntryPage(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	type note struct {
		Title string `json:"title"`
		Tags  []string
	}
	_, err := gormcache.Remember(f.DB, "note", func(context.Context) (note, error) { return note{"hi", []string{"a"}}, nil })
	require.NoError(t, err)

	_, body := f.Get(t, "entry?key="+url.QueryEscape(f.Key))
	require.Contains(t, body, "the rows of posts where published = true")
	require.NotContains(t, body, "<th>Stamp</th>", "stamps on demand only")
	require.Regexp(t, `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (&#43;|-)\d\d:\d\d`, body, "times with their zone")
	_, body = f.Get(t, link(t, body, "show-stamps"))
	require.Contains(t, body, "<th>Stamp</th>")

	_, body = f.Get(t, "entry?key=fn:note")
	require.Contains(t, body, "{\n  &#34;title&#34;: &#34;hi&#34;,\n  &#34;Tags&#34;: [\n    &#34;a&#34;\n  ]\n}", "pretty-printed")
}
