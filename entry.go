package gormcache

import (
	"database/sql/driver"
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gormcache/gormcache/internal/replay"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// An entry's value is: a version byte; the statement's SQL and its vars,
// formatted as SQL literals (for people reading the cache: the admin pages);
// and the recorded rows. The vars are inlined only when shown: doing it as
// the dialect's Explain does would cost every miss microseconds of
// regular-expression work.
const entryVersion = 2

// encodeEntry encodes an entry's value; rows is a *replay.Rowset or a
// *replay.Recorder.
func encodeEntry(sql string, vars []any, rows encoding.BinaryAppender) ([]byte, error) {
	texts := make([]string, 1+len(vars))
	texts[0] = sql
	for i, v := range vars {
		texts[1+i] = formatVar(v)
	}
	b := make([]byte, 0, 256+len(sql)+16*len(vars))
	b = replay.AppendTexts(append(b, entryVersion), texts)
	return rows.AppendBinary(b)
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
	var b strings.Builder
	b.Grow(len(sql) + 8*len(vars))
	last, next := 0, 0
	for lx := sqlscan.NewLexer(sql); ; {
		t := lx.Next()
		if t.Kind == sqlscan.EOF || t.Kind == sqlscan.Invalid {
			break
		}
		if t.Kind != sqlscan.Param {
			continue
		}
		i := -1
		switch {
		case t.Text == "?":
			i, next = next, next+1
		case strings.HasPrefix(t.Text, "$"), strings.HasPrefix(t.Text, "@p"):
			if n, err := strconv.Atoi(strings.TrimLeft(t.Text, "$@p")); err == nil {
				i = n - 1
			}
		}
		if i < 0 || i >= len(vars) {
			continue
		}
		b.WriteString(sql[last:t.Pos])
		b.WriteString(vars[i])
		last = t.Pos + len(t.Text)
	}
	b.WriteString(sql[last:])
	return b.String()
}

// splitEntry returns the SQL, with its vars inlined when inline is set,
// and the encoded rows of an entry's value.
func splitEntry(b []byte, inline bool) (sql string, rows []byte, err error) {
	if len(b) == 0 || b[0] != entryVersion {
		return "", nil, fmt.Errorf("gormcache: cache entry of an unknown version")
	}
	texts, rows, err := replay.CutTexts(b[1:])
	if err != nil {
		return "", nil, err
	}
	if len(texts) == 0 {
		return "", nil, replay.ErrCorrupt
	}
	sql = texts[0]
	if inline {
		sql = inlineVars(sql, texts[1:])
	}
	return sql, rows, nil
}

// entryRows decodes the rows of an entry's value; they keep references into b.
func entryRows(b []byte) (*replay.Rowset, error) {
	_, rows, err := splitEntry(b, false)
	if err != nil {
		return nil, err
	}
	return replay.Decode(rows)
}
