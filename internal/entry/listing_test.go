package entry_test

import (
	"testing"

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
		v, err := entry.EncodeQuery(tt.sql, tt.vars, rows{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // then from what it remembers
			if got := r.SQL(v); got != tt.want {
				t.Errorf("%q %v: got %q, want %q", tt.sql, tt.vars, got, tt.want)
			}
		}
		if got := entry.SQL(v); got != tt.want {
			t.Errorf("SQL(%q %v): got %q, want %q", tt.sql, tt.vars, got, tt.want)
		}
	}
	for _, v := range [][]byte{nil, {}, []byte("vhello"), {entry.Version}} {
		if got := r.SQL(v); got != "" {
			t.Errorf("%q: got %q, want \"\"", v, got)
		}
	}
}
