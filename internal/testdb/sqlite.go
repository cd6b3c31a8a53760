package testdb

import (
	"path/filepath"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// sqliteParams configures every connection: WAL so readers never block the
// writer, foreign keys enforced as on PostgreSQL, and BEGIN IMMEDIATE with a
// 10s busy timeout so that concurrent transactions queue for the write lock
// instead of failing with "database is locked" when one upgrades from reading
// to writing.
const sqliteParams = "?_journal_mode=WAL&_foreign_keys=1&_busy_timeout=10000&_txlock=immediate"

// Sqlite returns a dialector for a new, empty SQLite database in a file under
// t.TempDir(). Its connection pool is closed in t.Cleanup.
func Sqlite(t testing.TB) gorm.Dialector {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "test.db") + sqliteParams
	return sqlite.New(sqlite.Config{
		DriverName: sqlite.DriverName,
		DSN:        dsn,
		Conn:       OpenPool(t, sqlite.DriverName, dsn),
	})
}
