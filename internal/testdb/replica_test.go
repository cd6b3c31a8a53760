package testdb_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache/internal/testdb"
)

func openDialector(t *testing.T, d gorm.Dialector) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	return db
}

func countOwners(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Model(&owner{}).Count(&n).Error)
	return n
}

// TestPostgresWithReplica checks that the replica lags the primary, by the
// standby's apply delay, and that WaitReplica waits the lag out.
func TestPostgresWithReplica(t *testing.T) {
	p, r := testdb.PostgresWithReplica(t)
	primary, replica := openDialector(t, p), openDialector(t, r)
	primaryPool, err := primary.DB()
	require.NoError(t, err)
	replicaPool, err := replica.DB()
	require.NoError(t, err)

	var ps, rs string
	require.NoError(t, primary.Raw("SELECT current_schema()").Scan(&ps).Error)
	require.NoError(t, replica.Raw("SELECT current_schema()").Scan(&rs).Error)
	require.NotEmpty(t, ps, "search_path does not name the new schema on the primary")
	assert.Equal(t, ps, rs, "the replica's search_path is not the primary's schema")

	require.NoError(t, primary.AutoMigrate(&owner{}))
	testdb.WaitReplica(t, primaryPool, replicaPool)
	require.True(t, replica.Migrator().HasTable(&owner{}), "WaitReplica returned before the replica had the table")
	assert.Error(t, replica.Create(&owner{Name: "nobody"}).Error, "the replica accepts writes")

	require.NoError(t, primary.Create(&owner{Name: "ann"}).Error)
	committed := time.Now()
	assert.Zero(t, countOwners(t, replica), "the replica shows a commit at once")
	for countOwners(t, replica) == 0 {
		require.Less(t, time.Since(committed), 10*time.Second, "the replica never shows the commit")
		time.Sleep(5 * time.Millisecond)
	}
	lag := time.Since(committed)
	t.Logf("replica lag after a commit: %v", lag)
	assert.GreaterOrEqual(t, lag, 300*time.Millisecond, "the replica lags less than its 400ms apply delay")

	require.NoError(t, primary.Create(&owner{Name: "bob"}).Error)
	start := time.Now()
	testdb.WaitReplica(t, primaryPool, replicaPool)
	t.Logf("WaitReplica after a commit: %v", time.Since(start))
	assert.Equal(t, int64(2), countOwners(t, replica), "WaitReplica returned before the replica had the commit")

	start = time.Now()
	testdb.WaitReplica(t, primaryPool, replicaPool)
	t.Logf("WaitReplica with nothing to replay: %v", time.Since(start))
}

func TestPostgresWithReplicaDropsSchema(t *testing.T) {
	testdb.RequireService(t, testdb.ReplicaDSNEnv, "PostgreSQL replica")
	var schema string
	t.Run("open", func(t *testing.T) {
		p, _ := testdb.PostgresWithReplica(t)
		require.NoError(t, openDialector(t, p).Raw("SELECT current_schema()").Scan(&schema).Error)
		require.NotEmpty(t, schema)
	})
	db := open(t, testdb.Dialector{Name: "postgres"})
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema).Scan(&n).Error)
	assert.Zero(t, n, "schema %s is left on the primary after its test", schema)
}
