package querykey_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/gormcache/gormcache/querykey"
)

// FuzzKey checks Key on statements with one var of each common kind: equal
// statements get equal keys, and changing any one var changes the key.
func FuzzKey(f *testing.F) {
	f.Add("SELECT * FROM `users` WHERE `id` = ?", int64(1), "a", []byte("b"), 1.5, true, int64(2), "b", []byte("a"), 2.5)
	f.Add("", int64(0), "", []byte{}, 0.0, false, int64(-1), "1", []byte("1"), math.Copysign(0, -1))
	f.Add("?", int64(math.MinInt64), "ab", []byte("c"), math.NaN(), true, int64(math.MaxInt64), "a", []byte("bc"), math.Inf(-1))
	f.Add("SELECT ?", int64(1), "1", []byte("1"), 1.0, false, int64(1), "1", []byte(nil), 1.0)
	f.Fuzz(func(t *testing.T, sql string, a int64, b string, c []byte, d float64, e bool, a2 int64, b2 string, c2 []byte, d2 float64) {
		key := func(vars ...any) string {
			t.Helper()
			k, err := querykey.Key("p:", "postgres", sql, vars, "[]T")
			if err != nil {
				t.Fatalf("Key(%q, %#v): %v", sql, vars, err)
			}
			return k
		}
		want := key(a, b, c, d, e)
		if got := key(a, b, bytes.Clone(c), d, e); got != want {
			t.Fatalf("same statement: got %s, want %s", got, want)
		}
		if got := key(&a, &b, &c, &d, &e); got != want {
			t.Fatalf("pointers to the vars: got %s, want %s", got, want)
		}

		changed := []struct {
			name string
			vars []any
			ok   bool // the new value differs from the old
		}{
			{"a", []any{a2, b, c, d, e}, a2 != a},
			{"b", []any{a, b2, c, d, e}, b2 != b},
			{"c", []any{a, b, c2, d, e}, !bytes.Equal(c2, c) || (c2 == nil) != (c == nil)},
			{"d", []any{a, b, c, d2, e}, math.Float64bits(d2) != math.Float64bits(d)},
			{"e", []any{a, b, c, d, !e}, true},
			{"a's type", []any{uint64(a), b, c, d, e}, true},
			{"b's type", []any{a, []byte(b), c, d, e}, true},
			{"c's type", []any{a, b, string(c), d, e}, true},
			{"b and c's boundary", []any{a, b + string(c), []byte{}, d, e}, len(c) > 0},
		}
		for _, ch := range changed {
			if ch.ok && key(ch.vars...) == want {
				t.Errorf("changing %s: got the same key %s", ch.name, want)
			}
		}
		if key(a, b, c, d) == want || key(a, b, c, d, e, nil) == want {
			t.Error("changing the number of vars: got the same key")
		}
		if k, err := querykey.Key("p:", "postgres", sql+"?", []any{a, b, c, d, e}, "[]T"); err != nil || k == want {
			t.Errorf("changing the SQL: got %s, %v", k, err)
		}
	})
}
