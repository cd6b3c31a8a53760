package querykey

import (
	"bytes"
	"math"
	"testing"
	"time"
)

func encode(t testing.TB, vars ...any) []byte {
	t.Helper()
	var e encoder
	if err := e.statement("", "", vars, ""); err != nil {
		t.Fatalf("statement(%v): %v", vars, err)
	}
	return e.buf
}

// cat joins byte slices and single bytes.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		}
	}
	return b
}

var (
	zero8 = []byte{0, 0, 0, 0, 0, 0, 0}
	one64 = cat(zero8, 1) // big-endian 1
)

// TestEncoding spells out the format byte by byte.
func TestEncoding(t *testing.T) {
	var e encoder
	if err := e.statement("d", "s", []any{nil}, "sh"); err != nil {
		t.Fatal(err)
	}
	if want := cat(format, 1, "d", 1, "s", 1, tagNil, 2, "sh"); !bytes.Equal(e.buf, want) {
		t.Errorf("statement: got %q, want %q", e.buf, want)
	}

	tests := []struct {
		v    any
		want []byte
	}{
		{nil, cat(tagNil)},
		{false, cat(tagFalse)},
		{true, cat(tagTrue)},
		{int8(-1), cat(tagInt, bytes.Repeat([]byte{0xff}, 8))},
		{uint16(258), cat(tagUint, 0, 0, 0, 0, 0, 0, 1, 2)},
		{1.0, cat(tagFloat, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0)},
		{math.Copysign(0, -1), cat(tagFloat, 0x80, 0, 0, 0, 0, 0, 0, 0)},
		{"ab", cat(tagString, 2, "ab")},
		{[]byte("ab"), cat(tagBytes, 2, "ab")},
		{time.Unix(1, 2).In(time.FixedZone("X", 3600)), cat(tagTime, one64, 0, 0, 0, 2, 0, 0, 0x0e, 0x10, 1, "X", 1, "X")},
		{time.Unix(0, 0).UTC(), cat(tagTime, 0, zero8, 0, 0, 0, 0, 0, 0, 0, 0, 3, "UTC", 3, "UTC")},
		{[]int{1}, cat(tagList, 1, tagInt, one64)},
		{[1]int{1}, cat(tagArray, 1, tagInt, one64)},
		{[2]byte{1, 2}, cat(tagByteArray, 2, 1, 2)},
		{map[string]int{"b": 2, "a": 1}, cat(tagMap, 2, tagString, 1, "a", tagInt, one64, tagString, 1, "b", tagInt, zero8, 2)},
		{string(make([]byte, 200)), cat(tagString, 0xc8, 0x01, make([]byte, 200))},
	}
	for _, tt := range tests {
		got := encode(t, tt.v)
		want := cat(format, 0, 0, 1, tt.want, 0)
		if !bytes.Equal(got, want) {
			t.Errorf("%T %v: got %x, want %x", tt.v, tt.v, got, want)
		}
	}
}

// gen builds a list of vars from data, drawing every kind of value the
// encoder distinguishes, nested up to three levels.
func gen(data []byte) []any {
	g := generator{data: data}
	var vars []any
	for len(g.data) > 0 {
		vars = append(vars, g.value(0))
	}
	return vars
}

type generator struct{ data []byte }

func (g *generator) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *generator) n(max int) []byte {
	n := min(int(g.byte())%(max+1), len(g.data))
	b := g.data[:n]
	g.data = g.data[n:]
	return b
}

func (g *generator) uint64() uint64 {
	var u uint64
	for _, b := range g.n(8) {
		u = u<<8 | uint64(b)
	}
	return u
}

var zones = []*time.Location{time.UTC, time.FixedZone("", 0), time.FixedZone("UTC", 0), time.FixedZone("", 7200), time.FixedZone("X", 7200)}

func (g *generator) value(depth int) any {
	kinds := byte(11)
	if depth >= 3 {
		kinds = 8 // no containers
	}
	switch g.byte() % kinds {
	case 0:
		return nil
	case 1:
		return int64(g.uint64())
	case 2:
		return g.uint64()
	case 3:
		return math.Float64frombits(g.uint64())
	case 4:
		return g.byte()%2 == 0
	case 5:
		return string(g.n(16))
	case 6:
		return append([]byte{}, g.n(16)...) // never nil: nil []byte is NULL
	case 7:
		return time.Unix(int64(g.uint64()), int64(g.uint64()%1e9)).In(zones[int(g.byte())%len(zones)])
	case 8:
		l := make([]any, g.byte()%4)
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 9:
		m := map[string]any{}
		for range g.byte() % 4 {
			m[string(g.n(4))] = g.value(depth + 1)
		}
		return m
	default:
		return [2]byte{g.byte(), g.byte()}
	}
}

// same is the equality that the encoding must preserve for the values gen
// makes: floats by their bits, times by instant and zone.
func same(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		an, ao := a.Zone()
		bn, bo := b.Zone()
		return ok && a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String()
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !same(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !same(av, bv) {
				return false
			}
		}
		return true
	default: // nil, int64, uint64, bool, string, [2]byte
		return a == b
	}
}

// FuzzEncodeInjective checks that the encoding tells apart exactly the var
// lists that differ: the hash can only be as collision-free as its input.
func FuzzEncodeInjective(f *testing.F) {
	f.Add([]byte{}, []byte{0})
	f.Add([]byte{5, 2, 'a', 'b', 5, 1, 'c'}, []byte{5, 1, 'a', 5, 2, 'b', 'c'})
	f.Add([]byte{1, 8, 255, 255, 255, 255, 255, 255, 255, 255}, []byte{2, 8, 255, 255, 255, 255, 255, 255, 255, 255})
	f.Add([]byte{5, 1, '1'}, []byte{6, 1, '1', 1})
	f.Add([]byte{5, 3, 'a', tagString, 'b', 5, 1, 'c'}, []byte{5, 1, 'a', 5, 3, 'b', tagString, 'c'}) // tags inside strings
	f.Add([]byte{7, 1, 5, 1, 0, 0}, []byte{7, 1, 5, 1, 0, 3})
	f.Add([]byte{8, 2, 1, 1, 7, 1, 1, 1}, []byte{8, 1, 8, 2, 1, 1, 7, 1, 1})
	f.Add([]byte{9, 2, 1, 'a', 0, 1, 'b', 4, 1}, []byte{9, 2, 1, 'b', 4, 1, 1, 'a', 0})
	f.Add([]byte{10, 'a', 'b'}, []byte{6, 2, 'a', 'b', 2})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		va, vb := gen(a), gen(b)
		ea, eb := encode(t, va...), encode(t, vb...)
		if again := encode(t, va...); !bytes.Equal(ea, again) {
			t.Fatalf("encoding of %#v is not deterministic", va)
		}
		if want := same(va, vb); bytes.Equal(ea, eb) != want {
			t.Fatalf("%#v and %#v: got equal encodings %v, want %v", va, vb, !want, want)
		}
	})
}
