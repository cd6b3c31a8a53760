package deps

import (
	"errors"
	"net/url"
	"strings"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/sqlscan"
)

// ErrUnknownField is returned by Extract, wrapped with the name and the
// model, for a name in Options.Fields that is neither a field, a column nor
// a relation path of the statement's model.
var ErrUnknownField = errors.New("gormcache: unknown field")

// DefaultMaxIn is the longest IN list that Extract tracks value by value
// when Options.MaxIn is 0.
const DefaultMaxIn = 16

// maxConjs bounds the conjunctions of one formula. An AND whose product
// would exceed it keeps only its smaller side, an OR that would exceed it
// becomes TRUE: both are coarser, never unsafe.
const maxConjs = 64

// Term is one proven equality of a conjunction.
type Term struct {
	Column string // column name: unquoted, lowercase
	Value  string // canonical value, see Canon
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
	Name string // normalized table name, as sqlscan reports it
	// Conjs is a disjunction, in a deterministic order (shorter first),
	// without a conjunction that another one implies. It is exactly one
	// empty Conj when any row may matter; it is never empty.
	Conjs []Conj
}

// Any reports whether any row of the table may matter to the query: its
// one conjunction is empty.
func (t Table) Any() bool { return len(t.Conjs) == 1 && len(t.Conjs[0]) == 0 }

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
	// Analysis is sqlscan.Analyze of the statement's SQL when the caller
	// has it already (the plugin keeps analyses of recent SQL texts);
	// Extract analyses the SQL itself when it is nil. sqlscan is internal
	// to this module: callers outside it leave Analysis nil.
	Analysis *sqlscan.Analysis
}

// Extract returns what the built statement stmt reads: one Table per table
// that sqlscan.Analyze(stmt.SQL.String()).Reads reports, in that order
// (then any table of the FROM list it missed), with the conjunctions of
// equalities a row must satisfy to matter to the result. Tables for which
// nothing can be proven have the empty Conj. See the package documentation
// for the rules.
//
// stmt must be built (callbacks.BuildQuerySQL, or a raw SQL statement):
// Extract reads stmt.SQL and stmt.Vars, and stmt.Schema and stmt.Joins for
// the types and relations of the columns. The only error is a name in
// opts.Fields that is unknown for the model (ErrUnknownField).
//
// Extract costs a few microseconds for a typical statement. It reads the
// tokens of the analysis: given opts.Analysis, it lexes nothing.
func Extract(stmt *gorm.Statement, opts Options) ([]Table, error) {
	track, err := resolveFields(stmt.Schema, opts.Fields)
	if err != nil {
		return nil, err
	}
	sql := stmt.SQL.String()
	a := opts.Analysis
	if a == nil {
		analysis := sqlscan.Analyze(sql)
		a = &analysis
	}
	out := make([]Table, len(a.Reads))
	for i, name := range a.Reads {
		out[i].Name = name
	}
	if !a.Unknown {
		q := getQuery(stmt, opts, track)
		if q.parse(sql, a.Tokens) {
			out = q.tables(out)
		}
		putQuery(q)
	}
	for i := range out {
		if len(out[i].Conjs) == 0 {
			out[i].Conjs = []Conj{{}}
		}
	}
	return out, nil
}
