package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

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
	return postgres.New(postgres.Config{DSN: dsn, Conn: openPool(t, pgxDriver, dsn)})
}

// newSchema creates a schema of t's own on server, dropped in t.Cleanup with
// everything in it. Its cleanup is registered before those of the pools the
// caller opens next, so it runs after they are closed.
func newSchema(t testing.TB, server string) string {
	schema := schemaName(t)
	if err := adminExec(server, `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(server, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return schema
}

// schemaName returns a schema name that shows which test made it and cannot
// collide with another test's, in this process or another.
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

// admins holds, per server DSN, the pool that creates and drops schemas for
// the whole test binary. Connecting costs far more than CREATE or DROP SCHEMA
// (about 20ms against 1ms), so sharing it makes Open about three times
// cheaper. It is never closed: its few idle connections end with the process.
var admins struct {
	sync.Mutex
	pools map[string]*sql.DB
}

// adminExec runs query on the shared pool of the server dsn. The timeout keeps
// a test that leaked a transaction from hanging the cleanup on its locks.
func adminExec(dsn, query string) error {
	admins.Lock()
	db, ok := admins.pools[dsn]
	if !ok {
		var err error
		if db, err = sql.Open(pgxDriver, dsn); err != nil {
			admins.Unlock()
			return err
		}
		if admins.pools == nil {
			admins.pools = make(map[string]*sql.DB)
		}
		admins.pools[dsn] = db
	}
	admins.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	return nil
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
