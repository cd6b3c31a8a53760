// Package rowimage reads the rows a write changes, as images: column ->
// value. gormcache's write path reads a row before and after a write (or
// takes the after from the write's SET clause, where MySQL's catalogue
// allows it), inside the write's transaction, and invalidates the cached
// results those values belong to.
package rowimage

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/aftercommit"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// Image is one row as a write saw it: column name (lowercase) -> the value
// of the model field, as Go typed it.
type Image map[string]any

// ValueImages returns the images of the model values in rv (see Values).
func ValueImages(ctx context.Context, s *schema.Schema, rv reflect.Value) []Image {
	values := Values(rv)
	images := make([]Image, len(values))
	for i, v := range values {
		images[i] = image(ctx, s, v)
	}
	return images
}

// Values returns the model structs rv holds: rv itself, a pointer to one,
// or the elements of a slice or array of them (or of pointers to them).
func Values(rv reflect.Value) []reflect.Value {
	rv = reflect.Indirect(rv)
	switch rv.Kind() {
	case reflect.Struct:
		return []reflect.Value{rv}
	case reflect.Slice, reflect.Array:
		values := make([]reflect.Value, 0, rv.Len())
		for i := range rv.Len() {
			if elem := reflect.Indirect(rv.Index(i)); elem.Kind() == reflect.Struct {
				values = append(values, elem)
			}
		}
		return values
	}
	return nil
}

func image(ctx context.Context, s *schema.Schema, rv reflect.Value) Image {
	img := make(Image, len(s.DBNames))
	for _, name := range s.DBNames {
		f := s.FieldsByDBName[name]
		v, _ := f.ValueOf(ctx, rv)
		img[strings.ToLower(name)] = v
	}
	return img
}

// Why Read read no rows.
var (
	ErrTooManyRows = errors.New("gormcache: more rows than the limit to read")
	ErrUnreadable  = errors.New("gormcache: the rows could not be read")
)

// read reads, through pool (the write's transaction), the rows of s's table
// that where selects, locking them for update where the dialect can. It
// fails with ErrTooManyRows when more than limit rows match, and with the
// database's error when the read fails. Every column is read (SELECT *),
// whatever the model declares, so that a model field the table lacks
// cannot fail it.
//
// The SELECT is GORM's — its clauses, written by the dialect's builders,
// scanned into the model by gorm.Scan, logged by db's logger — but it is
// built on a bare statement and run on pool itself, not through a session
// and the query callbacks: it is the plugin's statement, not the
// application's, so no hook, scope or plugin has a say in it, and on
// MySQL a session and its callbacks cost a row-level write as much CPU as
// everything else the plugin does for it.
func read(db *gorm.DB, pool gorm.ConnPool, s *schema.Schema, where clause.Where, lock bool, limit int) ([]Image, error) {
	begin := time.Now()
	ctx := db.Statement.Context
	// Room for the one row most writes change: gorm.Scan makes room for
	// twenty in an empty slice.
	rows := reflect.New(reflect.SliceOf(s.ModelType))
	rows.Elem().Set(reflect.MakeSlice(rows.Elem().Type(), 0, 1))
	tx := &gorm.DB{Config: db.Config}
	stmt := &gorm.Statement{DB: tx, ConnPool: pool, Context: ctx, Schema: s, Dest: rows.Interface(), ReflectValue: rows.Elem(),
		Clauses: map[string]clause.Clause{}}
	tx.Statement = stmt
	tx.Table(s.Table)
	n := limit + 1
	stmt.AddClause(clause.Select{Columns: []clause.Column{{Name: "*", Raw: true}}})
	stmt.AddClause(clause.From{})
	if len(where.Exprs) > 0 {
		stmt.AddClause(where)
	}
	stmt.AddClause(clause.Limit{Limit: &n})
	if lock {
		stmt.AddClause(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	stmt.Build("SELECT", "FROM", "WHERE", "LIMIT", "FOR")
	query, vars := stmt.SQL.String(), stmt.Vars
	if textual(db.Dialector.Name(), pool) {
		if sql, ok := withIntegers(query, vars); ok {
			query, vars = sql, nil
		}
	}
	if tx.Error == nil {
		r, err := pool.QueryContext(ctx, query, vars...)
		if err == nil {
			gorm.Scan(r, tx, 0)
			tx.AddError(r.Close())
		}
		tx.AddError(err)
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) {
		sql, vars := query, vars
		if filter, ok := db.Logger.(gorm.ParamsFilter); ok {
			sql, vars = filter.ParamsFilter(ctx, sql, vars...)
		}
		return db.Dialector.Explain(sql, vars...), tx.RowsAffected
	}, tx.Error)
	if tx.Error != nil {
		return nil, tx.Error
	}
	if rows.Elem().Len() > limit {
		return nil, ErrTooManyRows
	}
	return ValueImages(ctx, s, rows), nil
}

// textual reports whether a read through pool is cheaper with its
// arguments written into the SQL: MySQL's driver (unless its DSN says
// interpolateParams) prepares a statement with arguments, runs it and
// closes it, two round trips where one without arguments takes one. Not
// on pools of prepared statements, which would prepare each text anew.
func textual(dialect string, pool gorm.ConnPool) bool {
	switch pool.(type) {
	case *gorm.PreparedStmtDB, *gorm.PreparedStmtTX:
		return false
	}
	return dialect == "mysql"
}

// withIntegers returns sql with each ? placeholder replaced by its
// argument in vars, and false unless every argument is an integer, not a
// driver.Valuer (an integer needs no quoting, whatever the session's
// sql_mode and character set), and the placeholders and arguments pair
// one to one.
func withIntegers(sql string, vars []any) (string, bool) {
	var b strings.Builder
	b.Grow(len(sql) + 8*len(vars))
	lx, last, n := sqlscan.NewLexer(sql), 0, 0
	for t := lx.Next(); t.Kind != sqlscan.EOF; t = lx.Next() {
		if t.Kind == sqlscan.Invalid {
			return "", false
		}
		if t.Kind != sqlscan.Param || t.Text != "?" {
			continue
		}
		if n == len(vars) {
			return "", false
		}
		if _, valuer := vars[n].(driver.Valuer); valuer {
			return "", false // sent as its Value says
		}
		b.WriteString(sql[last:t.Pos])
		switch v := reflect.ValueOf(vars[n]); v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b.WriteString(strconv.FormatInt(v.Int(), 10))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b.WriteString(strconv.FormatUint(v.Uint(), 10))
		default:
			return "", false
		}
		last, n = t.Pos+len(t.Text), n+1
	}
	if n != len(vars) {
		return "", false
	}
	b.WriteString(sql[last:])
	return b.String(), true
}

// PrimaryKeyWhere returns the condition selecting the rows of images by
// primary key, and false when s has no primary key or an image lacks it.
func PrimaryKeyWhere(s *schema.Schema, images []Image) (clause.Where, bool) {
	if len(s.PrimaryFields) == 0 || len(images) == 0 {
		return clause.Where{}, false
	}
	ors := make([]clause.Expression, 0, len(images))
	for _, img := range images {
		ands := make([]clause.Expression, 0, len(s.PrimaryFields))
		for _, f := range s.PrimaryFields {
			v, ok := img[strings.ToLower(f.DBName)]
			if !ok || v == nil {
				return clause.Where{}, false
			}
			ands = append(ands, clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: f.DBName}, Value: v})
		}
		ors = append(ors, clause.And(ands...))
	}
	return clause.Where{Exprs: []clause.Expression{clause.Or(ors...)}}, true
}

// Read reads, inside the write's transaction (pool), the rows of s's table
// that where selects, as images. When it reads none it says why:
// ErrTooManyRows (more than limit match) or ErrUnreadable; the caller then
// invalidates the table. With forUpdate the rows are about to change: they
// are locked FOR UPDATE, and on SQLite the write lock is taken first — a
// transaction that reads before it writes must upgrade its lock, which
// SQLite refuses at once, without waiting, whenever another connection
// writes.
//
// The read must never make the user's write fail. Where a failed statement
// aborts the transaction (PostgreSQL), the first read of a table runs under
// a savepoint; see Reader. Any other error is the database's refusal to
// roll that savepoint back: the transaction is unusable, and the write must
// fail with it.
func (r *Reader) Read(db *gorm.DB, s *schema.Schema, pool gorm.ConnPool, where clause.Where, forUpdate bool, limit int) ([]Image, error) {
	table := sqlscan.ModelTable(s.Table)
	trusted, failing := r.state(table)
	if failing {
		return nil, ErrUnreadable
	}
	ctx := db.Statement.Context
	dialect := db.Dialector.Name()
	if forUpdate && dialect == "sqlite" {
		// A write of no row takes the write lock, waiting for it as long as
		// the connection's busy timeout allows, as the user's write would.
		if _, err := pool.ExecContext(ctx, "DELETE FROM "+db.Statement.Quote(s.Table)+" WHERE 0"); err != nil {
			r.failed(table)
			return nil, ErrUnreadable
		}
	}
	guard := !trusted && dialect == "postgres" && aftercommit.InTransaction(pool)
	if guard {
		if _, err := pool.ExecContext(ctx, "SAVEPOINT gormcache_images"); err != nil {
			return nil, ErrUnreadable
		}
	}
	images, err := read(db, pool, s, where, forUpdate && dialect != "sqlite", limit)
	tooMany := errors.Is(err, ErrTooManyRows)
	if guard {
		if err != nil && !tooMany {
			if _, rbErr := pool.ExecContext(ctx, "ROLLBACK TO SAVEPOINT gormcache_images"); rbErr != nil {
				return nil, rbErr
			}
		}
		if _, relErr := pool.ExecContext(ctx, "RELEASE SAVEPOINT gormcache_images"); relErr != nil && err == nil {
			err = relErr
		}
	}
	switch {
	case err == nil:
		r.worked(table)
		return images, nil
	case tooMany:
		return nil, ErrTooManyRows
	}
	r.failed(table)
	return nil, ErrUnreadable
}

// retryAfter is how long a table whose rows could not be read is written
// without reading them, before the Reader tries again.
const retryAfter = time.Minute

// Reader reads images, and remembers, per table, how reading its rows
// inside a write's transaction went. The read uses the write's own
// conditions, so it fails where the write succeeds only for what is the
// table's own: a view with INSTEAD OF triggers that cannot be locked, a
// column privilege the write does not need. Until a table's rows have been
// read once they are read under a savepoint (two round trips more on
// PostgreSQL); once a read has worked, bare; after a failure, not at all
// (the table is invalidated as a whole) for retryAfter. DDL on a table
// forgets what was learned of it. The zero Reader is ready to use.
type Reader struct {
	m sync.Map // table -> time.Time: zero once a read worked, else when one failed
}

func (r *Reader) state(table string) (trusted, failing bool) {
	v, ok := r.m.Load(table)
	if !ok {
		return false, false
	}
	at := v.(time.Time)
	if at.IsZero() {
		return true, false
	}
	return false, time.Since(at) < retryAfter
}

func (r *Reader) worked(table string) {
	if v, ok := r.m.Load(table); !ok || !v.(time.Time).IsZero() {
		r.m.Store(table, time.Time{})
	}
}

func (r *Reader) failed(table string) { r.m.Store(table, time.Now()) }

// Forget drops what was learned of tables, or of every table: DDL changed
// them.
func (r *Reader) Forget(tables []string, all bool) {
	if all {
		r.m.Clear()
		return
	}
	for _, table := range tables {
		r.m.Delete(table)
	}
}
