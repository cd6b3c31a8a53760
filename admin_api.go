package gormcache

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/replay"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
)

// This file is what the admin package needs from a Plugin to show and manage
// its entries without a *gorm.DB.

// Config returns the plugin's configuration with its defaults applied,
// except Store, which stays as given: Store() returns the store in use.
func (p *Plugin) Config() Config { return p.cfg }

// Entry kinds DescribeEntry reports.
const (
	EntryQuery   = "query"   // a query result
	EntryValue   = "value"   // a Remember value
	EntryError   = "error"   // a Remember error, cached by CacheErrors
	EntryUnknown = "unknown" // not a value this plugin writes
)

// EntryContent is a cached value decoded for people.
type EntryContent struct {
	// Kind is one of the Entry* kinds.
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

// DescribeEntry decodes a value stored by the plugin: a query result, or a
// Remember value or error. It fails for a query entry that does not decode.
func DescribeEntry(value []byte) (EntryContent, error) {
	if len(value) == 0 {
		return EntryContent{Kind: EntryUnknown}, nil
	}
	switch value[0] {
	case rememberedValue:
		return EntryContent{Kind: EntryValue, Text: printable(value[1:])}, nil
	case rememberedError:
		return EntryContent{Kind: EntryError, Text: printable(value[1:])}, nil
	case entryVersion:
	default:
		return EntryContent{Kind: EntryUnknown, Text: printable(value)}, nil
	}
	sql, encoded, err := splitEntry(value, true)
	if err != nil {
		return EntryContent{}, err
	}
	rs, err := replay.Decode(encoded)
	if err != nil {
		return EntryContent{}, fmt.Errorf("gormcache: decoding a cached result: %w", err)
	}
	c := EntryContent{Kind: EntryQuery, SQL: sql, Columns: make([]string, len(rs.Columns))}
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

// EntrySQL returns the SQL of a query entry's value, with its vars inlined,
// "" for any other value. It decodes no rows: it is cheap enough to call for
// every entry of a store.
func EntrySQL(value []byte) string {
	sql, _, err := splitEntry(value, true)
	if err != nil {
		return ""
	}
	return sql
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

// DepTable returns the table a dependency of one of the plugin's entries
// names, without the prefix, or "" for the dependencies every entry has
// (InvalidateAll's) and those of Remember keys.
func (p *Plugin) DepTable(d store.Dep) string {
	if d == p.global || !strings.HasPrefix(d.Table, p.cfg.Prefix) ||
		strings.HasPrefix(d.Table, p.cfg.Prefix+rememberMarker) {
		return ""
	}
	return strings.TrimPrefix(d.Table, p.cfg.Prefix)
}

// InvalidateTables invalidates every cached result that reads one of
// tables, like InvalidateTable but at once, outside any transaction.
func (p *Plugin) InvalidateTables(ctx context.Context, tables ...string) error {
	names := make([]string, len(tables))
	for i, t := range tables {
		if names[i] = sqlscan.NormalizeTable(t); strings.TrimSpace(names[i]) == "" {
			return fmt.Errorf("gormcache: InvalidateTables: %q is not a table name", t)
		}
	}
	deps := make([]store.Dep, 0, len(names))
	for _, t := range p.cascades.closure(names) {
		deps = append(deps, store.Dep{Table: p.cfg.Prefix + t})
	}
	p.invalidate(ctx, deps)
	return nil
}

// ModelTables returns the tables of models (pointers to model structs, as
// for InvalidateModel), named by GORM's default naming strategy unless a
// model has a TableName method, and learns their cascading foreign keys.
// Call it once per set of models: each call parses them anew.
func (p *Plugin) ModelTables(models ...any) ([]string, error) {
	cache := &sync.Map{}
	tables := make([]string, len(models))
	for i, m := range models {
		s, err := schema.Parse(m, cache, schema.NamingStrategy{})
		if err != nil {
			return nil, fmt.Errorf("gormcache: ModelTables: %T is not a GORM model: %w", m, err)
		}
		p.cascades.learn(s)
		tables[i] = sqlscan.ModelTable(s.Table)
	}
	return tables, nil
}
