// Package testdb opens real, isolated databases for tests: SQLite always, and
// PostgreSQL when scripts/test.sh (make test) has started one and exported
// GORMCACHE_POSTGRES_DSN.
//
// Every Open creates a new, empty database for the calling test (a file under
// t.TempDir() for SQLite, a schema of its own for PostgreSQL) and closes and
// drops it in t.Cleanup, so tests may run in parallel and in any order:
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
	"database/sql"
	"os"
	"testing"

	"gorm.io/gorm"
)

// PostgresDSNEnv is the environment variable holding the DSN of the
// PostgreSQL server that tests create their schemas on.
const PostgresDSNEnv = "GORMCACHE_POSTGRES_DSN"

// Dialector names a database engine that tests can open databases on.
type Dialector struct {
	// Name is "sqlite" or "postgres", the Name of the gorm.Dialector that
	// Open returns.
	Name string
}

// Each runs fn as a subtest, named after the engine, once per database engine:
// "sqlite" always and "postgres" when PostgreSQL is available (see
// RequireService for what happens when it is not).
func Each(t *testing.T, fn func(t *testing.T, d Dialector)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Dialector{Name: "sqlite"}) })
	t.Run("postgres", func(t *testing.T) {
		RequireService(t, PostgresDSNEnv, "PostgreSQL")
		fn(t, Dialector{Name: "postgres"})
	})
}

// Open returns a dialector for a new, empty database that only this test
// uses; see Sqlite and Postgres. Every gorm.Open of the result shares one
// connection pool, which is closed, and the database dropped, in t.Cleanup.
func (d Dialector) Open(t testing.TB) gorm.Dialector {
	t.Helper()
	switch d.Name {
	case "sqlite":
		return Sqlite(t)
	case "postgres":
		return Postgres(t)
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

// openPool returns a connection pool that t.Cleanup closes. It connects
// lazily, so it costs nothing until used.
func openPool(t testing.TB, driver, dsn string) *sql.DB {
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
