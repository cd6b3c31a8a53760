package depscan_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/depscan"
)

// oracle checks dependencies against the database: a row of a table that
// matches none of the table's conjunctions must not matter to the result.
// Deleting it (in a transaction rolled back) must leave the result as it
// was. This is the property the write path relies on: a write whose row
// images match no conjunction is not invalidated.
type oracle struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	schemas map[string]*schema.Schema // by table name
}

func newOracle(t testing.TB, db *gorm.DB) *oracle {
	t.Helper()
	sqlDB, err := db.DB()
	require.NoError(t, err)
	o := &oracle{db: db, sqlDB: sqlDB, schemas: map[string]*schema.Schema{}}
	for _, m := range models() {
		stmt := &gorm.Statement{DB: db}
		require.NoError(t, stmt.Parse(m))
		o.schemas[stmt.Schema.Table] = stmt.Schema
		for _, r := range stmt.Schema.Relationships.Relations {
			if r.JoinTable != nil {
				o.schemas[r.JoinTable.Table] = r.JoinTable
			}
		}
	}
	return o
}

// check verifies the dependencies of one captured query, and reports the
// rows it proved irrelevant.
func (o *oracle) check(t testing.TB, c captured) int {
	t.Helper()
	if c.err != nil || strings.Contains(c.sql, ";") { // go-sqlite3 may loop on empty statements
		return 0
	}
	want, err := o.result(o.sqlDB, c)
	if err != nil {
		return 0 // the query itself fails: nothing to protect
	}
	proved := 0
	for _, tab := range c.tables {
		if tab.Any() {
			continue
		}
		s := o.schemas[tab.Name]
		require.NotNil(t, s, "no model for table %s", tab.Name)
		for _, id := range o.uncovered(t, tab, s) {
			proved++
			tx, err := o.sqlDB.Begin()
			require.NoError(t, err)
			_, err = tx.Exec("DELETE FROM "+tab.Name+" WHERE rowid = ?", id)
			require.NoError(t, err)
			got, err := o.result(tx, c)
			require.NoError(t, tx.Rollback())
			require.NoError(t, err)
			require.Equal(t, want, got, "deleting row %d of %s, which matches none of %v, changes the result of\n%s %v",
				id, tab.Name, tab.Conjs, c.sql, c.vars)
		}
	}
	return proved
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// result runs the query and returns its rows, sorted.
func (o *oracle) result(db querier, c captured) ([]string, error) {
	rows, err := db.QueryContext(context.Background(), c.sql, c.vars...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vals...))
	}
	slices.Sort(out)
	return out, rows.Err()
}

// uncovered returns the rowids of the rows of tab that match none of its
// conjunctions, either as the driver returns them or as model values.
func (o *oracle) uncovered(t testing.TB, tab deps.Table, s *schema.Schema) []int64 {
	t.Helper()
	rows, err := o.sqlDB.Query("SELECT rowid, * FROM " + tab.Name + " ORDER BY rowid")
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	var ids []int64
	var raw []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]any{}
		for i, c := range cols[1:] {
			row[c] = vals[i+1]
		}
		ids = append(ids, vals[0].(int64))
		raw = append(raw, row)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	var structs reflect.Value
	if s.ModelType.Name() != "" { // a model, not a join table
		structs = reflect.New(reflect.SliceOf(s.ModelType))
		require.NoError(t, o.db.Table(tab.Name).Unscoped().Order("rowid").Find(structs.Interface()).Error)
		structs = structs.Elem()
		require.Equal(t, len(ids), structs.Len())
	}

	var out []int64
	for i, id := range ids {
		covered := covers(t, tab.Conjs, s, func(f *schema.Field) any { return raw[i][f.DBName] })
		if covered && structs.IsValid() {
			covered = covers(t, tab.Conjs, s, func(f *schema.Field) any {
				v, _ := f.ValueOf(context.Background(), structs.Index(i))
				return v
			})
		}
		if !covered {
			out = append(out, id)
		}
	}
	return out
}

// covers reports whether a row, whose column values value returns, may
// match one of conjs as the write path will see it: a value that Canon
// refuses matches anything (the write path falls back to the table),
// except a non-NULL value of a column that is not Equatable, which
// matches no term (every term on it is "n").
func covers(t testing.TB, conjs []deps.Conj, s *schema.Schema, value func(*schema.Field) any) bool {
	for _, c := range conjs {
		match := true
		for _, term := range c {
			f := depscan.Field(s, term.Column)
			require.NotNil(t, f, "term on %s, not a column of %s", term.Column, s.Table)
			v := value(f)
			got, ok := depscan.Canon(v, f)
			switch {
			case ok:
				match = got == term.Value
			case !depscan.Equatable(f):
				require.Equal(t, "n", term.Value, "a term on %s, which is not Equatable", term.Column)
				match = false
			}
			if !match {
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// render writes tables compactly: "users: deleted_at=n&name=sann | id=i1;
// photos: *".
func render(tables []deps.Table) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		keys := make([]string, len(t.Conjs))
		for j, c := range t.Conjs {
			keys[j] = c.Key()
		}
		if t.Any() {
			keys = []string{"*"}
		}
		parts[i] = t.Name + ": " + strings.Join(keys, " | ")
	}
	return strings.Join(parts, "; ")
}
