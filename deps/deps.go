package deps

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
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

// String returns t as SQL, a string literal with its quotes doubled:
//
//	author_id = 3
//	title = 'it''s'
//	active = true
//	deleted_at IS NULL
//
// A column that is not a plain identifier is quoted ("my col" = 3). A
// Value that is not canonical is shown quoted as it is: author_id
// (invalid value "x").
func (t Term) String() string {
	col := t.Column
	if !plainIdent(col) {
		col = `"` + strings.ReplaceAll(col, `"`, `""`) + `"`
	}
	v, ok := sqlValue(t.Value)
	switch {
	case !ok:
		return col + " (invalid value " + strconv.Quote(t.Value) + ")"
	case v == "NULL":
		return col + " IS NULL"
	}
	return col + " = " + v
}

// Conj is a conjunction of equalities on one table, sorted by Column, one
// term per column. An empty Conj means "any row of the table".
type Conj []Term

// String returns c as an SQL condition, its terms (see Term.String)
// joined by " AND ": status = 2 AND user_id = 5. The empty Conj is TRUE.
func (c Conj) String() string {
	if len(c) == 0 {
		return "TRUE"
	}
	var b strings.Builder
	for i, t := range c {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

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
	n := 0
	for _, t := range c {
		n += len(t.Column) + len(t.Value) + 2
	}
	var b strings.Builder
	b.Grow(n)
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

// ParseConj returns the conjunction whose Key is key, and an error for a
// string that is not the Key of any conjunction: it inverts Key exactly.
// The empty key is the empty Conj. The terms must be column=value with
// names and values escaped as Key escapes them, columns in increasing
// order without a comma, and canonical values.
func ParseConj(key string) (Conj, error) {
	if key == "" {
		return nil, nil
	}
	c := make(Conj, 0, strings.Count(key, "&")+1)
	for term := range strings.SplitSeq(key, "&") {
		t, err := parseTerm(term)
		if err != nil {
			return nil, fmt.Errorf("gormcache: conjunction %q: %w", key, err)
		}
		if n := len(c); n > 0 && t.Column <= c[n-1].Column {
			return nil, fmt.Errorf("gormcache: conjunction %q: column %q after %q", key, t.Column, c[n-1].Column)
		}
		c = append(c, t)
	}
	return c, nil
}

// parseTerm parses one column=value of a Key.
func parseTerm(term string) (Term, error) {
	rawCol, rawVal, ok := strings.Cut(term, "=")
	if !ok {
		return Term{}, fmt.Errorf("term %q is not column=value", term)
	}
	col, err := unescape(rawCol)
	if err != nil {
		return Term{}, err
	}
	if col == "" || strings.IndexByte(col, ',') >= 0 {
		return Term{}, fmt.Errorf("invalid column %q", col)
	}
	val, err := unescape(rawVal)
	if err != nil {
		return Term{}, err
	}
	if _, ok := sqlValue(val); !ok {
		return Term{}, fmt.Errorf("column %s: %q is not a canonical value", col, val)
	}
	return Term{Column: col, Value: val}, nil
}

// unescape returns the string that url.QueryEscape escapes to s, if any.
func unescape(s string) (string, error) {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", err
	}
	if url.QueryEscape(u) != s {
		return "", fmt.Errorf("%q is not escaped as Key escapes", s)
	}
	return u, nil
}

// sqlValue returns the SQL form of a canonical value — NULL, 3, 'ann',
// true — or false when v is not canonical.
func sqlValue(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	switch body := v[1:]; v[0] {
	case 'n':
		return "NULL", body == ""
	case 'i':
		return body, canonicalInt(body)
	case 's':
		return "'" + strings.ReplaceAll(body, "'", "''") + "'", true
	case 'h':
		return "a string of SHA-256 " + body + "…", len(body) == 22 && validDigest(body)
	case 'b':
		switch body {
		case "1":
			return "true", true
		case "0":
			return "false", true
		}
	}
	return "", false
}

// MaxStringValue is the length in bytes of the longest string a dependency
// names as it is (s...). A longer one is named by the first 128 bits of
// its SHA-256 (h...), base64url: dependencies are named in store keys,
// which must not grow with the data (Redis refuses keys beyond its
// proto-max-bulk-len).
const MaxStringValue = 128

// validDigest reports whether s is base64url without padding.
func validDigest(s string) bool {
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// canonicalInt reports whether s is an int64 or a uint64 as strconv
// formats it: no sign but a minus, no leading zero.
func canonicalInt(s string) bool {
	var buf [24]byte
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return string(strconv.AppendInt(buf[:0], n, 10)) == s
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && string(strconv.AppendUint(buf[:0], n, 10)) == s
}

// plainIdent reports whether s needs no quotes as a column name: ASCII
// lowercase letters, digits and _, not starting with a digit.
func plainIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || c == '_' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
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
