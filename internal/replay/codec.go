package replay

import (
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrCorrupt is returned by Decode for bytes that are not an encoded Rowset.
var ErrCorrupt = errors.New("replay: corrupt rowset")

const codecVersion = 1

// Value tags of the encoding.
const (
	tagNil byte = iota
	tagInt
	tagFloat
	tagFalse
	tagTrue
	tagBytes
	tagString
	tagTime
	tagFloat32 // MySQL's driver reads FLOAT columns as float32
	tagUint    // and, from 1.8 on, BIGINT UNSIGNED columns in its text protocol as uint64
)

// Zone kinds of an encoded time.Time.
const (
	zoneUTC byte = iota
	zoneLocal
	zoneNamed
)

// locations interns the *time.Location of recorded times by name, so that a
// replayed time carries the very Location value the driver used (equal under
// reflect.DeepEqual), and decoding does not load zone files on the hot path.
var locations sync.Map // zone key -> *time.Location

func zoneKey(name string, offset int) string { return fmt.Sprintf("%s|%d", name, offset) }

// AppendBinary appends the encoding of rs to b.
func (rs *Rowset) AppendBinary(b []byte) ([]byte, error) {
	if rs.Err != nil {
		return nil, fmt.Errorf("replay: the rows failed: %w", rs.Err)
	}
	b = appendHeader(b, rs.Columns, len(rs.Values))
	var err error
	for _, v := range rs.Values {
		if b, err = appendValue(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendHeader appends what precedes the values: the columns and the
// number of values.
func appendHeader(b []byte, cols []Column, nvals int) []byte {
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(len(cols)))
	for _, c := range cols {
		b = appendString(b, c.Name)
		b = appendString(b, c.DatabaseType)
		b = append(b, c.scanType)
		var flags byte
		if c.HasNullable {
			flags |= 1
		}
		if c.Nullable {
			flags |= 2
		}
		if c.HasLength {
			flags |= 4
		}
		if c.HasDecimal {
			flags |= 8
		}
		b = append(b, flags)
		if c.HasLength {
			b = binary.AppendVarint(b, c.Length)
		}
		if c.HasDecimal {
			b = binary.AppendVarint(b, c.Precision)
			b = binary.AppendVarint(b, c.Scale)
		}
	}
	return binary.AppendUvarint(b, uint64(nvals))
}

// appendValue appends the encoding of a driver value, or fails with
// ErrUnsupported for a type a driver may not return.
func appendValue(b []byte, v driver.Value) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), nil
	case uint64:
		return binary.AppendUvarint(append(b, tagUint), v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v)), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(b, tagFloat32), math.Float32bits(v)), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case []byte:
		return appendBytes(append(b, tagBytes), v), nil
	case string:
		return appendString(append(b, tagString), v), nil
	case time.Time:
		return appendTime(append(b, tagTime), v), nil
	}
	return nil, fmt.Errorf("%w: driver value of type %T", ErrUnsupported, v)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	switch loc := t.Location(); loc {
	case time.UTC:
		return append(b, zoneUTC)
	case time.Local:
		return append(b, zoneLocal)
	default:
		name, offset := t.Zone()
		locName := loc.String()
		locations.LoadOrStore(zoneKey(locName, offset), loc)
		b = append(b, zoneNamed)
		b = appendString(b, locName)
		b = appendString(b, name)
		return binary.AppendVarint(b, int64(offset))
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBytes(b []byte, p []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(p))), p...)
}

// Decode decodes a Rowset encoded by AppendBinary. The Rowset keeps
// references into b: b must not be modified afterwards.
func Decode(b []byte) (*Rowset, error) {
	d := decoder{b: b}
	if d.byte() != codecVersion {
		return nil, ErrCorrupt
	}
	ncols := d.uvarint()
	if ncols > uint64(len(b)) {
		return nil, ErrCorrupt
	}
	rs := &Rowset{Columns: make([]Column, ncols)}
	for i := range rs.Columns {
		c := &rs.Columns[i]
		c.Name = d.string()
		c.DatabaseType = d.string()
		c.scanType = d.byte()
		if int(c.scanType) >= len(scanTypes) {
			return nil, ErrCorrupt
		}
		flags := d.byte()
		c.HasNullable, c.Nullable = flags&1 != 0, flags&2 != 0
		c.HasLength, c.HasDecimal = flags&4 != 0, flags&8 != 0
		if c.HasLength {
			c.Length = d.varint()
		}
		if c.HasDecimal {
			c.Precision = d.varint()
			c.Scale = d.varint()
		}
	}
	nvals := d.uvarint()
	if nvals > uint64(len(b)) || (ncols == 0 && nvals != 0) || (ncols != 0 && nvals%ncols != 0) {
		return nil, ErrCorrupt
	}
	rs.Values = make([]driver.Value, nvals)
	for i := range rs.Values {
		switch d.byte() {
		case tagNil:
		case tagInt:
			rs.Values[i] = d.varint()
		case tagUint:
			rs.Values[i] = d.uvarint()
		case tagFloat:
			rs.Values[i] = math.Float64frombits(d.uint64())
		case tagFloat32:
			rs.Values[i] = math.Float32frombits(d.uint32())
		case tagFalse:
			rs.Values[i] = false
		case tagTrue:
			rs.Values[i] = true
		case tagBytes:
			rs.Values[i] = d.bytes()
		case tagString:
			rs.Values[i] = d.string()
		case tagTime:
			rs.Values[i] = d.time()
		default:
			d.err = true
		}
		if d.err {
			return nil, ErrCorrupt
		}
	}
	if d.err || len(d.b) != 0 {
		return nil, ErrCorrupt
	}
	return rs, nil
}

// AppendTexts appends the number of texts, then each text prefixed with its
// length: a header for what is stored with a Rowset.
func AppendTexts(b []byte, texts []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(texts)))
	for _, t := range texts {
		b = appendString(b, t)
	}
	return b
}

// CutTexts reads texts written by AppendTexts at the start of b and returns
// them with the rest of b, or fails with ErrCorrupt.
func CutTexts(b []byte) (texts []string, rest []byte, err error) {
	d := decoder{b: b}
	n := d.uvarint()
	if n > uint64(len(b)) {
		return nil, nil, ErrCorrupt
	}
	texts = make([]string, n)
	for i := range texts {
		texts[i] = d.string()
	}
	if d.err {
		return nil, nil, ErrCorrupt
	}
	return texts, d.b, nil
}

// decoder reads the encoding; a read past the end sets err and returns zero
// values, so callers check err once per value.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 { return binary.LittleEndian.Uint64(d.fixed(8)) }

func (d *decoder) uint32() uint32 { return binary.LittleEndian.Uint32(d.fixed(4)) }

// fixed returns the next n bytes, or n zero bytes and an error when fewer
// are left.
func (d *decoder) fixed(n int) []byte {
	if len(d.b) < n {
		d.err = true
		return make([]byte, n)
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.err = true
	}
	t := time.Unix(sec, int64(nsec))
	switch d.byte() {
	case zoneUTC:
		return t.UTC()
	case zoneLocal:
		return t
	case zoneNamed:
		locName, name, offset := d.string(), d.string(), int(d.varint())
		return t.In(location(t, locName, name, offset))
	default:
		d.err = true
		return time.Time{}
	}
}

// location returns the Location a time was recorded in: the interned one when
// this process recorded it, else the named zone when it can be loaded and
// gives t the recorded offset, else a fixed zone.
func location(t time.Time, locName, name string, offset int) *time.Location {
	key := zoneKey(locName, offset)
	if loc, ok := locations.Load(key); ok {
		return loc.(*time.Location)
	}
	if locName != "" {
		if l, err := loadLocation(locName); err == nil {
			if _, off := t.In(l).Zone(); off == offset {
				return l
			}
		}
	}
	actual, _ := locations.LoadOrStore(key, time.FixedZone(name, offset))
	return actual.(*time.Location)
}

var loaded sync.Map // zone name -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := loaded.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	actual, _ := loaded.LoadOrStore(name, l)
	return actual.(*time.Location), nil
}
