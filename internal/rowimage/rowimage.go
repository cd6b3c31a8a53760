// Package rowimage reads the rows a write changes, as images: column ->
// value. gormcache's write path reads a row before and after a write (or
// takes the after from the write's SET clause, where MySQL's catalogue
// allows it), inside the write's transaction, and invalidates the cached
// results those values belong to.
package rowimage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"slices"
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
// of the model field, as Go typed it, or, for a row read from the
// database, what was stored where the field's value does not stand for it
// (see imageValue).
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
// The SELECT is GORM's — its clauses, written by the dialect's builders
// (once per shape of condition, see sqlOf), its columns set through the
// model's fields (see scan), logged by db's logger — but it is built on a
// bare statement and run on pool itself, not through a session and the
// query callbacks: it is the plugin's statement, not the application's, so
// no hook, scope or plugin has a say in it, and on MySQL a session and its
// callbacks cost a row-level write as much CPU as everything else the
// plugin does for it.
func (r *Reader) read(db *gorm.DB, pool gorm.ConnPool, s *schema.Schema, where clause.Where, lock bool, limit int) ([]Image, error) {
	begin := time.Now()
	ctx := db.Statement.Context
	tx := &gorm.DB{Config: db.Config}
	// The table as GORM's Statement.Parse names a model's.
	tx.Statement = &gorm.Statement{DB: tx, ConnPool: pool, Context: ctx, Schema: s, Table: s.Table}
	query, vars := r.sqlOf(tx.Statement, where, lock, limit, textual(db.Dialector.Name(), pool))
	var (
		images  []Image
		tooMany bool
	)
	if tx.Error == nil {
		rs, err := pool.QueryContext(ctx, query, vars...)
		if err == nil {
			images, tooMany, err = scan(ctx, rs, s, limit)
			tx.AddError(err)
			err = rs.Close()
		}
		tx.AddError(err)
	}
	db.Logger.Trace(ctx, begin, func() (string, int64) {
		sql, vars := query, vars
		if filter, ok := db.Logger.(gorm.ParamsFilter); ok {
			sql, vars = filter.ParamsFilter(ctx, sql, vars...)
		}
		return db.Dialector.Explain(sql, vars...), int64(len(images))
	}, tx.Error)
	switch {
	case tx.Error != nil:
		return nil, tx.Error
	case tooMany:
		return nil, ErrTooManyRows
	}
	return images, nil
}

// scan reads the rows of rs, columns of s's table, and returns their
// images, or tooMany once it has read more than limit. Each row is scanned
// twice (database/sql keeps its values until Next): as the driver gives
// it, what the database stored, and into values of the model, as GORM
// reads them: each column into what its field's NewValuePool gives, set by
// the field, as gorm.Scan does, but without gorm.Scan's matching of the
// columns to joins and duplicate fields, which a SELECT * of one table has
// none of, redone for each read. An image holds the model's value of a
// column where it stands for what was stored, and the stored value where
// it does not (see imageValue).
func scan(ctx context.Context, rs *sql.Rows, s *schema.Schema, limit int) (_ []Image, tooMany bool, _ error) {
	columns, err := rs.Columns()
	if err != nil {
		return nil, false, err
	}
	fields := make([]*schema.Field, len(columns)) // nil for a column the model lacks
	values := make([]any, len(columns))
	stored := make([]storedValue, len(columns))
	storedPtrs := make([]any, len(columns))
	for i, column := range columns {
		storedPtrs[i] = &stored[i]
		fields[i] = fieldOf(s, column)
		if f := fields[i]; f == nil || !f.Readable {
			values[i] = discard{}
		}
	}
	images := make([]Image, 0, 1) // the one row most writes change
	for rs.Next() {
		if len(images) == limit {
			return nil, true, nil
		}
		if err := rs.Scan(storedPtrs...); err != nil {
			return nil, false, err
		}
		for i, f := range fields {
			if f != nil && f.Readable {
				values[i] = f.NewValuePool.Get()
			}
		}
		if err := rs.Scan(values...); err != nil {
			return nil, false, err
		}
		row := reflect.New(s.ModelType).Elem()
		for i, f := range fields {
			if f == nil || !f.Readable {
				continue
			}
			err := f.Set(ctx, row, values[i])
			f.NewValuePool.Put(values[i])
			if err != nil {
				return nil, false, err
			}
		}
		img := make(Image, len(columns))
		for i, f := range fields {
			if f != nil {
				img[strings.ToLower(f.DBName)] = imageValue(ctx, f, row, stored[i].v)
			}
		}
		images = append(images, img)
	}
	return images, false, rs.Err()
}

// fieldOf returns the field of s whose column the database names column:
// the one GORM's LookUpField finds, else the one field whose column's name
// differs from it in case alone (SQLite and MySQL name a column as its
// table declares it, and ignore case in names; a model may spell it
// column:NAME). A column whose field is not found has no value in an
// image: a write of its rows invalidates its table whole.
func fieldOf(s *schema.Schema, column string) *schema.Field {
	if f := s.LookUpField(column); f != nil {
		return f
	}
	var found *schema.Field
	for _, name := range s.DBNames {
		if strings.EqualFold(name, column) {
			if found != nil {
				return nil
			}
			found = s.FieldsByDBName[name]
		}
	}
	return found
}

// imageValue is the value an image holds for f's column in row, read from
// stored, the column's value as the driver gave it: NULL where the
// database stored NULL, whatever the field reads it as (an int or a string
// reads it as a zero value: soft_delete's nullable mode; a serializer may
// read it as "{}"); the field's value where the database is sent stored
// for it, typed as the model types the column, which tells how its values
// compare (depscan.Canon); else what was stored (a []byte as a string), of
// a field GORM does not read (->:false), or whose Scanner, Valuer or
// serializer makes something else of it (datatypes.UUID reads any spelling
// and sends its own).
func imageValue(ctx context.Context, f *schema.Field, row reflect.Value, stored any) any {
	if stored == nil || !f.Readable {
		return stored
	}
	v, _ := f.ValueOf(ctx, row)
	if sends(v, stored) {
		return v
	}
	return stored
}

// sends reports whether the database is sent stored, a column's value as
// the driver gave it (a []byte as a string), for v: whether v, as a query
// var, equals what was stored. Integers and booleans may come as their
// text (MySQL's text protocol), booleans as 0 and 1 (SQLite).
func sends(v, stored any) bool {
	d, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return false
	}
	switch s := stored.(type) {
	case int64:
		switch x := d.(type) {
		case int64:
			return x == s
		case bool:
			return x && s == 1 || !x && s == 0
		}
	case uint64:
		x, ok := d.(int64)
		return ok && x >= 0 && uint64(x) == s
	case string:
		switch x := d.(type) {
		case string:
			return x == s
		case []byte:
			return string(x) == s
		case int64:
			return strconv.FormatInt(x, 10) == s
		case bool:
			return x && s == "1" || !x && s == "0"
		}
	case bool:
		x, ok := d.(bool)
		return ok && x == s
	case float64:
		x, ok := d.(float64)
		return ok && x == s
	case time.Time:
		x, ok := d.(time.Time)
		return ok && x.Equal(s)
	}
	return false
}

// storedValue is a scan destination that keeps a column's value as the
// driver gives it, a []byte as a string (the bytes are the driver's).
type storedValue struct{ v any }

func (s *storedValue) Scan(v any) error {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	s.v = v
	return nil
}

// discard is a scan destination that keeps nothing: that of a column no
// readable field reads, whose image is what was stored.
type discard struct{}

func (discard) Scan(any) error { return nil }

// sqlOf returns the SELECT of read on stmt, a bare statement of the model,
// and its arguments; with textual, its integer arguments are written into
// the SQL (see textual).
//
// A condition made only of equalities and IN lists of columns to integers
// (and of columns to NULL, as GORM's soft delete adds) has a shape: the
// SQL a database's clause builders build for it is the same for every
// write of that shape but for the integers. That SQL is built once per shape and kept as a
// template that later reads write their integers into, sparing them the
// clauses, their builders and the scan for placeholders, a tenth of what
// the plugin costs a row-level update on MySQL.
func (r *Reader) sqlOf(stmt *gorm.Statement, where clause.Where, lock bool, limit int, textual bool) (string, []any) {
	var keyBuf [128]byte
	// The database's clause builders (its dialect's, and any it was given)
	// are one map per gorm.Open, shared by its sessions.
	builders := reflect.ValueOf(stmt.DB.ClauseBuilders).Pointer()
	key := appendName(strconv.AppendUint(keyBuf[:0], uint64(builders), 16), stmt.DB.Dialector.Name())
	key = appendName(key, stmt.Table)
	key = append(strconv.AppendInt(key, int64(limit), 10), ':', flag(textual), flag(lock))
	key, ints, shaped := shapeOf(key, nil, where)
	if shaped {
		r.mu.RLock()
		t := r.templates[string(key)]
		r.mu.RUnlock()
		if t != nil {
			return t.render(ints)
		}
	}
	n := limit + 1
	stmt.Clauses = make(map[string]clause.Clause, 5) // its growth would allocate three times over
	stmt.AddClause(clause.Select{Columns: []clause.Column{{Name: "*", Raw: true}}})
	stmt.AddClause(clause.From{})
	if len(where.Exprs) > 0 {
		stmt.AddClause(where)
	}
	stmt.AddClause(clause.Limit{Limit: &n})
	if lock {
		stmt.AddClause(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	stmt.SQL.Grow(128)
	stmt.Build("SELECT", "FROM", "WHERE", "LIMIT", "FOR")
	query, vars := stmt.SQL.String(), stmt.Vars
	if stmt.Error != nil {
		return query, vars
	}
	// The condition's arguments come first; the others (the LIMIT's, on
	// MySQL) are the key's.
	if shaped && len(vars) >= len(ints) && slices.Equal(vars[:len(ints)], ints) {
		t := &template{sql: query, textual: textual, fixed: slices.Clone(vars[len(ints):])}
		if !textual || t.cut(vars) {
			r.keep(string(key), t)
			return t.render(ints)
		}
	}
	if textual {
		if sql, ok := withIntegers(query, vars); ok {
			return sql, nil
		}
	}
	return query, vars
}

// maxTemplates bounds the templates a Reader keeps: an application has few
// shapes of write, but IN lists of every length would each make one.
const maxTemplates = 256

func (r *Reader) keep(key string, t *template) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.templates == nil {
		r.templates = map[string]*template{}
	}
	if len(r.templates) < maxTemplates {
		r.templates[key] = t
	}
}

// A template is the SQL GORM built for a shape of condition (see sqlOf).
type template struct {
	sql     string
	textual bool
	fixed   []any                 // the arguments after the condition's, the same for every read
	ps      []sqlscan.Placeholder // textual: the placeholders of sql
}

// cut finds the placeholders of t.sql, and reports whether the integers
// vars can be written in their place (see integerPlaceholders).
func (t *template) cut(vars []any) bool {
	ps, ok := integerPlaceholders(t.sql, vars)
	t.ps = ps
	return ok
}

// render returns the SQL of t for the integer arguments ints of its
// condition, and the arguments to send with it.
func (t *template) render(ints []any) (string, []any) {
	args := append(ints, t.fixed...)
	if !t.textual {
		return t.sql, args
	}
	return writeIntegers(t.sql, t.ps, args), nil
}

// shapeOf appends to key what determines the SQL GORM builds for where,
// and to ints the integers Build binds, in its order; false when where
// holds a condition of another shape. A column is told by its name as the
// application wrote it (a string) or its parts (a clause.Column); a
// value, by being an integer (bound) or nil (IS NULL).
func shapeOf(key []byte, ints []any, where clause.Where) ([]byte, []any, bool) {
	var ok bool
	for _, e := range where.Exprs {
		switch e := e.(type) {
		case clause.Eq:
			key, ok = columnShape(append(key, '='), e.Column)
			switch {
			case !ok:
			case null(e.Value):
				key = append(key, 'n')
			case integer(e.Value):
				key, ints = append(key, '?'), append(ints, e.Value)
			default:
				ok = false
			}
		case clause.IN:
			key, ok = columnShape(strconv.AppendInt(append(key, 'I'), int64(len(e.Values)), 10), e.Column)
			for _, v := range e.Values {
				ok = ok && integer(v)
				ints = append(ints, v)
			}
		default:
			ok = false
		}
		if !ok {
			return key, ints, false
		}
	}
	return key, ints, true
}

func columnShape(key []byte, column any) ([]byte, bool) {
	switch c := column.(type) {
	case string:
		return appendName(append(key, 's'), c), true
	case clause.Column:
		if c.Raw || c.Alias != "" {
			return key, false
		}
		return appendName(appendName(append(key, 'c'), c.Table), c.Name), true
	}
	return key, false
}

// appendName appends name to key, prefixed by its length: no name can
// then be read as another's end or beginning.
func appendName(key []byte, name string) []byte {
	return append(append(strconv.AppendInt(key, int64(len(name)), 10), ':'), name...)
}

func flag(b bool) byte {
	if b {
		return 't'
	}
	return 'f'
}

// null reports whether clause.Eq writes v as NULL (IS NULL): nil, a nil
// pointer, or a driver.Valuer whose Value is one, such as the invalid
// sql.NullTime GORM's soft delete compares deleted_at to.
func null(v any) bool {
	if valuer, ok := v.(driver.Valuer); ok && !nilPointer(valuer) {
		v, _ = valuer.Value()
	}
	return v == nil || nilPointer(v)
}

func nilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// integer reports whether v is of an integer kind and not a
// driver.Valuer (sent as its Value says).
func integer(v any) bool {
	if _, valuer := v.(driver.Valuer); valuer {
		return false
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// writeIntegers returns sql with the integers args written in decimal in
// place of its placeholders ps, the i-th taking args[i] (see
// integerPlaceholders).
func writeIntegers(sql string, ps []sqlscan.Placeholder, args []any) string {
	var b strings.Builder
	b.Grow(len(sql) + 8*len(args))
	var buf [24]byte
	last := 0
	for i, p := range ps {
		b.WriteString(sql[last:p.Start])
		switch rv := reflect.ValueOf(args[i]); rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b.Write(strconv.AppendInt(buf[:0], rv.Int(), 10))
		default:
			b.Write(strconv.AppendUint(buf[:0], rv.Uint(), 10))
		}
		last = p.End
	}
	b.WriteString(sql[last:])
	return b.String()
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

// integerPlaceholders returns the placeholders of sql, and whether vars
// can be written in their place: sql can be read, every argument is an
// integer (see integer; an integer needs no quoting, whatever the
// session's sql_mode and character set), and the placeholders and
// arguments pair one to one, in order.
func integerPlaceholders(sql string, vars []any) ([]sqlscan.Placeholder, bool) {
	if slices.ContainsFunc(vars, func(v any) bool { return !integer(v) }) {
		return nil, false
	}
	ps, ok := sqlscan.Placeholders(sql)
	if !ok || len(ps) != len(vars) {
		return nil, false
	}
	for i, p := range ps {
		if p.Index != i {
			return nil, false
		}
	}
	return ps, true
}

// withIntegers returns sql with each placeholder replaced by its argument
// in vars, and false unless integerPlaceholders allows it.
func withIntegers(sql string, vars []any) (string, bool) {
	ps, ok := integerPlaceholders(sql, vars)
	if !ok {
		return "", false
	}
	return writeIntegers(sql, ps, vars), true
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
// a savepoint; see Reader. Any other error means the transaction is
// unusable, and the write must fail with it: the database refused to roll
// that savepoint back, or a read without one failed, as the write would
// have, on the write's own conditions.
//
// database names the database pool reaches (any comparable value): what
// the Reader learns of a table is that database's. Two names of one
// database learn apart, which costs a savepoint, never a failed write.
func (r *Reader) Read(db *gorm.DB, s *schema.Schema, pool gorm.ConnPool, database any, where clause.Where, forUpdate bool, limit int) ([]Image, error) {
	table := tableOf{database, sqlscan.ModelTable(s.Table)}
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
			r.failed(ctx, table)
			return nil, ErrUnreadable
		}
	}
	aborts := dialect == "postgres" && aftercommit.InTransaction(pool) // a failed statement aborts the transaction
	guard := !trusted && aborts
	if guard {
		if _, err := pool.ExecContext(ctx, "SAVEPOINT gormcache_images"); err != nil {
			return nil, ErrUnreadable
		}
	}
	images, err := r.read(db, pool, s, where, forUpdate && dialect != "sqlite", limit)
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
	case aborts && !guard:
		// The read of a trusted table failed where the write's own
		// conditions fail (a column that does not exist, a value the
		// column's type refuses), and aborted the transaction: the write
		// fails with the database's reason, which it would have met. The
		// table is read under a savepoint again until a read works.
		r.m.Delete(table)
		return nil, err
	}
	r.failed(ctx, table)
	return nil, ErrUnreadable
}

// retryAfter is how long a table whose rows could not be read is written
// without reading them, before the Reader tries again.
const retryAfter = time.Minute

// Reader reads images, and remembers, per table of each database, how
// reading its rows inside a write's transaction went. The read uses the
// write's own conditions, so it fails where the write succeeds only for
// what is the table's own: a view with INSTEAD OF triggers that cannot be
// locked, a column privilege the write does not need. Until a table's
// rows have been read once they are read under a savepoint (two round
// trips more on PostgreSQL); once a read has worked, bare; after a
// failure, not at all (the table is invalidated as a whole) for
// retryAfter. DDL on a table forgets what was learned of it. The zero
// Reader is ready to use.
type Reader struct {
	m sync.Map // tableOf -> time.Time: zero once a read worked, else when one failed

	mu        sync.RWMutex
	templates map[string]*template // see sqlOf
}

// tableOf is a table of a database: tables of one name in two databases
// may be read alike or not.
type tableOf struct {
	database any
	table    string
}

func (r *Reader) state(table tableOf) (trusted, failing bool) {
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

func (r *Reader) worked(table tableOf) {
	if v, ok := r.m.Load(table); !ok || !v.(time.Time).IsZero() {
		r.m.Store(table, time.Time{})
	}
}

// failed records that reading the rows of table failed, unless the
// caller's context had ended: that says nothing of the table (and the
// write fails with it).
func (r *Reader) failed(ctx context.Context, table tableOf) {
	if ctx.Err() == nil {
		r.m.Store(table, time.Now())
	}
}

// Forget drops what was learned of tables, or of every table, in every
// database: DDL changed them.
func (r *Reader) Forget(tables []string, all bool) {
	if all {
		r.m.Clear()
		return
	}
	r.m.Range(func(k, _ any) bool {
		if slices.Contains(tables, k.(tableOf).table) {
			r.m.Delete(k)
		}
		return true
	})
}
