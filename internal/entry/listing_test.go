package entry_test

import (
	"testing"
	"time"

	"github.com/gormcache/gormcache/internal/entry"
)

// rows is an empty recorded result.
type rows struct{}

func (rows) AppendBinary(b []byte) ([]byte, error) { return append(b, 0), nil }

func TestSQLReader(t *testing.T) {
	var r entry.SQLReader
	tests := []struct {
		sql  string
		vars []any
		want string
	}{
		{"SELECT * FROM `posts` WHERE published = ?", []any{true}, "SELECT * FROM `posts` WHERE published = true"},
		{"SELECT * FROM `posts` WHERE published = ?", []any{false}, "SELECT * FROM `posts` WHERE published = false"},
		{"SELECT * FROM posts WHERE a = $2 AND b = $1", []any{1, "x"}, "SELECT * FROM posts WHERE a = 'x' AND b = 1"},
		{"SELECT '?' , @p1 FROM t WHERE c = ?", []any{7}, "SELECT '?' , 7 FROM t WHERE c = 7"},
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT ? , ?", []any{"it's"}, "SELECT 'it''s' , ?"},
	}
	for _, tt := range tests {
		v, err := entry.EncodeQuery(tt.vars, rows{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // then from what it remembers
			if got := r.SQL(tt.sql, v); got != tt.want {
				t.Errorf("%q %v: got %q, want %q", tt.sql, tt.vars, got, tt.want)
			}
		}
		if got := entry.SQL(tt.sql, v); got != tt.want {
			t.Errorf("SQL(%q %v): got %q, want %q", tt.sql, tt.vars, got, tt.want)
		}
	}
	for _, v := range [][]byte{nil, {}, []byte("vhello"), {entry.Version}} {
		if got := r.SQL("SELECT 1", v); got != "" {
			t.Errorf("%q: got %q, want \"\"", v, got)
		}
	}
}

func TestCreated(t *testing.T) {
	before := time.Now()
	v, err := entry.EncodeQuery(nil, rows{})
	if err != nil {
		t.Fatal(err)
	}
	created, ok := entry.Created(v)
	if !ok || created.Before(before) || created.After(time.Now()) {
		t.Errorf("got %v, %v; want a time between %v and now", created, ok, before)
	}
	for _, v := range [][]byte{nil, []byte("vhello"), {entry.Version, 1}} {
		if _, ok := entry.Created(v); ok {
			t.Errorf("%q: got a time", v)
		}
	}
}
