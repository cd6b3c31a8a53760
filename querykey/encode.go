package querykey

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrUnsupported is wrapped by the error Key returns for a var whose type it
// cannot encode. The message names the type and the var's index.
var ErrUnsupported = errors.New("querykey: unsupported var type")

// maxDepth bounds how many pointers, Value calls and containers the encoder
// follows into one var, so that cyclic values end in an error.
const maxDepth = 32

// Tags open the encoding of every value and decide how the rest of it is read:
// fixed-size fields, or a uvarint length then that many bytes or values. Every
// encoding is therefore self-delimiting and a list of them is unambiguous.
const (
	tagNil       byte = iota + 1 // nothing follows
	tagFalse                     // nothing follows
	tagTrue                      // nothing follows
	tagInt                       // int64, 8 bytes big-endian
	tagUint                      // uint64, 8 bytes big-endian
	tagFloat                     // IEEE 754 bits of the float64, 8 bytes
	tagString                    // length, bytes
	tagBytes                     // length, bytes
	tagTime                      // unix seconds (8), nanoseconds (4), offset (4), zone abbreviation, location name
	tagList                      // length, values (slices)
	tagArray                     // length, values (arrays other than byte arrays)
	tagByteArray                 // length, bytes
	tagMap                       // length, key-value pairs in the order of the keys' encodings
)

var (
	timeType       = reflect.TypeFor[time.Time]()
	valuerType     = reflect.TypeFor[driver.Valuer]()
	expressionType = reflect.TypeFor[clause.Expression]()
	gormValuerType = reflect.TypeFor[gorm.Valuer]()
	gormDBType     = reflect.TypeFor[*gorm.DB]()
)

// encoder appends the canonical encoding of a statement to buf. It is pooled
// and used by one goroutine at a time.
type encoder struct {
	buf []byte
	arg int // index of the var being encoded, for error messages
}

// appendSized appends the length of s, then s.
func appendSized[S string | []byte](buf []byte, s S) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func (e *encoder) stringVal(s string) {
	e.buf = appendSized(append(e.buf, tagString), s)
}

func (e *encoder) bytesVal(b []byte) {
	e.buf = appendSized(append(e.buf, tagBytes), b)
}

func (e *encoder) int(i int64) {
	e.buf = binary.BigEndian.AppendUint64(append(e.buf, tagInt), uint64(i))
}

func (e *encoder) uint(u uint64) {
	e.buf = binary.BigEndian.AppendUint64(append(e.buf, tagUint), u)
}

// float keeps every bit: -0 and 0, and NaNs with different payloads, stay
// apart, because a database may tell them apart too.
func (e *encoder) float(f float64) {
	e.buf = binary.BigEndian.AppendUint64(append(e.buf, tagFloat), math.Float64bits(f))
}

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, tagTrue)
	} else {
		e.buf = append(e.buf, tagFalse)
	}
}

// timeVal encodes the instant and the zone: a column without time zone stores
// the wall clock, so one instant in two zones is two different values.
func (e *encoder) timeVal(t time.Time) {
	name, offset := t.Zone()
	e.buf = append(e.buf, tagTime)
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(t.Unix()))
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(t.Nanosecond()))
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(int32(offset)))
	e.buf = appendSized(e.buf, name)
	e.buf = appendSized(e.buf, t.Location().String())
}

// value encodes one var. The cases before the default spare the common types
// the cost of reflection.
func (e *encoder) value(v any, depth int) error {
	if depth > maxDepth {
		return e.tooDeep(reflect.TypeOf(v))
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, tagNil)
	case string:
		e.stringVal(x)
	case []byte:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.bytesVal(x)
		}
	case int:
		e.int(int64(x))
	case int64:
		e.int(x)
	case int32:
		e.int(int64(x))
	case uint:
		e.uint(uint64(x))
	case uint64:
		e.uint(x)
	case uint32:
		e.uint(uint64(x))
	case float64:
		e.float(x)
	case float32:
		e.float(float64(x))
	case bool:
		e.bool(x)
	case time.Time:
		e.timeVal(x)
	case *int:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.int(int64(*x))
		}
	case *int64:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.int(*x)
		}
	case *string:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.stringVal(*x)
		}
	case *float64:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.float(*x)
		}
	case *bool:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.bool(*x)
		}
	case *time.Time:
		if x == nil {
			e.buf = append(e.buf, tagNil)
		} else {
			e.timeVal(*x)
		}
	case []any:
		if x == nil {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		e.buf = append(e.buf, tagList)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x)))
		for _, elem := range x {
			if err := e.value(elem, depth+1); err != nil {
				return err
			}
		}
	// GORM builds these into the SQL (or, for gorm.Valuer, into other
	// vars) before a statement is executed, and checks them before
	// driver.Valuer; one left in the vars means the statement was not built.
	case clause.Expression, gorm.Valuer, *gorm.DB:
		return e.unbuilt(reflect.TypeOf(v))
	case driver.Valuer:
		return e.valuer(x, depth)
	default:
		return e.reflectVal(reflect.ValueOf(v), depth)
	}
	return nil
}

// reflectVal encodes the types that value has no case for.
func (e *encoder) reflectVal(rv reflect.Value, depth int) error {
	if !rv.IsValid() {
		e.buf = append(e.buf, tagNil)
		return nil
	}
	t := rv.Type()
	if depth > maxDepth {
		return e.tooDeep(t)
	}
	if rv.Kind() == reflect.Interface { // an element of []any, []driver.Valuer...
		return e.value(rv.Interface(), depth+1)
	}
	switch {
	case t == timeType:
		e.timeVal(rv.Interface().(time.Time))
		return nil
	case t == gormDBType || t.Implements(expressionType) || t.Implements(gormValuerType):
		return e.unbuilt(t)
	case t.Implements(valuerType):
		return e.valuer(rv.Interface().(driver.Valuer), depth)
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		e.float(rv.Float())
	case reflect.Bool:
		e.bool(rv.Bool())
	case reflect.String:
		e.stringVal(rv.String())
	case reflect.Pointer:
		if rv.IsNil() {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		return e.reflectVal(rv.Elem(), depth+1)
	case reflect.Slice:
		if rv.IsNil() {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		if isBytes(t.Elem()) {
			e.bytesVal(rv.Bytes())
			return nil
		}
		return e.elems(tagList, rv, depth)
	case reflect.Array:
		if isBytes(t.Elem()) {
			e.buf = append(e.buf, tagByteArray)
			e.buf = binary.AppendUvarint(e.buf, uint64(rv.Len()))
			for i := range rv.Len() {
				e.buf = append(e.buf, byte(rv.Index(i).Uint()))
			}
			return nil
		}
		return e.elems(tagArray, rv, depth)
	case reflect.Map:
		if rv.IsNil() {
			e.buf = append(e.buf, tagNil)
			return nil
		}
		return e.mapEntries(rv, depth)
	case reflect.Struct:
		return fmt.Errorf("%w %s in var %d: give it a driver.Valuer method", ErrUnsupported, t, e.arg)
	default: // complex numbers, channels, functions, unsafe pointers
		return fmt.Errorf("%w %s in var %d", ErrUnsupported, t, e.arg)
	}
	return nil
}

// isBytes reports whether a slice or array of t holds raw bytes, as opposed
// to values a driver converts one by one.
func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Uint8 && !t.Implements(valuerType)
}

// elems encodes a slice or an array: tag, length, elements.
func (e *encoder) elems(tag byte, rv reflect.Value, depth int) error {
	e.buf = append(e.buf, tag)
	e.buf = binary.AppendUvarint(e.buf, uint64(rv.Len()))
	for i := range rv.Len() {
		if err := e.reflectVal(rv.Index(i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// mapEntries encodes a non-nil map: tag, length, then the pairs sorted by the
// encoding of their keys. Two keys that encode alike (int(1) and int64(1) in a
// map[any]any, two NaNs) would make the order, and what a driver does with
// the map, undefined, so they are rejected.
func (e *encoder) mapEntries(rv reflect.Value, depth int) error {
	e.buf = append(e.buf, tagMap)
	e.buf = binary.AppendUvarint(e.buf, uint64(rv.Len()))
	start := len(e.buf)
	type entry struct{ key, value, end int } // offsets into e.buf
	entries := make([]entry, 0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		en := entry{key: len(e.buf)}
		if err := e.reflectVal(it.Key(), depth+1); err != nil {
			return err
		}
		en.value = len(e.buf)
		if err := e.reflectVal(it.Value(), depth+1); err != nil {
			return err
		}
		en.end = len(e.buf)
		entries = append(entries, en)
	}
	encoded := bytes.Clone(e.buf[start:])
	key := func(en entry) []byte { return encoded[en.key-start : en.value-start] }
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(key(a), key(b)) })
	e.buf = e.buf[:start]
	for i, en := range entries {
		if i > 0 && bytes.Equal(key(entries[i-1]), key(en)) {
			return fmt.Errorf("%w %s in var %d: two keys encode alike", ErrUnsupported, rv.Type(), e.arg)
		}
		e.buf = append(e.buf, encoded[en.key-start:en.end-start]...)
	}
	return nil
}

// valuer encodes what v.Value returns, as database/sql would send it.
func (e *encoder) valuer(v driver.Valuer, depth int) error {
	rv := reflect.ValueOf(v)
	// Like database/sql: a nil pointer whose element type has a
	// value-receiver Value method is NULL; calling Value would panic.
	if rv.Kind() == reflect.Pointer && rv.IsNil() && rv.Type().Elem().Implements(valuerType) {
		e.buf = append(e.buf, tagNil)
		return nil
	}
	dv, err := callValue(v)
	if err != nil {
		return fmt.Errorf("querykey: var %d: %T.Value: %w", e.arg, v, err)
	}
	return e.value(dv, depth+1)
}

// callValue calls v.Value, turning a panic into an error: the key must never
// take the process down; the same call made by the driver may still panic.
func callValue(v driver.Valuer) (dv driver.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return v.Value()
}

func (e *encoder) tooDeep(t reflect.Type) error {
	return fmt.Errorf("%w %s in var %d: nested deeper than %d levels (cyclic value?)", ErrUnsupported, t, e.arg, maxDepth)
}

func (e *encoder) unbuilt(t reflect.Type) error {
	return fmt.Errorf("%w %s in var %d: GORM expressions and subqueries must be built into the SQL first", ErrUnsupported, t, e.arg)
}
