package depscan

import (
	"strconv"
	"strings"

	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// The condition grammar, over sqlscan tokens:
//
//	or        = and { OR and }
//	and       = predicate { AND predicate }
//	predicate = "(" or ")" | tuple | atom | anything else, up to the next AND or OR
//	atom      = operand "=" operand | column IS NULL | column IN "(" value { "," value } ")"
//	tuple     = "(" column { "," column } ")" ( "=" row | IN "(" row { "," row } ")" )
//	operand   = column | value
//	column    = name [ "." name ]
//	value     = placeholder | integer | 'string' | TRUE | FALSE | NULL | "(" value ")"
//
// A predicate, group or atom must be followed by AND, OR, ")" or the end of
// the condition; otherwise it is part of a larger expression (a = ? + 1,
// a = ? COLLATE nocase) and proves nothing. What proves nothing is TRUE: it
// adds no term to its conjunction, and makes a disjunction TRUE. AND and OR
// are the loosest operators of every dialect read (MySQL's XOR, || and &&
// are refused by lex), so skipping to the next AND or OR — past
// parentheses, CASE ... END and the AND of BETWEEN — skips exactly one
// operand.

// operand is one side of a comparison: a column or a value.
type operand struct {
	col  bool
	qual string // the column's qualifier, normalized; "" when unqualified
	name string // the column's name, normalized
	val  any
	slot int // 1 + the index in Statement.Vars of a placeholder's value; 0 for a literal
}

// or parses a condition.
func (q *query) or() (dnf, bool) {
	d, ok := q.and()
	for ok && q.accept(sqlscan.KwOr) {
		var r dnf
		r, ok = q.and()
		d = or(d, r)
	}
	return d, ok
}

func (q *query) and() (dnf, bool) {
	d, ok := q.predicate()
	for ok && q.accept(sqlscan.KwAnd) {
		var r dnf
		r, ok = q.predicate()
		d = and(d, r)
	}
	return d, ok
}

// predicate parses one operand of AND or OR. It fails only when there is
// none, or its parentheses are unbalanced.
func (q *query) predicate() (dnf, bool) {
	t := q.peek()
	if q.ends() || t.Keyword == sqlscan.KwAnd || t.Keyword == sqlscan.KwOr {
		return nil, false
	}
	start := q.i
	var d dnf
	ok := false
	switch {
	case t.Keyword == sqlscan.KwNot: // a negation proves nothing
	case t.Kind == sqlscan.LParen:
		if d, ok = q.group(); !ok {
			q.i = start
			d, ok = q.tuple()
		}
	default:
		d, ok = q.atom()
	}
	if ok {
		return d, true
	}
	q.i = start
	return truth, q.skip()
}

// group parses a parenthesized condition.
func (q *query) group() (dnf, bool) {
	q.i++
	switch q.peek().Keyword {
	case sqlscan.KwSelect, sqlscan.KwWith, sqlscan.KwValues, sqlscan.KwTable:
		return nil, false // a subquery
	}
	if q.depth >= maxDepth {
		return nil, false
	}
	inOn := q.inOn
	q.depth++
	q.inOn = false
	d, ok := q.or()
	q.depth--
	q.inOn = inOn
	if !ok || q.peek().Kind != sqlscan.RParen {
		return nil, false
	}
	q.i++
	return d, q.boundary()
}

// tuple parses a comparison of a row of columns: (a, b) = (?, ?) and
// (a, b) IN ((?, ?), (?, ?)), as GORM writes composite keys.
func (q *query) tuple() (dnf, bool) {
	q.i++
	cols := q.cols[:0]
	for {
		c, ok := q.operand()
		if !ok || !c.col {
			return nil, false
		}
		cols = append(cols, c)
		if q.peek().Kind != sqlscan.Comma {
			break
		}
		q.i++
	}
	q.cols = cols
	if q.peek().Kind != sqlscan.RParen {
		return nil, false
	}
	q.i++
	n, vals, ok := len(cols), q.vals[:0], false
	switch t := q.peek(); {
	case t.Kind == sqlscan.Op && t.Text == "=":
		q.i++
		vals, ok = q.row(vals, n)
	case t.Keyword == sqlscan.KwIn:
		q.i++
		if q.peek().Kind != sqlscan.LParen {
			return nil, false
		}
		q.i++
		for {
			if vals, ok = q.row(vals, n); !ok {
				break
			}
			if q.peek().Kind != sqlscan.Comma {
				ok = q.peek().Kind == sqlscan.RParen
				q.i++
				break
			}
			q.i++
		}
	}
	q.vals = vals
	if !ok || !q.boundary() {
		return nil, false
	}
	rows := len(vals) / n
	if rows > q.maxIn {
		return truth, true
	}
	d := make(dnf, 0, rows)
	for r := range rows {
		var c conj
		for j, col := range cols {
			if a, ok := q.value(col, vals[r*n+j]); ok {
				c = append(c, a)
			}
		}
		if len(c) == 0 {
			return truth, true
		}
		d = append(d, c)
	}
	return d, true
}

// row reads a parenthesized row of n values onto vals.
func (q *query) row(vals []operand, n int) ([]operand, bool) {
	if q.peek().Kind != sqlscan.LParen {
		return vals, false
	}
	q.i++
	for j := range n {
		if j > 0 {
			if q.peek().Kind != sqlscan.Comma {
				return vals, false
			}
			q.i++
		}
		v, ok := q.operand()
		if !ok || v.col {
			return vals, false
		}
		vals = append(vals, v)
	}
	if q.peek().Kind != sqlscan.RParen {
		return vals, false
	}
	q.i++
	return vals, true
}

// atom parses a comparison that proves equalities.
func (q *query) atom() (dnf, bool) {
	l, ok := q.operand()
	if !ok {
		return nil, false
	}
	switch t := q.peek(); {
	case t.Kind == sqlscan.Op && t.Text == "=":
		q.i++
		r, ok := q.operand()
		if !ok || !q.boundary() {
			return nil, false
		}
		return q.equal(l, r), true
	case l.col && t.Keyword == sqlscan.KwIs && q.at(1).Keyword == sqlscan.KwNull:
		q.i += 2
		if !q.boundary() {
			return nil, false
		}
		return q.term(l, operand{}), true
	case l.col && t.Keyword == sqlscan.KwIn:
		q.i++
		vals, ok := q.list()
		if !ok || !q.boundary() {
			return nil, false
		}
		return q.in(l, vals), true
	}
	return nil, false
}

// list reads a parenthesized list of values.
func (q *query) list() ([]operand, bool) {
	if q.peek().Kind != sqlscan.LParen {
		return nil, false
	}
	q.i++
	vals := q.vals[:0]
	for {
		v, ok := q.operand()
		if !ok || v.col {
			return nil, false
		}
		vals = append(vals, v)
		if q.peek().Kind != sqlscan.Comma {
			break
		}
		q.i++
	}
	q.vals = vals
	if q.peek().Kind != sqlscan.RParen {
		return nil, false
	}
	q.i++
	return vals, true
}

// operand reads a column or a value.
func (q *query) operand() (operand, bool) {
	t := q.peek()
	switch t.Kind {
	case sqlscan.Param:
		q.i++
		return operand{val: q.vars[t.v], slot: t.v + 1}, true
	case sqlscan.Number:
		if n, err := strconv.ParseInt(t.Text, 10, 64); err == nil && digits(t.Text) {
			q.i++
			return operand{val: n}, true
		}
	case sqlscan.Op:
		if next := q.at(1); t.Text == "-" && next.Kind == sqlscan.Number && digits(next.Text) {
			if n, err := strconv.ParseInt(next.Text, 10, 64); err == nil {
				q.i += 2
				return operand{val: -n}, true
			}
		}
	case sqlscan.String:
		if s, ok := stringLiteral(t.Text); ok {
			q.i++
			return operand{val: s}, true
		}
	case sqlscan.LParen:
		if q.at(1).Kind != sqlscan.LParen && q.at(2).Kind == sqlscan.RParen {
			start := q.i
			q.i++
			if v, ok := q.operand(); ok && !v.col {
				q.i++
				return v, true
			}
			q.i = start
		}
	case sqlscan.Word:
		if q.at(1).Kind == sqlscan.Dot { // a qualifier, even if a keyword: User.name
			return q.column()
		}
		switch t.Keyword {
		case sqlscan.KwNull:
			q.i++
			return operand{}, true
		case sqlscan.KwTrue, sqlscan.KwFalse:
			q.i++
			return operand{val: t.Keyword == sqlscan.KwTrue}, true
		}
		if !t.Keyword.Reserved() {
			return q.column()
		}
	case sqlscan.QuotedIdent:
		return q.column()
	}
	return operand{}, false
}

// column reads a column name, qualified or not.
func (q *query) column() (operand, bool) {
	c := operand{col: true}
	if c.name = q.ident(q.peek()); c.name == "" {
		return c, false
	}
	q.i++
	if q.peek().Kind == sqlscan.Dot {
		q.i++
		c.qual = c.name
		if c.name = q.ident(q.peek()); c.name == "" {
			return c, false
		}
		q.i++
	}
	switch q.peek().Kind {
	case sqlscan.Dot, sqlscan.LParen: // a three-part name or a function
		return c, false
	}
	return c, true
}

// boundary reports whether the current token may follow a complete
// operand of AND or OR.
func (q *query) boundary() bool {
	t := q.peek()
	return t.Keyword == sqlscan.KwAnd || t.Keyword == sqlscan.KwOr || q.ends()
}

// skip moves past an operand of AND or OR that proves nothing: to the next
// AND or OR outside parentheses, CASE ... END and BETWEEN ... AND, or to
// the end of the condition. It fails on unbalanced parentheses or CASE.
func (q *query) skip() bool {
	depth, cases, between := 0, 0, 0
	for {
		t := q.peek()
		if depth == 0 && cases == 0 &&
			(t.Keyword == sqlscan.KwOr || t.Keyword == sqlscan.KwAnd && between == 0 || q.ends()) {
			return true
		}
		switch t.Kind {
		case sqlscan.EOF, sqlscan.Semicolon:
			return false
		case sqlscan.LParen, sqlscan.LBracket:
			depth++
		case sqlscan.RParen, sqlscan.RBracket:
			if depth == 0 {
				return false
			}
			depth--
		case sqlscan.Word:
			if depth > 0 {
				break
			}
			switch t.Keyword {
			case sqlscan.KwCase:
				cases++
			case sqlscan.KwEnd:
				if cases > 0 {
					cases--
				}
			case sqlscan.KwBetween:
				if cases == 0 {
					between++
				}
			case sqlscan.KwAnd:
				if cases == 0 {
					between--
				}
			}
		}
		q.i++
	}
}

// equal returns what l = r proves.
func (q *query) equal(l, r operand) dnf {
	switch {
	case l.col && r.col:
		o1, f1 := q.resolve(l)
		o2, f2 := q.resolve(r)
		if f1 == nil || f2 == nil || o1 == o2 && f1 == f2 {
			return truth
		}
		return q.single(atom{occ: o1, col: column(f1), f: f1, cmp: q.compare(o1, f1),
			occ2: o2, col2: column(f2), f2: f2, cmp2: q.compare(o2, f2)})
	case l.col:
		return q.term(l, r)
	case r.col:
		return q.term(r, l)
	}
	return truth
}

// term returns what c = v proves; a v of nil stands for NULL, IS NULL.
func (q *query) term(c operand, v operand) dnf {
	a, ok := q.value(c, v)
	if !ok {
		return truth
	}
	return q.single(a)
}

// in returns what c IN (vals) proves: one conjunction per distinct value,
// nothing for a list longer than MaxIn or with a value Canon refuses.
func (q *query) in(c operand, vals []operand) dnf {
	if len(vals) > q.maxIn {
		return truth
	}
	d := make(dnf, 0, len(vals))
next:
	for _, v := range vals {
		a, ok := q.value(c, v)
		if !ok {
			return truth
		}
		for _, x := range d {
			if x[0].val == a.val {
				continue next
			}
		}
		d = append(d, q.single(a)...)
	}
	return d
}

// value returns the term c = v, or false when it proves nothing: c is not
// a column of a known model, Canon refuses v, v is a string in a dialect
// whose comparisons may ignore case (unless Options.Columns tells how),
// or v is NULL for a column that a LEFT JOIN makes NULL when no row
// matches (except in that join's own ON condition).
func (q *query) value(c operand, v operand) (atom, bool) {
	o, f := q.resolve(c)
	if f == nil {
		return atom{}, false
	}
	cmp := q.compare(o, f)
	val, ok := q.canon(v.val, f, cmp)
	if q.columns != nil && (!ok || val != "n") {
		// (NULL is a term whatever the column's comparison.)
		q.consulted = append(q.consulted, consulted{q.occs[o].schema.Table, column(f), cmp})
	}
	if !ok || val[0] == 's' && !q.exact && q.columns == nil || val == "n" && q.occs[o].left && q.ctx != o {
		if v.slot > 0 {
			q.refused = true
		}
		return atom{}, false
	}
	a := atom{occ: o, col: column(f), f: f, cmp: cmp, val: val, raw: v.val, slot: v.slot, occ2: -1}
	q.made = append(q.made, a)
	return a, true
}

// compare returns how the database compares the column f of occurrence o,
// under Options.Columns; the zero Column otherwise.
func (q *query) compare(o int, f *schema.Field) collation.Column {
	if q.columns == nil {
		return collation.Column{}
	}
	return q.columns(q.occs[o].schema.Table, column(f))
}

// canon is Canon, or CanonFor cmp under Options.Columns.
func (q *query) canon(v any, f *schema.Field, cmp collation.Column) (string, bool) {
	if q.columns == nil {
		return Canon(v, f)
	}
	return CanonFor(v, f, &cmp)
}

// resolve returns the occurrence and the field a column stands for, or a
// nil field. A qualified column belongs to the occurrence of that name
// (none when two share it); an unqualified one to the main table, if its
// model has that column.
func (q *query) resolve(c operand) (int, *schema.Field) {
	if c.qual == "" {
		if len(q.occs) == 0 {
			return -1, nil
		}
		return 0, Field(q.occs[0].schema, c.name)
	}
	match := -1
	for i := range q.occs {
		if q.occs[i].name == c.qual {
			if match >= 0 {
				return -1, nil
			}
			match = i
		}
	}
	if match < 0 {
		return -1, nil
	}
	return match, Field(q.occs[match].schema, c.name)
}

// column returns the normalized column name of f.
func column(f *schema.Field) string { return strings.ToLower(f.DBName) }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// stringLiteral returns the value of a plain '...' literal. Literals with
// a prefix (E'x', N'x', X'00') or a backslash, which the dialects read
// differently, are refused.
func stringLiteral(text string) (string, bool) {
	if len(text) < 2 || text[0] != '\'' || strings.IndexByte(text, '\\') >= 0 {
		return "", false
	}
	return strings.ReplaceAll(text[1:len(text)-1], "''", "'"), true
}
