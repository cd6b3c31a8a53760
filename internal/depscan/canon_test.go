package depscan_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/depscan"
)

type (
	level int
	role  string
	// color is stored as a string: its driver value decides its class.
	color int
	// fragile panics when its nil pointer is asked for a Value.
	fragile struct{ s string }
	// broken fails to give a Value.
	broken struct{}
	// wrapped gives a Valuer as its Value.
	wrapped struct{ v driver.Valuer }
	// expr is a gorm.Valuer: an SQL expression, not a value.
	expr struct{}
)

func (c color) Value() (driver.Value, error)    { return [...]string{"red", "green"}[c%2], nil }
func (f *fragile) Value() (driver.Value, error) { return f.s, nil }
func (broken) Value() (driver.Value, error)     { return nil, errors.New("broken") }
func (w wrapped) Value() (driver.Value, error)  { return w.v, nil }
func (expr) GormValue(context.Context, *gorm.DB) clause.Expr {
	return clause.Expr{SQL: "1"}
}

// kinds has a column of every kind Canon distinguishes.
type kinds struct {
	ID      uint
	Int     int
	Uint    uint64
	Ptr     *int
	Level   level
	Str     string
	Role    role
	Varchar string `gorm:"type:varchar(10)"`
	Char    string `gorm:"type:char(3)"`
	Citext  string `gorm:"type:citext"`
	Nocase  string `gorm:"type:text collate nocase"`
	Bool    bool
	Float   float64
	Time    time.Time
	Deleted gorm.DeletedAt
	NullInt sql.NullInt64
	NullStr sql.NullString
	NullBoo sql.NullBool
	NullFlo sql.NullFloat64
	Color   color
	JSON    []string `gorm:"serializer:json"`
	Bytes   []byte
}

func kindsSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.Parse(&kinds{}, &sync.Map{}, schema.NamingStrategy{})
	require.NoError(t, err)
	return s
}

func TestCanon(t *testing.T) {
	s := kindsSchema(t)
	seven, fr := 7, &fragile{s: "x"}
	var nilInt *int
	var nilFragile *fragile
	var nilColor *color
	for _, tc := range []struct {
		field string // "" for no field
		v     any
		want  string // "" when refused
	}{
		{"Int", 7, "i7"},
		{"Int", int8(-7), "i-7"},
		{"Int", int64(math.MinInt64), "i-9223372036854775808"},
		{"Int", uint64(math.MaxUint64), "i18446744073709551615"},
		{"Int", level(7), "i7"},
		{"Int", &seven, "i7"},
		{"Int", nilInt, "n"},
		{"Int", nil, "n"},
		{"Int", sql.NullInt64{Int64: 7, Valid: true}, "i7"},
		{"Int", sql.NullInt64{}, "n"},
		{"Int", "7", ""},
		{"Int", 7.0, ""},
		{"Int", true, ""},
		{"Int", []byte("7"), ""},
		{"Uint", uint(7), "i7"},
		{"Ptr", 7, "i7"},
		{"Level", 7, "i7"},
		{"Str", "x", "sx"},
		{"Str", "", "s"},
		{"Str", role("x"), "sx"},
		{"Str", 7, ""},
		{"Str", []byte("x"), ""},
		{"Str", sql.NullString{String: "x", Valid: true}, "sx"},
		{"Role", "x", "sx"},
		{"Varchar", "x", "sx"},
		{"Char", "x", ""},
		{"Citext", "x", ""},
		{"Nocase", "x", ""},
		{"Bool", true, "b1"},
		{"Bool", false, "b0"},
		{"Bool", int64(1), "b1"},
		{"Bool", 0, "b0"},
		{"Bool", int64(2), ""},
		{"Bool", "t", ""},
		{"Float", 1.5, ""},
		{"Float", 1, ""},
		{"Float", nil, "n"},
		{"Time", time.Now(), ""},
		{"Time", "2024-01-01", ""},
		{"Deleted", gorm.DeletedAt{}, "n"},
		{"Deleted", gorm.DeletedAt{Time: time.Now(), Valid: true}, ""},
		{"NullInt", 7, "i7"},
		{"NullInt", "7", ""},
		{"NullStr", "x", "sx"},
		{"NullStr", 7, ""},
		{"NullBoo", true, "b1"},
		{"NullFlo", 1.5, ""},
		{"Color", color(1), "sgreen"},
		{"Color", "green", "sgreen"},
		{"Color", nilColor, "n"},
		{"JSON", `["x"]`, ""},
		{"Bytes", []byte("x"), ""},
		{"", nil, "n"},
		{"", 7, ""},
		{"", "x", ""},
		{"Str", fr, "sx"},
		{"Str", nilFragile, ""},
		{"Str", broken{}, ""},
		{"Str", wrapped{sql.NullString{String: "x", Valid: true}}, "sx"},
		{"Str", wrapped{nilFragile}, ""},
		{"Int", expr{}, ""},
		{"Int", struct{}{}, ""},
	} {
		var f *schema.Field
		if tc.field != "" {
			f = s.LookUpField(tc.field)
			require.NotNil(t, f, tc.field)
		}
		got, ok := depscan.Canon(tc.v, f)
		assert.Equal(t, tc.want != "", ok, "Canon(%#v, %s) ok", tc.v, tc.field)
		assert.Equal(t, tc.want, got, "Canon(%#v, %s)", tc.v, tc.field)
	}
}

func TestEquatable(t *testing.T) {
	s := kindsSchema(t)
	for name, want := range map[string]bool{
		"Int": true, "Uint": true, "Ptr": true, "Level": true, "Str": true, "Role": true,
		"Varchar": true, "Bool": true, "NullInt": true, "NullStr": true, "NullBoo": true, "Color": true,
		"Char": false, "Citext": false, "Nocase": false, "Float": false, "Time": false,
		"Deleted": false, "NullFlo": false, "JSON": false, "Bytes": false,
	} {
		assert.Equal(t, want, depscan.Equatable(s.LookUpField(name)), name)
	}
	assert.False(t, depscan.Equatable(nil))
	cmp := collation.PadSpace
	for name, want := range map[string]bool{"Str": true, "Char": true, "Citext": true, "Nocase": true, "Float": false, "Time": false} {
		assert.Equal(t, want, depscan.EquatableFor(s.LookUpField(name), &cmp), "under a catalogue: %s", name)
	}
}

// TestCanonForTypedStrings checks that a string column whose model
// declares its type is named as the catalogue says it compares, and that
// Canon, which has no catalogue, refuses it.
func TestCanonForTypedStrings(t *testing.T) {
	char := kindsSchema(t).LookUpField("Char")
	_, ok := depscan.Canon("aB ", char)
	assert.False(t, ok)
	for _, tc := range []struct {
		cmp  collation.Column
		want string
	}{
		{collation.PadSpace, "saB"},
		{collation.Binary, "saB "},
		{collation.NoCase, "sab "},
		{collation.Column{}, ""},
		{collation.Column{Kind: collation.Integer}, ""},
	} {
		got, ok := depscan.CanonFor("aB ", char, &tc.cmp)
		assert.Equal(t, tc.want != "", ok, tc.want)
		assert.Equal(t, tc.want, got)
	}
}

// FuzzCanon checks that Canon never panics, encodes values only in its
// documented forms, reads through pointers and Valuers, and encodes
// integers and strings of matching columns exactly.
func FuzzCanon(f *testing.F) {
	f.Add(uint8(0), uint8(1), int64(7), "x", true)
	f.Add(uint8(3), uint8(5), int64(-1), "", false)
	f.Add(uint8(9), uint8(12), int64(1), "07", true)
	s := kindsSchema(f)
	f.Fuzz(func(t *testing.T, kind, field uint8, i int64, str string, b bool) {
		var fld *schema.Field
		if int(field) < len(s.Fields) {
			fld = s.Fields[field]
		}
		values := []any{
			i, int(i), int8(i), uint64(i), level(i), str, role(str), []byte(str), b, float64(i),
			time.Unix(i, 0), sql.NullInt64{Int64: i, Valid: b}, sql.NullString{String: str, Valid: b},
			sql.NullBool{Bool: b, Valid: true}, color(i), &fragile{s: str}, (*fragile)(nil), broken{},
			wrapped{sql.NullInt64{Int64: i, Valid: b}}, expr{}, nil,
		}
		v := values[int(kind)%len(values)]
		got, ok := depscan.Canon(v, fld)
		again, ok2 := depscan.Canon(v, fld)
		require.Equal(t, got, again)
		require.Equal(t, ok, ok2)
		if !ok {
			require.Empty(t, got)
			return
		}
		require.NotEmpty(t, got)
		require.Contains(t, "nisb", got[:1])
		p, okp := depscan.Canon(&v, fld)
		require.Equal(t, got, p, "through a pointer")
		require.Equal(t, ok, okp)
		if fld == nil {
			require.Equal(t, "n", got)
		}
		if got == "n" {
			return
		}
		switch fld.Name {
		case "ID", "Int", "Uint", "Ptr", "Level", "NullInt":
			require.Equal(t, byte('i'), got[0])
		case "Str", "Role", "Varchar", "NullStr", "Color":
			require.Equal(t, byte('s'), got[0])
		case "Bool", "NullBoo":
			require.Contains(t, []string{"b0", "b1"}, got)
		default:
			t.Fatalf("Canon(%#v, %s) = %q: a column that is not Equatable", v, fld.Name, got)
		}
		if fld.Name == "Int" {
			if x, isInt := v.(int64); isInt {
				require.Equal(t, "i"+strconv.FormatInt(x, 10), got)
			}
		}
		if fld.Name == "Str" {
			if x, isStr := v.(string); isStr {
				require.Equal(t, "s"+x, got)
			}
		}
	})
}

// TestCanonLongStrings checks that a string longer than deps.MaxStringValue
// is named by its digest: equal strings alike, different ones apart, and a
// key that stays short.
func TestCanonLongStrings(t *testing.T) {
	f := kindsSchema(t).LookUpField("Str")
	long := strings.Repeat("x", deps.MaxStringValue+1)
	a, ok := depscan.Canon(long, f)
	require.True(t, ok)
	b, _ := depscan.Canon(strings.Clone(long), f)
	c, _ := depscan.Canon(long[:len(long)-1]+"y", f)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	require.Len(t, a, 23)
	exact, _ := depscan.Canon(long[:deps.MaxStringValue], f)
	require.Equal(t, "s"+long[:deps.MaxStringValue], exact)
	conj := deps.Conj{{Column: "title", Value: a}}
	back, err := deps.ParseConj(conj.Key())
	require.NoError(t, err)
	require.Equal(t, conj, back)
}
