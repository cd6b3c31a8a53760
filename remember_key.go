package gormcache

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/gormcache/gormcache/querykey"
)

// Key returns a key for Remember made of parts, like keyedcache's cache_key:
//
//	gormcache.Remember(db, gormcache.Key("sales", shopID, from, to), report)
//
// Distinct part lists give distinct keys. The parts are written in
// querykey's canonical encoding, where every value carries its kind and its
// length, so ("a", "bc") and ("ab", "c") differ, as do 1 and "1", and the
// encoding is hashed with SHA-256, truncated to 192 bits (see package
// querykey): even parts chosen by an attacker do not collide. The key is that
// digest, 32 characters of base64url, preceded by the first part and a colon
// when the first part is a label, a string of 1 to 64 letters, digits, '.',
// '_' or '-' ("sales:3q2-..."), which makes keys readable where cached
// entries are listed. Keys are the same in every process and across
// restarts; a struct part's key changes when its type is renamed or moved to
// another package, or when its fields change.
//
// Parts may be nil, strings, []byte, integers, floats, bools, time.Time
// (keyed by its instant and its zone), driver.Valuers (keyed by what their
// Value method returns), pointers (keyed by what they point to), slices,
// arrays, maps, and structs, keyed by their type and their exported fields.
// Values that a database would be sent as the same value give the same key,
// as in querykey: int(1), int64(1) and a pointer to either; a named type and
// its underlying type; a nil pointer, slice or map and nil. So do a slice and
// an array with the same elements. Everything else gives different keys.
//
// Key panics when a part cannot be encoded: a struct with an unexported field
// (unless it is a time.Time or a driver.Valuer), a channel, a function, a
// complex number, a map key holding a struct or an array, a map with two keys
// that encode alike, a value nested too deeply (a cycle), a GORM expression,
// or a driver.Valuer whose Value method fails. These are mistakes in the
// program, which its first call reveals.
func Key(parts ...any) string {
	vars := make([]any, len(parts))
	for i, part := range parts {
		v, err := keyPart(reflect.ValueOf(part), 0)
		if err != nil {
			panic(fmt.Errorf("gormcache: Key: part %d: %w", i, err))
		}
		vars[i] = v
	}
	prefix := ""
	if len(parts) > 0 {
		if s, ok := parts[0].(string); ok && isLabel(s) {
			prefix = s + ":"
		}
	}
	// The dialect and SQL of querykey's statement are fixed: they keep these
	// digests apart from those of queries.
	key, err := querykey.Key(prefix, "gormcache.Key", "v1", vars, "")
	if err != nil {
		panic(fmt.Errorf("gormcache: Key: %w", err))
	}
	return key
}

// isLabel reports whether s may open a key in clear: it cannot contain the
// colon that ends it, nor a brace (see Remember).
func isLabel(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// maxKeyDepth bounds how deep keyPart follows a part, so that a cycle ends
// in an error.
const maxKeyDepth = 32

var (
	anyType    = reflect.TypeFor[any]()
	timeType   = reflect.TypeFor[time.Time]()
	valuerType = reflect.TypeFor[driver.Valuer]()
)

var errKeyPart = errors.New("unsupported value")

// keyPart returns the value of rv in a form querykey encodes, which it
// rejects for structs. A struct becomes an array of its type's name and its
// fields; every other array and every slice that holds a struct becomes a
// []any. querykey encodes arrays and slices with different tags, so a struct
// never encodes like anything a caller can pass: the encoding of the parts
// stays injective. Values of plain types are returned as they are.
func keyPart(rv reflect.Value, depth int) (any, error) {
	if !rv.IsValid() {
		return nil, nil
	}
	t := rv.Type()
	if plain(t, 0) {
		return rv.Interface(), nil
	}
	if depth > maxKeyDepth {
		return nil, fmt.Errorf("%w: %s nested deeper than %d levels (a cycle?)", errKeyPart, t, maxKeyDepth)
	}
	switch rv.Kind() {
	case reflect.Interface, reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return keyPart(rv.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		list := make([]any, rv.Len())
		for i := range list {
			v, err := keyPart(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return list, nil
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		if !plain(t.Key(), 0) {
			return nil, fmt.Errorf("%w: %s: a map key may not hold a struct or an array", errKeyPart, t)
		}
		m := reflect.MakeMapWithSize(reflect.MapOf(t.Key(), anyType), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			v, err := keyPart(it.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			m.SetMapIndex(it.Key(), reflect.ValueOf(&v).Elem())
		}
		return m.Interface(), nil
	case reflect.Struct:
		fields := reflect.New(reflect.ArrayOf(t.NumField()+1, anyType)).Elem()
		fields.Index(0).Set(reflect.ValueOf(typeName(t)))
		for i := range t.NumField() {
			if f := t.Field(i); !f.IsExported() {
				return nil, fmt.Errorf("%w: %s has the unexported field %s (give the type a Value method, or pass its fields)", errKeyPart, t, f.Name)
			}
			v, err := keyPart(rv.Field(i), depth+1)
			if err != nil {
				return nil, err
			}
			fields.Index(i + 1).Set(reflect.ValueOf(&v).Elem())
		}
		return fields.Interface(), nil
	}
	return rv.Interface(), nil // querykey names what it cannot encode
}

// plain reports whether querykey can encode values of t as they are: t
// holds no struct but time.Time and driver.Valuers, no array but byte
// arrays, and no interface, whose values might hold either.
func plain(t reflect.Type, depth int) bool {
	if t == timeType || t.Implements(valuerType) {
		return true
	}
	if depth > maxKeyDepth { // a recursive type: keyPart walks the value
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		return plain(t.Elem(), depth+1)
	case reflect.Array:
		return t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(valuerType)
	case reflect.Map:
		return plain(t.Key(), depth+1) && plain(t.Elem(), depth+1)
	case reflect.Struct, reflect.Interface:
		return false
	}
	return true
}

// typeName names a struct type uniquely in the program: by its package path
// and name, or, for a struct literal type, by its fields.
func typeName(t reflect.Type) string {
	if t.Name() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}
