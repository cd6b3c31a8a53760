package deps_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
)

func TestConj(t *testing.T) {
	for _, tc := range []struct {
		conj        deps.Conj
		scheme, key string
	}{
		{nil, "", ""},
		{deps.Conj{{Column: "id", Value: "i1"}}, "id", "id=i1"},
		{deps.Conj{{Column: "status", Value: "i2"}, {Column: "user_id", Value: "i5"}}, "status,user_id", "status=i2&user_id=i5"},
		{deps.Conj{{Column: "name", Value: "sa&b=c d%"}}, "name", "name=sa%26b%3Dc+d%25"},
		{deps.Conj{{Column: "a", Value: "s&b=sx"}}, "a", "a=s%26b%3Dsx"},
		{deps.Conj{{Column: "a", Value: "s"}, {Column: "b", Value: "sx"}}, "a,b", "a=s&b=sx"},
	} {
		assert.Equal(t, tc.scheme, tc.conj.Scheme())
		assert.Equal(t, tc.key, tc.conj.Key())
	}
	assert.True(t, deps.Table{Conjs: []deps.Conj{{}}}.Any())
	assert.False(t, deps.Table{Conjs: []deps.Conj{{{Column: "id", Value: "i1"}}}}.Any())
}

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
	tables, err := deps.Extract(statement(t, db, &collides{},
		`SELECT * FROM collides WHERE name = ? AND "Name" = ? AND "a,b" = ? AND age = ?`, "x", "y", 1, 2), deps.Options{})
	require.NoError(t, err)
	assert.Equal(t, "collides: age=i2", render(tables))
}

func TestFieldsWithoutModel(t *testing.T) {
	db := dryRun(t, sqlite.Open("file::memory:"))
	tables, err := deps.Extract(statement(t, db, nil, "SELECT * FROM photos WHERE user_id = ?", 2), deps.Options{Fields: []string{"anything"}})
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
		if f := deps.Field(tc.s, tc.col); f != nil {
			got = f.Name
		}
		assert.Equal(t, tc.want, got, tc.col)
	}
}
