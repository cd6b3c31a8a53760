package deepcopy

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

type flat struct {
	N    int
	S    string
	T    time.Time
	A    [2]float64
	hide bool
}

type node struct {
	Name     string
	Children []node
	Parent   *node
	Attrs    map[string]any
	Raw      []byte
}

//lint:ignore U1000 the field is never read: what matters is that it is unexported
type hidden struct{ p *int }

type withBig struct{ N *big.Int }

// copyOf copies v with the Copier of its type.
func copyOf(t *testing.T, v any) any {
	t.Helper()
	c := For(reflect.TypeOf(v))
	if c == nil {
		t.Fatalf("%T: no copier", v)
	}
	dst := reflect.New(reflect.TypeOf(v)).Elem()
	if !c.Copy(dst, reflect.ValueOf(v)) {
		t.Fatalf("%T: copy failed", v)
	}
	return dst.Interface()
}

func TestCopyIsDeepAndEqual(t *testing.T) {
	n := 7
	tree := node{
		Name:     "root",
		Children: []node{{Name: "a", Raw: []byte{1, 2}}, {Name: "b", Attrs: map[string]any{"x": []any{1, "two", []byte{3}}}}},
		Parent:   &node{Name: "up"},
		Attrs:    map[string]any{"n": &n, "empty": []int{}, "nil": nil},
		Raw:      []byte{},
	}
	got := copyOf(t, tree).(node)
	if !reflect.DeepEqual(got, tree) {
		t.Fatalf("got %#v, want %#v", got, tree)
	}
	// Changing the copy everywhere leaves the original as it was.
	want := copyOf(t, tree).(node)
	got.Children[0].Raw[0] = 9
	got.Children[1].Attrs["x"].([]any)[2].([]byte)[0] = 9
	got.Parent.Name = "changed"
	*got.Attrs["n"].(*int) = 9
	got.Attrs["new"] = 1
	if !reflect.DeepEqual(tree, want) {
		t.Fatalf("changing the copy changed the original: %#v", tree)
	}
	if got.Raw == nil || got.Children[0].Parent != nil {
		t.Fatal("nil and empty slices must stay as they were")
	}
}

func TestFlat(t *testing.T) {
	for _, v := range []any{1, "s", flat{N: 1, hide: true}, time.Now(), [3]int{}} {
		c := For(reflect.TypeOf(v))
		if c == nil || !c.Flat() || c.Shares(reflect.ValueOf(v)) {
			t.Errorf("%T: want a flat copier", v)
		}
		if got := copyOf(t, v); !reflect.DeepEqual(got, v) {
			t.Errorf("got %#v, want %#v", got, v)
		}
	}
}

func TestShares(t *testing.T) {
	c := For(reflect.TypeFor[node]())
	for _, tc := range []struct {
		v    node
		want bool
	}{
		{node{Name: "x"}, false},
		{node{Raw: []byte{}}, true},
		{node{Parent: &node{}}, true},
		{node{Attrs: map[string]any{}}, true},
	} {
		if got := c.Shares(reflect.ValueOf(tc.v)); got != tc.want {
			t.Errorf("Shares(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestUncopyable(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[hidden](),
		reflect.TypeFor[withBig](),
		reflect.TypeFor[[]withBig](),
		reflect.TypeFor[chan int](),
		reflect.TypeFor[func()](),
		reflect.TypeFor[map[*int]int](),
	} {
		if For(typ) != nil {
			t.Errorf("%v: got a copier, want none", typ)
		}
	}
	// An interface is copied by the Copier of what it holds, found when
	// copying.
	c := For(reflect.TypeFor[any]())
	dst := reflect.New(reflect.TypeFor[any]()).Elem()
	if c.Copy(dst, reflect.ValueOf([]any{hidden{}}).Index(0)) {
		t.Error("copied an interface holding a type that cannot be copied")
	}
}

func TestCycleFails(t *testing.T) {
	loop := &node{Name: "loop"}
	loop.Parent = loop
	c := For(reflect.TypeFor[*node]())
	dst := reflect.New(reflect.TypeFor[*node]()).Elem()
	if c.Copy(dst, reflect.ValueOf(loop)) {
		t.Error("copied a cycle")
	}
}

func TestHeapBytes(t *testing.T) {
	type inner struct {
		S string
		B []byte
	}
	type outer struct {
		N    int
		T    time.Time
		P    *inner
		L    []inner
		M    map[string]int
		Any  any
		Flat [4]int
	}
	s17 := strings.Repeat("x", 17)
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"int", 7, 0},
		{"time", time.Now(), 0},
		{"string of 17 bytes", s17, 32},
		{"empty string", "", 0},
		{"nil pointer", (*inner)(nil), 0},
		{"pointer to a struct of a string and bytes", &inner{S: "abc", B: make([]byte, 3, 100)}, 48 + 8 + 112},
		{"struct", outer{P: &inner{}, L: make([]inner, 2), Any: 5, Flat: [4]int{1}}, 48 + 80 + 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HeapBytes(reflect.ValueOf(tt.v)); got != tt.want {
				t.Errorf("HeapBytes: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAllocSize(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 8, 9: 16, 17: 32, 100: 112, 129: 144, 300: 320, 1000: 1024, 5000: 5120, 40000: 40960} {
		if got := AllocSize(n); got != want {
			t.Errorf("AllocSize(%d): got %d, want %d", n, got, want)
		}
	}
}
