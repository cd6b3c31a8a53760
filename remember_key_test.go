package gormcache_test

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// KeyRange and KeySpan are two struct types with the same fields.
type KeyRange struct {
	From, To int
}

type KeySpan struct {
	From, To int
}

// KeyFilter is a struct part with nested values.
type KeyFilter struct {
	Shop    uint
	Since   time.Time
	Users   []int
	Status  map[string]bool
	Range   *KeyRange
	Deleted gorm.DeletedAt
}

// KeyUserID is a named integer type.
type KeyUserID int64

//lint:ignore U1000 the field is never read: what matters is that it is unexported
type keyPrivate struct {
	Name string
	id   int
}

// TestKeyStable pins keys: they must be the same in every process and
// release, since they name entries in shared stores.
func TestKeyStable(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		parts []any
		want  string
	}{
		{[]any{"sales", 42, day}, "sales:2DO0qrtYeidLTu63CXa04CqRDIGccHMc"},
		{[]any{}, "p4654eR2dW9HTP8ET_hmbKDBX7qyYIMD"},
		{[]any{"x y", KeyRange{1, 2}}, "5iblvYoaXAdy83T-rvBlspUBEHuSDN3v"},
		{[]any{KeyFilter{Shop: 1, Since: day, Users: []int{1, 2}, Status: map[string]bool{"a": true}, Range: &KeyRange{1, 2}}}, "KYs1ETPsvxQtKchj6hUeTnLoDdrKjaPU"},
	}
	for _, tt := range tests {
		if got := gormcache.Key(tt.parts...); got != tt.want {
			t.Errorf("Key(%#v): got %s, want %s", tt.parts, got, tt.want)
		}
	}
}

// TestKeyDistinct lists part lists that look alike and must not share a key.
func TestKeyDistinct(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a, b []any
	}{
		{"boundary between strings", []any{"a", "bc"}, []any{"ab", "c"}},
		{"number and string", []any{1}, []any{"1"}},
		{"signed and unsigned", []any{1}, []any{uint(1)}},
		{"integer and float", []any{1}, []any{1.0}},
		{"nil and empty string", []any{nil}, []any{""}},
		{"no part and nil", []any{}, []any{nil}},
		{"nil and empty slice", []any{[]int(nil)}, []any{[]int{}}},
		{"string and bytes", []any{"a"}, []any{[]byte("a")}},
		{"one instant in two zones", []any{day}, []any{day.In(time.FixedZone("CET", 3600))}},
		{"two struct types", []any{KeyRange{1, 2}}, []any{KeySpan{1, 2}}},
		{"struct and its fields", []any{KeyRange{1, 2}}, []any{1, 2}},
		{"struct and a list of its name and fields", []any{KeyRange{1, 2}}, []any{[]any{"github.com/gormcache/gormcache_test.KeyRange", 1, 2}}},
		{"struct and an array of its name and fields", []any{KeyRange{1, 2}}, []any{[3]any{"github.com/gormcache/gormcache_test.KeyRange", 1, 2}}},
		{"struct fields", []any{KeyRange{1, 2}}, []any{KeyRange{2, 1}}},
		{"nested struct fields", []any{KeyFilter{Range: &KeyRange{1, 2}}}, []any{KeyFilter{Range: &KeyRange{1, 3}}}},
		{"nil and zero pointer field", []any{KeyFilter{}}, []any{KeyFilter{Range: &KeyRange{}}}},
		{"struct in a map", []any{map[string]any{"r": KeyRange{1, 2}}}, []any{map[string]any{"r": KeySpan{1, 2}}}},
		{"label and not", []any{"sales", 1}, []any{"sales:", 1}},
		{"nesting", []any{[]any{1, 2}, 3}, []any{[]any{1}, 2, 3}},
	}
	for _, tt := range tests {
		if a, b := gormcache.Key(tt.a...), gormcache.Key(tt.b...); a == b {
			t.Errorf("%s: Key(%#v) and Key(%#v) are both %s", tt.name, tt.a, tt.b, a)
		}
	}
}

// TestKeyEquivalent lists the documented equivalences.
func TestKeyEquivalent(t *testing.T) {
	one := 1
	tests := []struct {
		name string
		a, b []any
	}{
		{"integer types", []any{int8(1)}, []any{int64(1)}},
		{"pointer", []any{&one}, []any{1}},
		{"named type", []any{KeyUserID(1)}, []any{int64(1)}},
		{"nil pointer", []any{(*KeyRange)(nil)}, []any{nil}},
		{"slice and array", []any{[]KeyRange{{1, 2}}}, []any{[1]KeyRange{{1, 2}}}},
		{"driver.Valuer", []any{sql.NullInt64{Int64: 3, Valid: true}}, []any{3}},
		{"struct through a pointer", []any{&KeyRange{1, 2}}, []any{KeyRange{1, 2}}},
		{"map order", []any{map[int]KeyRange{1: {}, 2: {}}}, []any{map[int]KeyRange{2: {}, 1: {}}}},
	}
	for _, tt := range tests {
		if a, b := gormcache.Key(tt.a...), gormcache.Key(tt.b...); a != b {
			t.Errorf("%s: Key(%#v) is %s, Key(%#v) is %s", tt.name, tt.a, a, tt.b, b)
		}
	}
}

// TestKeyLabel checks when the first part is kept in clear.
func TestKeyLabel(t *testing.T) {
	tests := []struct {
		first any
		label string
	}{
		{"sales", "sales:"},
		{"shop-1.v2_x", "shop-1.v2_x:"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64) + ":"},
		{strings.Repeat("a", 65), ""},
		{"", ""},
		{"a b", ""},
		{"a:b", ""},
		{"a{b}", ""},
		{KeyUserID(1), ""},
	}
	for _, tt := range tests {
		k := gormcache.Key(tt.first, 1)
		if !strings.HasPrefix(k, tt.label) || len(k) != len(tt.label)+32 {
			t.Errorf("Key(%q, 1): got %s, want %q and 32 characters", tt.first, k, tt.label)
		}
	}
}

// TestKeyPanics checks the parts Key cannot encode.
func TestKeyPanics(t *testing.T) {
	type node struct{ Next *node }
	cycle := &node{}
	cycle.Next = cycle
	tests := []struct {
		name string
		part any
		msg  string
	}{
		{"channel", make(chan int), "chan int"},
		{"function", func() {}, "func()"},
		{"unexported field", keyPrivate{Name: "a"}, "unexported field id"},
		{"struct map key", map[KeyRange]int{{1, 2}: 1}, "map key"},
		{"cycle", cycle, "deeper than"},
		{"struct holding a channel", struct{ C chan int }{}, "chan int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "Key did not panic")
				err, ok := r.(error)
				require.True(t, ok, "panic value %v is not an error", r)
				require.ErrorContains(t, err, "gormcache: Key: ")
				require.ErrorContains(t, err, tt.msg)
			}()
			gormcache.Key("x", tt.part)
		})
	}
}

// KeyPair is a struct part of the fuzz test.
type KeyPair struct {
	A string
	B []any
}

// partsOf decodes data into a part list of strings, integers, nils, bools,
// lists and Pairs: for such lists, equal keys must mean equal lists.
func partsOf(data []byte) []any {
	var parts []any
	for len(data) > 0 {
		var p any
		p, data = partOf(data, 0)
		parts = append(parts, p)
	}
	return parts
}

func partOf(data []byte, depth int) (any, []byte) {
	if len(data) == 0 {
		return nil, nil
	}
	op, data := data[0], data[1:]
	n := 0
	if len(data) > 0 {
		n = int(data[0]) % 4
	}
	switch op % 6 {
	case 0:
		n = min(int(op/6), len(data))
		return string(data[:n]), data[n:]
	case 1:
		if len(data) < 8 {
			return int64(op), data
		}
		return int64(binary.BigEndian.Uint64(data)), data[8:]
	case 2:
		return nil, data
	case 3:
		return op > 127, data
	}
	if depth > 3 || len(data) == 0 {
		return "", data
	}
	data = data[1:]
	list := make([]any, n)
	for i := range list {
		list[i], data = partOf(data, depth+1)
	}
	if op%6 == 4 {
		return list, data
	}
	var a any
	a, data = partOf(data, depth+1)
	s, _ := a.(string)
	return KeyPair{A: s, B: list}, data
}

// FuzzKeyDistinct checks that two part lists get the same key exactly when
// they are equal, and that a key is the same when computed again.
func FuzzKeyDistinct(f *testing.F) {
	f.Add([]byte("\x06a\x06bc"), []byte("\x0cab\x06c"))
	f.Add([]byte("\x01\x00\x00\x00\x00\x00\x00\x00\x01"), []byte("\x06\x01"))
	f.Add([]byte("\x04\x02\x06a\x02"), []byte("\x05\x02\x06a\x02\x00"))
	f.Add([]byte("\x02"), []byte("\x00"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, pb := partsOf(a), partsOf(b)
		ka, kb := gormcache.Key(pa...), gormcache.Key(pb...)
		if again := gormcache.Key(partsOf(a)...); again != ka {
			t.Fatalf("Key(%#v): got %s, then %s", pa, ka, again)
		}
		if equal := reflect.DeepEqual(pa, pb); equal != (ka == kb) {
			t.Fatalf("Key(%#v) = %s, Key(%#v) = %s: equal lists %v, equal keys %v",
				pa, ka, pb, kb, equal, ka == kb)
		}
	})
}

func BenchmarkKey(b *testing.B) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	benchmarks := []struct {
		name  string
		parts []any
	}{
		{"scalars", []any{"sales", 42, day}},
		{"struct", []any{"report", KeyFilter{Shop: 1, Since: day, Users: []int{1, 2, 3}, Range: &KeyRange{1, 2}}}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				gormcache.Key(bm.parts...)
			}
		})
	}
}

func ExampleKey_struct() {
	type Filter struct {
		Shop   uint
		Status []string
	}
	a := gormcache.Key("orders", Filter{Shop: 1, Status: []string{"paid"}})
	b := gormcache.Key("orders", Filter{Shop: 1, Status: []string{"paid", "sent"}})
	fmt.Println(strings.HasPrefix(a, "orders:"), a == b)
	// Output:
	// true false
}
