package sqlscan

import (
	"strconv"
	"strings"
)

// Placeholder is a parameter of a statement: its bytes, sql[Start:End],
// and the index of the argument it takes: ? the next one, $n and @pn the
// n-th; -1 for a parameter that takes none by position (:name, @name).
type Placeholder struct{ Start, End, Index int }

// Placeholders returns the parameters of sql, in order. ok is false when
// sql cannot be read to its end (see Lexer): the parameters before are
// returned, and others may follow.
func Placeholders(sql string) (ps []Placeholder, ok bool) {
	next := 0
	for lx := NewLexer(sql); ; {
		t := lx.Next()
		switch t.Kind {
		case EOF:
			return ps, true
		case Invalid:
			return ps, false
		case Param:
		default:
			continue
		}
		i := -1
		switch {
		case t.Text == "?":
			i, next = next, next+1
		case strings.HasPrefix(t.Text, "$"), strings.HasPrefix(t.Text, "@p"):
			if n, err := strconv.Atoi(strings.TrimLeft(t.Text, "$@p")); err == nil {
				i = n - 1
			}
		}
		ps = append(ps, Placeholder{Start: t.Pos, End: t.Pos + len(t.Text), Index: i})
	}
}
