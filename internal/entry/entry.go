// Package entry is the format of the values gormcache stores, and the names
// of the dependencies it tracks: the plugin writes them, the admin pages
// read them back for people.
//
// A value's first byte says what it is: a query result (Version), whose
// value holds the statement's vars formatted as SQL literals and the rows
// as the driver returned them (its SQL is the entry's store.Entry.Text,
// which stores keep apart from values and share between entries); or a
// Remember value (RememberedValue) or error (RememberedError).
package entry

import (
	"database/sql/driver"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gormcache/gormcache/internal/replay"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
)

// The first byte of a value: a query result's format version, or what a
// Remember value holds.
const (
	// Version is the format of query results: when the rows were read
	// (unix nanoseconds, 8 bytes big-endian, for the age of a hit), the
	// statement's vars, formatted as SQL literals (for people reading the
	// cache), and the recorded rows. The vars are inlined in the SQL only
	// when shown: doing it as the dialect's Explain does would cost every
	// miss microseconds of regular-expression work. (Version 3 held the
	// SQL too: 60 to 200 bytes of every entry, the same for all the
	// entries of a statement.)
	Version byte = 4
	// RememberedValue is followed by when fn returned it (unix
	// nanoseconds, 8 bytes big-endian, for the age of a hit) and a
	// Remember value, as its codec encoded it. ('v' held no time.)
	RememberedValue byte = 'V'
	// RememberedError is followed by when fn returned it and the message
	// of an error that Remember caches (CacheErrors). ('e' held no time.)
	RememberedError byte = 'E'
)

// AppendRemembered appends to b the value of a Remember entry of kind
// (RememberedValue or RememberedError) that fn returned at created: data
// is the value as its codec encoded it, or the error's message.
func AppendRemembered(b []byte, kind byte, created time.Time, data []byte) []byte {
	b = binary.BigEndian.AppendUint64(append(slices.Grow(b, header+len(data)), kind), uint64(created.UnixNano()))
	return append(b, data...)
}

// Remembered returns the kind, the time and the data of the value of a
// Remember entry (see AppendRemembered); ok is false for any other value.
func Remembered(value []byte) (kind byte, created time.Time, data []byte, ok bool) {
	if len(value) < header || (value[0] != RememberedValue && value[0] != RememberedError) {
		return 0, time.Time{}, nil, false
	}
	return value[0], time.Unix(0, int64(binary.BigEndian.Uint64(value[1:]))), value[header:], true
}

// header is the bytes of a query result before its texts: Version and
// when the rows were read.
const header = 1 + 8

// EncodeQuery encodes the value of a query result of a statement with
// vars; rows is a *replay.Rowset or a *replay.Recorder. The statement's SQL
// is stored beside it, as the entry's store.Entry.Text.
func EncodeQuery(vars []any, rows encoding.BinaryAppender) ([]byte, error) {
	texts := make([]string, len(vars))
	size := header + binary.MaxVarintLen64
	for i, v := range vars {
		texts[i] = formatVar(v)
		size += binary.MaxVarintLen64 + len(texts[i])
	}
	if r, ok := rows.(interface{ EncodedLen() int }); ok {
		size += r.EncodedLen()
	} else {
		size += 256
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint64(append(b, Version), uint64(time.Now().UnixNano()))
	b = replay.AppendTexts(b, texts)
	return rows.AppendBinary(b)
}

// Created returns when the rows of a query result's value were read, or
// when fn returned a Remember value or error, and false for any other
// value.
func Created(value []byte) (time.Time, bool) {
	if len(value) < header || (value[0] != Version && value[0] != RememberedValue && value[0] != RememberedError) {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(value[1:]))), true
}

// formatVar formats a statement var as a SQL literal: strings, bytes and
// times quoted, NULL for nil.
func formatVar(v any) string {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "NULL"
		}
		if _, ok := v.(driver.Valuer); !ok {
			v = rv.Elem().Interface()
		}
	}
	if valuer, ok := v.(driver.Valuer); ok {
		dv, err := valuer.Value()
		if err != nil {
			return "?"
		}
		v = dv
	}
	switch x := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case []byte:
		if utf8.Valid(x) {
			return formatVar(string(x))
		}
	case time.Time:
		return "'" + formatValue(x) + "'"
	}
	return formatValue(v)
}

// inlineVars writes each var in place of its placeholder in sql: ? takes
// the next var, $n and @pn the n-th. A placeholder without a var stays.
func inlineVars(sql string, vars []string) string {
	if len(vars) == 0 {
		return sql
	}
	ps, _ := sqlscan.Placeholders(sql)
	return inline(sql, vars, ps)
}

// inline writes each var in place of its placeholder of ps in sql.
func inline(sql string, vars []string, ps []sqlscan.Placeholder) string {
	var b strings.Builder
	b.Grow(len(sql) + 8*len(vars))
	last := 0
	for _, p := range ps {
		if p.Index < 0 || p.Index >= len(vars) {
			continue
		}
		b.WriteString(sql[last:p.Start])
		b.WriteString(vars[p.Index])
		last = p.End
	}
	b.WriteString(sql[last:])
	return b.String()
}

// splitEntry returns the vars, formatted as SQL literals, and the encoded
// rows of a query result's value.
func splitEntry(b []byte) (vars []string, rows []byte, err error) {
	if len(b) < header || b[0] != Version {
		return nil, nil, fmt.Errorf("gormcache: cache entry of an unknown version")
	}
	return replay.CutTexts(b[header:])
}

// QueryRows decodes the rows of a query result's value; they keep
// references into b.
func QueryRows(b []byte) (*replay.Rowset, error) {
	_, rows, err := splitEntry(b)
	if err != nil {
		return nil, err
	}
	return replay.Decode(rows)
}

// Kinds of values Describe reports.
const (
	KindQuery   = "query"   // a query result
	KindValue   = "value"   // a Remember value
	KindError   = "error"   // a Remember error, cached by CacheErrors
	KindUnknown = "unknown" // not a value gormcache writes
)

// Content is a cached value decoded for people.
type Content struct {
	// Kind is one of the Kind* kinds.
	Kind string
	// SQL is the statement of a query entry, with its vars inlined.
	SQL string
	// Columns and Rows are the result of a query entry, each value
	// formatted as text: NULL for a null, hex for bytes that are not UTF-8.
	Columns []string
	Rows    [][]string
	// Text is a Remember value as its codec encoded it (JSON by default),
	// or the message of a Remember error.
	Text string
}

// Describe decodes a value stored by the plugin, and its text (the
// entry's store.Entry.Text): a query result, or a Remember value or error.
// It fails for a query result that does not decode.
func Describe(text string, value []byte) (Content, error) {
	if len(value) == 0 {
		return Content{Kind: KindUnknown}, nil
	}
	if kind, _, data, ok := Remembered(value); ok {
		if kind == RememberedError {
			return Content{Kind: KindError, Text: printable(data)}, nil
		}
		return Content{Kind: KindValue, Text: printable(data)}, nil
	}
	if value[0] != Version {
		return Content{Kind: KindUnknown, Text: printable(value)}, nil
	}
	vars, encoded, err := splitEntry(value)
	if err != nil {
		return Content{}, err
	}
	rs, err := replay.Decode(encoded)
	if err != nil {
		return Content{}, fmt.Errorf("gormcache: decoding a cached result: %w", err)
	}
	c := Content{Kind: KindQuery, SQL: inlineVars(text, vars), Columns: make([]string, len(rs.Columns))}
	for i, col := range rs.Columns {
		c.Columns[i] = col.Name
	}
	c.Rows = make([][]string, rs.Len())
	for i := range c.Rows {
		row := rs.Row(i)
		c.Rows[i] = make([]string, len(row))
		for j, v := range row {
			c.Rows[i][j] = formatValue(v)
		}
	}
	return c, nil
}

// SQL returns the SQL of a query result, its text with the vars of its
// value inlined, "" for any other value. It decodes no rows: it is cheap
// enough to call for every entry of a store.
func SQL(text string, value []byte) string {
	vars, _, err := splitEntry(value)
	if err != nil {
		return ""
	}
	return inlineVars(text, vars)
}

func formatValue(v driver.Value) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return printable(v)
	case string:
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		// Statement vars are the Go values a query was given, often an int
		// or a uint key: formatted as fmt.Sprint would, without its cost.
		return strconv.Itoa(v)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return "0x" + hex.EncodeToString(b)
}

// The dependencies of gormcache's entries, beside those of tables (named by
// the prefix and the table): every entry depends on Global(prefix), which
// InvalidateAll renews; a Remember value on its key, RememberKey. A query's
// key is the prefix and 32 characters of base64url, which never hold a
// colon: it cannot collide with a Remember key.
const (
	globalTable    = "*"
	rememberMarker = "fn:"
)

// Global returns the dependency every entry of a plugin with prefix has.
func Global(prefix string) store.Dep { return store.Dep{Table: prefix + globalTable} }

// RememberKey returns the store key of the value Remember caches under key,
// which is also the name of the dependency Forget renews.
func RememberKey(prefix, key string) string { return prefix + rememberMarker + key }

// Table returns the table a dependency of an entry of a plugin with prefix
// names, without the prefix, or "" for Global and Remember keys.
func Table(prefix string, d store.Dep) string {
	if d == Global(prefix) || !strings.HasPrefix(d.Table, prefix) ||
		strings.HasPrefix(d.Table, prefix+rememberMarker) {
		return ""
	}
	return strings.TrimPrefix(d.Table, prefix)
}
