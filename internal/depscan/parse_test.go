package depscan_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache/internal/depscan"
)

// statement returns a built statement of raw SQL, with model's schema.
func statement(t testing.TB, db *gorm.DB, model any, sql string, vars ...any) *gorm.Statement {
	t.Helper()
	stmt := &gorm.Statement{DB: db, Vars: vars, Clauses: map[string]clause.Clause{}}
	if model != nil {
		require.NoError(t, stmt.Parse(model))
	}
	stmt.SQL.WriteString(sql)
	return stmt
}

// TestParse covers the SQL the parser reads directly: what it proves and
// what it must refuse, given as the condition of a query of users.
func TestParse(t *testing.T) {
	db := dryRun(t, sqlite.Open("file::memory:"))
	for _, tc := range []struct {
		sql  string // after "SELECT * FROM users WHERE ", unless it starts with SELECT
		vars []any
		want string
	}{
		// Equalities.
		{"id = ?", []any{1}, "users: id=i1"},
		{"id = ? AND age = ? AND name = ?", []any{1, 2, "x"}, "users: age=i2&id=i1&name=sx"},
		{"(id = ?)", []any{1}, "users: id=i1"},
		{"((id = ?) AND ((age = ?)))", []any{1, 2}, "users: age=i2&id=i1"},
		{"id = ? OR id = ? OR id = ?", []any{1, 2, 1}, "users: id=i1 | id=i2"},
		{"(id = ? OR age = ?) AND (name = ? OR name = ?)", []any{1, 2, "a", "b"},
			"users: age=i2&name=sa | age=i2&name=sb | id=i1&name=sa | id=i1&name=sb"},
		{"id = ? OR (id = ? AND age = ?)", []any{1, 1, 2}, "users: id=i1"},
		{"id IN (?) AND age IN (?, ?)", []any{1, 2, 3}, "users: age=i2&id=i1 | age=i3&id=i1"},
		{"(id, age) = (?, ?)", []any{1, 2}, "users: age=i2&id=i1"},
		{"(id, age) IN ((?, ?), (?, ?))", []any{1, 2, 3, 4}, "users: age=i2&id=i1 | age=i4&id=i3"},
		{"(id, score) IN ((?, ?))", []any{1, 2.5}, "users: id=i1"},
		{"(id, score) IN ((?, ?))", []any{1.5, 2.5}, "users: *"},
		{"id = ? AND email IS NULL", []any{1}, "users: email=n&id=i1"},
		{"email = ?", []any{nil}, "users: email=n"},
		{"email = NULL", nil, "users: email=n"},
		{"name = 'it''s'", nil, "users: name=sit%27s"},
		{"active = FALSE AND age = 007", nil, "users: active=b0&age=i7"},
		{"age = ? -- a comment\n AND id = ?", []any{1, 2}, "users: age=i1&id=i2"},
		{"age = ? /* AND id = 3 */", []any{1}, "users: age=i1"},
		{"users.age = ? AND \"users\".\"id\" = ? AND `users`.name = ? AND [users].[email] IS NULL", []any{1, 2, "x"},
			"users: age=i1&email=n&id=i2&name=sx"},
		{"SELECT * FROM users AS u WHERE u.id = ?", []any{1}, "users: id=i1"},
		{"SELECT * FROM main.users WHERE users.id = ?", []any{1}, "users: id=i1"},
		{"SELECT id FROM users WHERE id = ? GROUP BY id HAVING count(*) > ? ORDER BY id LIMIT ? OFFSET ?", []any{1, 2, 3, 4}, "users: id=i1"},
		{"SELECT * FROM users WHERE id = ?;", []any{1}, "users: id=i1"},
		{"SELECT a IS DISTINCT FROM b, (SELECT 1 FROM x) FROM users WHERE id = ?", []any{1}, "x: *; users: id=i1"},
		{"SELECT * FROM users", nil, "users: *"},
		{"SELECT * FROM users WHERE id = $2 AND age = $1", []any{1, 2}, "users: age=i1&id=i2"},

		// What proves nothing: the operand becomes TRUE.
		{"id = ? AND age > ?", []any{1, 2}, "users: id=i1"},
		{"id = ? OR age > ?", []any{1, 2}, "users: *"},
		{"NOT id = ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"NOT (id = ? AND age = ?) OR name = ?", []any{1, 2, "x"}, "users: *"},
		{"age BETWEEN ? AND ? AND id = ?", []any{1, 2, 3}, "users: id=i3"},
		{"age NOT BETWEEN ? AND ? OR id = ?", []any{1, 2, 3}, "users: *"},
		{"CASE WHEN id = 1 AND age = 2 THEN 1 END = 1 AND name = ?", []any{"x"}, "users: name=sx"},
		{"CASE WHEN a THEN CASE WHEN b AND c THEN 1 END END = 1 AND id = ?", []any{1}, "users: id=i1"},
		{"id = ? + 0 AND age = ?", []any{1, 2}, "users: age=i2"},
		{"id = ?::int AND age = ?", []any{1, 2}, "users: age=i2"},
		{"id == ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"id IS NOT NULL AND age = ?", []any{2}, "users: age=i2"},
		{"id IS ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"id IN (SELECT user_id FROM photos) AND age = ?", []any{2}, "users: age=i2; photos: *"},
		{"id = (SELECT 1) AND age = ?", []any{2}, "users: age=i2"},
		{"id IN () AND age = ?", []any{2}, "users: age=i2"},
		{"age IN (?, 2.5)", []any{1}, "users: *"},
		{"id NOT IN (?) AND age = ?", []any{1, 2}, "users: age=i2"},
		{"id = 1.0 AND age = 0x10 AND name = E'x' AND email = 'a\\b' AND level = -?", []any{1}, "users: *"},
		{"lower(name) = ? AND id = ?", []any{"x", 1}, "users: id=i1"},
		{"id = age AND age = ?", []any{2}, "users: age=i2&id=i2"},
		{"id = score AND score = ?", []any{2}, "users: *"},
		{"x.id = ? AND id = ?", []any{1, 2}, "users: id=i2"},
		{"main.users.id = ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"nope = ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"current_date = ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"'x' = 'x' AND 1 = ? AND age = ?", []any{1, 2}, "users: age=i2"},
		{"name = 'a' 'b' AND age = ?", []any{2}, "users: age=i2"},
		{"age = ? AND (SELECT 1)", []any{2}, "users: age=i2"},
		{"EXISTS (SELECT 1) AND age = ?", []any{2}, "users: age=i2"},

		// What the parser refuses: nothing is proven.
		{"id = ? AND", []any{1}, "users: *"},
		{"AND id = ?", []any{1}, "users: *"},
		{"id = ? AND (age = ?", []any{1, 2}, "users: *"},
		{"id = ? AND age = ?)", []any{1, 2}, "users: *"},
		{"id = ? AND CASE WHEN age = ? THEN 1", []any{1, 2}, "users: *"},
		{"id = ? AND age = ?", []any{1}, "users: *"},
		{"id = ? AND age = ?", []any{1, 2, 3}, "users: *"},
		{"id = ?1 AND age = ?", []any{1, 2}, "users: *"},
		{"id = :id", []any{1}, "users: *"},
		{"id = @id", []any{1}, "users: *"},
		{"id = $1 AND age = ?", []any{1, 2}, "users: *"},
		{"id = $3", []any{1, 2}, "users: *"},
		{"id = ? # AND age = 2", []any{1}, "users: *"},
		{"id = ? --x\nAND age = 2", []any{1}, "users: *"},
		{"id = ? XOR age = ?", []any{1, 2}, "users: *"},
		{"id = ? || age = ?", []any{1, 2}, "users: *"},
		{"id = ? /*! AND age = 2 */", []any{1}, "users: *"},
		{"id = ? UNKNOWN_CLAUSE", []any{1}, "users: *"},
		{"SELECT * FROM users WHERE id = ?; SELECT 1", []any{1}, "users: *"},
		{"SELECT * FROM users WHERE id = ? UNION SELECT * FROM users WHERE id = ?", []any{1, 2}, "users: *"},
		{"SELECT * FROM users WHERE id = ? UNION SELECT * FROM photos", []any{1}, "users: id=i1; photos: *"},
		{"WITH x AS (SELECT 1) SELECT * FROM x, users WHERE id = ?", []any{1}, "x: *; users: *"},
		{"SELECT * FROM (SELECT * FROM users WHERE id = ?) u WHERE u.id = ?", []any{1, 1}, "users: *"},
		{"SELECT * FROM users RIGHT JOIN photos ON photos.user_id = users.id WHERE users.id = ?", []any{1}, "users: *; photos: *"},
		{"SELECT * FROM users FULL JOIN photos ON photos.user_id = users.id WHERE users.id = ?", []any{1}, "users: *; photos: *"},
		{"SELECT * FROM users NATURAL JOIN photos WHERE users.id = ?", []any{1}, "users: *; photos: *"},
		{"SELECT * FROM users, LATERAL (SELECT 1) x WHERE users.id = ?", []any{1}, "users: *"},
		{"SELECT * FROM users INDEXED BY i WHERE users.id = ?", []any{1}, "users: *"},
		{"SELECT * FROM users WHERE " + strings.Repeat("(", 200) + "id = ?" + strings.Repeat(")", 200), []any{1}, "users: *"},

		// Joins written by hand: raw joins depend on the whole table.
		{"SELECT * FROM users JOIN photos p ON p.user_id = users.id WHERE users.id = ? AND p.status = ?", []any{1, 2},
			"users: id=i1; photos: *"},
		{"SELECT * FROM users JOIN photos ON photos.user_id = users.id WHERE photos.user_id = ?", []any{1},
			"users: id=i1; photos: *"},
		{"SELECT * FROM users, photos WHERE photos.user_id = users.id AND photos.user_id = ?", []any{1},
			"users: id=i1; photos: *"},
		{"SELECT * FROM users JOIN photos USING (id) WHERE users.id = ?", []any{1}, "users: id=i1; photos: *"},
		{"SELECT * FROM users LEFT JOIN photos p ON LEFT(p.title, 1) = 'a' AND p.user_id = users.id WHERE users.id = ?", []any{1},
			"users: id=i1; photos: *"},
		{"SELECT * FROM users JOIN users u ON u.id = users.manager_id WHERE users.id = ?", []any{1}, "users: *"},
		{"SELECT * FROM users CROSS JOIN photos WHERE users.id = ?", []any{1}, "users: id=i1; photos: *"},
		{"SELECT * FROM users STRAIGHT_JOIN photos ON photos.user_id = users.id WHERE users.id = ?", []any{1}, "users: id=i1; photos: *"},
		{"SELECT * FROM users LEFT OUTER JOIN photos ON photos.user_id = users.id, companies WHERE users.id = ?", []any{1},
			"users: id=i1; photos: *; companies: *"},
		{"SELECT * FROM users JOIN generate_series(1, 2) g ON true WHERE users.id = ?", []any{1}, "users: id=i1"},
		{"SELECT * FROM users u JOIN users v ON true WHERE id = ?", []any{1}, "users: *"},
		{"SELECT * FROM photos WHERE users.id = ?", []any{1}, "photos: *"},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			sql := tc.sql
			if !strings.HasPrefix(sql, "SELECT") && !strings.HasPrefix(sql, "WITH") {
				sql = "SELECT * FROM users WHERE " + sql
			}
			tables, err := extract(statement(t, db, &User{}, sql, tc.vars...), depscan.Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, render(tables))
		})
	}
}
