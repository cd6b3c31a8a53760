package gormcache_test

import (
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

// TestMultiStatementExec writes two tables in one raw Exec of two
// statements, which go-sqlite3 runs whole, pgx sends in its simple protocol
// (an Exec without vars), and MySQL's driver runs with multiStatements:
// the cached reads of both tables are fresh after it, outside a transaction
// and inside one.
func TestMultiStatementExec(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		dial := d.Open
		if d.Name == "mysql" {
			dial = func(t testing.TB) gorm.Dialector {
				return testdb.MySQLWith(t, func(c *gomysql.Config) { c.MultiStatements = true })
			}
		}
		e := newEnvOn(t, dial(t), gormcache.Config{})
		db := e.db
		e.seed()
		name := func(db *gorm.DB) string {
			var u User
			require.NoError(t, db.First(&u, 1).Error)
			return u.Name
		}
		title := func(db *gorm.DB) string {
			var ph Photo
			require.NoError(t, db.Where("user_id = ?", 1).Order("id").First(&ph).Error)
			return ph.Title
		}
		require.Equal(t, "ada", name(e.cached()))
		require.Equal(t, "a1", title(e.cached()))
		e.mustHit(func() { name(e.cached()); title(e.cached()) })
		require.NoError(t, db.Exec("UPDATE photos SET title = 'x' WHERE id = 1; UPDATE users SET name = 'zed' WHERE id = 1").Error)
		require.Equal(t, "zed", name(e.uncached()))
		require.Equal(t, "x", title(e.uncached()))
		require.Equal(t, "zed", name(e.cached()))
		require.Equal(t, "x", title(e.cached()))
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			return tx.Exec("UPDATE users SET name = 'amy' WHERE id = 1; UPDATE photos SET title = 'y' WHERE id = 1").Error
		}))
		require.Equal(t, "amy", name(e.cached()))
		require.Equal(t, "y", title(e.cached()))
	})
}
