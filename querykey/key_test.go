package querykey_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache/querykey"
)

// stmt is the input of one Key call.
type stmt struct {
	prefix, dialect, sql string
	vars                 []any
	shape                string
}

func (s stmt) key(t *testing.T) string {
	t.Helper()
	k, err := querykey.Key(s.prefix, s.dialect, s.sql, s.vars, s.shape)
	require.NoError(t, err)
	return k
}

// q is a statement that differs from others only in its vars.
func q(vars ...any) stmt {
	return stmt{"app:", "sqlite", "SELECT * FROM `users` WHERE `a` = ?", vars, "[]User"}
}

type (
	myInt    int
	myString string
	myFloat  float32
)

// valueRecv has a value-receiver Value: a nil *valueRecv must not be called.
type valueRecv struct{ v int64 }

func (r valueRecv) Value() (driver.Value, error) { return r.v, nil }

// ptrRecv has a pointer-receiver Value that handles nil itself.
type ptrRecv struct{ v string }

func (r *ptrRecv) Value() (driver.Value, error) {
	if r == nil {
		return "nil ptrRecv", nil
	}
	return r.v, nil
}

// chain's Value returns another Valuer.
type chain struct{ next driver.Valuer }

func (c chain) Value() (driver.Value, error) { return c.next, nil }

// self's Value returns itself, forever.
type self struct{}

func (s self) Value() (driver.Value, error) { return s, nil }

var errValue = errors.New("value failed")

type failing struct{}

func (failing) Value() (driver.Value, error) { return nil, errValue }

type panicking struct{ p *int }

func (v *panicking) Value() (driver.Value, error) { return *v.p, nil }

type gormValuer int

func (gormValuer) GormValue(context.Context, *gorm.DB) clause.Expr { return clause.Expr{} }

func ptr[T any](v T) *T { return &v }

func TestKeyEqual(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	tests := []struct {
		name string
		a, b stmt
	}{
		{"same statement", q(int64(7), "x", []byte("y"), 1.5, true, at), q(int64(7), "x", []byte("y"), 1.5, true, at)},
		{"no vars and nil vars", q(), stmt{"app:", "sqlite", "SELECT * FROM `users` WHERE `a` = ?", nil, "[]User"}},
		{"*int and int", q(ptr(5)), q(5)},
		{"**int and int", q(ptr(ptr(5))), q(5)},
		{"*uint8 and uint64", q(ptr(uint8(5))), q(uint64(5))},
		{"all signed ints", q(int8(-3), int16(-3), int32(-3)), q(-3, int64(-3), myInt(-3))},
		{"all unsigned ints", q(uint8(3), uint16(3), uint32(3)), q(uint(3), uint64(3), uintptr(3))},
		{"float32 widened", q(float32(1.5), myFloat(0.25)), q(1.5, 0.25)},
		{"named string", q(myString("a"), ptr(myString("b"))), q("a", ptr("b"))},
		{"json.RawMessage and []byte", q(json.RawMessage(`{}`)), q([]byte(`{}`))},
		{"Valuer and its Value", q(sql.NullInt64{Int64: 5, Valid: true}, sql.NullString{String: "s", Valid: true}), q(int64(5), "s")},
		{"invalid Null and nil", q(sql.NullInt64{}, &sql.NullString{}), q(nil, nil)},
		{"nil pointer to value-receiver Valuer", q((*valueRecv)(nil), (*sql.NullTime)(nil)), q(nil, nil)},
		{"*value-receiver Valuer and its Value", q(&valueRecv{9}), q(int64(9))},
		{"pointer-receiver Valuer", q(&ptrRecv{"v"}, (*ptrRecv)(nil)), q("v", "nil ptrRecv")},
		{"Valuer returning a Valuer", q(chain{sql.NullInt64{Int64: 1, Valid: true}}), q(int64(1))},
		{"nils", q((*int)(nil), []byte(nil), map[string]int(nil), []int(nil), (*time.Time)(nil)), q(nil, nil, nil, nil, nil)},
		{"[]any holds nil", q([]any{nil, (*string)(nil)}), q([]any{nil, nil})},
		{"[]driver.Valuer", q([]driver.Valuer{nil, sql.NullInt64{Int64: 1, Valid: true}}), q([]any{nil, int64(1)})},
		{"map of interfaces", q(map[any]fmt.Stringer{"a": nil}), q(map[string]any{"a": nil})},
		{"*time.Time and time.Time", q(&at), q(at)},
		{"monotonic reading ignored", q(time.Now().Add(time.Hour).Truncate(time.Hour)), q(time.Now().Add(time.Hour).Truncate(time.Hour).Round(0))},
		{"typed slices", q([]int{1, 2}), q([]int64{1, 2})},
		{"map order", q(map[string]int{"a": 1, "b": 2, "c": 3, "d": 4}), q(map[string]int64{"d": 4, "c": 3, "b": 2, "a": 1})},
		{"pointers in maps", q(map[string]*int{"a": ptr(1)}), q(map[string]any{"a": 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.a.key(t), tt.b.key(t))
		})
	}
}

func TestKeyDiffer(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	base := stmt{"app:", "sqlite", "SELECT 1", []any{"x"}, "int"}
	with := func(f func(*stmt)) stmt {
		s := base
		s.vars = append([]any(nil), base.vars...)
		f(&s)
		return s
	}
	tests := []struct {
		name string
		a, b stmt
	}{
		{"prefix", base, with(func(s *stmt) { s.prefix = "app2:" })},
		{"dialect", base, with(func(s *stmt) { s.dialect = "postgres" })},
		{"sql", base, with(func(s *stmt) { s.sql = "SELECT 2" })},
		{"shape", base, with(func(s *stmt) { s.shape = "int64" })},
		{"var", base, with(func(s *stmt) { s.vars[0] = "y" })},
		{"extra var", base, with(func(s *stmt) { s.vars = append(s.vars, nil) })},
		{"dialect/sql boundary", stmt{dialect: "ab", sql: "c"}, stmt{dialect: "a", sql: "bc"}},
		{"sql/shape boundary", stmt{sql: "ab", shape: "c"}, stmt{sql: "a", shape: "bc"}},
		{"var moved into the SQL", stmt{sql: "a?", vars: []any{"b"}}, stmt{sql: "ab?", vars: []any{}}},
		{"var moved into the SQL, same length", stmt{sql: "x = ?", vars: []any{"b"}}, stmt{sql: "x = 'b'"}},
		{"string boundary", q("ab", "c"), q("a", "bc")},
		{"bytes boundary", q([]byte("ab"), []byte("c")), q([]byte("a"), []byte("bc"))},
		{"1 and \"1\"", q(1), q("1")},
		{"\"1\" and []byte(\"1\")", q("1"), q([]byte("1"))},
		{"int and uint", q(1), q(uint(1))},
		{"int and float", q(1), q(1.0)},
		{"int and bool", q(1), q(true)},
		{"true and false", q(true), q(false)},
		{"-1 and MaxUint64", q(int64(-1)), q(uint64(math.MaxUint64))},
		{"MinInt64 and 1<<63", q(int64(math.MinInt64)), q(uint64(1 << 63))},
		{"0 and -0", q(0.0), q(math.Copysign(0, -1))},
		{"float32 and float64 of 0.1", q(float32(0.1)), q(0.1)},
		{"NaN and Inf", q(math.NaN()), q(math.Inf(1))},
		{"nil and zero", q(nil), q(0)},
		{"nil and empty string", q(nil), q("")},
		{"nil and empty bytes", q(nil), q([]byte{})},
		{"no var and nil var", q(), q(nil)},
		{"UTC and +02:00, same instant", q(at), q(at.In(time.FixedZone("", 2*3600)))},
		{"same offset, other zone name", q(at), q(at.In(time.FixedZone("GMT", 0)))},
		{"nanosecond", q(at), q(at.Add(1))},
		{"time and its unix seconds", q(time.Unix(5, 0).UTC()), q(int64(5))},
		{"list and flat vars", q([]any{1, 2}), q(1, 2)},
		{"nested lists", q([]any{[]any{1}, 2}), q([]any{1, []any{2}})},
		{"slice and array", q([]int{1, 2}), q([2]int{1, 2})},
		{"bytes and byte array", q([]byte("ab")), q([2]byte{'a', 'b'})},
		{"byte array and uint array", q([2]byte{1, 2}), q([2]uint16{1, 2})},
		{"empty list and empty map", q([]int{}), q(map[string]int{})},
		{"map value", q(map[string]int{"a": 1}), q(map[string]int{"a": 2})},
		{"map key", q(map[string]int{"a": 1}), q(map[string]int{"b": 1})},
		{"map boundary", q(map[string]string{"ab": "c"}), q(map[string]string{"a": "bc"})},
		{"map and list of pairs", q(map[string]int{"a": 1}), q([]any{"a", 1})},
		{"Valuer with another value", q(sql.NullInt64{Int64: 5, Valid: true}), q(sql.NullInt64{Int64: 5})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotEqual(t, tt.a.key(t), tt.b.key(t))
		})
	}
}

type ptrCycle *ptrCycle

func TestKeyUnsupported(t *testing.T) {
	cyclic := make([]any, 1)
	cyclic[0] = cyclic
	var pc ptrCycle
	pc = &pc
	deep := any(1)
	for range 40 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		v    any
		want string // in the message
	}{
		{"chan", make(chan int), "chan int"},
		{"func", func() {}, "func()"},
		{"unsafe.Pointer", unsafe.Pointer(&cyclic), "unsafe.Pointer"},
		{"complex", complex(1, 2), "complex128"},
		{"struct", struct{ A int }{1}, "struct { A int } in var 1: give it a driver.Valuer method"},
		{"pointer to struct", &struct{ A int }{1}, "struct { A int } in var 1: give it a driver.Valuer method"},
		{"sql.NamedArg", sql.Named("a", 1), "sql.NamedArg"},
		{"clause.Expr", gorm.Expr("NOW()"), "clause.Expr in var 1: GORM expressions"},
		{"clause.NamedExpr", clause.NamedExpr{SQL: "@a"}, "clause.NamedExpr in var 1: GORM expressions"},
		{"clause.Eq", clause.Eq{Column: "a", Value: 1}, "clause.Eq in var 1: GORM expressions"},
		{"*gorm.DB", &gorm.DB{}, "*gorm.DB in var 1: GORM expressions"},
		{"gorm.Valuer", gormValuer(0), "querykey_test.gormValuer in var 1: GORM expressions"},
		{"expression in a slice", []any{1, gorm.Expr("?", 1)}, "clause.Expr in var 1: GORM expressions"},
		{"chan in a map", map[string]any{"a": make(chan int)}, "chan int"},
		{"cyclic slice", cyclic, "cyclic"},
		{"cyclic pointer", pc, "cyclic"},
		{"too deep", deep, "deeper than 32"},
		{"Valuer returning itself", self{}, "cyclic"},
		{"keys that encode alike", map[any]int{1: 1, int64(1): 2}, "encode alike"},
		{"two NaN keys", map[float64]int{math.NaN(): 1, math.NaN(): 2}, "encode alike"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := querykey.Key("", "", "", []any{"ok", tt.v}, "")
			require.Error(t, err)
			assert.ErrorIs(t, err, querykey.ErrUnsupported)
			assert.True(t, strings.HasPrefix(err.Error(), "querykey:"), "got %q", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "var 1")
		})
	}
}

func TestKeyValueErrors(t *testing.T) {
	tests := []struct {
		name    string
		v       any
		wantIs  error
		wantMsg string
	}{
		{"Value fails", failing{}, errValue, "querykey: var 0: querykey_test.failing.Value: value failed"},
		{"Value fails in a slice", []any{failing{}}, errValue, "querykey: var 0: querykey_test.failing.Value: value failed"},
		{"Value panics", &panicking{}, nil, "querykey: var 0: *querykey_test.panicking.Value: panic: runtime error: invalid memory address or nil pointer dereference"},
		{"nil pointer-receiver Valuer panics", (*panicking)(nil), nil, "querykey: var 0: *querykey_test.panicking.Value: panic: runtime error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := querykey.Key("", "", "", []any{tt.v}, "")
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.NotErrorIs(t, err, querykey.ErrUnsupported)
			assert.True(t, strings.HasPrefix(err.Error(), tt.wantMsg), "got %q, want prefix %q", err, tt.wantMsg)
		})
	}
}

func TestKeyFormat(t *testing.T) {
	k := q(1).key(t)
	require.True(t, strings.HasPrefix(k, "app:"), "got %q", k)
	digest := strings.TrimPrefix(k, "app:")
	assert.Len(t, digest, querykey.DigestLen)
	assert.Equal(t, -1, strings.IndexFunc(digest, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}), "got %q, want base64url", digest)
}

// TestKeyGolden pins keys: a change here means the encoding changed, and the
// format version in key.go must be bumped with it.
func TestKeyGolden(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		s    stmt
		want string
	}{
		{stmt{}, "pszDskfTsKKEX0ZRKIXAWaO1M-8KCuVy"},
		{q(), "app:SMbZSaBLGziQPx-9onLXKHZwom-lSay0"},
		{q(nil, 1, uint(2), 3.5, true, false, "s", []byte("b"), at), "app:0epDat54qLM3XDz0XZhKIzTgOHaAo3LQ"},
		{q([]any{1, "a"}, [2]byte{1, 2}, [1]int{3}, map[string]any{"k": 1, "j": nil}), "app:ofkJ3-dZukzcT1NPUM2F8te_60Hp7d7c"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.s.key(t), "%+v", tt.s)
	}
}

func TestAppendKey(t *testing.T) {
	s := q(int64(1), "x")
	dst := []byte("keep|")
	got, err := querykey.AppendKey(dst, s.prefix, s.dialect, s.sql, s.vars, s.shape)
	require.NoError(t, err)
	assert.Equal(t, "keep|"+s.key(t), string(got))

	got, err = querykey.AppendKey(dst, "", "", "", []any{make(chan int)}, "")
	assert.ErrorIs(t, err, querykey.ErrUnsupported)
	assert.Equal(t, "keep|", string(got))
}

func TestKeyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	at := time.Now()
	n := 7
	vars := []any{int64(1), "name", []byte("b"), 2.5, true, at, &n, nil}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = querykey.Key("app:", "sqlite", "SELECT 1", vars, "int")
	})
	assert.Equal(t, 1.0, allocs, "Key: the returned string only")
	dst := make([]byte, 0, 64)
	allocs = testing.AllocsPerRun(100, func() {
		_, _ = querykey.AppendKey(dst, "app:", "sqlite", "SELECT 1", vars, "int")
	})
	assert.Equal(t, 0.0, allocs, "AppendKey")
}

func TestKeyConcurrent(t *testing.T) {
	s := q(int64(1), "x", time.Unix(0, 0).UTC(), map[string]int{"a": 1, "b": 2})
	want := s.key(t)
	done := make(chan string)
	for i := range 8 {
		go func() {
			k := ""
			for range 200 {
				_, _ = querykey.Key(s.prefix, s.dialect, s.sql, append(s.vars, i), s.shape)
				k, _ = querykey.Key(s.prefix, s.dialect, s.sql, s.vars, s.shape)
			}
			done <- k
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done)
	}
}
