package depscan

import (
	"cmp"
	"slices"
	"strings"

	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// atom is a proven equality: column = value when occ2 < 0, column =
// column otherwise. Columns are named by occurrence (an index in
// query.occs) and normalized name, with their field and, under
// Options.Columns, how the database compares them (cmp, cmp2).
type atom struct {
	occ  int
	col  string
	f    *schema.Field
	cmp  collation.Column
	val  string // canonical value
	raw  any    // the value, to carry it across column equalities
	slot int    // its operand's slot, 0 for a literal (see operand)
	occ2 int
	col2 string
	f2   *schema.Field
	cmp2 collation.Column
}

// conj is a conjunction of atoms; dnf a disjunction of conjunctions. TRUE
// is the one empty conjunction, and no other dnf holds an empty one.
type (
	conj []atom
	dnf  []conj
)

// truth is TRUE. It is shared: or and and never change it.
var truth = dnf{nil}

func isTruth(d dnf) bool { return len(d) == 1 && len(d[0]) == 0 }

// or returns a OR b, consuming both; TRUE when it would exceed maxConjs.
func or(a, b dnf) dnf {
	if isTruth(a) || isTruth(b) || len(a)+len(b) > maxConjs {
		return truth
	}
	return append(a, b...)
}

// and returns a AND b, consuming both.
func and(a, b dnf) dnf {
	switch {
	case isTruth(a):
		return b
	case isTruth(b):
		return a
	case len(a) == 1 && len(b) == 1:
		a[0] = append(a[0], b[0]...)
		return a
	}
	return product(a, b)
}

// single returns the dnf of one atom, in memory q reuses from one Extract
// to the next. Its slices are full: appending to them copies.
func (q *query) single(a atom) dnf {
	n := len(q.arena)
	q.arena = append(q.arena, a)
	c := conj(q.arena[n : n+1 : n+1])
	m := len(q.conjs)
	q.conjs = append(q.conjs, c)
	return q.conjs[m : m+1 : m+1]
}

// product returns a AND b without changing either; the result may share
// memory with them. When it would exceed maxConjs it keeps the side with
// fewer conjunctions: dropping a conjunct is coarser, never unsafe.
func product(a, b dnf) dnf {
	switch {
	case isTruth(a):
		return b
	case isTruth(b):
		return a
	case len(a)*len(b) > maxConjs:
		if len(a) <= len(b) {
			return a
		}
		return b
	}
	out := make(dnf, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			c := make(conj, 0, len(x)+len(y))
			out = append(out, append(append(c, x...), y...))
		}
	}
	return out
}

// rejectsNull reports whether c holds only for rows where occurrence l is
// an actual row, not the NULLs of a LEFT JOIN that matched nothing: an
// equality with a value or another column cannot hold on NULL.
func rejectsNull(c conj, l int) bool {
	for _, a := range c {
		if a.occ2 >= 0 && (a.occ == l || a.occ2 == l) || a.occ == l && a.val != "n" {
			return true
		}
	}
	return false
}

// tables sets, in out (the tables Analyze reports), the conjunctions of
// the tables whose every occurrence in the statement is in the FROM list
// and proven, and appends the tables of the FROM list that out lacks.
// Tables it leaves without conjunctions may have any row that matters.
func (q *query) tables(out []deps.Table) []deps.Table {
	base := and(q.where, q.inner)
	for x := range q.occs {
		name := q.occs[x].table
		if name == "" || q.seen(x, name) {
			continue
		}
		i := slices.IndexFunc(out, func(t deps.Table) bool { return t.Name == name })
		if i < 0 {
			out = append(out, deps.Table{Name: name})
			i = len(out) - 1
		}
		out[i].Conjs = q.table(base, name)
	}
	return out
}

// seen reports whether an occurrence before x reads table name.
func (q *query) seen(x int, name string) bool {
	for _, o := range q.occs[:x] {
		if o.table == name {
			return true
		}
	}
	return false
}

// table returns the conjunctions of the table name, or nil when any row
// of it may matter: it is read outside the FROM list (a subquery, a
// UNION), joined by a raw join, or an occurrence proves nothing.
func (q *query) table(base dnf, name string) []deps.Conj {
	n := 0
	for _, o := range q.occs {
		if o.table != name {
			continue
		}
		if !o.main && o.path == "" { // a raw join: the whole table, as documented
			return nil
		}
		n++
	}
	if q.mentions(name) != n {
		return nil
	}
	var list []deps.Conj
	for x := range q.occs {
		if q.occs[x].table != name {
			continue
		}
		var ok bool
		if list, ok = q.occurrence(base, x, list); !ok {
			return nil
		}
	}
	return normalize(list)
}

// mentions counts the names in the statement that may stand for the table
// name: identifiers equal to it that do not qualify a column. Every table
// the SQL reads is one (it is how sqlscan finds them), so a count above
// the occurrences of the FROM list reveals another read — a subquery, a
// UNION — and any column or alias of the same name only makes it coarser.
func (q *query) mentions(name string) int {
	n := 0
	for i := range q.toks {
		t := &q.toks[i]
		text := t.Text
		switch t.Kind {
		case sqlscan.QuotedIdent:
			text = text[1 : len(text)-1]
		case sqlscan.Word:
		default:
			continue
		}
		if q.toks[i+1].Kind != sqlscan.Dot && strings.EqualFold(text, name) {
			n++
		}
	}
	return n
}

// occurrence appends the conjunctions of occurrence x to list, or reports
// false when any row of it may matter. The rows of x that matter satisfy
// the WHERE condition and the ON conditions of the inner joins (base);
// those of a LEFT JOINed x satisfy its ON condition too, and so do the
// rows of any x in the conjunctions that reject the NULLs of a LEFT JOIN.
func (q *query) occurrence(base dnf, x int, list []deps.Conj) ([]deps.Conj, bool) {
	for k, c := range base {
		ext := base[k : k+1 : k+1]
		for l := range q.occs {
			if l != x && q.occs[l].left && rejectsNull(c, l) {
				ext = product(ext, q.occs[l].on)
			}
		}
		if q.occs[x].left {
			ext = product(ext, q.occs[x].on)
		}
		for _, e := range ext {
			p := q.project(e, x)
			if len(p) == 0 {
				return list, false
			}
			list = append(list, p)
		}
	}
	return list, true
}

// project returns the terms c proves for occurrence x, equalities carried
// across column equalities included, restricted to what Options.Fields
// tracks. A column with two different values keeps neither.
func (q *query) project(c conj, x int) deps.Conj {
	atoms := q.propagate(c, q.scratch[:0])
	q.scratch = atoms
	o := &q.occs[x]
	var terms deps.Conj
	for _, a := range atoms {
		if a.occ == x && q.track.keeps(o.path, a.col) {
			terms = append(terms, deps.Term{Column: a.col, Value: a.val})
		}
	}
	slices.SortFunc(terms, func(a, b deps.Term) int {
		return cmp.Or(strings.Compare(a.Column, b.Column), strings.Compare(a.Value, b.Value))
	})
	out := terms[:0]
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j].Column == terms[i].Column {
			j++
		}
		if terms[j-1].Value == terms[i].Value { // one value (sorted: all equal)
			out = append(out, terms[i])
		}
		i = j
	}
	return out
}

// propagate appends to vals the equalities with a value that c proves,
// with those carried across its column equalities: a = 5 AND a = b proves
// b = 5 when 5 has the same canonical value as a value of b, and the
// database compares a and b alike (a MySQL join of columns of different
// collations compares under neither). NULL is not carried: NULL = NULL is
// not true.
func (q *query) propagate(c conj, vals []atom) []atom {
	eqs := false
	for _, a := range c {
		if a.occ2 >= 0 {
			eqs = true
		} else {
			vals = append(vals, a)
		}
	}
	for changed := eqs; changed; {
		changed = false
		for _, e := range c {
			if e.occ2 < 0 {
				continue
			}
			for i := 0; i < len(vals); i++ {
				v := vals[i]
				to := atom{occ: e.occ2, col: e.col2, f: e.f2, cmp: e.cmp2, occ2: -1}
				switch {
				case v.val == "n":
					continue
				case v.occ == e.occ && v.col == e.col:
				case v.occ == e.occ2 && v.col == e.col2:
					to = atom{occ: e.occ, col: e.col, f: e.f, cmp: e.cmp, occ2: -1}
				default:
					continue
				}
				if slices.ContainsFunc(vals, func(a atom) bool { return a.occ == to.occ && a.col == to.col }) {
					continue
				}
				if val, ok := q.canon(v.raw, to.f, to.cmp); ok && val == v.val && to.cmp == v.cmp {
					to.val, to.raw = val, v.raw
					vals = append(vals, to)
					changed = true
				}
			}
		}
	}
	return vals
}

// normalize sorts list (shorter conjunctions first), drops duplicates and
// the conjunctions another one implies (a subset of their terms), and
// returns it.
func normalize(list []deps.Conj) []deps.Conj {
	slices.SortFunc(list, func(a, b deps.Conj) int {
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
		for i := range a {
			if c := cmp.Or(strings.Compare(a[i].Column, b[i].Column), strings.Compare(a[i].Value, b[i].Value)); c != 0 {
				return c
			}
		}
		return 0
	})
	list = slices.CompactFunc(list, slices.Equal)
	// Shorter first: the conjunctions that imply another one, its subsets,
	// come before it, and stay before it as the implied ones are dropped.
	out := list[:0]
	for _, c := range list {
		if !slices.ContainsFunc(out, func(d deps.Conj) bool { return len(d) < len(c) && subset(d, c) }) {
			out = append(out, c)
		}
	}
	return out
}

// subset reports whether every term of d is in c; both are sorted.
func subset(d, c deps.Conj) bool {
	i := 0
	for _, t := range d {
		for i < len(c) && c[i].Column < t.Column {
			i++
		}
		if i == len(c) || c[i] != t {
			return false
		}
		i++
	}
	return true
}
