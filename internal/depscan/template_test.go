package depscan_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// sortedTables renders tables with their conjunctions in a fixed order:
// an Extractor may order them differently from Extract.
func sortedTables(tables []deps.Table) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		keys := make([]string, len(t.Conjs))
		for j, c := range t.Conjs {
			keys[j] = c.Key()
		}
		slices.Sort(keys)
		out[i] = t.Name + ": " + strings.Join(keys, " | ")
	}
	return out
}

// TestExtractorAgreesWithExtract runs random conditions with several sets
// of values each — random ones, and the first ones reshuffled so that
// values repeat — through one Extractor, and checks that it returns what
// Extract does, and that it answered most of them from a template.
func TestExtractorAgreesWithExtract(t *testing.T) {
	db := openDB(t)
	dry := db.Session(&gorm.Session{DryRun: true})
	user := []string{"id", "name", "email", "age", "active", "score", "nick", "level", "manager_id", "deleted_at"}
	photo := []string{"id", "title", "user_id", "status", "album_id", "User.id", "User.name"}
	colsets := [][]string{user, photo, photo, append(user, "Manager.id", "Manager.name")}
	x := depscan.NewExtractor(1000)
	r := rand.New(rand.NewPCG(3, 4))
	n := 2000
	if testing.Short() {
		n = 200
	}
	// Half the statements run under Columns, as on GORM's dialects: the
	// strings of some columns compared without case.
	columns := func(_, column string) collation.Column {
		switch column {
		case "id", "age", "active", "level", "manager_id", "user_id", "status", "album_id":
			return collation.Column{Kind: collation.Integer}
		case "name", "nick":
			return collation.NoCase
		case "email", "title":
			return collation.Binary
		}
		return collation.Column{}
	}
	checked, bound := 0, 0
	for i := range n {
		opts := depscan.Options{MaxIn: 4}
		if i%2 == 1 {
			opts.Columns = columns
		}
		shape := r.IntN(len(fuzzShapes))
		g := &condGen{r: r, cols: colsets[shape]}
		cond := g.cond(2)
		first := fuzzShapes[shape](dry, cond, g.vars)
		require.NoError(t, first.Error, cond)
		sql := first.Statement.SQL.String()
		for set := range 4 {
			vars := make([]any, len(g.vars))
			for i := range vars {
				if set%2 == 0 {
					vars[i] = genValues[r.IntN(len(genValues))]
				} else {
					vars[i] = g.vars[r.IntN(len(g.vars))]
				}
			}
			tx := fuzzShapes[shape](dry, cond, vars)
			require.NoError(t, tx.Error, cond)
			if tx.Statement.SQL.String() != sql {
				continue // the values changed the SQL GORM built
			}
			a := sqlscan.Analyze(sql)
			want, err := depscan.Extract(tx.Statement, &a, opts)
			require.NoError(t, err)
			if x.Binds(tx.Statement, &a, opts) {
				bound++
			}
			got, err := x.Extract(tx.Statement, &a, opts)
			require.NoError(t, err)
			require.Equal(t, sortedTables(want), sortedTables(got), "%s %v", sql, vars)
			checked++
		}
	}
	t.Logf("%d statements checked, %d answered from a template", checked, bound)
	require.Greater(t, bound, checked/20)
}

// TestExtractorTemplates checks that the statements GORM builds most — by
// primary key, by a foreign key, by IN lists, with a soft-delete condition
// — are answered from a template for new values, and that values that
// lead Extract elsewhere are not.
func TestExtractorTemplates(t *testing.T) {
	db := openDB(t)
	dry := db.Session(&gorm.Session{DryRun: true})
	tests := []struct {
		name  string
		run   func(db *gorm.DB, v []any) *gorm.DB
		first []any
		next  []any
		binds bool
	}{
		{"First by primary key", func(db *gorm.DB, v []any) *gorm.DB { return db.First(&User{}, v[0]) }, []any{1}, []any{2}, true},
		{"Find by a foreign key, soft delete", func(db *gorm.DB, v []any) *gorm.DB {
			return db.Where("user_id = ?", v[0]).Find(&[]Photo{})
		}, []any{1}, []any{9}, true},
		{"IN list", func(db *gorm.DB, v []any) *gorm.DB { return db.Find(&[]User{}, v) }, []any{1, 2, 3}, []any{4, 5, 6}, true},
		{"IN list with a repeated value", func(db *gorm.DB, v []any) *gorm.DB { return db.Find(&[]User{}, v) }, []any{1, 2, 3}, []any{4, 4, 6}, false},
		{"two columns", func(db *gorm.DB, v []any) *gorm.DB {
			return db.Where("status = ? AND user_id = ?", v...).Find(&[]Photo{})
		}, []any{1, 2}, []any{2, 2}, true},
		{"a value of another kind", func(db *gorm.DB, v []any) *gorm.DB {
			return db.Where("name = ?", v[0]).Find(&[]User{})
		}, []any{"ann"}, []any{nil}, false},
		{"a join", func(db *gorm.DB, v []any) *gorm.DB {
			return db.Joins("User").Where("photos.user_id = ?", v[0]).Find(&[]Photo{})
		}, []any{1}, []any{2}, false},
	}
	opts := depscan.Options{MaxIn: 4}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := depscan.NewExtractor(10)
			for i, vars := range [][]any{tt.first, tt.next} {
				tx := tt.run(dry, vars)
				require.NoError(t, tx.Error)
				a := sqlscan.Analyze(tx.Statement.SQL.String())
				if i == 1 {
					require.Equal(t, tt.binds, x.Binds(tx.Statement, &a, opts), "answered from a template")
				}
				want, err := depscan.Extract(tx.Statement, &a, opts)
				require.NoError(t, err)
				got, err := x.Extract(tx.Statement, &a, opts)
				require.NoError(t, err)
				require.Equal(t, sortedTables(want), sortedTables(got))
			}
		})
	}
}

// TestExtractorFollowsColumns checks that a template made under Columns
// binds only while the columns it names values of compare as they did: a
// statement may run on a database whose column compares otherwise, or
// after DDL changed it. With Generation, as without it.
func TestExtractorFollowsColumns(t *testing.T) {
	dry := openDB(t).Session(&gorm.Session{DryRun: true})
	for _, withGeneration := range []bool{false, true} {
		name, gen := collation.NoCase, uint64(1)
		opts := depscan.Options{Columns: func(_, column string) collation.Column {
			switch column {
			case "name":
				return name
			case "id":
				return collation.Column{Kind: collation.Integer}
			}
			return collation.Column{}
		}}
		if withGeneration {
			opts.Generation = func() uint64 { return gen }
		}
		x := depscan.NewExtractor(10)
		for _, tc := range []struct {
			value string
			name  collation.Column
			binds bool
			want  string
		}{
			{"Ann", collation.NoCase, false, "users: name=sann"},
			{"BOB", collation.NoCase, true, "users: name=sbob"},
			{"Cid", collation.Binary, false, "users: name=sCid"},
			{"Dee", collation.Binary, true, "users: name=sDee"},
			{"Eve", collation.Column{}, false, "users: "},
			{"Fay", collation.NoCase, false, "users: name=sfay"},
			{"Gus", collation.NoCase, true, "users: name=sgus"},
			{"Hal", collation.NoCase, true, "users: name=shal"}, // a new generation, the same columns
		} {
			if name != tc.name || tc.value == "Hal" {
				gen++
			}
			name = tc.name
			tx := dry.Unscoped().Where("name = ?", tc.value).Find(&[]User{})
			require.NoError(t, tx.Error)
			a := sqlscan.Analyze(tx.Statement.SQL.String())
			require.Equal(t, tc.binds, x.Binds(tx.Statement, &a, opts), "%s, Generation %v", tc.value, withGeneration)
			got, err := x.Extract(tx.Statement, &a, opts)
			require.NoError(t, err)
			require.Equal(t, []string{tc.want}, sortedTables(got), tc.value)
		}
	}
}
