package sqlscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		sql     string
		indexes []int // of the placeholders, in order
		ok      bool
	}{
		{"SELECT * FROM t WHERE a = ? AND b IN (?, ?)", []int{0, 1, 2}, true},
		{"SELECT * FROM t WHERE a = $2 AND b = $1", []int{1, 0}, true},
		{"SELECT * FROM t WHERE a = @p1 AND b = :name AND c = @v", []int{0, -1, -1}, true},
		{"SELECT '?', `?`, \"?\" FROM t /* ? */ WHERE a = ?", []int{0}, true},
		{"SELECT * FROM t", nil, true},
		{"SELECT * FROM t WHERE a = ? AND b = 'it\\'s'", []int{0}, false},
	} {
		ps, ok := Placeholders(tc.sql)
		var indexes []int
		for _, p := range ps {
			indexes = append(indexes, p.Index)
			assert.Contains(t, []string{"?", "$1", "$2", "@p1", ":name", "@v"}, tc.sql[p.Start:p.End], tc.sql)
		}
		assert.Equal(t, tc.indexes, indexes, tc.sql)
		assert.Equal(t, tc.ok, ok, tc.sql)
	}
}
