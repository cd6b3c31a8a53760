package gormcache_test

import (
	"database/sql"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
)

// roundTrip encodes v with the default codec and decodes it into a new T.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	var c gormcache.JSONCodec
	data, err := c.Marshal(v)
	require.NoError(t, err)
	var got T
	require.NoError(t, c.Unmarshal(data, &got))
	return got
}

// TestCodecRoundTrip checks the types JSONCodec documents as round-tripped.
func TestCodecRoundTrip(t *testing.T) {
	t.Run("struct with nested slices, maps, times and pointers", func(t *testing.T) {
		require.Equal(t, newSalesReport(), roundTrip(t, newSalesReport()))
	})
	t.Run("nil pointer", func(t *testing.T) {
		require.Nil(t, roundTrip[*SalesReport](t, nil))
	})
	t.Run("pointers to zero values", func(t *testing.T) {
		zero, no := 0, false
		type nullable struct {
			Age    *int
			Active *bool
		}
		got := roundTrip(t, nullable{Age: &zero, Active: &no})
		require.NotNil(t, got.Age)
		require.NotNil(t, got.Active)
		require.Equal(t, 0, *got.Age)
		require.False(t, *got.Active)
	})
	t.Run("nil and empty slices and maps", func(t *testing.T) {
		type lists struct {
			NilSlice, EmptySlice []int
			NilMap, EmptyMap     map[string]int
		}
		got := roundTrip(t, lists{EmptySlice: []int{}, EmptyMap: map[string]int{}})
		require.Nil(t, got.NilSlice)
		require.NotNil(t, got.EmptySlice)
		require.Nil(t, got.NilMap)
		require.NotNil(t, got.EmptyMap)
	})
	t.Run("maps with integer and time keys", func(t *testing.T) {
		day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		require.Equal(t, map[int64]string{-1: "a"}, roundTrip(t, map[int64]string{-1: "a"}))
		require.Equal(t, map[time.Time]int{day: 1}, roundTrip(t, map[time.Time]int{day: 1}))
	})
	t.Run("sql.Null types", func(t *testing.T) {
		v := []sql.NullString{{String: "a", Valid: true}, {}}
		require.Equal(t, v, roundTrip(t, v))
	})
	t.Run("time keeps its instant and offset", func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Skip("no time zone database:", err)
		}
		v := time.Date(2024, 7, 14, 10, 30, 0, 123456789, paris)
		got := roundTrip(t, v)
		require.True(t, got.Equal(v), "got %v, want %v", got, v)
		_, offset := got.Zone()
		require.Equal(t, 2*3600, offset)
	})
}

// TestCodecLimits checks the documented limits of JSONCodec, so that the
// documentation stays true.
func TestCodecLimits(t *testing.T) {
	t.Run(`json:"-" fields are not kept`, func(t *testing.T) {
		type account struct {
			Name         string
			PasswordHash string `json:"-"`
		}
		require.Equal(t, account{Name: "ada"}, roundTrip(t, account{Name: "ada", PasswordHash: "x"}))
	})
	t.Run("unexported fields are not kept", func(t *testing.T) {
		type account struct {
			Name string
			note string
		}
		got := roundTrip(t, account{Name: "ada", note: "x"})
		require.Equal(t, "ada", got.Name)
		require.Empty(t, got.note)
	})
	t.Run("values in interfaces come back as JSON types", func(t *testing.T) {
		got := roundTrip(t, map[string]any{"n": 1, "list": []int{1}})
		require.Equal(t, map[string]any{"n": 1.0, "list": []any{1.0}}, got)
	})
	t.Run("the location's name is not kept", func(t *testing.T) {
		v := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("XYZ", 3600))
		got := roundTrip(t, v)
		require.True(t, got.Equal(v))
		name, _ := got.Zone()
		require.NotEqual(t, "XYZ", name)
	})
	type node struct{ Next *node }
	cycle := &node{}
	cycle.Next = cycle
	unencodable := []struct {
		name string
		v    any
	}{
		{"channel", make(chan int)},
		{"function", func() {}},
		{"complex number", complex(1, 2)},
		{"NaN", math.NaN()},
		{"infinity", math.Inf(1)},
		{"cycle", cycle},
		{"struct map key", map[KeyRange]int{{1, 2}: 1}},
	}
	for _, tt := range unencodable {
		t.Run("cannot encode "+tt.name, func(t *testing.T) {
			_, err := gormcache.JSONCodec{}.Marshal(tt.v)
			require.Error(t, err)
		})
	}
}
