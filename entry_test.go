package gormcache_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/store"
)

// TestEntrySQL checks the SQL the admin shows for an entry: the statement
// with each var inlined as a SQL literal in place of its placeholder (? on
// SQLite, $n on PostgreSQL), placeholders inside an inlined var left alone.
func TestEntrySQL(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		var users []User
		require.NoError(t, e.cached().
			Where("name = ? AND id IN ?", "o'hara", []int{1, 2}).
			Where("email <> ? AND name <> ?", []byte("x@y"), "what? $1").
			Find(&users).Error)

		s := e.p.Store()
		page, err := s.(store.Lister).List(t.Context(), store.ListOptions{Limit: 100})
		require.NoError(t, err)
		var values [][]byte
		var texts []string
		for _, in := range page.Entries {
			got, value, found, err := s.(store.Inspector).Inspect(t.Context(), in.Key)
			require.NoError(t, err)
			if found {
				values, texts = append(values, value), append(texts, got.Text)
			}
		}
		require.Len(t, values, 1)
		require.Equal(t, page.Entries[0].Text, texts[0], "List and Inspect disagree on the entry's text")
		sql := entry.SQL(texts[0], values[0])
		for _, want := range []string{
			"name = 'o''hara'", "IN (1,2)", "email <> 'x@y'", "name <> 'what? $1'",
		} {
			if !strings.Contains(sql, want) {
				t.Errorf("got %s, want it to contain %s", sql, want)
			}
		}
		content, err := entry.Describe(texts[0], values[0])
		require.NoError(t, err)
		require.Equal(t, sql, content.SQL)
	})
}
