package depscan

import (
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// DefaultMaxIn is the longest IN list that Extract tracks value by value
// when Options.MaxIn is 0.
const DefaultMaxIn = 16

// maxConjs bounds the conjunctions of one formula. An AND whose product
// would exceed it keeps only its smaller side, an OR that would exceed it
// becomes TRUE: both are coarser, never unsafe.
const maxConjs = 64

// Options tunes Extract. The zero value tracks every column and relation,
// with IN lists of up to DefaultMaxIn values.
type Options struct {
	// MaxIn is the longest IN list tracked value by value; a longer list
	// is a wildcard for its column. 0 (or less) means DefaultMaxIn.
	MaxIn int
	// Fields restricts tracking to these names, as gormcache.Cache(fields...)
	// lists them: Go field names or column names of the model, and relation
	// paths ("User", "Message.Sender", and "User.Name" for one column of a
	// relation). Terms on anything else are dropped, which is coarser but
	// never unsafe. Empty tracks everything.
	Fields []string
	// Columns, when set, tells how the database compares each column of
	// a model's table (named as the model's Table), where the model's
	// types do not tell it: collations and conversions, read from the
	// database's catalogue (package collation). Terms are then proven as
	// CanonFor allows, strings included. Unset, values compare as Canon
	// says, which holds in SQLite and PostgreSQL for the columns whose
	// model declares no type; other dialects then get no string terms.
	Columns func(modelTable, column string) collation.Column
	// Generation, when set with Columns, names the state of what Columns
	// answers (collation.Catalog.Generation): an Extractor's template
	// made in one state binds in the same state without asking Columns
	// again.
	Generation func() uint64
}

// Extract returns what the built statement stmt reads: one deps.Table per
// table that a.Reads reports, in that order (then any table of the FROM
// list it missed), with the conjunctions of equalities a row must satisfy
// to matter to the result. Tables for which nothing can be proven have the
// empty Conj. See the package documentation for the rules.
//
// stmt must be built (callbacks.BuildQuerySQL, or a raw SQL statement) and
// a must be sqlscan.Analyze(stmt.SQL.String()): Extract reads the tokens of
// a, stmt.Vars, and stmt.Schema and stmt.Joins for the types and relations
// of the columns. The only error is a name in opts.Fields that is unknown
// for the model (deps.ErrUnknownField).
//
// Extract lexes nothing and costs a few microseconds for a typical
// statement.
func Extract(stmt *gorm.Statement, a *sqlscan.Analysis, opts Options) ([]deps.Table, error) {
	out, _, err := extract(stmt, a, opts, false)
	return out, err
}

// extract is Extract, which also returns the template of its proof when
// withTemplate is set.
func extract(stmt *gorm.Statement, a *sqlscan.Analysis, opts Options, withTemplate bool) ([]deps.Table, *template, error) {
	track, err := resolveFields(stmt.Schema, opts.Fields)
	if err != nil {
		return nil, nil, err
	}
	out := make([]deps.Table, len(a.Reads))
	for i, name := range a.Reads {
		out[i].Name = name
	}
	if !a.Unknown {
		q := getQuery(stmt, opts, track)
		if q.parse(a) {
			out = q.tables(out)
		}
		defer putQuery(q)
		fill(out)
		if withTemplate {
			return out, q.newTemplate(out), nil
		}
		return out, nil, nil
	}
	fill(out)
	if withTemplate {
		return out, &template{nvars: len(stmt.Vars), tables: cloneTables(out), bindable: true}, nil
	}
	return out, nil, nil
}

// fill gives the tables without conjunctions the empty one: any row.
func fill(out []deps.Table) {
	for i := range out {
		if len(out[i].Conjs) == 0 {
			out[i].Conjs = []deps.Conj{{}}
		}
	}
}
