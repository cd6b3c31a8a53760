package deepcopy

import (
	"reflect"
	"sync"
)

// HeapBytes returns the heap memory that v refers to — the bytes of its
// strings, the arrays of its slices, its pointees and map entries, and what
// they refer to in turn, not v itself — each allocation rounded up as Go's
// allocator rounds it, within a few percent. Memory reached twice is
// counted twice, and the *time.Location of a time.Time not at all (it is
// shared). It is what keeping a deep copy of v costs beyond the copy's own
// value.
func HeapBytes(v reflect.Value) int { return heapBytes(v, 0) }

func heapBytes(v reflect.Value, depth int) int {
	if depth > maxDepth || !hasRefs(v.Type()) {
		return 0
	}
	switch v.Kind() {
	case reflect.String:
		return AllocSize(v.Len())
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return AllocSize(int(e.Type().Size())) + heapBytes(e, depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		n := AllocSize(v.Cap() * int(v.Type().Elem().Size()))
		return n + elemsBytes(v, depth)
	case reflect.Array:
		return elemsBytes(v, depth)
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += heapBytes(v.Field(i), depth+1)
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return 0
		}
		// A Swiss-table slot per entry, with a control byte, at a load
		// of 7/8.
		t := v.Type()
		n := AllocSize(v.Len() * (int(t.Key().Size()+t.Elem().Size()) + 1) * 8 / 7)
		for it := v.MapRange(); it.Next(); {
			n += heapBytes(it.Key(), depth+1) + heapBytes(it.Value(), depth+1)
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		n := heapBytes(e, depth+1)
		if k := e.Kind(); k != reflect.Pointer && k != reflect.Map && k != reflect.Chan && k != reflect.Func && k != reflect.UnsafePointer {
			n += AllocSize(int(e.Type().Size())) // boxed
		}
		return n
	}
	return 0
}

func elemsBytes(v reflect.Value, depth int) int {
	n := 0
	for i := range v.Len() {
		n += heapBytes(v.Index(i), depth+1)
	}
	return n
}

var refTypes sync.Map // reflect.Type -> bool

// hasRefs reports whether values of t may refer to heap memory HeapBytes
// counts.
func hasRefs(t reflect.Type) bool {
	if r, ok := refTypes.Load(t); ok {
		return r.(bool)
	}
	r := findRefs(t, map[reflect.Type]bool{})
	refTypes.Store(t, r)
	return r
}

func findRefs(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType {
		return false
	}
	switch t.Kind() {
	case reflect.String, reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	case reflect.Array:
		return t.Len() > 0 && findRefs(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false // counted where it was first met
		}
		seen[t] = true
		for i := range t.NumField() {
			if findRefs(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// AllocSize returns the bytes Go's allocator takes for an object of n
// bytes: its size class, up to 32 KiB, and whole 8 KiB pages above.
func AllocSize(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= 8:
		return 8
	case n <= 16:
		return 16
	case n <= 128:
		return roundTo(n, 16)
	case n <= 32<<10:
		// Classes are about 1/8 apart from 128 bytes on: round up to the
		// power of two below n divided by 8 (a few percent at most above
		// the real class).
		step := 1
		for step*16 <= n {
			step *= 2
		}
		return roundTo(n, step)
	}
	return roundTo(n, 8<<10)
}

func roundTo(n, step int) int { return (n + step - 1) / step * step }
