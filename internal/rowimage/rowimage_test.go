package rowimage

import (
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// status is an integer that the driver sends as a string.
type status int

func (s status) Value() (driver.Value, error) { return fmt.Sprint("s", int(s)), nil }

func TestWithIntegers(t *testing.T) {
	type myInt int16
	for _, tc := range []struct {
		sql  string
		vars []any
		want string // "" when the arguments must stay arguments
	}{
		{"SELECT * FROM `t` WHERE `id` = ? LIMIT ? FOR UPDATE", []any{uint(7), 1001},
			"SELECT * FROM `t` WHERE `id` = 7 LIMIT 1001 FOR UPDATE"},
		{"SELECT * FROM t WHERE a IN (?,?) AND b = ?", []any{int64(-3), myInt(4), uint8(0)},
			"SELECT * FROM t WHERE a IN (-3,4) AND b = 0"},
		{"SELECT * FROM t", nil, "SELECT * FROM t"},
		{"SELECT * FROM t WHERE name = ?", []any{"ada"}, ""},
		{"SELECT * FROM t WHERE ok = ?", []any{true}, ""},
		{"SELECT * FROM t WHERE id = ?", []any{ptr(7)}, ""},
		{"SELECT * FROM t WHERE id = ?", []any{1.5}, ""},
		{"SELECT * FROM t WHERE status = ?", []any{status(2)}, ""},
		{"SELECT * FROM t WHERE id = ? AND name = '?'", []any{7}, "SELECT * FROM t WHERE id = 7 AND name = '?'"},
		{"SELECT * FROM t WHERE `?` = ? /* ? */", []any{7}, "SELECT * FROM t WHERE `?` = 7 /* ? */"},
		{"SELECT * FROM t WHERE id = ?", []any{1, 2}, ""},
		{"SELECT * FROM t WHERE id = ? AND x = ?", []any{1}, ""},
		{"SELECT * FROM t WHERE name = 'it\\'s' AND id = ?", []any{1}, ""}, // read two ways: Invalid
	} {
		got, ok := withIntegers(tc.sql, tc.vars)
		if tc.want == "" {
			assert.False(t, ok, "%s %v: got %q", tc.sql, tc.vars, got)
			continue
		}
		assert.True(t, ok, "%s %v", tc.sql, tc.vars)
		assert.Equal(t, tc.want, got)
	}
}

func ptr(i int) *int { return &i }
