package gormcache_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

// int32Driver is go-sqlite3 returning the integers of columns named "odd"
// as int32: a driver value type no driver in the test matrix returns, and
// the recorder does not know.
const int32Driver = "gormcache-sqlite-int32"

func init() {
	sql.Register(int32Driver, int32Conns{&sqlite3.SQLiteDriver{}})
}

type int32Conns struct{ *sqlite3.SQLiteDriver }

func (d int32Conns) Open(name string) (driver.Conn, error) {
	c, err := d.SQLiteDriver.Open(name)
	if err != nil {
		return nil, err
	}
	return int32Conn{c.(*sqlite3.SQLiteConn)}, nil
}

type int32Conn struct{ *sqlite3.SQLiteConn }

func (c int32Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.SQLiteConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return int32Rows{rows}, nil
}

type int32Rows struct{ driver.Rows }

func (r int32Rows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, name := range r.Columns() {
		if n, ok := dest[i].(int64); ok && name == "odd" {
			dest[i] = int32(n)
		}
	}
	return nil
}

// Oddity has the column the int32 driver returns as int32.
type Oddity struct {
	ID  uint
	Odd int
}

// TestUnrecordedResults reads results the cache cannot record: each is
// served from the database, right, every time, and counted as bypassed,
// so that a result that is never cached shows in the statistics.
func TestUnrecordedResults(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "odd.db")
	pool := testdb.OpenPool(t, int32Driver, dsn)
	p := gormcache.New(gormcache.Config{})
	db := openWith(t, sqlite.New(sqlite.Config{DriverName: int32Driver, DSN: dsn, Conn: pool}), p)
	require.NoError(t, db.AutoMigrate(&Oddity{}))
	require.NoError(t, db.Create(&[]Oddity{{Odd: 7}, {Odd: 9}}).Error)

	reads := map[string]func(db *gorm.DB) any{
		"find": func(db *gorm.DB) any {
			var os []Oddity
			require.NoError(t, db.Order("id").Find(&os).Error)
			return os
		},
		"first": func(db *gorm.DB) any {
			var o Oddity
			require.NoError(t, db.First(&o, 2).Error)
			return o
		},
		"row": func(db *gorm.DB) any {
			var odd int
			require.NoError(t, db.Model(&Oddity{}).Where("id = ?", 1).Select("odd").Row().Scan(&odd))
			return odd
		},
		"rows": func(db *gorm.DB) any {
			rows, err := db.Model(&Oddity{}).Select("odd").Order("id").Rows()
			require.NoError(t, err)
			defer rows.Close()
			var odds []int
			for rows.Next() {
				var odd int
				require.NoError(t, rows.Scan(&odd))
				odds = append(odds, odd)
			}
			return odds
		},
	}
	for name, read := range reads {
		want := read(db.Clauses(gormcache.NoCache()))
		for range 2 {
			before := p.Stats()
			require.Equal(t, want, read(db.Clauses(gormcache.Cache())), name)
			after := p.Stats()
			require.Equal(t, before.Misses+1, after.Misses, "%s: misses", name)
			require.Equal(t, before.Bypassed+1, after.Bypassed, "%s: bypassed", name)
			require.Equal(t, before.Fills, after.Fills, "%s: stored", name)
		}
	}
}
