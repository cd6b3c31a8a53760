package testdb

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// ReplicaDSNEnv is the environment variable holding the DSN of a streaming
// replica of the server named by PostgresDSNEnv. scripts/test.sh starts it as
// a hot standby that applies every commit 400ms after the primary made it, so
// that tests see a known replica lag.
const ReplicaDSNEnv = "GORMCACHE_POSTGRES_REPLICA_DSN"

// replicaTimeout bounds how long WaitReplica waits: far more than the
// standby's 400ms apply delay, so only a broken replica reaches it.
const replicaTimeout = 30 * time.Second

// PostgresWithReplica returns dialectors for a new, empty schema on the
// PostgreSQL primary named by GORMCACHE_POSTGRES_DSN and for the same schema on
// its streaming replica, named by GORMCACHE_POSTGRES_REPLICA_DSN, both with
// search_path set to it. It returns once the replica has the schema (see
// WaitReplica). The replica is read-only: the schema is created and dropped on
// the primary, and the replica follows. In t.Cleanup both connection pools are
// closed, then the schema is dropped with everything in it. See RequireService
// for what happens when either server is not available.
func PostgresWithReplica(t testing.TB) (primary, replica gorm.Dialector) {
	t.Helper()
	server := RequireService(t, PostgresDSNEnv, "PostgreSQL")
	standby := RequireService(t, ReplicaDSNEnv, "PostgreSQL replica")
	// Dropped after both pools are closed: no replica session is left to
	// conflict with replaying the drop.
	schema := newSchema(t, server)
	primaryDSN, err := withSearchPath(server, schema)
	if err != nil {
		t.Fatalf("testdb: %s: %v", PostgresDSNEnv, err)
	}
	replicaDSN, err := withSearchPath(standby, schema)
	if err != nil {
		t.Fatalf("testdb: %s: %v", ReplicaDSNEnv, err)
	}
	primaryPool := OpenPool(t, pgxDriver, primaryDSN)
	replicaPool := OpenPool(t, pgxDriver, replicaDSN)
	WaitReplica(t, primaryPool, replicaPool)
	return postgres.New(postgres.Config{DSN: primaryDSN, Conn: primaryPool}),
		postgres.New(postgres.Config{DSN: replicaDSN, Conn: replicaPool})
}

// WaitReplica blocks until replica has replayed all the WAL that primary had
// when WaitReplica was called, so that everything committed on primary by then
// is visible on replica, and fails the test if that takes over 30s. Both are
// pools such as PostgresWithReplica's (from gorm.DB.DB()), used directly so
// that no gorm plugin sees the queries. It costs one empty transaction on the
// primary, and waits up to the replica's apply delay (400ms under make test)
// after the primary's last commit.
func WaitReplica(t testing.TB, primary, replica *sql.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replicaTimeout)
	defer cancel()
	target, err := walEnd(ctx, primary)
	if err != nil {
		t.Fatalf("testdb: WaitReplica: the primary's WAL position: %v", err)
	}
	for {
		var standby, done bool
		err := replica.QueryRowContext(ctx,
			`SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`,
			target).Scan(&standby, &done)
		switch {
		case err != nil && ctx.Err() != nil:
			t.Fatalf("testdb: WaitReplica: the replica has not replayed the primary's WAL up to %s after %v", target, replicaTimeout)
		case err != nil:
			t.Fatalf("testdb: WaitReplica: the replica's WAL position: %v", err)
		case !standby:
			t.Fatalf("testdb: WaitReplica: the replica is not in recovery, so it is not a standby (or was promoted)")
		case done:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testdb: WaitReplica: the replica has not replayed the primary's WAL up to %s after %v", target, replicaTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// walEnd returns the end of the WAL that primary has inserted, which covers
// every transaction committed so far, and makes sure all of it is flushed, and
// so streamed to replicas. Not pg_current_wal_lsn(): it is only the end of
// what has been written out, and the test server commits asynchronously
// (synchronous_commit = off), so a commit already visible on the primary can
// be past it. The transaction flushes the WAL by committing synchronously,
// which needs a transaction ID; its own commit record comes after the position
// returned, so the replica does not have to wait for its apply delay.
func walEnd(ctx context.Context, primary *sql.DB) (string, error) {
	tx, err := primary.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op once committed
	var lsn, ignored string
	if err := tx.QueryRowContext(ctx, `SELECT set_config('synchronous_commit', 'on', true),
		pg_current_xact_id()::text, pg_current_wal_insert_lsn()::text`).Scan(&ignored, &ignored, &lsn); err != nil {
		return "", err
	}
	return lsn, tx.Commit()
}
