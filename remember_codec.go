package gormcache

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gormcache/gormcache/internal/entry"
)

// Codec turns the values Remember caches into bytes and back. Unmarshal is
// given a pointer to a zero value of the type that Marshal was given. A Codec
// is used by many goroutines at once. A panic in either method is recovered
// and treated as an error: the value is not cached.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the Codec Remember uses unless RememberCodec names another:
// encoding/json. It round-trips the exported fields of structs (embedded
// ones included), slices, arrays, maps whose keys are strings, integers or
// encoding.TextMarshalers, pointers, nil and empty slices and maps, []byte,
// time.Time, and types with matching MarshalJSON and UnmarshalJSON methods
// (gorm.DeletedAt, sql.Null*). Its limits are those of encoding/json:
//
//   - struct tags apply: a field tagged json:"-" is not cached and comes
//     back as its zero value;
//   - a time comes back with its instant and its offset from UTC, but
//     neither the name of its Location nor its monotonic clock reading;
//   - a value in an interface (a field of type any) comes back as JSON's
//     generic types: map[string]any, []any, float64, string, bool;
//   - channels, functions, complex numbers, NaN and infinite floats,
//     cyclic values, and maps with other keys cannot be encoded: such a
//     value is returned by Remember but not cached.
//
// encoding/gob, the other codec in the standard library, keeps json:"-"
// fields, but it never writes zero values, so a pointer to a zero value
// comes back nil: a *bool false or *int 0, how GORM models tell a zero from a
// NULL column, would be read back as NULL. It also panics on a nil pointer
// and recurses forever on a cyclic value. JSON's losses are the better known
// and the easier to see.
type JSONCodec struct{}

// Marshal implements Codec with json.Marshal.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal implements Codec with json.Unmarshal.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// encodeRemembered returns the entry value of v, and a copy of v decoded
// from it: a value the codec cannot read back is not cached, and the caller
// gets what every later hit would get.
func encodeRemembered[T any](c Codec, v T) (value []byte, copied T, err error) {
	data, err := marshal(c, v)
	if err != nil {
		return nil, copied, err
	}
	if err := unmarshal(c, data, &copied); err != nil {
		return nil, copied, fmt.Errorf("decoding what it encoded: %w", err)
	}
	value = entry.AppendRemembered(nil, entry.RememberedValue, time.Now(), data)
	return value, copied, nil
}

// decodeRemembered decodes the value of an entry; it fails for an entry of
// another kind.
func decodeRemembered[T any](c Codec, value []byte) (v T, err error) {
	kind, _, data, ok := entry.Remembered(value)
	if !ok || kind != entry.RememberedValue {
		return v, fmt.Errorf("not the entry of a value (format %q)", value[:min(len(value), 1)])
	}
	err = unmarshal(c, data, &v)
	return v, err
}

func marshal(c Codec, v any) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%T.Marshal panicked: %v", c, r)
		}
	}()
	return c.Marshal(v)
}

func unmarshal(c Codec, data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%T.Unmarshal panicked: %v", c, r)
		}
	}()
	return c.Unmarshal(data, v)
}
