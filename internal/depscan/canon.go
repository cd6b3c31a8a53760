package depscan

import (
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
)

// class is how the values of a column compare: the equality Canon can
// prove for them.
type class uint8

const (
	classNone   class = iota // only NULL is canonical
	classInt                 // integers, compared exactly
	classString              // strings, compared byte for byte
	classBool                // booleans, and the 0 and 1 SQLite returns for them
	// classTypedString: strings of a column whose model declares a type
	// that may compare otherwise (char(n), citext, uuid, a COLLATE):
	// only the database's catalogue tells how (CanonFor).
	classTypedString
)

var (
	valuerType     = reflect.TypeFor[driver.Valuer]()
	gormValuerType = reflect.TypeFor[gorm.Valuer]()
)

// Canon returns the canonical encoding of v as a value of the column that
// field describes, and ok=false when equality with it cannot be proven
// safely: a term with that value must then be a wildcard. The write path
// calls Canon on row images (values read from the database or from model
// structs), the read path on query vars; values the database considers
// equal encode alike, values it considers different encode differently.
//
// The encodings: "n" for NULL (nil, a nil pointer, a driver.Valuer whose
// Value is nil), "i" and the decimal digits for an integer, "s" and the
// bytes for a string, "b1" and "b0" for booleans. Pointers are
// dereferenced and a driver.Valuer is replaced by its Value (a panic or an
// error in Value gives ok=false).
//
// NULL is canonical whatever the field. Any other value needs a field (nil
// gives ok=false) whose class matches the value's:
//
//   - integer fields (int and uint kinds), for integer values;
//   - string fields whose column type compares bytes exactly (no declared
//     type but string, text or varchar; none that mentions COLLATE), for
//     string values — a string against an integer column, or an integer
//     against a string column, is refused: SQLite and PostgreSQL coerce
//     one into the other ('07' = 7);
//   - bool fields, for booleans and for the integers 0 and 1 (SQLite
//     returns booleans as integers);
//   - fields of a driver.Valuer type by their DataType: schema.Int and
//     schema.Uint are integer fields, schema.String string fields,
//     schema.Bool bool fields.
//
// Everything else is refused: floats, times, []byte, JSON, fields with a
// serializer or a gorm.Valuer type. Collations that ignore case or
// trailing spaces are invisible to Canon (see the package documentation):
// where the database's catalogue tells them, CanonFor takes them into
// account.
func Canon(v any, field *schema.Field) (string, bool) { return CanonFor(v, field, nil) }

// CanonFor is Canon for a column that the database compares as col says
// (read from its catalogue, see package collation); a nil col is Canon.
// Besides the model's class, the column's Kind must agree: an integer or a
// boolean needs an Integer column, a string a Text column, which names it
// by its collation's Key (so 'ADA ' and 'ada' encode alike in a
// utf8mb4_general_ci column). A string field whose model declares its
// column's type (char(n), uuid, a COLLATE), which Canon refuses, is named
// the same way: the catalogue tells how the column compares. Anything else but NULL is refused: the
// database would convert one into the other ('abc' = 0 holds in MySQL).
func CanonFor(v any, field *schema.Field, col *collation.Column) (string, bool) {
	v, ok := driverValue(v)
	if !ok {
		return "", false
	}
	if v == nil {
		return "n", true
	}
	cls := classOf(field)
	if col != nil {
		switch {
		case (cls == classInt || cls == classBool) && col.Kind == collation.Integer:
		case (cls == classString || cls == classTypedString) && col.Kind == collation.Text:
			s, isString := v.(string)
			if !isString {
				return "", false
			}
			if v, ok = col.Key(s); !ok {
				return "", false
			}
			cls = classString // as the column compares it
		default:
			return "", false
		}
	}
	switch cls {
	case classInt:
		var buf [24]byte
		switch x := v.(type) {
		case int64:
			return string(strconv.AppendInt(append(buf[:0], 'i'), x, 10)), true
		case uint64:
			return string(strconv.AppendUint(append(buf[:0], 'i'), x, 10)), true
		}
	case classString:
		if s, ok := v.(string); ok {
			if len(s) > deps.MaxStringValue {
				// A dependency names its values in store keys: a long one
				// by its digest, so that no key grows with the data.
				sum := sha256.Sum256([]byte(s))
				return "h" + base64.RawURLEncoding.EncodeToString(sum[:16]), true
			}
			return "s" + s, true
		}
	case classBool:
		switch x := v.(type) {
		case bool:
			if x {
				return "b1", true
			}
			return "b0", true
		case int64:
			if x == 0 || x == 1 {
				return "b" + strconv.FormatInt(x, 10), true
			}
		case uint64:
			if x == 0 || x == 1 {
				return "b" + strconv.FormatUint(x, 10), true
			}
		}
	}
	return "", false
}

// Equatable reports whether Canon can encode a value of field other than
// NULL. When it cannot, every term on the column has the value "n": a row
// image whose value for it is not NULL matches none of them, and the write
// path need not fall back to the whole table for it.
func Equatable(field *schema.Field) bool {
	c := classOf(field)
	return c != classNone && c != classTypedString
}

// EquatableFor is Equatable for CanonFor with col: a string whose model
// declares its column's type may be one.
func EquatableFor(field *schema.Field, col *collation.Column) bool {
	if col == nil {
		return Equatable(field)
	}
	return classOf(field) != classNone
}

// driverValue returns v as the driver would see it, reduced to nil, int64,
// uint64, string or bool when it is one of those, or v itself otherwise.
// ok is false when a Value method fails or panics.
func driverValue(v any) (_ any, ok bool) {
	for range 8 { // Valuers returning Valuers: bounded
		switch x := v.(type) {
		case nil:
			return nil, true
		case int:
			return int64(x), true
		case int64:
			return x, true
		case int32:
			return int64(x), true
		case uint:
			return uint64(x), true
		case uint64:
			return x, true
		case uint32:
			return uint64(x), true
		case string:
			return x, true
		case bool:
			return x, true
		case gorm.Valuer:
			return nil, false // an SQL expression, not a value
		case driver.Valuer:
			rv := reflect.ValueOf(v)
			if rv.Kind() == reflect.Pointer && rv.IsNil() && rv.Type().Elem().Implements(valuerType) {
				return nil, true // as database/sql does
			}
			var err error
			if v, err = callValue(x); err != nil {
				return nil, false
			}
			continue
		}
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Pointer:
			if rv.IsNil() {
				return nil, true
			}
			v = rv.Elem().Interface()
			continue
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return rv.Int(), true
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return rv.Uint(), true
		case reflect.String:
			return rv.String(), true
		case reflect.Bool:
			return rv.Bool(), true
		}
		return v, true
	}
	return nil, false
}

// errPanic reports a Value method that panicked.
type errPanic struct{}

func (errPanic) Error() string { return "gormcache: Value panicked" }

func callValue(v driver.Valuer) (value driver.Value, err error) {
	defer func() {
		if recover() != nil {
			value, err = nil, errPanic{}
		}
	}()
	return v.Value()
}

// classes caches classOf: a field's class never changes, and finding it
// costs reflection.
var classes sync.Map // *schema.Field -> class

// classOf returns the class of the column field describes.
func classOf(field *schema.Field) class {
	if field == nil {
		return classNone
	}
	if c, ok := classes.Load(field); ok {
		return c.(class)
	}
	c := findClass(field)
	classes.Store(field, c)
	return c
}

func findClass(field *schema.Field) class {
	if field.Serializer != nil || field.FieldType == nil {
		return classNone
	}
	t := field.FieldType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if t.Implements(gormValuerType) || pt.Implements(gormValuerType) {
		return classNone
	}
	if t.Implements(valuerType) || pt.Implements(valuerType) {
		switch field.DataType {
		case schema.Int, schema.Uint:
			return classInt
		case schema.String:
			return classString
		case schema.Bool:
			return classBool
		}
		return classNone
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return classInt
	case reflect.String:
		if exactString(field.DataType) {
			return classString
		}
		return classTypedString
	case reflect.Bool:
		return classBool
	}
	return classNone
}

// exactString reports whether a column of type dt compares strings byte
// for byte in PostgreSQL and SQLite: text and varchar without a collation.
// char pads with spaces, citext ignores case.
func exactString(dt schema.DataType) bool {
	s := strings.ToLower(string(dt))
	if strings.Contains(s, "collate") {
		return false
	}
	return s == string(schema.String) || s == "text" ||
		strings.HasPrefix(s, "varchar") || strings.HasPrefix(s, "character varying")
}
