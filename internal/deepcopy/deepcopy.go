// Package deepcopy copies values so that the copy shares nothing mutable
// with the original: what a cache needs to hand out one decoded result to
// many callers.
//
// It is written here rather than taken from a deep-copy library because the
// cache must know, per type and before copying, whether a copy is exact: a
// type is copied only when every part of it can be. Strings are shared (they
// are immutable), and so is the *time.Location of a time.Time (treated as
// immutable by the time package). Unexported fields are copied only when
// they hold plain data; a type with an unexported pointer, slice, map or
// interface (a *big.Int inside a decimal, say) cannot be copied, because
// reflection cannot reach into it.
package deepcopy

import (
	"reflect"
	"sync"
	"time"
)

// maxDepth bounds the nesting Copy follows, so that a value whose pointers
// form a cycle fails instead of recursing forever.
const maxDepth = 64

// A Copier copies values of one type.
type Copier struct {
	// flat is set for types whose values hold no pointer but to immutable
	// data, so that assignment is a deep copy.
	flat bool
	// copy deep-copies src into the settable dst and reports false when a
	// part of src could not be copied (an interface holding a value of a
	// type that cannot be).
	copy func(dst, src reflect.Value, depth int) bool
	// shares reports whether src refers to mutable memory: a non-nil
	// pointer, slice, map or interface.
	shares func(src reflect.Value) bool
}

var copiers sync.Map // reflect.Type -> *Copier, nil for types that cannot be copied

// For returns the Copier of t, or nil when values of t cannot be copied
// exactly. It is safe for concurrent use; its result for each type is
// computed once.
func For(t reflect.Type) *Copier {
	if c, ok := copiers.Load(t); ok {
		return c.(*Copier)
	}
	c := build(t, map[reflect.Type]*Copier{})
	actual, _ := copiers.LoadOrStore(t, c)
	return actual.(*Copier)
}

// Flat reports whether assignment alone copies values of the type.
func (c *Copier) Flat() bool { return c.flat }

// Copy deep-copies src into dst, a settable value of the Copier's type, and
// reports false (leaving dst partly written) when src holds something that
// cannot be copied.
func (c *Copier) Copy(dst, src reflect.Value) bool { return c.copyAt(dst, src, 0) }

// Shares reports whether src, of the Copier's type, refers to mutable
// memory, so that assigning it would alias the original. It is false for
// flat types and for values whose pointers, slices, maps and interfaces are
// all nil.
func (c *Copier) Shares(src reflect.Value) bool {
	return !c.flat && c.shares(src)
}

var timeType = reflect.TypeFor[time.Time]()

// build returns the Copier of t, or nil. building holds the copiers under
// construction, so that recursive types refer to themselves.
func build(t reflect.Type, building map[reflect.Type]*Copier) *Copier {
	if c, ok := copiers.Load(t); ok {
		return c.(*Copier)
	}
	if c, ok := building[t]; ok {
		return c
	}
	if isFlat(t, map[reflect.Type]bool{}) {
		return &Copier{flat: true}
	}
	c := &Copier{}
	building[t] = c
	ok := false
	switch t.Kind() {
	case reflect.Pointer:
		ok = buildPointer(c, t, building)
	case reflect.Slice:
		ok = buildSlice(c, t, building)
	case reflect.Array:
		ok = buildArray(c, t, building)
	case reflect.Map:
		ok = buildMap(c, t, building)
	case reflect.Struct:
		ok = buildStruct(c, t, building)
	case reflect.Interface:
		ok = buildInterface(c)
	}
	if !ok {
		building[t] = nil
		return nil
	}
	return c
}

// isFlat reports whether values of t hold no reference to mutable memory.
func isFlat(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType {
		return true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return isFlat(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		seen[t] = true
		for i := range t.NumField() {
			if !isFlat(t.Field(i).Type, seen) {
				return false
			}
		}
		return true
	}
	return false
}

// refCopier sets c up for a type of references (pointer, slice, map,
// interface): nil is copied as nil, anything else by copyRef.
func refCopier(c *Copier, copyRef func(dst, src reflect.Value, depth int) bool) {
	c.copy = func(dst, src reflect.Value, depth int) bool {
		if src.IsNil() {
			dst.SetZero()
			return true
		}
		return copyRef(dst, src, depth)
	}
	c.shares = func(src reflect.Value) bool { return !src.IsNil() }
}

func buildPointer(c *Copier, t reflect.Type, building map[reflect.Type]*Copier) bool {
	elem := build(t.Elem(), building)
	if elem == nil {
		return false
	}
	refCopier(c, func(dst, src reflect.Value, depth int) bool {
		if depth == maxDepth {
			return false
		}
		p := reflect.New(t.Elem())
		if !elem.copyAt(p.Elem(), src.Elem(), depth+1) {
			return false
		}
		dst.Set(p)
		return true
	})
	return true
}

func buildSlice(c *Copier, t reflect.Type, building map[reflect.Type]*Copier) bool {
	elem := build(t.Elem(), building)
	if elem == nil {
		return false
	}
	refCopier(c, func(dst, src reflect.Value, depth int) bool {
		s := reflect.MakeSlice(t, src.Len(), src.Len())
		if !elem.copyElems(s, src, depth) {
			return false
		}
		dst.Set(s)
		return true
	})
	return true
}

func buildArray(c *Copier, t reflect.Type, building map[reflect.Type]*Copier) bool {
	elem := build(t.Elem(), building)
	if elem == nil {
		return false
	}
	c.copy = func(dst, src reflect.Value, depth int) bool {
		return elem.copyElems(dst, src, depth)
	}
	c.shares = func(src reflect.Value) bool {
		for i := range src.Len() {
			if elem.Shares(src.Index(i)) {
				return true
			}
		}
		return false
	}
	return true
}

func buildMap(c *Copier, t reflect.Type, building map[reflect.Type]*Copier) bool {
	key, elem := build(t.Key(), building), build(t.Elem(), building)
	if key == nil || !key.flat || elem == nil {
		return false
	}
	refCopier(c, func(dst, src reflect.Value, depth int) bool {
		if depth == maxDepth {
			return false
		}
		m := reflect.MakeMapWithSize(t, src.Len())
		v := reflect.New(t.Elem()).Elem()
		for it := src.MapRange(); it.Next(); {
			if !elem.copyAt(v, it.Value(), depth+1) {
				return false
			}
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
		return true
	})
	return true
}

// buildStruct copies a struct by assignment, then replaces each field that
// is not flat with its deep copy. Those fields must be exported: reflection
// cannot set the others.
func buildStruct(c *Copier, t reflect.Type, building map[reflect.Type]*Copier) bool {
	type field struct {
		index int
		c     *Copier
	}
	var deep []field
	for i := range t.NumField() {
		f := t.Field(i)
		if isFlat(f.Type, map[reflect.Type]bool{}) {
			continue
		}
		fc := build(f.Type, building)
		if fc == nil || !f.IsExported() {
			return false
		}
		deep = append(deep, field{i, fc})
	}
	c.copy = func(dst, src reflect.Value, depth int) bool {
		dst.Set(src)
		for _, f := range deep {
			if !f.c.copyAt(dst.Field(f.index), src.Field(f.index), depth) {
				return false
			}
		}
		return true
	}
	c.shares = func(src reflect.Value) bool {
		for _, f := range deep {
			if f.c.Shares(src.Field(f.index)) {
				return true
			}
		}
		return false
	}
	return true
}

// buildInterface copies the dynamic value of an interface with the Copier
// of its type, found when copying.
func buildInterface(c *Copier) bool {
	refCopier(c, func(dst, src reflect.Value, depth int) bool {
		v := src.Elem()
		vc := For(v.Type())
		if vc == nil || depth == maxDepth {
			return false
		}
		cp := reflect.New(v.Type()).Elem()
		if !vc.copyAt(cp, v, depth+1) {
			return false
		}
		dst.Set(cp)
		return true
	})
	return true
}

// copyAt is Copy at a nesting depth.
func (c *Copier) copyAt(dst, src reflect.Value, depth int) bool {
	if c.flat {
		dst.Set(src)
		return true
	}
	return c.copy(dst, src, depth)
}

// copyElems copies the elements of the slice or array src into dst, of the
// same length.
func (c *Copier) copyElems(dst, src reflect.Value, depth int) bool {
	if c.flat {
		reflect.Copy(dst, src)
		return true
	}
	for i := range src.Len() {
		if !c.copy(dst.Index(i), src.Index(i), depth) {
			return false
		}
	}
	return true
}
