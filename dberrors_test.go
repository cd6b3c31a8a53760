package gormcache_test

import (
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// TestDatabaseErrorsOfRowAndRows checks that a Row or Rows statement whose
// read fails hands the caller what GORM's own callback does: Row a
// *sql.Row that holds the error (not nil, which the usual
// db.Row().Scan(&x) dereferences), and Rows the rows read before a failure
// part-way, then the error from Err, not an error from Rows itself. Nothing
// is stored: the same read fails again.
func TestDatabaseErrorsOfRowAndRows(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()

		// Row: a column that does not exist.
		rowErr := func(db *gorm.DB) string {
			row := db.Model(&User{}).Select("no_such_column").Where("id = ?", 1).Row()
			require.NotNil(t, row, "Row returned nil")
			var x any
			err := row.Scan(&x)
			require.Error(t, err)
			return err.Error()
		}
		want := rowErr(e.uncached())
		for range 2 {
			assert.Equal(t, want, rowErr(e.db))
		}

		// Scan, through Rows: the query fails.
		scanned := func(db *gorm.DB) *gorm.DB {
			var out []map[string]any
			return db.Raw("SELECT * FROM no_such_table").Scan(&out)
		}
		want2 := scanned(e.uncached())
		require.Error(t, want2.Error)
		for range 2 {
			got := scanned(e.db)
			assert.Equal(t, want2.Error.Error(), got.Error.Error())
			assert.Equal(t, want2.RowsAffected, got.RowsAffected, "RowsAffected of a failed Scan")
		}

		// Rows: the second row fails to compute.
		failing := map[string]string{
			"sqlite":   `SELECT json_extract(v, '$.a') AS a FROM (SELECT '{"a":7}' AS v UNION ALL SELECT 'not json')`,
			"postgres": `SELECT 14 / (x - 2) AS a FROM generate_series(1, 3) AS x`,
		}[b.Name]
		if failing == "" {
			return // MySQL reports such errors as warnings and NULLs
		}
		read := func(db *gorm.DB) (got []int, readErr string) {
			rows, err := db.Raw(failing).Rows()
			require.NoError(t, err, "Rows failed at once")
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				var a sql.NullInt64
				require.NoError(t, rows.Scan(&a))
				got = append(got, int(a.Int64))
			}
			require.Error(t, rows.Err())
			return got, rows.Err().Error()
		}
		wantRows, wantErr := read(e.uncached())
		require.Len(t, wantRows, 1, "the database's rows before the error")
		for range 2 {
			got, err := read(e.db)
			assert.Equal(t, wantRows, got)
			assert.Equal(t, wantErr, err)
		}
		assert.Zero(t, e.stats().Fills, "a failed read was stored")
	})
}
