package testdb_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache/internal/testdb"
)

type owner struct {
	ID   uint
	Name string
}

type pet struct {
	ID      uint
	OwnerID uint
	Owner   owner
}

func open(t *testing.T, d testdb.Dialector) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d.Open(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	return db
}

func TestEach(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		a, b := open(t, d), open(t, d)
		require.Equal(t, d.Name, a.Dialector.Name())
		require.NoError(t, a.AutoMigrate(&pet{}))

		require.NoError(t, a.Create(&pet{Owner: owner{Name: "ann"}}).Error)
		var got []pet
		require.NoError(t, a.Preload("Owner").Find(&got).Error)
		require.Len(t, got, 1)
		assert.Equal(t, "ann", got[0].Owner.Name)

		assert.False(t, b.Migrator().HasTable(&pet{}), "a second Open sees the first one's table")
		assert.Error(t, a.Create(&pet{OwnerID: 42}).Error, "foreign keys are not enforced")
	})
}

// TestConcurrentTransactions checks that transactions which read and then
// write wait for each other rather than fail, as concurrency tests need.
func TestConcurrentTransactions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		db := open(t, d)
		require.NoError(t, db.AutoMigrate(&owner{}))
		const workers = 8
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for i := range workers {
			wg.Go(func() {
				errs[i] = db.Transaction(func(tx *gorm.DB) error {
					var n int64
					if err := tx.Model(&owner{}).Count(&n).Error; err != nil {
						return err
					}
					return tx.Create(&owner{Name: fmt.Sprint(n)}).Error
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "worker %d", i)
		}
		var n int64
		require.NoError(t, db.Model(&owner{}).Count(&n).Error)
		assert.Equal(t, int64(workers), n)
	})
}

func TestPostgresDropsSchema(t *testing.T) {
	testdb.RequireService(t, testdb.PostgresDSNEnv, "PostgreSQL")
	var schema string
	t.Run("open", func(t *testing.T) {
		db := open(t, testdb.Dialector{Name: "postgres"})
		require.NoError(t, db.Raw("SELECT current_schema()").Scan(&schema).Error)
		require.NotEmpty(t, schema, "search_path does not name the new schema")
		require.NoError(t, db.AutoMigrate(&pet{}))
	})
	db := open(t, testdb.Dialector{Name: "postgres"})
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema).Scan(&n).Error)
	assert.Zero(t, n, "schema %s is left after its test", schema)
}

// recorder is a testing.TB that records Fatalf and Skipf, which end the
// goroutine as the real ones do.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequireService(t *testing.T) {
	const env = "GORMCACHE_TESTDB_SERVICE"
	tests := []struct {
		name, value, ci           string
		want, wantFatal, wantSkip string
	}{
		{name: "set", value: "127.0.0.1:1", ci: "true", want: "127.0.0.1:1"},
		{name: "unset", wantSkip: "Svc is not available: set " + env + " or run make test"},
		{name: "unset under CI", ci: "true", wantFatal: "the test script (scripts/test.sh, make test) must start Svc"},
		{name: "unset, CI not true", ci: "false", wantSkip: "or run make test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(env, tt.value)
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			var got string
			done := make(chan struct{})
			go func() {
				defer close(done)
				got = testdb.RequireService(r, env, "Svc")
			}()
			<-done
			assert.Equal(t, tt.want, got)
			if tt.wantFatal == "" {
				assert.Empty(t, r.fatal)
			} else {
				assert.Contains(t, r.fatal, tt.wantFatal)
			}
			if tt.wantSkip == "" {
				assert.Empty(t, r.skip)
			} else {
				assert.Contains(t, r.skip, tt.wantSkip)
			}
		})
	}
}
