package admin_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/testdata/blog"
)

func TestBulkDelete(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	authors := f.FindKey(t, "*authors*")

	// The page confirms first, listing the entries, and changes nothing.
	status, body := f.Post(t, "delete", url.Values{"key": {f.Key, authors}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Delete these 2 entries?")
	require.Contains(t, body, f.Key)
	require.Equal(t, 2, strings.Count(body, `type="hidden" name="key"`), body)
	require.Len(t, f.Entries(t, "").Entries, 3)

	status, body = f.Post(t, "delete", url.Values{"key": {f.Key, authors}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Deleted 2 entries.")
	left := f.Entries(t, "").Entries
	require.Len(t, left, 1)
	require.Equal(t, "fn:greeting", left[0].Key)

	// The API counts what it removed, and what was already gone.
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).Find(&[]blog.Author{}).Error)
	status, body = f.Post(t, "api/delete", url.Values{"key": {"fn:greeting", authors, f.Key, authors}})
	require.Equal(t, http.StatusOK, status, body)
	var got struct {
		Message string
		Removed int
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, 2, got.Removed)
	require.Equal(t, "Deleted 2 entries (1 more had expired or been removed).", got.Message)
	require.Empty(t, f.Entries(t, "").Entries)
}

func TestBulkDeleteBadInput(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	tooMany := make([]string, admin.MaxPageSize+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("k%d", i)
	}
	tests := []struct {
		path string
		form url.Values
		want int
		msg  string
	}{
		{"api/delete", url.Values{}, 400, "no id (or key)"},
		{"delete", url.Values{}, 400, "no id (or key)"},
		{"api/delete", url.Values{"id": {"!"}}, 400, `id "!": not the base64url of a key`},
		{"api/delete", url.Values{"key": tooMany}, 400, "501 keys: at most 500 at once"},
		{"delete", url.Values{"key": tooMany, "confirm": {"yes"}}, 400, "501 keys: at most 500 at once"},
		{"api/delete", url.Values{"key": {f.Key, ""}}, 400, "an empty key"},
		{"api/delete", url.Values{"key": {"nope", "nope either"}}, 404, "none of the 2 entries exists"},
		{"api/delete", url.Values{"key": {"nope"}}, 404, `no entry "nope"`},
	}
	for _, tt := range tests {
		status, body := f.Post(t, tt.path, tt.form)
		if status != tt.want || !strings.Contains(errorText(body), tt.msg) {
			t.Errorf("POST %s %.60s: got %v %s, want %v %q", tt.path, tt.form.Encode(), status, body, tt.want, tt.msg)
		}
	}
	require.Len(t, f.Entries(t, "").Entries, 3, "bad input deleted entries")
}

func TestInvalidateObject(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	// Post 2 (a draft) and the blue tags are cached besides the fixture's
	// published posts, which post 1 belongs to.
	var draft blog.Post
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).First(&draft, 2).Error)
	var tags []blog.Tag
	for _, color := range []string{"blue", "red"} {
		require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("color = ?", color).Find(&tags).Error)
	}
	draftKey, blue, red := f.FindKey(t, "*`posts`.`id` = 2*"), f.FindKey(t, "*blue*"), f.FindKey(t, "*red*")

	_, body := f.Get(t, "actions")
	for _, input := range []string{`name="pk.id" id="pk-posts-id"`, `name="pk.post_id"`, `name="pk.name"`} {
		require.Contains(t, body, input)
	}

	// The page confirms first, and changes nothing until confirmed.
	status, body := f.Post(t, "invalidate-object", url.Values{"model": {"*blog.Post"}, "pk.id": {"1"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "the row of posts where id = 1")
	require.Contains(t, body, `name="pk.id" value="1"`)
	require.Equal(t, "valid", f.State(t, f.Key))

	status, body = f.Post(t, "invalidate-object", url.Values{"model": {"*blog.Post"}, "pk.id": {"1"}, "confirm": {"yes"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Invalidated the entries that depend on the row of posts where id = 1.")
	require.Equal(t, "invalid", f.State(t, f.Key), "post 1 is published")
	// Only the key is given, not the values the row had: every entry
	// reading posts goes (see gormcache.InvalidateObject), the tags' stay.
	require.Equal(t, "invalid", f.State(t, draftKey), "post 2 of the same table")
	require.Equal(t, "valid", f.State(t, blue))
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).First(&blog.Post{}, 2).Error)
	require.Equal(t, "valid", f.State(t, draftKey))

	// The API, with pk for a key of one column...
	status, body = f.Post(t, "api/invalidate-object", url.Values{"model": {"*blog.Post"}, "pk": {"2"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "where id = 2")
	require.Equal(t, "invalid", f.State(t, draftKey))

	// ...and pk.<column> for each column of a composite key.
	status, body = f.Post(t, "api/invalidate-object", url.Values{"model": {"*blog.Tag"}, "pk.post_id": {"1"}, "pk.name": {"go"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "the row of tags where post_id = 1 and name = go")
	require.Equal(t, "invalid", f.State(t, blue), "tag (1, go) is blue")
	require.Equal(t, "invalid", f.State(t, red), "another row of the same table")
}

func TestInvalidateObjectBadInput(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	post := func(kv ...string) url.Values {
		v := url.Values{"model": {"*blog.Post"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tag := func(kv ...string) url.Values {
		v := post(kv...)
		v.Set("model", "*blog.Tag")
		return v
	}
	tests := []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"pk": {"1"}}, "no model"},
		{url.Values{"model": {"*main.Nope"}, "pk": {"1"}}, `unknown model "*main.Nope"; known models: *blog.Author, *blog.Post, *blog.Tag`},
		{post(), "pk.id: want one value of the primary-key column id"},
		{post("pk.id", ""), "pk.id: want one value"},
		{post("pk.id", "1", "pk.id", "2"), "pk.id: want one value"},
		{post("pk", "abc"), `pk "abc": not a value of Post.ID (uint)`},
		{post("pk", "-1"), `pk "-1": not a value of Post.ID (uint)`},
		{post("pk", "99999999999999999999"), `pk "99999999999999999999": not a value of Post.ID`},
		{post("pk", "0"), `pk "0": a zero primary key names no row`},
		{post("pk", "1", "pk.id", "1"), "give pk or pk.id, not both"},
		{post("pk.title", "Hello"), `"pk.title": *blog.Post has no primary-key column "title"; give pk.id`},
		{post("pk", "0x10"), `pk "0x10": not a decimal number, the primary key of Post.ID (uint)`},
		{post("pk", "1e3"), `pk "1e3": not a value of Post.ID`},
		{post("pk", strings.Repeat("9", 5000)), `… (5000 bytes)`},
		{tag("pk", "1"), "pk: *blog.Tag has a primary key of 2 columns; give pk.post_id, pk.name"},
		{tag("pk.post_id", "1"), "pk.name: want one value of the primary-key column name of *blog.Tag"},
		{tag("pk.post_id", "4294967297", "pk.name", "go"), `pk.post_id "4294967297": out of the range of Tag.PostID (uint32)`},
	}
	for _, tt := range tests {
		for _, path := range []string{"api/invalidate-object", "invalidate-object"} {
			status, body := f.Post(t, path, tt.form)
			if status != http.StatusBadRequest || !strings.Contains(errorText(body), tt.msg) {
				t.Errorf("POST %s %s: got %v %s, want 400 %q", path, tt.form.Encode(), status, body, tt.msg)
			}
		}
	}
	require.Equal(t, "valid", f.State(t, f.Key), "bad input invalidated an entry")
}

func TestInvalidateObjectWithoutDB(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow, DB: admintest.NoDB})
	_, body := f.Get(t, "actions")
	require.Contains(t, body, "Invalidate a model")
	require.NotContains(t, body, "invalidate-object")
	for _, path := range []string{"api/invalidate-object", "invalidate-object"} {
		status, body := f.Post(t, path, url.Values{"model": {"*blog.Post"}, "pk": {"1"}})
		if status != http.StatusNotImplemented || !strings.Contains(body, "set admin.Config.DB") {
			t.Errorf("POST %s: got %v %s, want 501 and how to set Config.DB", path, status, body)
		}
	}
	require.Equal(t, "valid", f.State(t, f.Key))
}

func TestNewWithAnotherDB(t *testing.T) {
	f := admintest.New(t, admin.Config{Authorize: admintest.Allow})
	other := gormcache.New(gormcache.Config{})
	require.PanicsWithValue(t, "admin: Config.Plugin is not registered on Config.DB (db.Use(plugin))", func() {
		admin.New(admin.Config{Plugin: other, DB: f.DB})
	})
	// The handler of the fixture's plugin and DB serves.
	rec := httptest.NewRecorder()
	admin.New(admin.Config{Plugin: f.Plugin, DB: f.DB, Authorize: admintest.Allow}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/actions", nil))
	require.Equal(t, http.StatusOK, rec.Code)
}

// errorText returns the message of an error answer: the error of a JSON
// one, the unescaped text of a page.
func errorText(body string) string {
	var v struct{ Error string }
	if json.Unmarshal([]byte(body), &v) == nil {
		return v.Error
	}
	return html.UnescapeString(body)
}
