package replay

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingScanner counts its Scan calls and fails for the string "fail".
type countingScanner struct {
	calls int
	got   any
}

func (s *countingScanner) Scan(v any) error {
	s.calls++
	s.got = v
	if v == "fail" {
		return errors.New("scanner refuses")
	}
	return nil
}

type myInt int

// assignValues are driver values of every type a Recorder records, with
// those that make database/sql's conversions fail or round.
var assignValues = []driver.Value{
	nil, int64(0), int64(5), int64(-1), int64(300), int64(70000), int64(1 << 40), int64(math.MinInt64),
	uint64(0), uint64(7), uint64(300), uint64(70000), uint64(1 << 40), uint64(math.MaxInt64),
	uint64(math.MaxInt64) + 1, uint64(math.MaxUint64),
	1.5, 3.0, float32(2.5), true, false,
	[]byte("12"), []byte("-12"), []byte("abc"), []byte{}, []byte("1"),
	"7", "-3", "x", "", "+4", "fail", "99999999999999999999",
	time.Date(2024, 7, 1, 12, 30, 45, 123456789, time.FixedZone("X", 3600)),
}

// assignDests make a fresh destination of each type gorm.Scan and users
// scan into, and of types assign leaves to database/sql.
var assignDests = []func() any{
	func() any { return new(any) },
	func() any { return new(string) },
	func() any { return new([]byte) },
	func() any { return new(time.Time) },
	func() any { return new(bool) },
	func() any { return new(float64) },
	func() any { return new(float32) },
	func() any { return new(int) },
	func() any { return new(int64) },
	func() any { return new(int32) },
	func() any { return new(int16) },
	func() any { return new(int8) },
	func() any { return new(uint) },
	func() any { return new(uint64) },
	func() any { return new(uint32) },
	func() any { return new(uint16) },
	func() any { return new(uint8) },
	func() any { return new(*string) },
	func() any { return new(*time.Time) },
	func() any { return new(*bool) },
	func() any { return new(*float64) },
	func() any { return new(*int) },
	func() any { return new(*int64) },
	func() any { return new(*int32) },
	func() any { return new(*uint) },
	func() any { return new(*uint64) },
	func() any { return new(*uint32) },
	func() any { return new(*float32) },
	func() any { return new(myInt) },
	func() any { return new(*myInt) },
	func() any { return new(sql.NullString) },
	func() any { return new(sql.NullInt64) },
	func() any { return new(*sql.NullTime) },
	func() any { return new(countingScanner) },
	func() any { return new(*countingScanner) },
	func() any { return new(sql.RawBytes) },
	func() any { return (*int)(nil) },
	func() any { return (**uint)(nil) },
}

// scanOne scans the one value of rs into dest through scan, and returns
// dest's value and the error.
func scanOne(t *testing.T, rows *sql.Rows, scan func(...any) error, dest any) (any, error) {
	t.Helper()
	require.True(t, rows.Next())
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		err = scan(dest)
	}()
	if reflect.ValueOf(dest).IsNil() {
		return nil, err
	}
	return reflect.ValueOf(dest).Elem().Interface(), err
}

// TestRecorderScansAsDatabaseSQL scans every value into every destination
// through a Recorder and through database/sql alone: the values, the
// Scanner calls and the errors must be the same.
func TestRecorderScansAsDatabaseSQL(t *testing.T) {
	p := NewPlayer()
	defer p.Close()
	for _, v := range assignValues {
		for _, newDest := range assignDests {
			rs := &Rowset{Columns: []Column{{Name: "c"}}, Values: []driver.Value{v}}
			name := fmt.Sprintf("%T(%v) into %T", v, v, newDest())

			plain, err := p.Rows(rs)
			require.NoError(t, err)
			want, wantErr := scanOne(t, plain, plain.Scan, newDest())
			require.NoError(t, plain.Close())

			rows, err := p.Rows(rs)
			require.NoError(t, err)
			rec, err := NewRecorder(rows, false)
			require.NoError(t, err)
			got, gotErr := scanOne(t, rows, rec.Scan, newDest())
			require.NoError(t, rows.Close())

			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%s: error %v, database/sql's %v", name, gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: scanned %#v, database/sql %#v", name, got, want)
			}
			if _, isRaw := newDest().(*sql.RawBytes); gotErr == nil && !isRaw {
				b, err := rec.AppendBinary(nil)
				require.NoError(t, err, name)
				recorded, err := Decode(b)
				require.NoError(t, err, name)
				require.Equal(t, rs.Values, recorded.Values, "%s: recorded", name)
			}
		}
	}
}

// TestAssignKnowsWhatGORMScans checks that the destinations gorm.Scan
// hands for the fields of a struct are assigned without database/sql, and
// that a value database/sql refuses is left to it.
func TestAssignKnowsWhatGORMScans(t *testing.T) {
	cols := []Column{{Name: "id"}, {Name: "name"}, {Name: "at"}, {Name: "deleted"}, {Name: "n"}}
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	row := []any{int64(7), "ada", at, nil, int64(-2)}
	id, name, when, deleted, n := new(*uint), new(*string), new(*time.Time), new(*sql.NullTime), new(*int)
	ok, err := assignRow([]any{id, name, when, deleted, n}, row, cols)
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, uint(7), **id)
	require.Equal(t, "ada", **name)
	require.Equal(t, at, **when)
	require.Nil(t, *deleted)
	require.Equal(t, -2, **n)

	// MySQL's driver reads a BIGINT UNSIGNED id as a uint64 in its text
	// protocol.
	ok, err = assignRow([]any{id, name, when, deleted, n}, []any{uint64(8), "ada", at, nil, uint64(3)}, cols)
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, uint(8), **id)
	require.Equal(t, 3, **n)

	// A negative id does not fit a uint: database/sql says why.
	ok, _ = assignRow([]any{id, name, when, deleted, n}, []any{int64(-7), "ada", at, nil, int64(1)}, cols)
	require.False(t, ok)
	require.Equal(t, uint(8), **id, "a row left to database/sql is not assigned in part")

	// A Scanner is called once, and its error named as database/sql does.
	s := &countingScanner{}
	ok, err = assignRow([]any{new(int64), s}, []any{int64(1), "fail"}, cols[:2])
	require.True(t, ok)
	require.EqualError(t, err, `sql: Scan error on column index 1, name "name": scanner refuses`)
	require.Equal(t, 1, s.calls)
}
