package entry

import "github.com/gormcache/gormcache/internal/sqlscan"

// What a listing of many values reads of each: its SQL and its kind.

// SQLReader returns the SQL of values as SQL does, for many values at once
// (a search of every entry): it remembers where the placeholders of the
// statements it has read are, so that the many values of one query shape
// are lexed once. The zero value is ready to use; it is not safe for
// concurrent use.
type SQLReader struct {
	params map[string][]sqlscan.Placeholder
}

// maxStatements bounds the statements a SQLReader remembers.
const maxStatements = 10_000

// SQL returns the SQL of a query result, its text with the vars of its
// value inlined, "" for any other value.
func (r *SQLReader) SQL(text string, value []byte) string {
	vars, _, err := splitEntry(value)
	if err != nil {
		return ""
	}
	if len(vars) == 0 {
		return text
	}
	ps, ok := r.params[text]
	if !ok {
		ps, _ = sqlscan.Placeholders(text)
		if r.params == nil {
			r.params = map[string][]sqlscan.Placeholder{}
		}
		if len(r.params) < maxStatements {
			r.params[text] = ps
		}
	}
	return inline(text, vars, ps)
}

// KindOf returns the kind of a value, one of the Kind* kinds, from its
// first byte: it decodes nothing.
func KindOf(value []byte) string {
	if len(value) == 0 {
		return KindUnknown
	}
	switch kind, _, _, ok := Remembered(value); {
	case value[0] == Version:
		return KindQuery
	case ok && kind == RememberedValue:
		return KindValue
	case ok:
		return KindError
	}
	return KindUnknown
}
