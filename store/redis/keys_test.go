package redis

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/gormcache/gormcache/store"
)

func TestStampKey(t *testing.T) {
	s := &Store{cfg: Config{Prefix: "p:"}}
	tests := []struct {
		dep      store.Dep
		want     string
		wantSlot string // the hash tag
	}{
		{store.Dep{Table: "users"}, "p:{users}", "users"},
		{store.Dep{Table: "users", Cond: "id=7"}, "p:{users}?id=7", "users"},
		{store.Dep{Table: "users?id=7"}, "p:{users?id=7}", "users?id=7"},
		{store.Dep{Table: ""}, "p:{%}", "%"},
		{store.Dep{Table: "a}b{c%", Cond: "x={}"}, "p:{a%7Db%7Bc%25}?x={}", "a%7Db%7Bc%25"},
	}
	for _, tt := range tests {
		got := s.stampKey(tt.dep)
		if got != tt.want {
			t.Errorf("stampKey(%#v): got %q, want %q", tt.dep, got, tt.want)
		}
		if tag := hashTag(got); tag != tt.wantSlot {
			t.Errorf("hashTag(%q): got %q, want %q", got, tag, tt.wantSlot)
		}
		table, rows := s.tableKey(got)
		if want := s.stampKey(store.Dep{Table: tt.dep.Table}); rows != (tt.dep.Cond != "") || rows && table != want {
			t.Errorf("tableKey(%q): got %q, %v; want %q, %v", got, table, rows, want, tt.dep.Cond != "")
		}
	}
}

// FuzzStampKey checks that two deps have the same stamp key only if they
// are equal, and that all stamps of a table share a hash tag.
func FuzzStampKey(f *testing.F) {
	f.Add("users", "", "users", "id=1")
	f.Add("a}", "b", "a", "}b")
	f.Add("", "%", "%", "")
	f.Add("%7D", "", "}", "")
	s := &Store{cfg: Config{Prefix: "p:"}}
	f.Fuzz(func(t *testing.T, t1, c1, t2, c2 string) {
		d1, d2 := store.Dep{Table: t1, Cond: c1}, store.Dep{Table: t2, Cond: c2}
		k1, k2 := s.stampKey(d1), s.stampKey(d2)
		if (k1 == k2) != (d1 == d2) {
			t.Fatalf("%#v and %#v: keys %q and %q", d1, d2, k1, k2)
		}
		if t1 == t2 && hashTag(k1) != hashTag(k2) {
			t.Fatalf("table %q: hash tags of %q and %q differ", t1, k1, k2)
		}
		if tag := hashTag(k1); tag == k1 || tag == "" {
			t.Fatalf("%q has no hash tag", k1)
		}
		if table, rows := s.tableKey(k1); rows != (c1 != "") || rows && table != s.stampKey(store.Dep{Table: t1}) {
			t.Fatalf("tableKey(%q): got %q, %v", k1, table, rows)
		}
	})
}

// FuzzCopy checks that a two-level copy decodes to what was encoded, and
// that decoding anything never panics.
func FuzzCopy(f *testing.F) {
	f.Add([]byte("value"), "p:{users}", uint64(7), "p:{users}?id=1", uint64(1<<63))
	f.Add([]byte{}, "", uint64(0), "", uint64(0))
	f.Fuzz(func(t *testing.T, value []byte, k1 string, s1 uint64, k2 string, s2 uint64) {
		checks := []check{{k1, store.Stamp(s1)}, {k2, store.Stamp(s2)}}
		got, v, ok := decodeCopy(encodeCopy(checks, value))
		if !ok || !slices.Equal(got, checks) || !bytes.Equal(v, value) {
			t.Fatalf("round trip of %v, %q: got %v, %q, %v", checks, value, got, v, ok)
		}
		decodeCopy(value)
		decodeCopy([]byte(strings.Repeat(k1, 3)))
	})
}

func TestStampFormat(t *testing.T) {
	for _, st := range []store.Stamp{0, 1, 1 << 63, 1<<64 - 1, 0x0123456789abcdef} {
		s := formatStamp(st)
		got, ok := parseStamp(s)
		if len(s) != 16 || s != strings.ToLower(s) || !ok || got != st {
			t.Errorf("formatStamp(%#x) = %q, parsed back as %#x, %v", uint64(st), s, uint64(got), ok)
		}
	}
	for _, bad := range []string{"", "123", "0123456789abcdeg", "0123456789abcdef0"} {
		if _, ok := parseStamp(bad); ok {
			t.Errorf("parseStamp(%q): got ok, want not", bad)
		}
	}
}
