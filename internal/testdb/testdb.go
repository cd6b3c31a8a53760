// Package testdb opens real, isolated databases for tests: SQLite always,
// and PostgreSQL and MySQL (MariaDB) when scripts/test.sh (make test) has
// started them and exported GORMCACHE_POSTGRES_DSN and GORMCACHE_MYSQL_DSN.
//
// Every Open creates a new, empty database for the calling test (a file under
// t.TempDir() for SQLite, a schema of its own for PostgreSQL, a database of
// its own for MySQL) and closes and drops it in t.Cleanup, so tests may run
// in parallel and in any order:
//
//	func TestFind(t *testing.T) {
//		testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
//			db, err := gorm.Open(d.Open(t), &gorm.Config{})
//			require.NoError(t, err)
//			// ...
//		})
//	}
//
// A service that is not available skips the tests that need it, with a hint,
// except under CI=true, where it fails them: CI must never pass by skipping.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// PostgresDSNEnv is the environment variable holding the DSN of the
// PostgreSQL server that tests create their schemas on.
const PostgresDSNEnv = "GORMCACHE_POSTGRES_DSN"

// Dialector names a database engine that tests can open databases on.
type Dialector struct {
	// Name is "sqlite", "postgres" or "mysql", the Name of the
	// gorm.Dialector that Open returns.
	Name string
}

// Each runs fn as a subtest, named after the engine, once per database engine:
// "sqlite" always, "postgres" when PostgreSQL is available and "mysql" when
// MySQL or MariaDB is (see RequireService for what happens when one is not).
func Each(t *testing.T, fn func(t *testing.T, d Dialector)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Dialector{Name: "sqlite"}) })
	t.Run("postgres", func(t *testing.T) {
		RequireService(t, PostgresDSNEnv, "PostgreSQL")
		fn(t, Dialector{Name: "postgres"})
	})
	t.Run("mysql", func(t *testing.T) {
		RequireService(t, MySQLDSNEnv, "MySQL")
		fn(t, Dialector{Name: "mysql"})
	})
}

// Open returns a dialector for a new, empty database that only this test
// uses; see Sqlite, Postgres and MySQL. Every gorm.Open of the result shares one
// connection pool, which is closed, and the database dropped, in t.Cleanup.
func (d Dialector) Open(t testing.TB) gorm.Dialector {
	t.Helper()
	switch d.Name {
	case "sqlite":
		return Sqlite(t)
	case "postgres":
		return Postgres(t)
	case "mysql":
		return MySQL(t)
	}
	t.Fatalf("testdb: unknown dialector %q", d.Name)
	return nil
}

// RequireService returns the value of the environment variable envVar, which
// locates the service what (such as "PostgreSQL") for the tests. When it is
// unset or empty the test fails under CI=true, where the test script must have
// started the service, and is skipped otherwise.
func RequireService(t testing.TB, envVar, what string) string {
	t.Helper()
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true but %s is not set: the test script (scripts/test.sh, make test) must start %s", what, envVar, what)
	}
	t.Skipf("%s is not available: set %s or run make test", what, envVar)
	return ""
}

// OpenPool returns a connection pool that t.Cleanup closes. It connects
// lazily, so it costs nothing until used.
func OpenPool(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", driver, err)
	}
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Errorf("testdb: close %s: %v", driver, err)
		}
	})
	return pool
}

// schemaName returns a schema (or MySQL database) name that shows which
// test made it and cannot collide with another test's, in this process or
// another.
func schemaName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() == 40 {
			break
		}
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("t_%s_%016x", b.String(), rand.Uint64()) // at most 59 of 63 bytes
}

// admins holds, per driver and server DSN, the pool that creates and drops
// schemas (databases on MySQL) for the whole test binary. Connecting costs
// far more than CREATE or DROP SCHEMA (about 20ms against 1ms), so sharing
// it makes Open about three times cheaper. It is never closed: its few idle
// connections end with the process.
var admins struct {
	sync.Mutex
	pools map[[2]string]*sql.DB
}

// adminExec runs query on the shared pool of the server dsn, opened with
// driver. The timeout keeps a test that leaked a transaction from hanging
// the cleanup on its locks.
func adminExec(driver, dsn, query string) error {
	admins.Lock()
	db, ok := admins.pools[[2]string{driver, dsn}]
	if !ok {
		var err error
		if db, err = sql.Open(driver, dsn); err != nil {
			admins.Unlock()
			return err
		}
		if admins.pools == nil {
			admins.pools = make(map[[2]string]*sql.DB)
		}
		admins.pools[[2]string{driver, dsn}] = db
	}
	admins.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	return nil
}
