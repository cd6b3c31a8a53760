package testdb

import (
	"net/url"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// pgxDriver is the database/sql driver that gorm.io/driver/postgres registers
// by importing pgx's stdlib package.
const pgxDriver = "pgx"

// Postgres returns a dialector for a new, empty schema on the PostgreSQL
// server named by GORMCACHE_POSTGRES_DSN, made the only entry of the
// search_path, so unqualified table names resolve to it. In t.Cleanup its
// connection pool is closed, then the schema is dropped with everything in it.
// It costs one new connection (about 20ms) and two statements; see
// RequireService for what happens when the server is not available.
func Postgres(t testing.TB) gorm.Dialector {
	t.Helper()
	server := RequireService(t, PostgresDSNEnv, "PostgreSQL")
	schema := newSchema(t, server)
	dsn, err := withSearchPath(server, schema)
	if err != nil {
		t.Fatalf("testdb: %s: %v", PostgresDSNEnv, err)
	}
	return postgres.New(postgres.Config{DSN: dsn, Conn: OpenPool(t, pgxDriver, dsn)})
}

// newSchema creates a schema of t's own on server, dropped in t.Cleanup with
// everything in it. Its cleanup is registered before those of the pools the
// caller opens next, so it runs after they are closed.
func newSchema(t testing.TB, server string) string {
	schema := schemaName(t)
	if err := adminExec(pgxDriver, server, `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(pgxDriver, server, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return schema
}

// withSearchPath sets search_path in a keyword/value or URL DSN.
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema, nil // a repeated keyword overrides
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
