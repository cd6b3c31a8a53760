package depscan_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/depscan"
)

// collides has two columns whose names differ only in case, and one with
// a comma: none of them can be tracked.
type collides struct {
	ID    uint
	Lower string `gorm:"column:name"`
	Upper string `gorm:"column:Name"`
	Comma int    `gorm:"column:a,b"`
	Age   int
}

func TestUntrackableColumns(t *testing.T) {
	db := dryRun(t, sqlite.Open("file::memory:"))
	tables, err := extract(statement(t, db, &collides{},
		`SELECT * FROM collides WHERE name = ? AND "Name" = ? AND "a,b" = ? AND age = ?`, "x", "y", 1, 2), depscan.Options{})
	require.NoError(t, err)
	assert.Equal(t, "collides: age=i2", render(tables))
}

func TestFieldsWithoutModel(t *testing.T) {
	db := dryRun(t, sqlite.Open("file::memory:"))
	tables, err := extract(statement(t, db, nil, "SELECT * FROM photos WHERE user_id = ?", 2), depscan.Options{Fields: []string{"anything"}})
	require.NoError(t, err)
	assert.Equal(t, "photos: *", render(tables))
}

// mixed names a column with capitals.
type mixed struct {
	ID     uint
	UserID int `gorm:"column:UserID"`
}

func TestField(t *testing.T) {
	db := dryRun(t, sqlite.Open("file::memory:"))
	parse := func(model any) *schema.Schema {
		stmt := &gorm.Statement{DB: db}
		require.NoError(t, stmt.Parse(model))
		return stmt.Schema
	}
	users, m, c := parse(&User{}), parse(&mixed{}), parse(&collides{})
	for _, tc := range []struct {
		s    *schema.Schema
		col  string
		want string // the field's name, "" for nil
	}{
		{users, "name", "Name"},
		{users, "manager_id", "ManagerID"},
		{users, "Name", "Name"},
		{users, "nope", ""},
		{users, "Manager", ""}, // a relation, not a column
		{m, "userid", "UserID"},
		{c, "name", ""},
		{c, "a,b", ""},
		{c, "age", "Age"},
		{nil, "id", ""},
	} {
		got := ""
		if f := depscan.Field(tc.s, tc.col); f != nil {
			got = f.Name
		}
		assert.Equal(t, tc.want, got, tc.col)
	}
}
