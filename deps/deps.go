package deps

import (
	"errors"
	"net/url"
	"strings"
)

// ErrUnknownField is the error of a query whose gormcache.Cache(fields...)
// names something that is neither a field, a column nor a relation path of
// the query's model. It is wrapped with the name and the model.
var ErrUnknownField = errors.New("gormcache: unknown field")

// Term is one proven equality of a conjunction.
type Term struct {
	Column string // column name: unquoted, lowercase
	Value  string // canonical value: n, i5, sann, b1 (see the package documentation)
}

// Conj is a conjunction of equalities on one table, sorted by Column, one
// term per column. An empty Conj means "any row of the table".
type Conj []Term

// Scheme returns the sorted column names of c joined by ",", such as
// "status,user_id": the write path computes, for each scheme registered
// for a table, the Key of every row image. It is "" for the empty Conj.
func (c Conj) Scheme() string {
	switch len(c) {
	case 0:
		return ""
	case 1:
		return c[0].Column
	}
	var b strings.Builder
	for i, t := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.Column)
	}
	return b.String()
}

// Key returns the canonical form of c, "status=<v>&user_id=<v>", with
// names and values query-escaped so that distinct conjunctions have
// distinct keys. It is "" for the empty Conj.
func (c Conj) Key() string {
	var b strings.Builder
	for i, t := range c {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(t.Column))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(t.Value))
	}
	return b.String()
}

// Table is what a query reads of one table: the rows matching any of
// Conjs.
type Table struct {
	Name string // table name: unquoted, lowercase, without its schema
	// Conjs is a disjunction, in a deterministic order (shorter first),
	// without a conjunction that another one implies. It is exactly one
	// empty Conj when any row may matter; it is never empty.
	Conjs []Conj
}

// Any reports whether any row of the table may matter to the query: its
// one conjunction is empty.
func (t Table) Any() bool { return len(t.Conjs) == 1 && len(t.Conjs[0]) == 0 }
