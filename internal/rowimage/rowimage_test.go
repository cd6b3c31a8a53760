package rowimage

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// status is an integer that the driver sends as a string.
type status int

func (s status) Value() (driver.Value, error) { return fmt.Sprint("s", int(s)), nil }

func TestWithIntegers(t *testing.T) {
	type myInt int16
	for _, tc := range []struct {
		sql  string
		vars []any
		want string // "" when the arguments must stay arguments
	}{
		{"SELECT * FROM `t` WHERE `id` = ? LIMIT ? FOR UPDATE", []any{uint(7), 1001},
			"SELECT * FROM `t` WHERE `id` = 7 LIMIT 1001 FOR UPDATE"},
		{"SELECT * FROM t WHERE a IN (?,?) AND b = ?", []any{int64(-3), myInt(4), uint8(0)},
			"SELECT * FROM t WHERE a IN (-3,4) AND b = 0"},
		{"SELECT * FROM t", nil, "SELECT * FROM t"},
		{"SELECT * FROM t WHERE name = ?", []any{"ada"}, ""},
		{"SELECT * FROM t WHERE ok = ?", []any{true}, ""},
		{"SELECT * FROM t WHERE id = ?", []any{ptr(7)}, ""},
		{"SELECT * FROM t WHERE id = ?", []any{1.5}, ""},
		{"SELECT * FROM t WHERE status = ?", []any{status(2)}, ""},
		{"SELECT * FROM t WHERE id = ? AND name = '?'", []any{7}, "SELECT * FROM t WHERE id = 7 AND name = '?'"},
		{"SELECT * FROM t WHERE `?` = ? /* ? */", []any{7}, "SELECT * FROM t WHERE `?` = 7 /* ? */"},
		{"SELECT * FROM t WHERE id = ?", []any{1, 2}, ""},
		{"SELECT * FROM t WHERE id = ? AND x = ?", []any{1}, ""},
		{"SELECT * FROM t WHERE name = 'it\\'s' AND id = ?", []any{1}, ""}, // read two ways: Invalid
	} {
		got, ok := withIntegers(tc.sql, tc.vars)
		if tc.want == "" {
			assert.False(t, ok, "%s %v: got %q", tc.sql, tc.vars, got)
			continue
		}
		assert.True(t, ok, "%s %v", tc.sql, tc.vars)
		assert.Equal(t, tc.want, got)
	}
}

func ptr(i int) *int { return &i }

type photo struct {
	ID        uint
	UserID    uint
	Status    int
	Title     string
	DeletedAt gorm.DeletedAt
}

// TestTemplates checks that the SQL a read writes its integers into, once
// its shape of condition has been built, is the SQL GORM builds for the
// read afresh, on MySQL (integers written in) and SQLite (bound), and that
// conditions of other shapes are built every time.
func TestTemplates(t *testing.T) {
	mysqlDB, err := gorm.Open(mysql.New(mysql.Config{DSN: "u@tcp(127.0.0.1:1)/d", SkipInitializeWithVersion: true}),
		&gorm.Config{DryRun: true, DisableAutomaticPing: true, Logger: logger.Discard})
	require.NoError(t, err)
	sqliteDB, err := gorm.Open(sqlite.Open(":memory:"), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	deleted := clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "deleted_at"}, Value: sql.NullTime{}}
	for _, tc := range []struct {
		name   string
		where  func(id int) clause.Where
		shaped bool
	}{
		{"by primary key, soft delete", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{deleted, clause.Eq{Column: "id", Value: uint(id)}}}
		}, true},
		{"primary column and IN", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{clause.Eq{Column: clause.PrimaryColumn, Value: int64(id)},
				clause.IN{Column: "user_id", Values: []any{-id, int8(3), uint16(id + 1)}}}}
		}, true},
		{"nil pointer", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{clause.Eq{Column: "user_id", Value: (*int)(nil)}, clause.Eq{Column: "id", Value: id}}}
		}, true},
		{"a string", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{clause.Eq{Column: "title", Value: fmt.Sprint("t", id)}}}
		}, false},
		{"a Valuer", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{clause.Eq{Column: "status", Value: status(id)}}}
		}, false},
		{"raw SQL", func(id int) clause.Where {
			return clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "id = ?", Vars: []any{id}}}}
		}, false},
	} {
		for _, db := range []*gorm.DB{mysqlDB, sqliteDB} {
			name := db.Dialector.Name()
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				textual := name == "mysql"
				build := func(r *Reader, id int) (string, []any) {
					stmt := &gorm.Statement{DB: db, Context: t.Context()}
					require.NoError(t, stmt.Parse(&photo{}))
					return r.sqlOf(stmt, tc.where(id), true, 10, textual)
				}
				var r Reader
				build(&r, 1)
				assert.Equal(t, tc.shaped, len(r.templates) == 1, "templates: %v", r.templates)
				for _, id := range []int{2, 300, 4711} {
					got, gotVars := build(&r, id)
					want, wantVars := build(&Reader{}, id)
					assert.Equal(t, want, got)
					assert.Equal(t, wantVars, gotVars)
					if textual && tc.shaped {
						assert.Contains(t, got, fmt.Sprint(id))
						assert.Empty(t, gotVars)
					}
				}
			})
		}
	}
}

func TestShapeOf(t *testing.T) {
	key := func(exprs ...clause.Expression) string {
		k, _, ok := shapeOf(nil, nil, clause.Where{Exprs: exprs})
		require.True(t, ok)
		return string(k)
	}
	// Names that run into one another, and values bound or NULL, make
	// other shapes.
	assert.NotEqual(t, key(clause.Eq{Column: "ab", Value: 1}, clause.Eq{Column: "c", Value: 1}),
		key(clause.Eq{Column: "a", Value: 1}, clause.Eq{Column: "bc", Value: 1}))
	assert.NotEqual(t, key(clause.Eq{Column: "a", Value: 1}), key(clause.Eq{Column: "a", Value: nil}))
	assert.NotEqual(t, key(clause.Eq{Column: "a", Value: 1}), key(clause.Eq{Column: clause.Column{Name: "a"}, Value: 1}))
	assert.NotEqual(t, key(clause.IN{Column: "a", Values: []any{1}}), key(clause.IN{Column: "a", Values: []any{1, 2}}))
	_, _, ok := shapeOf(nil, nil, clause.Where{Exprs: []clause.Expression{clause.Eq{Column: clause.Column{Name: "a", Raw: true}, Value: 1}}})
	assert.False(t, ok)
}

func TestSends(t *testing.T) {
	tenAM := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		v      any
		stored any
		want   bool
	}{
		{"an integer", 7, int64(7), true},
		{"another integer", 7, int64(8), false},
		{"an integer as its text (MySQL's text protocol)", uint(7), "7", true},
		{"an integer with a leading zero", 7, "07", false},
		{"a large unsigned integer", uint64(1) << 63, uint64(1) << 63, false},
		{"a small unsigned integer", uint64(3), uint64(3), true},
		{"a string", "ada", "ada", true},
		{"a string in another case", "ADA", "ada", false},
		{"bytes", []byte("ab"), "ab", true},
		{"a boolean", true, true, true},
		{"a boolean as 1 (SQLite)", true, int64(1), true},
		{"a boolean as 0", true, int64(0), false},
		{"a boolean as its text", false, "0", true},
		{"a float", 0.5, 0.5, true},
		{"a float32 read from a float64", float32(0.1), 0.1, false},
		{"a time in another zone", tenAM.In(time.FixedZone("x", 3600)), tenAM, true},
		{"a Valuer sending something else", status(1), int64(1), false},
		{"a Valuer sending what was stored", status(1), "s1", true},
		{"a nil pointer", (*int)(nil), int64(0), false},
		{"a pointer", new(int), int64(0), true},
		{"a value the driver cannot be sent", struct{}{}, "{}", false},
	}
	for _, tt := range tests {
		if got := sends(tt.v, tt.stored); got != tt.want {
			t.Errorf("%s: sends(%#v, %#v) = %v, want %v", tt.name, tt.v, tt.stored, got, tt.want)
		}
	}
}
