package replay

import (
	"database/sql"
	"database/sql/driver"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleRowset() *Rowset {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	ts := time.Date(2024, 7, 1, 12, 30, 45, 123456789, time.UTC)
	return &Rowset{
		Columns: []Column{
			{Name: "id", DatabaseType: "INTEGER", scanType: scanTypeIndex[reflect.TypeFor[int64]()], Nullable: false, HasNullable: true},
			{Name: "name", DatabaseType: "VARCHAR", scanType: scanTypeIndex[reflect.TypeFor[sql.NullString]()], Length: 255, HasLength: true},
			{Name: "price", DatabaseType: "NUMERIC", Precision: 10, Scale: 2, HasDecimal: true},
			{Name: "at", DatabaseType: "TIMESTAMPTZ", scanType: scanTypeIndex[reflect.TypeFor[time.Time]()]},
		},
		Values: []driver.Value{
			int64(1), "ada", 1.5, ts,
			int64(-7), nil, []byte{0, 1, 2}, ts.In(time.Local),
			int64(1 << 62), "", true, ts.In(paris),
			int64(0), "x", false, ts.In(time.FixedZone("", -3*3600-1800)),
			int64(2), "f", float32(-0.1), ts,
			int64(3), "u", uint64(math.MaxUint64), ts,
		},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	rs := sampleRowset()
	b, err := rs.AppendBinary(nil)
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	if !reflect.DeepEqual(got, rs) {
		t.Fatalf("got %#v,\nwant %#v", got, rs)
	}
}

func TestCodecRejectsUnknownValues(t *testing.T) {
	rs := &Rowset{Columns: []Column{{Name: "a"}}, Values: []driver.Value{int32(1)}}
	if _, err := rs.AppendBinary(nil); err == nil {
		t.Fatal("got no error for an int32 driver value, want ErrUnsupported")
	}
}

func TestDecodeCorrupt(t *testing.T) {
	b, err := sampleRowset().AppendBinary(nil)
	require.NoError(t, err)
	for i := range len(b) {
		if _, err := Decode(b[:i]); err == nil {
			t.Fatalf("Decode of %d of %d bytes: got no error, want ErrCorrupt", i, len(b))
		}
	}
	if _, err := Decode(append(b, 0)); err == nil {
		t.Fatal("Decode with a trailing byte: got no error, want ErrCorrupt")
	}
}

func TestTexts(t *testing.T) {
	texts := []string{"SELECT 1", "", "'é'"}
	b := AppendTexts([]byte{9}, texts)
	b = append(b, "rest"...)
	got, rest, err := CutTexts(b[1:])
	require.NoError(t, err)
	require.Equal(t, texts, got)
	require.Equal(t, "rest", string(rest))
	end := len(b) - len("rest")
	for i := 1; i < end; i++ {
		if _, _, err := CutTexts(b[1:i]); err == nil {
			t.Fatalf("CutTexts of %d of %d bytes: got no error, want ErrCorrupt", i-1, end-1)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, err := sampleRowset().AppendBinary(nil)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte{codecVersion, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := Decode(b)
		if err != nil {
			return
		}
		again, err := rs.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encoding a decoded rowset: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("decoding a re-encoded rowset: %v", err)
		}
	})
}

func TestPlayerServesRowsAndColumnTypes(t *testing.T) {
	p := NewPlayer()
	defer p.Close()
	rs := sampleRowset()

	rows, err := p.Rows(rs)
	require.NoError(t, err)
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	require.NoError(t, err)
	for i, ct := range cts {
		c := rs.Columns[i]
		if ct.Name() != c.Name || ct.DatabaseTypeName() != c.DatabaseType {
			t.Errorf("column %d: got %s %s, want %s %s", i, ct.Name(), ct.DatabaseTypeName(), c.Name, c.DatabaseType)
		}
		if n, ok := ct.Nullable(); n != c.Nullable || ok != c.HasNullable {
			t.Errorf("column %d nullable: got %v %v, want %v %v", i, n, ok, c.Nullable, c.HasNullable)
		}
		if l, ok := ct.Length(); l != c.Length || ok != c.HasLength {
			t.Errorf("column %d length: got %v %v, want %v %v", i, l, ok, c.Length, c.HasLength)
		}
		if pr, sc, ok := ct.DecimalSize(); pr != c.Precision || sc != c.Scale || ok != c.HasDecimal {
			t.Errorf("column %d decimal: got %v %v %v, want %v %v %v", i, pr, sc, ok, c.Precision, c.Scale, c.HasDecimal)
		}
	}
	var n int
	for rows.Next() {
		vals := make([]any, 4)
		ptrs := []any{&vals[0], &vals[1], &vals[2], &vals[3]}
		require.NoError(t, rows.Scan(ptrs...))
		for i, v := range vals {
			if want := rs.Row(n)[i]; !reflect.DeepEqual(v, want) {
				t.Errorf("row %d col %d: got %#v, want %#v", n, i, v, want)
			}
		}
		n++
	}
	require.NoError(t, rows.Err())
	if n != rs.Len() {
		t.Fatalf("got %d rows, want %d", n, rs.Len())
	}

	var id int64
	require.NoError(t, p.Row(rs).Scan(&id, new(any), new(any), new(any)))
	if id != 1 {
		t.Fatalf("Row: got id %d, want 1", id)
	}
	if err := p.Row(&Rowset{Columns: rs.Columns}).Scan(&id, new(any), new(any), new(any)); err != sql.ErrNoRows {
		t.Fatalf("Row of no rows: got %v, want sql.ErrNoRows", err)
	}
}

func TestRecorder(t *testing.T) {
	p := NewPlayer()
	defer p.Close()
	for _, types := range []bool{true, false} {
		rs := sampleRowset()
		rows, err := p.Rows(rs)
		require.NoError(t, err)
		rec, err := NewRecorder(rows, types)
		require.NoError(t, err)
		names, err := rows.Columns()
		require.NoError(t, err)
		recNames, err := rec.Columns()
		require.NoError(t, err)
		require.Equal(t, names, recNames)
		recNames[0] = "renamed" // as gorm.Scan's ColumnMapping does: the caller's slice
		again, err := rec.Columns()
		require.NoError(t, err)
		require.Equal(t, names, again)
		n := 0
		for rec.Next() {
			vals := make([]any, len(rs.Columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rec.Scan(ptrs...))
			for i, v := range vals {
				if want := rs.Row(n)[i]; !reflect.DeepEqual(v, want) {
					t.Errorf("types %v, row %d col %d: scanned %#v, want %#v", types, n, i, v, want)
				}
			}
			n++
		}
		require.NoError(t, rows.Close())
		b, err := rec.AppendBinary(nil)
		require.NoError(t, err)
		got, err := Decode(b)
		require.NoError(t, err)
		want := rs
		for i, c := range rs.Columns {
			switch {
			case !types:
				want.Columns[i] = Column{Name: c.Name}
			case c.scanType == 0:
				// database/sql reports a column without a scan type as any.
				want.Columns[i].scanType = scanTypeIndex[reflect.TypeFor[any]()]
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("types %v: recorded %#v,\nwant %#v", types, got, want)
		}
	}
}
