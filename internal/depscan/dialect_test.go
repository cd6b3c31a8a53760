package depscan_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/depscan"
)

// mysqlish is SQLite's dialector under MySQL's name: Extract must then
// distrust string equality (MySQL's default collations ignore case and
// trailing spaces) and read "x" as a string.
type mysqlish struct{ gorm.Dialector }

func (mysqlish) Name() string { return "mysql" }

// dryRun returns a session that builds statements without a database.
func dryRun(t *testing.T, d gorm.Dialector) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(d, &gorm.Config{DryRun: true, DisableAutomaticPing: true})
	require.NoError(t, err)
	return db
}

func TestDialects(t *testing.T) {
	pg := dryRun(t, postgres.New(postgres.Config{DSN: "host=127.0.0.1 port=1 user=none dbname=none"}))
	my := dryRun(t, mysqlish{sqlite.Open("file::memory:")})
	for _, tc := range []struct {
		name string
		db   *gorm.DB
		fn   func(db *gorm.DB) error
		want []string
	}{
		{"postgres", pg, users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age IN ?", "ann", []int{7, 30}) }),
			[]string{"users: age=i30&deleted_at=n&name=sann | age=i7&deleted_at=n&name=sann"}},
		{"postgres join", pg, photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("User").Where("photos.status = ?", 1).Where(`"User"."id" = ?`, 2)
		}),
			[]string{"photos: status=i1&user_id=i2; users: deleted_at=n&id=i2"}},
		{"postgres limit", pg, users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ?", 7).Limit(3).Offset(2) }),
			[]string{"users: age=i7&deleted_at=n"}},
		{"postgres concat", pg, users(func(db *gorm.DB) *gorm.DB { return db.Where("name || 'x' = ? AND age = ?", "annx", 30) }),
			[]string{"users: age=i30&deleted_at=n"}},
		{"postgres jsonb question mark", pg, users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ? AND nick ? 'k'", 30) }),
			[]string{"users: *"}},
		{"mysql strings", my, users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age = ?", "ann", 30) }),
			[]string{"users: age=i30&deleted_at=n"}},
		{"mysql double quotes", my, users(func(db *gorm.DB) *gorm.DB { return db.Where(`"age" = ? AND age = ?`, 7, 30) }),
			[]string{"users: age=i30&deleted_at=n"}},
		{"mysql or operator", my, users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ? || age = ?", 7, 30) }),
			[]string{"users: *"}},
		{"mysql and operator", my, users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ? && id = ?", 7, 2) }),
			[]string{"users: *"}},
		{"mysql xor", my, users(func(db *gorm.DB) *gorm.DB { return db.Where("id = ? AND age = ? XOR age = ?", 2, 7, 30) }),
			[]string{"users: *"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range capture(t, tc.db, depscan.Options{}, tc.fn) {
				require.NoError(t, c.err)
				got = append(got, render(c.tables))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestColumns checks Options.Columns: the database's word on how each
// column compares overrides the model's, value by value.
func TestColumns(t *testing.T) {
	my := dryRun(t, mysqlish{sqlite.Open("file::memory:")})
	var asked []string
	kinds := map[string]collation.Kind{"age": collation.Integer, "id": collation.Integer, "user_id": collation.Integer, "status": collation.Other}
	opts := depscan.Options{Columns: func(table, column string) collation.Column {
		asked = append(asked, table+"."+column)
		return collation.Column{Kind: kinds[column]}
	}}
	for _, tc := range []struct {
		name string
		fn   func(db *gorm.DB) error
		want string
	}{
		{"integers", users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ? AND id IN ?", 30, []int{1, 2}) }),
			"users: age=i30&deleted_at=n&id=i1 | age=i30&deleted_at=n&id=i2"},
		{"a string against a column that is not Text", users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age = ?", "ann", 30) }),
			"users: age=i30&deleted_at=n"},
		{"a string against an integer column", users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ?", "30") }),
			"users: deleted_at=n"},
		{"an integer the database compares otherwise", photos(func(db *gorm.DB) *gorm.DB { return db.Where("status = ? AND user_id = ?", 1, 2) }),
			"photos: user_id=i2"},
		{"a join of columns compared alike carries values", photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("User").Where("photos.user_id = ?", 2)
		}), "photos: user_id=i2; users: deleted_at=n&id=i2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked = asked[:0]
			got := capture(t, my, opts, tc.fn)
			require.Len(t, got, 1)
			require.NoError(t, got[0].err)
			assert.Equal(t, tc.want, render(got[0].tables))
			assert.NotEmpty(t, asked)
			for _, a := range asked {
				assert.Regexp(t, `^(users|photos)\.`, a, "Columns is asked by the model's table")
			}
		})
	}
}
