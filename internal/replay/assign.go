package replay

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
	"unsafe"
)

// assignRow stores row, the values a Recorder scanned of the current row,
// into dest as (*sql.Rows).Scan(dest...) would: the same values, the same
// Scanner calls, the same error. It reports false, having stored nothing,
// when a destination and its value are not among the pairs it knows; the
// caller then scans them with database/sql.
//
// database/sql is not asked to convert the row a second time because its
// conversions go through reflection and, for every integer destination that
// is not an int64 (such as the **uint of each uint field gorm.Scan reads),
// through a string: converting a row of a few columns costs it more than
// recording the row. The pairs known here are the ones whose result
// database/sql defines without judgement (an assignment, a copy, a parse
// with strconv); anything else is left to it.
func assignRow(dest, row []any, cols []Column) (bool, error) {
	if len(dest) != len(row) {
		return false, nil
	}
	for i, d := range dest {
		if ok, _ := assign(d, row[i], false); !ok {
			return false, nil
		}
	}
	for i, d := range dest {
		if _, err := assign(d, row[i], true); err != nil {
			return true, fmt.Errorf("sql: Scan error on column index %d, name %q: %w", i, cols[i].Name, err)
		}
	}
	return true, nil
}

var scannerType = reflect.TypeFor[sql.Scanner]()

// assign reports whether database/sql's conversion of the driver value v
// into dest is one assign knows, and with apply it stores v into dest. The
// error is a Scanner's, with apply.
func assign(dest, v any, apply bool) (bool, error) {
	switch d := dest.(type) {
	case *any:
		if d != nil && apply {
			*d = v // a []byte is the Recorder's own copy
		}
		return d != nil, nil
	case *string:
		return d != nil && stringInto(d, v, apply), nil
	case *[]byte:
		return d != nil && bytesInto(d, v, apply), nil
	case *time.Time:
		return d != nil && timeInto(d, v, apply), nil
	case *bool:
		return d != nil && boolInto(d, v, apply), nil
	case *float64:
		return d != nil && floatInto(d, v, apply), nil
	case *int:
		return d != nil && intInto(d, v, apply), nil
	case *int64:
		return d != nil && intInto(d, v, apply), nil
	case *int32:
		return d != nil && intInto(d, v, apply), nil
	case *int16:
		return d != nil && intInto(d, v, apply), nil
	case *int8:
		return d != nil && intInto(d, v, apply), nil
	case *uint:
		return d != nil && uintInto(d, v, apply), nil
	case *uint64:
		return d != nil && uintInto(d, v, apply), nil
	case *uint32:
		return d != nil && uintInto(d, v, apply), nil
	case *uint16:
		return d != nil && uintInto(d, v, apply), nil
	case *uint8:
		return d != nil && uintInto(d, v, apply), nil
	// What gorm.Scan hands for the fields of a struct: a pointer to a
	// pointer, which database/sql points at a new value.
	case **string:
		return d != nil && ptrInto(d, v, apply, stringInto), nil
	case **time.Time:
		return d != nil && ptrInto(d, v, apply, timeInto), nil
	case **bool:
		return d != nil && ptrInto(d, v, apply, boolInto), nil
	case **float64:
		return d != nil && ptrInto(d, v, apply, floatInto), nil
	case **int:
		return d != nil && ptrInto(d, v, apply, intInto), nil
	case **int64:
		return d != nil && ptrInto(d, v, apply, intInto), nil
	case **int32:
		return d != nil && ptrInto(d, v, apply, intInto), nil
	case **uint:
		return d != nil && ptrInto(d, v, apply, uintInto), nil
	case **uint64:
		return d != nil && ptrInto(d, v, apply, uintInto), nil
	case **uint32:
		return d != nil && ptrInto(d, v, apply, uintInto), nil
	case sql.Scanner:
		// database/sql hands a Scanner the driver's value; v is that, or
		// for a []byte the Recorder's own copy of it.
		if !apply {
			return true, nil
		}
		return true, d.Scan(v)
	}
	return scannerPtrInto(dest, v, apply)
}

// scannerPtrInto is assign for a pointer to a pointer to a Scanner (what
// gorm.Scan hands for a field of a type such as gorm.DeletedAt):
// database/sql points it at a new value, whose Scan it calls, or at nil
// for NULL.
func scannerPtrInto(dest, v any, apply bool) (bool, error) {
	pv := reflect.ValueOf(dest)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		return false, nil
	}
	p := pv.Elem()
	t := p.Type()
	if t.Kind() != reflect.Pointer || t != reflect.PointerTo(t.Elem()) || !t.Implements(scannerType) {
		return false, nil
	}
	if !apply {
		return true, nil
	}
	if v == nil {
		p.SetZero()
		return true, nil
	}
	p.Set(reflect.New(t.Elem()))
	return true, p.Interface().(sql.Scanner).Scan(v)
}

// ptrInto is assign for **T, given into, assign for *T. The functions
// into, like it, read their destination only with apply.
func ptrInto[T any](d **T, v any, apply bool, into func(*T, any, bool) bool) bool {
	if v == nil {
		if apply {
			*d = nil
		}
		return true
	}
	if !apply {
		return into(nil, v, false)
	}
	p := new(T)
	into(p, v, true)
	*d = p
	return true
}

func stringInto(d *string, v any, apply bool) bool {
	text, ok := textOf(v)
	if ok && apply {
		*d = text
	}
	return ok
}

func bytesInto(d *[]byte, v any, apply bool) bool {
	switch v := v.(type) {
	case nil:
		if apply {
			*d = nil
		}
		return true
	case string:
		if apply {
			*d = []byte(v)
		}
		return true
	case []byte:
		if apply {
			*d = v // the Recorder's own copy
		}
		return true
	}
	return false
}

func timeInto(d *time.Time, v any, apply bool) bool {
	t, ok := v.(time.Time)
	if ok && apply {
		*d = t
	}
	return ok
}

func boolInto(d *bool, v any, apply bool) bool {
	b, err := driver.Bool.ConvertValue(v)
	if err != nil {
		return false
	}
	if apply {
		*d = b.(bool)
	}
	return true
}

func floatInto(d *float64, v any, apply bool) bool {
	f, ok := v.(float64)
	if ok && apply {
		*d = f
	}
	return ok
}

// intInto stores v in a signed integer if database/sql would: it formats
// an int64 or a uint64 in decimal and parses it (or a string) with
// strconv.ParseInt at the destination's size. Out of range, database/sql's
// error is left to it.
func intInto[T int | int8 | int16 | int32 | int64](d *T, v any, apply bool) bool {
	var n int64
	if i, ok := v.(int64); ok {
		if int64(T(i)) != i {
			return false
		}
		n = i
	} else if u, ok := v.(uint64); ok {
		if u > math.MaxInt64 || int64(T(u)) != int64(u) {
			return false
		}
		n = int64(u)
	} else if text, ok := textOf(v); ok {
		var err error
		if n, err = strconv.ParseInt(text, 10, int(unsafe.Sizeof(T(0)))*8); err != nil {
			return false
		}
	} else {
		return false
	}
	if apply {
		*d = T(n)
	}
	return true
}

// uintInto is intInto for unsigned integers, with strconv.ParseUint.
func uintInto[T uint | uint8 | uint16 | uint32 | uint64](d *T, v any, apply bool) bool {
	var n uint64
	if i, ok := v.(int64); ok {
		if i < 0 || uint64(T(i)) != uint64(i) {
			return false
		}
		n = uint64(i)
	} else if u, ok := v.(uint64); ok {
		if uint64(T(u)) != u {
			return false
		}
		n = u
	} else if text, ok := textOf(v); ok {
		var err error
		if n, err = strconv.ParseUint(text, 10, int(unsafe.Sizeof(T(0)))*8); err != nil {
			return false
		}
	} else {
		return false
	}
	if apply {
		*d = T(n)
	}
	return true
}

// textOf returns v as text if it is a string or a []byte, as database/sql
// stores it in a string or reads a number from it.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}
