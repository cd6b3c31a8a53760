package depscan_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/depscan"
)

// query is one catalogue entry: the queries fn runs and, per statement
// GORM builds for them (preloads included), the dependencies Extract must
// find, as render writes them.
type catalogueCase struct {
	name string
	opts depscan.Options
	fn   func(db *gorm.DB) error
	want []string
}

func find[T any](fn func(db *gorm.DB) *gorm.DB) func(db *gorm.DB) error {
	return func(db *gorm.DB) error {
		var dest []T
		return fn(db).Find(&dest).Error
	}
}

func users(fn func(db *gorm.DB) *gorm.DB) func(db *gorm.DB) error  { return find[User](fn) }
func photos(fn func(db *gorm.DB) *gorm.DB) func(db *gorm.DB) error { return find[Photo](fn) }

var catalogue = []catalogueCase{
	// Equalities and how GORM writes them.
	{
		name: "expr eq",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "unscoped",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Unscoped().Where("name = ?", "ann") }),
		want: []string{"users: name=sann"},
	},
	{
		name: "struct",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(&User{Name: "ann", Age: 30}) }),
		want: []string{"users: age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "map",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(map[string]any{"name": "ann", "age": 30}) }),
		want: []string{"users: age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "map slice",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(map[string]any{"name": []string{"ann", "bob"}}) }),
		want: []string{"users: deleted_at=n&name=sann | deleted_at=n&name=sbob"},
	},
	{
		name: "map nil",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(map[string]any{"email": nil}) }),
		want: []string{"users: deleted_at=n&email=n"},
	},
	{
		name: "column and value",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "clause eq",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Clauses(clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "age"}, Value: 7})
		}),
		want: []string{"users: age=i7&deleted_at=n"},
	},
	{
		name: "clause eq nil",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Clauses(clause.Eq{Column: "email", Value: nil}) }),
		want: []string{"users: deleted_at=n&email=n"},
	},
	{
		name: "clause in",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Clauses(clause.IN{Column: "age", Values: []any{7, 30}}) }),
		want: []string{"users: age=i30&deleted_at=n | age=i7&deleted_at=n"},
	},
	{
		name: "is null",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("email IS NULL") }),
		want: []string{"users: deleted_at=n&email=n"},
	},
	{
		name: "reversed",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("? = name", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "double quoted",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(`"name" = ?`, "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "qualified",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("users.name = ?", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "quoted qualified",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("`users`.`name` = ?", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "mixed case",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where(`Users."NAME" = ?`, "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "named",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = @n", sql.Named("n", "ann")) }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "named map",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("name = @n AND age = @a", map[string]any{"n": "ann", "a": 30})
		}),
		want: []string{"users: age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "literals",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = 30 AND name = 'ann' AND active = TRUE") }),
		want: []string{"users: active=b1&age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "negative literal",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = -1") }),
		want: []string{"users: age=i-1&deleted_at=n"},
	},
	{
		name: "parenthesized value",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = (?)", 7) }),
		want: []string{"users: age=i7&deleted_at=n"},
	},
	{
		name: "empty slice",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", []int{}) }),
		want: []string{"users: age=n&deleted_at=n"},
	},
	{
		name: "in slice",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", []int{7, 30}) }),
		want: []string{"users: age=i30&deleted_at=n | age=i7&deleted_at=n"},
	},
	{
		name: "in parens",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN (?, ?)", 7, 30) }),
		want: []string{"users: age=i30&deleted_at=n | age=i7&deleted_at=n"},
	},
	{
		name: "in parens slice",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN (?)", []int{7, 30}) }),
		want: []string{"users: age=i30&deleted_at=n | age=i7&deleted_at=n"},
	},
	{
		name: "in duplicates",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", []int{7, 7, 30}) }),
		want: []string{"users: age=i30&deleted_at=n | age=i7&deleted_at=n"},
	},
	{
		name: "in null",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("email IN (?, NULL)", "a@x") }),
		want: []string{"users: deleted_at=n&email=n | deleted_at=n&email=sa%40x"},
	},
	{
		name: "in large",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", seq(17)) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "in max",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", seq(16)) }),
		want: []string{"users: age=i1&deleted_at=n | age=i10&deleted_at=n | age=i11&deleted_at=n | age=i12&deleted_at=n | age=i13&deleted_at=n | age=i14&deleted_at=n | age=i15&deleted_at=n | age=i16&deleted_at=n | age=i2&deleted_at=n | age=i3&deleted_at=n | age=i4&deleted_at=n | age=i5&deleted_at=n | age=i6&deleted_at=n | age=i7&deleted_at=n | age=i8&deleted_at=n | age=i9&deleted_at=n"},
	},
	{
		name: "in MaxIn",
		opts: depscan.Options{MaxIn: 2},
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", []int{1, 2, 3}) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "in product capped",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age IN ?", seq(10)).Where("id IN ?", seq(9)) }),
		want: []string{"users: deleted_at=n&id=i1 | deleted_at=n&id=i2 | deleted_at=n&id=i3 | deleted_at=n&id=i4 | deleted_at=n&id=i5 | deleted_at=n&id=i6 | deleted_at=n&id=i7 | deleted_at=n&id=i8 | deleted_at=n&id=i9"},
	},
	{
		name: "in subquery",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("id IN (?)", db.Model(&Photo{}).Select("user_id").Where("status = ?", 1))
		}),
		want: []string{
			"photos: status=i1",
			"users: deleted_at=n; photos: *",
		},
	},
	{
		name: "and",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age = ?", "ann", 30) }),
		want: []string{"users: age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "chained where",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann").Where("age = ?", 30) }),
		want: []string{"users: age=i30&deleted_at=n&name=sann"},
	},
	{
		name: "or",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? OR age = ?", "ann", 7) }),
		want: []string{"users: age=i7&deleted_at=n | deleted_at=n&name=sann"},
	},
	{
		name: "or chain",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann").Or("age = ?", 7) }),
		want: []string{"users: age=i7&deleted_at=n | deleted_at=n&name=sann"},
	},
	{
		name: "nested",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("(name = ? OR name = ?) AND (age = ? OR age = ?)", "ann", "bob", 7, 30)
		}),
		want: []string{"users: age=i30&deleted_at=n&name=sann | age=i30&deleted_at=n&name=sbob | age=i7&deleted_at=n&name=sann | age=i7&deleted_at=n&name=sbob"},
	},
	{
		name: "group conditions",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where(db.Where("name = ?", "ann").Or("name = ?", "bob")).Where(db.Where("age = ?", 30))
		}),
		want: []string{"users: age=i30&deleted_at=n&name=sann | age=i30&deleted_at=n&name=sbob"},
	},
	{
		name: "or with newline",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? OR\nid = ?", "ann", 1).Where("id = ?", 2) }),
		want: []string{"users: deleted_at=n | name=sann"},
	},
	{
		name: "contradiction",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("id = ? AND id = ?", 1, 2) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "not",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Not("name = ?", "bob") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "not and",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ?", 30).Not("name = ?", "bob") }),
		want: []string{"users: age=i30&deleted_at=n"},
	},
	{
		name: "not struct",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Not(&User{Name: "bob"}).Where("age = ?", 30) }),
		want: []string{"users: age=i30&deleted_at=n"},
	},
	{
		name: "not in sql",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("NOT (name = ? OR age = ?) AND id = ?", "bob", 7, 2) }),
		want: []string{"users: deleted_at=n&id=i2"},
	},
	{
		name: "or unknown",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? OR age > ?", "ann", 3) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "and unknown",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age > ?", "ann", 3) }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "range",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age > ? AND age <= ?", 1, 40) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "like",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name LIKE ?", "a%") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "not equal",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name <> ? AND age != ?", "bob", 1) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "is not null",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("email IS NOT NULL AND age = ?", 30) }),
		want: []string{"users: age=i30&deleted_at=n"},
	},
	{
		name: "function",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("lower(name) = ? AND age = ?", "ann", 30) }),
		want: []string{"users: age=i30&deleted_at=n"},
	},
	{
		name: "arithmetic",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ? + 1 AND name = ?", 29, "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "collate",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? COLLATE NOCASE", "ANN") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "between",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age BETWEEN ? AND ? AND name = ?", 1, 40, "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "case",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("CASE WHEN age > 1 AND age < 40 THEN 1 ELSE 0 END = 1 AND name = ?", "ann")
		}),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "exists",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("EXISTS (SELECT 1 FROM photos WHERE photos.user_id = users.id) AND name = ?", "ann")
		}),
		want: []string{"users: deleted_at=n&name=sann; photos: *"},
	},
	{
		name: "column equality",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("id = manager_id OR name = ?", "ann") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "column equality carries",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("manager_id = id AND id = ?", 2) }),
		want: []string{"users: deleted_at=n&id=i2&manager_id=i2"},
	},
	{
		name: "float",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("score = ?", 1.5) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "time",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("created_at = ?", time.Unix(0, 0)) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "string for integer",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("age = ?", "07") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "integer for string",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", 7) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "collate nocase column",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("folded = ?", "x") }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "bool",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("active = ?", true) }),
		want: []string{"users: active=b1&deleted_at=n"},
	},
	{
		name: "bool as integer",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("active = ?", 1) }),
		want: []string{"users: active=b1&deleted_at=n"},
	},
	{
		name: "valuer fields",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Where("level = ? OR nick = ?", sql.NullInt64{Int64: 3, Valid: true}, "b")
		}),
		want: []string{"users: deleted_at=n&level=i3 | deleted_at=n&nick=sb"},
	},
	{
		name: "pointer",
		fn:   users(func(db *gorm.DB) *gorm.DB { age := 30; return db.Where("age = ?", &age) }),
		want: []string{"users: age=i30&deleted_at=n"},
	},
	{
		name: "first by id",
		fn:   func(db *gorm.DB) error { var u User; return db.First(&u, 2).Error },
		want: []string{"users: deleted_at=n&id=i2"},
	},
	{
		name: "first by string id",
		fn:   func(db *gorm.DB) error { var u User; return db.First(&u, "2").Error },
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "first by condition",
		fn:   func(db *gorm.DB) error { var u User; return db.First(&u, "name = ?", "ann").Error },
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "find by ids",
		fn:   func(db *gorm.DB) error { var u []User; return db.Find(&u, []int{2, 3}).Error },
		want: []string{"users: deleted_at=n&id=i2 | deleted_at=n&id=i3"},
	},
	{
		name: "struct with id",
		fn:   func(db *gorm.DB) error { u := User{ID: 2}; return db.First(&u).Error },
		want: []string{"users: deleted_at=n&id=i2"},
	},
	{
		name: "take last",
		fn:   func(db *gorm.DB) error { var u User; return db.Where("age = ?", 7).Last(&u).Error },
		want: []string{"users: age=i7&deleted_at=n"},
	},
	{
		name: "composite struct",
		fn:   func(db *gorm.DB) error { m := Member{OrgID: 1, UserID: 2}; return db.First(&m).Error },
		want: []string{"members: org_id=i1&user_id=i2"},
	},
	{
		name: "composite where",
		fn:   find[Member](func(db *gorm.DB) *gorm.DB { return db.Where(&Member{OrgID: 1, UserID: 3}) }),
		want: []string{"members: org_id=i1&user_id=i3"},
	},
	{
		name: "composite tuple",
		fn: find[Member](func(db *gorm.DB) *gorm.DB {
			return db.Where("(org_id, user_id) IN ((?, ?), (?, ?))", 1, 2, 1, 3)
		}),
		want: []string{"members: org_id=i1&user_id=i2 | org_id=i1&user_id=i3"},
	},
	{
		name: "count",
		fn:   func(db *gorm.DB) error { var n int64; return db.Model(&User{}).Where("age = ?", 7).Count(&n).Error },
		want: []string{"users: age=i7&deleted_at=n"},
	},
	{
		name: "pluck",
		fn: func(db *gorm.DB) error {
			var s []string
			return db.Model(&Photo{}).Where("user_id = ?", 2).Pluck("title", &s).Error
		},
		want: []string{"photos: user_id=i2"},
	},
	{
		name: "group having",
		fn: func(db *gorm.DB) error {
			var rows []struct {
				UserID uint
				N      int
			}
			return db.Model(&Photo{}).Select("user_id, count(*) AS n").Where("status = ?", 1).Group("user_id").Having("count(*) > ?", 0).Scan(&rows).Error
		},
		want: []string{"photos: status=i1"},
	},
	{
		name: "order limit offset",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Where("user_id = ?", 2).Order("title").Limit(5).Offset(1) }),
		want: []string{"photos: user_id=i2"},
	},
	{
		name: "distinct",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Distinct("title").Where("status = ?", 1) }),
		want: []string{"photos: status=i1"},
	},
	{
		name: "table name",
		fn: func(db *gorm.DB) error {
			var rows []map[string]any
			return db.Table("photos").Where("user_id = ?", 2).Find(&rows).Error
		},
		want: []string{"photos: *"},
	},
	{
		name: "model and table alias",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Table("users u").Where("u.name = ?", "ann") }),
		want: []string{"users: deleted_at=n&name=sann"},
	},
	{
		name: "derived table",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Table("(?) AS users", db.Model(&User{}).Select("*").Where("age = ?", 7)).Where("name = ?", "bob")
		}),
		want: []string{
			"users: age=i7&deleted_at=n",
			"users: *",
		},
	},
	{
		name: "raw",
		fn: func(db *gorm.DB) error {
			var u []User
			return db.Raw("SELECT * FROM users WHERE id = ?", 2).Scan(&u).Error
		},
		want: []string{"users: *"},
	},
	{
		name: "raw model",
		fn: func(db *gorm.DB) error {
			var u []User
			return db.Model(&User{}).Raw("SELECT * FROM users WHERE id = ?", 2).Scan(&u).Error
		},
		want: []string{"users: id=i2"},
	},
	{
		name: "preload has many",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann").Preload("Photos") }),
		want: []string{
			"users: deleted_at=n&name=sann",
			"photos: user_id=i2",
		},
	},
	{
		name: "preload belongs to",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Where("status = ?", 2).Preload("User") }),
		want: []string{
			"photos: status=i2",
			"users: deleted_at=n&id=i2",
		},
	},
	{
		name: "preload many to many",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann").Preload("Languages") }),
		want: []string{
			"users: deleted_at=n&name=sann",
			"user_languages: user_id=i2",
			"languages: code=sen | code=sfr",
		},
	},
	{
		name: "preload conditions",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ?", "ann").Preload("Photos", "status = ?", 1) }),
		want: []string{
			"users: deleted_at=n&name=sann",
			"photos: status=i1&user_id=i2",
		},
	},
	{
		name: "preload composite",
		fn:   find[Badge](func(db *gorm.DB) *gorm.DB { return db.Preload("Member") }),
		want: []string{
			"badges: *",
			"members: org_id=i1&user_id=i2 | org_id=i1&user_id=i3",
		},
	},
	{
		name: "preload nested",
		fn:   find[Reply](func(db *gorm.DB) *gorm.DB { return db.Preload("Message.Sender") }),
		want: []string{
			"replies: *",
			"messages: id=i1",
			"users: deleted_at=n&id=i2",
		},
	},
	{
		name: "association has many",
		fn: func(db *gorm.DB) error {
			var p []Photo
			return db.Model(&User{ID: 2}).Association("Photos").Find(&p)
		},
		want: []string{"photos: user_id=i2"},
	},
	{
		name: "association many to many",
		fn: func(db *gorm.DB) error {
			var l []Language
			return db.Model(&User{ID: 2}).Association("Languages").Find(&l)
		},
		want: []string{"languages: *; user_languages: *"},
	},
	{
		name: "association count",
		fn: func(db *gorm.DB) error {
			db.Model(&User{ID: 2}).Association("Languages").Count()
			return nil
		},
		want: []string{"languages: *; user_languages: *"},
	},
	{
		name: "join where main",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where("photos.user_id = ?", 2) }),
		want: []string{"photos: user_id=i2; users: deleted_at=n&id=i2"},
	},
	{
		name: "join where joined",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where("User.name = ?", "ann") }),
		want: []string{"photos: *; users: deleted_at=n&name=sann"},
	},
	{
		name: "join where joined quoted",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where(`"User"."id" = ?`, 2) }),
		want: []string{"photos: user_id=i2; users: deleted_at=n&id=i2"},
	},
	{
		name: "join is null",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where(`"User"."email" IS NULL`) }),
		want: []string{"photos: *; users: deleted_at=n"},
	},
	{
		name: "inner join",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.InnerJoins("User").Where("User.name = ?", "ann") }),
		want: []string{"photos: *; users: deleted_at=n&name=sann"},
	},
	{
		name: "join conditions",
		fn: photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("User", db.Where(&User{Name: "ann"})).Where("status = ?", 1)
		}),
		want: []string{"photos: status=i1; users: deleted_at=n&name=sann"},
	},
	{
		name: "join nested",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User.Company").Where("photos.user_id = ?", 2) }),
		want: []string{"photos: user_id=i2; users: deleted_at=n&id=i2; companies: *"},
	},
	{
		name: "join nested where",
		fn:   find[Reply](func(db *gorm.DB) *gorm.DB { return db.Joins("Message.Sender").Where("Message__Sender.id = ?", 2) }),
		want: []string{"replies: *; messages: sender_id=i2; users: deleted_at=n&id=i2"},
	},
	{
		name: "self join",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Joins("Manager").Where("users.id = ?", 2) }),
		want: []string{"users: deleted_at=n"},
	},
	{
		name: "self join manager",
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Joins("Manager").Where("Manager.id = ?", 1) }),
		want: []string{"users: deleted_at=n&id=i1 | deleted_at=n&manager_id=i1"},
	},
	{
		name: "raw join",
		fn: photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("JOIN users u ON u.id = photos.user_id").Where("u.id = ? AND u.name = ?", 2, "ann")
		}),
		want: []string{"photos: user_id=i2; users: *"},
	},
	{
		name: "raw left join",
		fn: users(func(db *gorm.DB) *gorm.DB {
			return db.Joins("LEFT JOIN companies c ON c.id = users.company_id").Where("users.age = ?", 30)
		}),
		want: []string{"users: age=i30&deleted_at=n; companies: *"},
	},
	{
		name: "unqualified with join",
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where("status = ? AND name = ?", 1, "ann") }),
		want: []string{"photos: status=i1; users: deleted_at=n"},
	},
	{
		name: "fields go name",
		opts: depscan.Options{Fields: []string{"Name"}},
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age = ?", "ann", 30) }),
		want: []string{"users: name=sann"},
	},
	{
		name: "fields column",
		opts: depscan.Options{Fields: []string{"age"}},
		fn:   users(func(db *gorm.DB) *gorm.DB { return db.Where("name = ? AND age = ?", "ann", 30) }),
		want: []string{"users: age=i30"},
	},
	{
		name: "fields relation",
		opts: depscan.Options{Fields: []string{"User"}},
		fn:   photos(func(db *gorm.DB) *gorm.DB { return db.Joins("User").Where("photos.user_id = ? AND status = ?", 2, 1) }),
		want: []string{"photos: *; users: deleted_at=n&id=i2"},
	},
	{
		name: "fields relation column",
		opts: depscan.Options{Fields: []string{"Status", "User.Name"}},
		fn: photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("User").Where("photos.user_id = ? AND status = ? AND User.name = ?", 2, 1, "ann")
		}),
		want: []string{"photos: status=i1; users: name=sann"},
	},
	{
		name: "fields nested relation",
		opts: depscan.Options{Fields: []string{"Message.Sender"}},
		fn: find[Reply](func(db *gorm.DB) *gorm.DB {
			return db.Joins("Message.Sender").Where("replies.message_id = ? AND Message__Sender.id = ?", 1, 2)
		}),
		want: []string{"replies: *; messages: *; users: deleted_at=n&id=i2"},
	},
	{
		name: "fields raw join",
		opts: depscan.Options{Fields: []string{"UserID"}},
		fn: photos(func(db *gorm.DB) *gorm.DB {
			return db.Joins("JOIN users u ON u.id = photos.user_id").Where("photos.user_id = ? AND u.name = ?", 2, "ann")
		}),
		want: []string{"photos: user_id=i2; users: *"},
	},
	{
		name: "fields without model",
		opts: depscan.Options{Fields: []string{"user_id"}},
		fn: func(db *gorm.DB) error {
			var rows []map[string]any
			return db.Table("photos").Where("user_id = ? AND status = ?", 2, 1).Find(&rows).Error
		},
		want: []string{"photos: *"},
	},
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestCatalogue(t *testing.T) {
	db := openDB(t)
	o := newOracle(t, db)
	proved := 0
	for _, c := range catalogue {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			got := capture(t, db, c.opts, c.fn)
			var rendered []string
			for _, g := range got {
				require.NoError(t, g.err)
				rendered = append(rendered, render(g.tables))
				proved += o.check(t, g)
			}
			assert.Equal(t, c.want, rendered)
		})
	}
	t.Logf("%d rows proved irrelevant by the database", proved)
}

func TestUnknownField(t *testing.T) {
	db := openDB(t)
	for _, tc := range []struct {
		model  any
		fields []string
		want   string
	}{
		{&User{}, []string{"Nope"}, `gormcache: unknown field "Nope" of model User`},
		{&User{}, []string{"Name", "Photos.Nope"}, `gormcache: unknown field "Photos.Nope" of model User`},
		{&Photo{}, []string{"User.Company.Nope"}, `gormcache: unknown field "User.Company.Nope" of model Photo`},
		{&Photo{}, []string{"Title.Name"}, `gormcache: unknown field "Title.Name" of model Photo`},
	} {
		got := capture(t, db, depscan.Options{Fields: tc.fields}, func(db *gorm.DB) error {
			return db.Model(tc.model).Where("id = ?", 1).Find(map[string]any{}).Error
		})
		require.Len(t, got, 1)
		require.Error(t, got[0].err)
		assert.True(t, errors.Is(got[0].err, deps.ErrUnknownField))
		assert.Equal(t, tc.want, got[0].err.Error())
	}
}
