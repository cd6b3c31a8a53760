// Package replay records query results as the database driver returned them
// and plays them back as *sql.Rows, so that a cache hit is decoded by
// database/sql and gorm.Scan exactly as a database read would be.
//
// A Rowset keeps each column's name and type metadata and each value as the
// driver produced it (nil, int64, float64, bool, []byte, string, time.Time,
// and what MySQL's driver adds: the float32 of FLOAT columns, the uint64 of
// BIGINT UNSIGNED columns read in its text protocol).
// Player serves Rowsets through a tiny database/sql driver; nothing above it
// knows the rows did not come from the database. A Recorder records the rows
// of a database read while gorm.Scan reads them, and stores each row into
// gorm.Scan's destinations from what it recorded, as database/sql would,
// so that a row is converted once.
package replay

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// ErrUnsupported is returned by Record for results that cannot be replayed
// faithfully: a driver value or column scan type this package does not know.
var ErrUnsupported = errors.New("replay: unsupported result")

// Column is one result column and the metadata database/sql exposes through
// sql.ColumnType.
type Column struct {
	Name         string
	DatabaseType string
	Length       int64
	Precision    int64
	Scale        int64
	// The small fields last, packed: a recording holds a Column per
	// column of its result (64 bytes, not the 80 of declaration order).
	scanType    uint8 // index into scanTypes
	Nullable    bool
	HasNullable bool
	HasLength   bool
	HasDecimal  bool
}

// ScanType returns the Go type the driver suggested for scanning the column,
// or nil when it suggested none.
func (c Column) ScanType() reflect.Type { return scanTypes[c.scanType] }

// Rowset is a recorded query result. It is immutable once recorded or
// decoded and may be replayed any number of times concurrently.
type Rowset struct {
	Columns []Column
	// Values holds the rows one after another: row i is
	// Values[i*len(Columns) : (i+1)*len(Columns)].
	Values []driver.Value
	// Err is the error the database returned after these rows, when
	// reading them failed part-way (or at once): a replay returns it after
	// them, as the database's rows did. It is not encoded: such a result
	// is served to the read that met the error, never stored.
	Err error
}

// Len returns the number of rows.
func (rs *Rowset) Len() int {
	if len(rs.Columns) == 0 {
		return 0
	}
	return len(rs.Values) / len(rs.Columns)
}

// ColumnNames returns the names of the columns.
func (rs *Rowset) ColumnNames() []string { return columnNames(rs.Columns) }

// Row returns the values of row i.
func (rs *Rowset) Row(i int) []driver.Value {
	n := len(rs.Columns)
	return rs.Values[i*n : (i+1)*n : (i+1)*n]
}

// scanTypes are the scan types that can be recorded. The table is part of the
// encoding: append only.
var scanTypes = []reflect.Type{
	nil,
	reflect.TypeFor[any](),
	reflect.TypeFor[*any](),
	reflect.TypeFor[int64](),
	reflect.TypeFor[int32](),
	reflect.TypeFor[int16](),
	reflect.TypeFor[int8](),
	reflect.TypeFor[int](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[uint32](),
	reflect.TypeFor[uint16](),
	reflect.TypeFor[uint8](),
	reflect.TypeFor[uint](),
	reflect.TypeFor[float64](),
	reflect.TypeFor[float32](),
	reflect.TypeFor[bool](),
	reflect.TypeFor[string](),
	reflect.TypeFor[[]byte](),
	reflect.TypeFor[time.Time](),
	reflect.TypeFor[sql.RawBytes](),
	reflect.TypeFor[sql.NullInt64](),
	reflect.TypeFor[sql.NullInt32](),
	reflect.TypeFor[sql.NullInt16](),
	reflect.TypeFor[sql.NullByte](),
	reflect.TypeFor[sql.NullFloat64](),
	reflect.TypeFor[sql.NullBool](),
	reflect.TypeFor[sql.NullString](),
	reflect.TypeFor[sql.NullTime](),
}

var scanTypeIndex = func() map[reflect.Type]uint8 {
	m := make(map[reflect.Type]uint8, len(scanTypes))
	for i, t := range scanTypes[1:] {
		m[t] = uint8(i + 1)
	}
	return m
}()

// Record reads every remaining row of rows (at most limit rows when limit > 0)
// and returns them as a Rowset. It does not close rows. When the rows fail
// part-way, it returns the error with the rows read before it, in a Rowset
// whose Err is that error; when they cannot be recorded, ErrUnsupported and
// no Rowset.
func Record(rows *sql.Rows, limit int) (*Rowset, error) {
	cols, err := columns(rows)
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return &Rowset{Err: err}, err
	}
	rs := &Rowset{Columns: cols}
	row, ptrs := scanTargets(len(cols))
	for n := 0; (limit <= 0 || n < limit) && rows.Next(); n++ {
		if err := rs.record(rows, ptrs, row); err != nil {
			if errors.Is(err, ErrUnsupported) {
				return nil, err
			}
			rs.Err = err
			return rs, err
		}
	}
	if err := rows.Err(); err != nil {
		rs.Err = err
		return rs, err
	}
	return rs, nil
}

// columns returns the metadata of the columns of rows, or ErrUnsupported
// with the columns when one has a scan type that cannot be recorded.
func columns(rows *sql.Rows) ([]Column, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(cts))
	for i, ct := range cts {
		c := Column{Name: ct.Name(), DatabaseType: ct.DatabaseTypeName()}
		if st := ct.ScanType(); st != nil {
			idx, ok := scanTypeIndex[st]
			if !ok {
				err = fmt.Errorf("%w: column %q has scan type %v", ErrUnsupported, c.Name, st)
			}
			c.scanType = idx
		}
		c.Nullable, c.HasNullable = ct.Nullable()
		c.Length, c.HasLength = ct.Length()
		c.Precision, c.Scale, c.HasDecimal = ct.DecimalSize()
		cols[i] = c
	}
	return cols, err
}

// columnsNamed returns columns with the names of the columns of rows and no
// metadata.
func columnsNamed(rows *sql.Rows) ([]Column, error) {
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i].Name = n
	}
	return cols, nil
}

// scanTargets returns a row of n values and pointers to each, to scan into,
// in one allocation. Scanning into *any hands over the driver's value
// unchanged (a []byte is copied), which is what replaying needs.
func scanTargets(n int) (row, ptrs []any) {
	both := make([]any, 2*n)
	row, ptrs = both[:n:n], both[n:]
	for i := range row {
		ptrs[i] = &row[i]
	}
	return row, ptrs
}

// record appends the current row of rows, scanned into row through ptrs.
func (rs *Rowset) record(rows *sql.Rows, ptrs, row []any) error {
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	for i, v := range row {
		switch v.(type) {
		case nil, int64, uint64, float64, float32, bool, []byte, string, time.Time:
		default:
			return fmt.Errorf("%w: column %q holds a driver value of type %T", ErrUnsupported, rs.Columns[i].Name, v)
		}
		rs.Values = append(rs.Values, v)
	}
	return nil
}

// Recorder hands the rows of a query to a scanner, gorm.Scan, while
// recording them, so that a result is read from the database and recorded in
// one pass. It implements gorm.Rows, and encoding.BinaryAppender with the
// encoding of a Rowset of the rows scanned so far.
type Recorder struct {
	*sql.Rows
	cols []Column
	vals []byte // the encoded values
	n    int    // the number of values
	err  error  // why the rows cannot be recorded; they are still scanned
	row  []any
	ptrs []any
}

// bytesPerColumn is the room a Recorder makes for the encoding of each
// column of its first row: most rows of a few columns fit, so a result of
// one row grows its buffer once.
const bytesPerColumn = 24

// NewRecorder starts recording rows. With types false it records the
// columns' names only, not their types (which database/sql computes for
// every column at a cost of its own): a replay of the recording then
// answers ColumnTypes with names alone, for scanners that never ask, such
// as gorm.Scan into anything but maps.
func NewRecorder(rows *sql.Rows, types bool) (*Recorder, error) {
	var cols []Column
	var err error
	if types {
		cols, err = columns(rows)
	} else {
		cols, err = columnsNamed(rows)
	}
	if err != nil && !errors.Is(err, ErrUnsupported) {
		return nil, err
	}
	r := &Recorder{Rows: rows, cols: cols, err: err}
	r.vals = make([]byte, 0, bytesPerColumn*len(cols))
	r.row, r.ptrs = scanTargets(len(cols))
	return r, nil
}

// Scan records the current row, then stores it into dest as
// (*sql.Rows).Scan would: from the recorded values where assignRow knows
// how, or else by scanning the row again (database/sql keeps a row's
// values until Next).
func (r *Recorder) Scan(dest ...any) error {
	if r.err == nil {
		r.err = r.record()
	}
	if r.err == nil {
		ok, err := assignRow(dest, r.row, r.cols)
		clear(r.row)
		if ok {
			return err
		}
	}
	return r.Rows.Scan(dest...)
}

// Columns returns the names of the columns, as (*sql.Rows).Columns would
// while the rows are open, from those the Recorder read when it started:
// a driver makes them anew on each call (strings copied out of SQLite, out
// of a PostgreSQL row description). The slice is the caller's: gorm.Scan
// renames columns in it.
func (r *Recorder) Columns() ([]string, error) { return columnNames(r.cols), nil }

// record appends the current row to the recording, and leaves its values
// in r.row.
func (r *Recorder) record() error {
	if err := r.Rows.Scan(r.ptrs...); err != nil {
		return err
	}
	var err error
	for i, v := range r.row {
		if r.vals, err = appendValue(r.vals, v); err != nil {
			clear(r.row)
			return fmt.Errorf("column %q: %w", r.cols[i].Name, err)
		}
	}
	r.n += len(r.row)
	return nil
}

func columnNames(cols []Column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

// EncodedLen returns the length of what AppendBinary appends, so that a
// caller can make room for it at once (a result of many rows would
// otherwise be copied as the buffer grows).
func (r *Recorder) EncodedLen() int {
	var head [512]byte
	return len(appendHeader(head[:0], r.cols, r.n)) + len(r.vals)
}

// AppendBinary appends the encoding of a Rowset of the rows scanned so far,
// or fails with why they could not be recorded.
func (r *Recorder) AppendBinary(b []byte) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	return append(appendHeader(b, r.cols, r.n), r.vals...), nil
}
