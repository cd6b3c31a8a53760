package depscan

import (
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// maxDepth bounds the nesting of parenthesized conditions the parser
// follows; deeper SQL proves nothing.
const maxDepth = 100

// tok is a token of the statement with, for a placeholder, the index of
// its value in Statement.Vars (-1 otherwise).
type tok struct {
	sqlscan.Token
	v int
}

// occ is one item of the FROM list, an occurrence: a table joined twice is
// two occurrences.
type occ struct {
	table  string // normalized name; "" for a subquery or a function
	name   string // normalized name its columns are qualified with
	schema *schema.Schema
	path   string // relation path of a relation join, "" otherwise
	main   bool   // the first item of the FROM list
	left   bool   // LEFT JOINed: its columns are NULL when no row matches
	on     dnf    // the ON condition of a LEFT JOIN
}

// query parses one statement and computes its dependencies. Queries are
// pooled: their slices are reused from one Extract to the next.
type query struct {
	stmt  *gorm.Statement
	vars  []any
	maxIn int
	track tracking
	// exact reports a dialect whose default string comparison is exact
	// (PostgreSQL, SQLite); dquote that "x" is an identifier, not a
	// string as in MySQL.
	exact, dquote bool
	columns       func(modelTable, column string) collation.Column // Options.Columns

	toks  []tok
	i     int
	depth int
	inOn  bool // parsing an ON condition: ',' and join keywords end it
	ctx   int  // the occurrence whose ON condition is being parsed, or -1

	occs  []occ
	where dnf
	inner dnf // the ON conditions of the inner joins, conjoined
	rels  []joinRel
	// Memory reused from one Extract to the next.
	arena   []atom    // the atoms of single
	conjs   []conj    // the conjunctions of single
	scratch []atom    // the atoms of a projection
	vals    []operand // the values of an IN list or a tuple
	// made holds every atom of a column and a value, in order, and
	// refused tells that a placeholder's value was refused as a term:
	// what an Extractor needs to tell whether other values of the same
	// placeholders would prove the same terms (see template.go).
	made    []atom
	refused bool
	// consulted holds the columns whose comparison (Options.Columns)
	// decided a value's term, or its refusal: a template holds while
	// they compare alike.
	consulted []consulted
	cols      []operand // the columns of a tuple
}

// consulted is what Options.Columns said of one column.
type consulted struct {
	table, column string
	cmp           collation.Column
}

var queries = sync.Pool{New: func() any { return new(query) }}

func getQuery(stmt *gorm.Statement, opts Options, track tracking) *query {
	q := queries.Get().(*query)
	q.stmt, q.vars, q.track, q.ctx, q.columns = stmt, stmt.Vars, track, -1, opts.Columns
	q.maxIn = opts.MaxIn
	if q.maxIn <= 0 {
		q.maxIn = DefaultMaxIn
	}
	name := ""
	if stmt.DB != nil && stmt.Dialector != nil {
		name = stmt.Dialector.Name()
	}
	q.exact = name == "sqlite" || name == "postgres"
	q.dquote = name != "mysql"
	return q
}

// putQuery returns q to the pool without the references it holds.
func putQuery(q *query) {
	clear(q.toks)
	clear(q.occs)
	clear(q.rels)
	clear(q.arena)
	clear(q.conjs)
	clear(q.scratch)
	clear(q.vals)
	clear(q.cols)
	clear(q.made)
	clear(q.consulted)
	*q = query{toks: q.toks[:0], occs: q.occs[:0], rels: q.rels[:0], arena: q.arena[:0],
		conjs: q.conjs[:0], scratch: q.scratch[:0], vals: q.vals[:0], cols: q.cols[:0], made: q.made[:0],
		consulted: q.consulted[:0]}
	queries.Put(q)
}

// parse reads the SELECT statement a analyses: its FROM list, the ON
// conditions of its joins and its WHERE condition. It reports false when
// the statement is not of that shape, or cannot be read the same way in
// every dialect: nothing is proven then.
func (q *query) parse(a *sqlscan.Analysis) bool {
	if !q.load(a) || q.peek().Keyword != sqlscan.KwSelect {
		return false
	}
	q.i++
	if !q.selectList() {
		return false
	}
	q.rels = joinRels(q.stmt, q.rels)
	q.inner = truth
	if !q.fromList() {
		return false
	}
	q.where = truth
	if q.accept(sqlscan.KwWhere) {
		var ok bool
		if q.where, ok = q.or(); !ok {
			return false
		}
	}
	return q.tail()
}

// load takes the tokens of the analysis a and maps each placeholder to its
// var. It refuses SQL the dialects read differently in ways that matter
// here — a NUL byte (SQLite stops reading there), MySQL's # comments and
// ||, && and XOR operators, --x comments that MySQL reads as code, := — and
// placeholders other than ? and $n, or that do not map one to one onto
// stmt.Vars. Input lexed as Invalid never gets here: a is then Unknown.
func (q *query) load(a *sqlscan.Analysis) bool {
	sql := a.SQL
	if len(a.Tokens) == 0 || strings.IndexByte(sql, 0) >= 0 {
		return false
	}
	qmarks, dollars := 0, false
	for i := range a.Tokens {
		t := tok{Token: a.Token(i), v: -1}
		end := t.Pos + len(t.Text)
		switch t.Kind {
		case sqlscan.Word:
			if t.Keyword == sqlscan.KwXor {
				return false
			}
		case sqlscan.Param:
			switch {
			case t.Text == "?":
				if end < len(sql) && '0' <= sql[end] && sql[end] <= '9' {
					return false // ?NNN
				}
				t.v = qmarks
				qmarks++
			case t.Text[0] == '$':
				n, err := strconv.Atoi(t.Text[1:])
				if err != nil || n < 1 || n > len(q.vars) {
					return false
				}
				t.v, dollars = n-1, true
			default:
				return false
			}
		case sqlscan.Op:
			if strings.Contains(t.Text, "#") || strings.Contains(t.Text, ":=") ||
				t.Text[len(t.Text)-1] == '-' && end < len(sql) && sql[end] == '-' {
				return false
			}
			if !q.exact && (strings.Contains(t.Text, "||") || strings.Contains(t.Text, "&&")) {
				return false
			}
		}
		q.toks = append(q.toks, t)
	}
	return qmarks == 0 || !dollars && qmarks == len(q.vars)
}

func (q *query) peek() *tok { return &q.toks[q.i] }

// at returns the token n after the current one (before it when n < 0), or
// the final EOF.
func (q *query) at(n int) *tok {
	if j := q.i + n; 0 <= j && j < len(q.toks) {
		return &q.toks[j]
	}
	return &q.toks[len(q.toks)-1]
}

// accept consumes the keyword k if it comes next.
func (q *query) accept(k sqlscan.Keyword) bool {
	if t := q.peek(); t.Kind == sqlscan.Word && t.Keyword == k {
		q.i++
		return true
	}
	return false
}

// selectList skips to the FROM that ends the select list.
func (q *query) selectList() bool {
	depth := 0
	for {
		t := q.peek()
		switch t.Kind {
		case sqlscan.EOF, sqlscan.Semicolon:
			return false
		case sqlscan.LParen, sqlscan.LBracket:
			depth++
		case sqlscan.RParen, sqlscan.RBracket:
			if depth--; depth < 0 {
				return false
			}
		case sqlscan.Word:
			if depth == 0 && t.Keyword == sqlscan.KwFrom && q.at(-1).Keyword != sqlscan.KwDistinct { // not IS DISTINCT FROM
				q.i++
				return true
			}
		}
		q.i++
	}
}

// skipParens skips the parenthesized group that starts at the current
// token.
func (q *query) skipParens() bool {
	depth := 0
	for {
		switch q.peek().Kind {
		case sqlscan.EOF, sqlscan.Semicolon:
			return false
		case sqlscan.LParen, sqlscan.LBracket:
			depth++
		case sqlscan.RParen, sqlscan.RBracket:
			if depth--; depth <= 0 {
				q.i++
				return depth == 0
			}
		}
		q.i++
	}
}

// fromList reads the FROM list: tables, subqueries and functions, joined
// by commas, [INNER|CROSS] JOIN and LEFT [OUTER] JOIN, with ON or USING.
// RIGHT, FULL and NATURAL joins, LATERAL and anything unexpected make it
// fail.
func (q *query) fromList() bool {
	if !q.fromItem() {
		return false
	}
	for {
		if q.peek().Kind == sqlscan.Comma {
			q.i++
			if !q.fromItem() {
				return false
			}
			continue
		}
		left := false
		switch {
		case q.accept(sqlscan.KwStraightJoin): // MySQL's inner join
		case q.accept(sqlscan.KwInner), q.accept(sqlscan.KwCross):
			if !q.accept(sqlscan.KwJoin) {
				return false
			}
		case q.accept(sqlscan.KwLeft):
			q.accept(sqlscan.KwOuter)
			if !q.accept(sqlscan.KwJoin) {
				return false
			}
			left = true
		case !q.accept(sqlscan.KwJoin):
			return true // the end of the FROM list
		}
		if !q.fromItem() {
			return false
		}
		o := len(q.occs) - 1
		q.occs[o].left, q.occs[o].on = left, truth
		switch {
		case q.accept(sqlscan.KwOn):
			q.inOn = true
			if left {
				q.ctx = o
			}
			on, ok := q.or()
			q.inOn, q.ctx = false, -1
			if !ok {
				return false
			}
			if left {
				q.occs[o].on = on
			} else {
				q.inner = and(q.inner, on)
			}
		case q.accept(sqlscan.KwUsing):
			if q.peek().Kind != sqlscan.LParen || !q.skipParens() {
				return false
			}
		}
	}
}

// fromItem reads one item of the FROM list and its alias.
func (q *query) fromItem() bool {
	o := occ{main: len(q.occs) == 0}
	switch t := q.peek(); {
	case t.Kind == sqlscan.LParen: // a subquery
		if !q.skipParens() {
			return false
		}
	case structural(t.Keyword): // LATERAL, ONLY, a missing item
		return false
	case t.Kind == sqlscan.Word || t.Kind == sqlscan.QuotedIdent:
		last := t
		q.i++
		for q.peek().Kind == sqlscan.Dot {
			q.i++
			if last = q.peek(); last.Kind != sqlscan.Word && last.Kind != sqlscan.QuotedIdent {
				return false
			}
			q.i++
		}
		if q.peek().Kind == sqlscan.LParen { // a table function
			if !q.skipParens() {
				return false
			}
		} else if o.table = q.ident(last); o.table == "" {
			return false
		}
	default:
		return false
	}
	as := q.accept(sqlscan.KwAs)
	if t := q.peek(); t.Kind == sqlscan.QuotedIdent || t.Kind == sqlscan.Word && !structural(t.Keyword) {
		if o.name = q.ident(t); o.name == "" {
			return false
		}
		q.i++
	} else if as {
		return false
	}
	if o.name == "" {
		o.name = o.table
	}
	q.describe(&o)
	q.occs = append(q.occs, o)
	return true
}

// describe finds the model of an occurrence: the statement's model for the
// main table, the relation's for a relation join, and for another table
// (a raw join) the first model among the statement's relations that maps
// it.
func (q *query) describe(o *occ) {
	if o.table == "" {
		return
	}
	s := q.stmt.Schema
	if o.main {
		if sameTable(s, o.table) {
			o.schema = s
		}
		return
	}
	for _, r := range q.rels {
		if strings.EqualFold(r.alias, o.name) && sameTable(r.schema, o.table) {
			o.schema, o.path = r.schema, r.path
			return
		}
	}
	if s == nil {
		return
	}
	rs := &s.Relationships
	for _, rels := range [...][]*schema.Relationship{rs.BelongsTo, rs.HasOne, rs.HasMany, rs.Many2Many} {
		for _, r := range rels {
			switch {
			case sameTable(r.FieldSchema, o.table):
				o.schema = r.FieldSchema
			case r.JoinTable != nil && sameTable(r.JoinTable, o.table):
				o.schema = r.JoinTable
			default:
				continue
			}
			return
		}
	}
}

// tail checks what follows the WHERE condition: the end, or a clause
// that cannot change which rows matter.
func (q *query) tail() bool {
	switch t := q.peek(); t.Kind {
	case sqlscan.EOF:
		return true
	case sqlscan.Semicolon:
		return q.at(1).Kind == sqlscan.EOF
	case sqlscan.Word:
		return clauseKeyword(t.Keyword)
	}
	return false
}

// ends reports whether the current token ends the condition being read.
func (q *query) ends() bool {
	switch t := q.peek(); t.Kind {
	case sqlscan.EOF, sqlscan.Semicolon, sqlscan.RParen:
		return true
	case sqlscan.Comma:
		return q.inOn
	case sqlscan.Word:
		if clauseKeyword(t.Keyword) {
			return true
		}
		if q.inOn && joinKeyword(t.Keyword) {
			// LEFT(name, 2) and RIGHT(...) are functions.
			return (t.Keyword != sqlscan.KwLeft && t.Keyword != sqlscan.KwRight) || q.at(1).Kind != sqlscan.LParen
		}
	}
	return false
}

// ident returns the normalized name an identifier token stands for, or
// "" when it is none (a MySQL "string").
func (q *query) ident(t *tok) string {
	switch t.Kind {
	case sqlscan.Word:
	case sqlscan.QuotedIdent:
		if t.Text[0] == '"' && !q.dquote {
			return ""
		}
	default:
		return ""
	}
	return sqlscan.NormalizeTable(t.Text)
}

// clauseKeyword reports the keywords that start a clause after WHERE: the
// end of the condition.
func clauseKeyword(k sqlscan.Keyword) bool {
	switch k {
	case sqlscan.KwGroup, sqlscan.KwOrder, sqlscan.KwLimit, sqlscan.KwOffset, sqlscan.KwFetch,
		sqlscan.KwFor, sqlscan.KwHaving, sqlscan.KwWindow, sqlscan.KwLock, sqlscan.KwUnion,
		sqlscan.KwIntersect, sqlscan.KwExcept:
		return true
	}
	return false
}

// joinKeyword reports the keywords that start a join: the end of an ON
// condition.
func joinKeyword(k sqlscan.Keyword) bool {
	switch k {
	case sqlscan.KwWhere, sqlscan.KwJoin, sqlscan.KwInner, sqlscan.KwCross, sqlscan.KwLeft,
		sqlscan.KwRight, sqlscan.KwFull, sqlscan.KwNatural, sqlscan.KwStraightJoin:
		return true
	}
	return false
}

// structural reports the keywords that may follow a FROM item in place of
// an alias.
func structural(k sqlscan.Keyword) bool {
	switch k {
	case sqlscan.KwWhere, sqlscan.KwAs, sqlscan.KwWith, sqlscan.KwNot, sqlscan.KwJoin,
		sqlscan.KwInner, sqlscan.KwCross, sqlscan.KwLeft, sqlscan.KwRight, sqlscan.KwFull,
		sqlscan.KwNatural, sqlscan.KwOuter, sqlscan.KwStraightJoin, sqlscan.KwOn,
		sqlscan.KwUsing, sqlscan.KwLateral, sqlscan.KwOnly, sqlscan.KwReturning, sqlscan.KwUse,
		sqlscan.KwForce, sqlscan.KwIgnore, sqlscan.KwIndexed, sqlscan.KwTablesample,
		sqlscan.KwPartition:
		return true
	}
	return clauseKeyword(k)
}
