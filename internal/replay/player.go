package replay

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
)

// Player turns Rowsets into *sql.Rows and *sql.Row through an in-process
// database/sql driver. It is safe for concurrent use.
type Player struct {
	db *sql.DB
}

// NewPlayer returns a Player. Close releases its idle connections.
func NewPlayer() *Player {
	db := sql.OpenDB(connector{})
	// Connections cost nothing; keep enough idle ones that concurrent hits do
	// not open new ones.
	db.SetMaxIdleConns(256)
	return &Player{db: db}
}

// Close closes the player's connection pool.
func (p *Player) Close() error { return p.db.Close() }

// Rows returns rs as *sql.Rows. The caller must close them.
func (p *Player) Rows(rs *Rowset) (*sql.Rows, error) {
	// A background context: replaying cannot block, and a cancellable context
	// would make database/sql start a watcher goroutine per replay.
	return p.db.QueryContext(context.Background(), "", rs)
}

// Row returns the first row of rs as *sql.Row (sql.ErrNoRows when rs is empty).
func (p *Player) Row(rs *Rowset) *sql.Row {
	return p.db.QueryRowContext(context.Background(), "", rs)
}

var errNotSupported = errors.New("replay: the replay driver only serves recorded rows")

type connector struct{}

func (connector) Connect(context.Context) (driver.Conn, error) { return conn{}, nil }
func (connector) Driver() driver.Driver                        { return replayDriver{} }

type replayDriver struct{}

func (replayDriver) Open(string) (driver.Conn, error) { return conn{}, nil }

type conn struct{}

func (conn) Prepare(string) (driver.Stmt, error) { return nil, errNotSupported }
func (conn) Close() error                        { return nil }
func (conn) Begin() (driver.Tx, error)           { return nil, errNotSupported }

// CheckNamedValue lets the *Rowset argument reach QueryContext unconverted.
func (conn) CheckNamedValue(*driver.NamedValue) error { return nil }

func (conn) QueryContext(_ context.Context, _ string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) != 1 {
		return nil, errNotSupported
	}
	rs, ok := args[0].Value.(*Rowset)
	if !ok {
		return nil, errNotSupported
	}
	return &rows{rs: rs}, nil
}

// rows implements driver.Rows and the column type interfaces database/sql
// consults for sql.ColumnType.
type rows struct {
	rs   *Rowset
	next int
}

func (r *rows) Columns() []string {
	names := make([]string, len(r.rs.Columns))
	for i, c := range r.rs.Columns {
		names[i] = c.Name
	}
	return names
}

func (r *rows) Close() error { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if r.next >= r.rs.Len() {
		if r.rs.Err != nil {
			return r.rs.Err
		}
		return io.EOF
	}
	copy(dest, r.rs.Row(r.next))
	r.next++
	return nil
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t := r.rs.Columns[i].ScanType(); t != nil {
		return t
	}
	// database/sql's own fallback for drivers without scan types.
	return reflect.TypeFor[any]()
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return r.rs.Columns[i].DatabaseType }

func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) {
	c := r.rs.Columns[i]
	return c.Nullable, c.HasNullable
}

func (r *rows) ColumnTypeLength(i int) (length int64, ok bool) {
	c := r.rs.Columns[i]
	return c.Length, c.HasLength
}

func (r *rows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	c := r.rs.Columns[i]
	return c.Precision, c.Scale, c.HasDecimal
}
