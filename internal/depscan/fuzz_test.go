package depscan_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// fuzzVars are the values fuzzed conditions bind, picked by a seed.
var fuzzVars = []any{
	1, 2, int64(7), 30, 0, -1, "ann", "bob", "07", "7", "", nil, true, false, 1.5,
	[]int{1, 2}, []string{"ann", "x"}, sql.NullInt64{Int64: 3, Valid: true},
	sql.NullString{String: "b", Valid: true}, (*int)(nil), time.Unix(0, 0),
}

// fuzzShapes are the queries a fuzzed condition is the WHERE of.
var fuzzShapes = []func(db *gorm.DB, cond string, vars []any) *gorm.DB{
	func(db *gorm.DB, cond string, vars []any) *gorm.DB {
		return db.Model(&User{}).Where(cond, vars...).Find(&[]User{})
	},
	func(db *gorm.DB, cond string, vars []any) *gorm.DB {
		return db.Model(&Photo{}).Joins("User").Where(cond, vars...).Find(&[]Photo{})
	},
	func(db *gorm.DB, cond string, vars []any) *gorm.DB {
		return db.Model(&Photo{}).InnerJoins("User").Where(cond, vars...).Find(&[]Photo{})
	},
	func(db *gorm.DB, cond string, vars []any) *gorm.DB {
		return db.Model(&User{}).Unscoped().Joins("Manager").Where(cond, vars...).Find(&[]User{})
	},
}

var fuzzSeeds = []string{
	"name = ?", "age = ? AND name = ?", "age = ? OR name = ?", "age IN ?", "age IN (?, ?)",
	"email IS NULL", "(age = ? OR age = ?) AND (name = ? OR id = ?)", "NOT age = ? AND name = ?",
	"age = ? AND <garbage>", "age = ? AND (", "age BETWEEN ? AND ? AND id = ?", "age > ? OR id = ?",
	"CASE WHEN age = ? AND id = ? THEN 1 END = 1 OR name = ?", "lower(name) = ? AND id = ?",
	"id = manager_id AND id = ?", "(id, age) IN ((?, ?))", "age = 30 AND name = 'ann'",
	"users.age = ?", `"users"."name" = ?`, "User.name = ?", `"User"."id" = ? AND photos.status = ?`,
	"photos.user_id = ? OR User.age = ?", "Manager.id = ? AND users.age = ?", "Manager.email IS NULL",
	"User.email IS NULL OR status = ?", "age = ? -- x\n OR id = ?", "active = ? AND nick = ?",
	"level = ? OR score = ?", "age = ? AND id IN (SELECT user_id FROM photos WHERE status = ?)",
}

// FuzzExtract builds queries through GORM around a fuzzed condition and
// checks what Extract returns: well-formed, only terms that the SQL or
// its vars justify, and, when SQLite runs the query, sound — a row that
// matches no conjunction of its table does not change the result.
func FuzzExtract(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i), uint64(i)*0x9e3779b97f4a7c15)
	}
	db := openDB(f)
	seedMore(f, db)
	o := newOracle(f, db)
	dry := db.Session(&gorm.Session{DryRun: true})
	f.Fuzz(func(t *testing.T, cond string, shape uint8, seed uint64) {
		var vars []any
		for range min(strings.Count(cond, "?"), 8) {
			vars = append(vars, fuzzVars[seed%uint64(len(fuzzVars))])
			seed /= uint64(len(fuzzVars))
		}
		tx := fuzzShapes[int(shape)%len(fuzzShapes)](dry, cond, vars)
		if tx.Error != nil {
			return
		}
		stmt := tx.Statement
		tables, err := extract(stmt, depscan.Options{MaxIn: 4})
		require.NoError(t, err)
		c := captured{stmt.SQL.String(), stmt.Vars, tables, nil}
		checkTables(t, o, c)
		o.check(t, c)
	})
}

// FuzzParse hands Extract arbitrary SQL as a raw statement of the User
// model: it must not panic, and what it returns must be well-formed,
// justified and, when SQLite runs the query, sound.
func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add("SELECT * FROM users WHERE "+s, uint64(i))
	}
	for i, s := range []string{
		"SELECT * FROM users u LEFT JOIN photos p ON p.user_id = u.id WHERE u.id = ?",
		"SELECT * FROM photos LEFT JOIN users `User` ON photos.user_id = `User`.id AND `User`.deleted_at IS NULL WHERE `User`.age = ?",
		"SELECT count(*) FROM users WHERE id IN (?, ?) GROUP BY age HAVING count(*) > ?",
		"SELECT * FROM users WHERE id = $1 OR age = $2",
		"SELECT * FROM users, photos WHERE photos.user_id = users.id AND users.id = ?",
		"SELECT * FROM users WHERE id = ? UNION SELECT * FROM users WHERE age = ?",
		"SELECT * FROM (SELECT * FROM users) users WHERE id = ?",
	} {
		f.Add(s, uint64(i))
	}
	db := openDB(f)
	seedMore(f, db)
	o := newOracle(f, db)
	f.Fuzz(func(t *testing.T, sql string, seed uint64) {
		n := strings.Count(sql, "?") + strings.Count(sql, "$")
		var vars []any
		for range min(n, 8) {
			v := fuzzVars[seed%uint64(len(fuzzVars))]
			seed /= uint64(len(fuzzVars))
			if _, ok := v.([]int); ok { // raw statements bind no lists
				v = 2
			}
			if _, ok := v.([]string); ok {
				v = "ann"
			}
			vars = append(vars, v)
		}
		tables, err := extract(statement(t, db, &User{}, sql, vars...), depscan.Options{MaxIn: 4})
		require.NoError(t, err)
		c := captured{sql, vars, tables, nil}
		checkTables(t, o, c)
		if a := sqlscan.Analyze(sql); a.ReadOnly && !a.Locking {
			o.check(t, c)
		}
	})
}

// checkTables checks that tables are well-formed: every table Analyze
// reports, each once, with sorted conjunctions of distinct columns of the
// table's model, whose values the vars or the SQL text justify.
func checkTables(t *testing.T, o *oracle, c captured) {
	t.Helper()
	var names []string
	for _, tab := range c.tables {
		require.NotContains(t, names, tab.Name)
		names = append(names, tab.Name)
		require.NotEmpty(t, tab.Conjs, tab.Name)
		if tab.Any() {
			continue
		}
		s := o.schemas[tab.Name]
		require.NotNil(t, s, "terms on %s, which has no model", tab.Name)
		for _, conj := range tab.Conjs {
			require.NotEmpty(t, conj, "an empty conjunction among others in %s", tab.Name)
			require.True(t, slices.IsSortedFunc(conj, func(a, b deps.Term) int { return strings.Compare(a.Column, b.Column) }))
			for i, term := range conj {
				if i > 0 {
					require.NotEqual(t, conj[i-1].Column, term.Column, "two terms on one column")
				}
				f := depscan.Field(s, term.Column)
				require.NotNil(t, f, "term on %s.%s, not a column of the model", tab.Name, term.Column)
				require.True(t, justified(c, f, term.Value), "term %s=%s of %s: not in the SQL or its vars\n%s %v",
					term.Column, term.Value, tab.Name, c.sql, c.vars)
			}
		}
	}
	for _, name := range sqlscan.Analyze(c.sql).Reads {
		require.Contains(t, names, name)
	}
}

// justified reports whether value can come from the query: NULL, the
// canonical value of a var for field f, or a literal of the SQL.
func justified(c captured, f *schema.Field, value string) bool {
	if value == "n" {
		return true
	}
	for _, v := range c.vars {
		if got, ok := depscan.Canon(v, f); ok && got == value {
			return true
		}
	}
	switch value {
	case "b1":
		return strings.Contains(strings.ToUpper(c.sql), "TRUE") || strings.Contains(c.sql, "1")
	case "b0":
		return strings.Contains(strings.ToUpper(c.sql), "FALSE") || strings.Contains(c.sql, "0")
	}
	return strings.Contains(strings.ReplaceAll(c.sql, "''", "'"), strings.TrimPrefix(value[1:], "-"))
}

// seedMore adds rows whose values the fuzzed conditions and vars hit.
func seedMore(t testing.TB, db *gorm.DB) {
	t.Helper()
	three := uint(3)
	for i, name := range []string{"ann", "7", "", "ANN", "x", "bob"} {
		u := User{Name: name, Age: []int{7, 30, 0, -1, 1, 2}[i], Active: i%2 == 0, ManagerID: &three,
			Level: sql.NullInt64{Int64: int64(i), Valid: i%3 != 0}, Nick: sql.NullString{String: "b", Valid: i%2 == 1},
			Photos: []Photo{{Title: name, Status: i % 3}, {Title: "t", Status: 1}}}
		if i == 4 {
			u.ManagerID = nil
		}
		require.NoError(t, db.Create(&u).Error)
		if i == 5 {
			require.NoError(t, db.Delete(&u).Error)
		}
	}
	require.NoError(t, db.Create(&Photo{Title: "orphan", UserID: 99, Status: 2}).Error)
}
