package depscan

import (
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/memo"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// An Extractor is Extract with a memory of the statements it has read. The
// statements of an application are few and run with many values (a First
// by primary key runs once per id), and most of what Extract does — read
// the FROM list, the conditions, the tables — depends on the SQL alone. So
// an Extractor keeps, per statement, what Extract proved with the values it
// first met, and where each value went; for later values of the same
// placeholders it only encodes them (Canon) and puts them in place.
//
// That is Extract's result exactly when the values lead every choice
// Extract makes the same way, and the Extractor checks that they do: each
// value encodes (Canon accepts it) to the same kind of value (a string, a
// number, NULL...), and two values of the same column are equal exactly
// when the first ones were (IN lists drop repeated values, a column with
// two different values proves nothing). Otherwise, and for statements whose
// proof depends on values in ways it does not follow (a join, whose column
// equalities carry values from one column to another; a value Extract
// refused), it runs Extract. The order of the conjunctions of a table may
// differ from Extract's; their set is the same.
type Extractor struct {
	templates *memo.Map[templateKey, *template]
}

// NewExtractor returns an Extractor that remembers up to size statements.
func NewExtractor(size int) *Extractor {
	return &Extractor{templates: memo.New(int64(size), func(templateKey, *template) int64 { return 1 })}
}

// templateKey is what Extract's proof depends on besides the values.
type templateKey struct {
	sql     string
	schema  *schema.Schema
	dialect string
	fields  string // Options.Fields, NUL-separated
	maxIn   int
}

// template is what Extract proved for a statement, and where the values of
// its placeholders went.
type template struct {
	// bindable is false when other values may lead Extract elsewhere in
	// ways the template does not follow.
	bindable bool
	nvars    int
	// consulted are the columns whose comparison the proof followed
	// (Options.Columns): the template holds while they compare alike,
	// which they do while Options.Generation returns generation (0: not
	// known).
	consulted  []consulted
	generation uint64
	tables     []deps.Table
	atoms      []atom    // every term of a column and a value the proof made
	pairs      []pair    // the pairs of atoms of the same column
	terms      []termRef // the terms of tables that a placeholder's value gave
}

// pair is two atoms of one column, and whether their values were equal.
type pair struct {
	a, b  int
	equal bool
}

// termRef places a term of template.tables, and names the atom whose value
// it holds.
type termRef struct{ table, conj, term, atom int }

// Extract returns what Extract(stmt, a, opts) returns, from the template of
// the statement when it has one that holds for stmt's values. Under
// Options.Columns, a template holds while each column it names a value of
// compares as when it was made: the statement may run on another database
// than the one it was made on, or DDL may have changed a column.
func (x *Extractor) Extract(stmt *gorm.Statement, a *sqlscan.Analysis, opts Options) ([]deps.Table, error) {
	key := keyOf(stmt, a, opts)
	var gen uint64
	if opts.Columns != nil && opts.Generation != nil {
		gen = opts.Generation()
	}
	if t, ok := x.templates.Get(key); ok {
		out, ok, stale := t.bind(stmt.Vars, opts.Columns, gen)
		if ok {
			if gen != 0 && t.generation != gen && opts.Generation() == gen {
				// Its columns compare alike in this state too: the
				// next binds need not ask them.
				again := *t
				again.generation = gen
				x.templates.Replace(key, &again)
			}
			return out, nil
		}
		if !stale {
			return Extract(stmt, a, opts)
		}
	}
	out, t, err := extract(stmt, a, opts, true)
	if err != nil {
		return out, err
	}
	if gen != 0 && opts.Generation() == gen {
		// Columns answered from one state throughout.
		t.generation = gen
	}
	x.templates.Replace(key, t) // a stale template, or none
	return out, nil
}

func keyOf(stmt *gorm.Statement, a *sqlscan.Analysis, opts Options) templateKey {
	key := templateKey{sql: a.SQL, schema: stmt.Schema, fields: strings.Join(opts.Fields, "\x00"), maxIn: opts.MaxIn}
	if stmt.DB != nil && stmt.Dialector != nil {
		key.dialect = stmt.Dialector.Name()
	}
	return key
}

// newTemplate returns the template of what q proved, out.
func (q *query) newTemplate(out []deps.Table) *template {
	t := &template{nvars: len(q.vars)}
	for _, c := range q.consulted {
		if !slices.Contains(t.consulted, c) {
			t.consulted = append(t.consulted, c)
		}
	}
	for _, a := range q.arena {
		if a.occ2 >= 0 {
			return t // a column equality: values move between columns
		}
	}
	if len(q.occs) > 1 || q.refused {
		return t
	}
	t.atoms = slices.Clone(q.made)
	for i := range t.atoms {
		for j := i + 1; j < len(t.atoms); j++ {
			if t.atoms[i].col == t.atoms[j].col {
				t.pairs = append(t.pairs, pair{i, j, t.atoms[i].val == t.atoms[j].val})
			}
		}
	}
	t.tables = cloneTables(out)
	for i, tab := range t.tables {
		for j, c := range tab.Conjs {
			for k, term := range c {
				a := slices.IndexFunc(t.atoms, func(a atom) bool { return a.col == term.Column && a.val == term.Value })
				if a < 0 {
					return &template{nvars: t.nvars, consulted: t.consulted}
				}
				if t.atoms[a].slot > 0 {
					t.terms = append(t.terms, termRef{i, j, k, a})
				}
			}
		}
	}
	t.bindable = true
	return t
}

// bind returns the tables of the template for vars, under columns
// (Options.Columns) in the generation gen (0: unknown), or false when vars
// or columns may lead Extract elsewhere; stale when columns do: a column
// compares otherwise than when the template was made.
func (t *template) bind(vars []any, columns func(modelTable, column string) collation.Column, gen uint64) (_ []deps.Table, ok, stale bool) {
	if columns != nil && (gen == 0 || gen != t.generation) {
		for _, c := range t.consulted {
			if columns(c.table, c.column) != c.cmp {
				return nil, false, true // a value named otherwise than the template's
			}
		}
	}
	if !t.bindable || len(vars) != t.nvars {
		return nil, false, false
	}
	var buf [16]string
	vals := buf[:0]
	for i := range t.atoms {
		a := &t.atoms[i]
		v := a.val
		if a.slot > 0 {
			var ok bool
			if columns != nil {
				v, ok = CanonFor(vars[a.slot-1], a.f, &a.cmp)
			} else {
				v, ok = Canon(vars[a.slot-1], a.f)
			}
			if !ok || v[0] != a.val[0] {
				return nil, false, false
			}
		}
		vals = append(vals, v)
	}
	for _, p := range t.pairs {
		if (vals[p.a] == vals[p.b]) != p.equal {
			return nil, false, false
		}
	}
	out := cloneTables(t.tables)
	for _, r := range t.terms {
		out[r.table].Conjs[r.conj][r.term].Value = vals[r.atom]
	}
	return out, true, false
}

// smallTables is the memory of a copy of tables as small as most a
// statement proves (a table and a conjunction of a few terms: a read by
// key, a filter), in one allocation.
type smallTables struct {
	tables [1]deps.Table
	conjs  [1]deps.Conj
	terms  [2]deps.Term
}

// cloneTables returns a copy of tables that shares no memory with it, in
// one allocation when it fits a smallTables, else three.
func cloneTables(tables []deps.Table) []deps.Table {
	nconjs, nterms := 0, 0
	for _, t := range tables {
		nconjs += len(t.Conjs)
		for _, c := range t.Conjs {
			nterms += len(c)
		}
	}
	var out []deps.Table
	var conjs []deps.Conj
	var terms []deps.Term
	if len(tables) <= len(smallTables{}.tables) && nconjs <= len(smallTables{}.conjs) && nterms <= len(smallTables{}.terms) {
		s := new(smallTables)
		out = append(s.tables[:0], tables...)
		conjs, terms = s.conjs[:0], s.terms[:0]
	} else {
		out = slices.Clone(tables)
		conjs = make([]deps.Conj, 0, nconjs)
		terms = make([]deps.Term, 0, nterms)
	}
	for i := range out {
		first := len(conjs)
		for _, c := range out[i].Conjs {
			start := len(terms)
			terms = append(terms, c...)
			conjs = append(conjs, terms[start:len(terms):len(terms)])
		}
		out[i].Conjs = conjs[first:len(conjs):len(conjs)]
	}
	return out
}
