package collation_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/testdb"
)

func openMySQL(t *testing.T) *gorm.DB {
	t.Helper()
	return open(t, testdb.MySQL(t))
}

// pieces are what the test strings are made of: letters in both cases,
// with and without accents, the pairs a collation may expand (ß, ss),
// spaces and what looks like one, digits, characters beyond the BMP, NUL.
var pieces = []string{"a", "A", "á", "Á", "ä", "ß", "s", "S", "ss", " ", "  ", "\t", "\u00a0", "ǅ", "dž", "Ǆ",
	"😀", "😁", "1", "0", "é", "E", "ø", "Ø", "æ", "Æ", "ı", "I", "i", "İ", "ﬀ", "ff", "\x00", "k", "K", "\u212a"}

// randomStrings returns n random strings of pieces, each distinct.
func randomStrings(r *rand.Rand, n int) []string {
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if s := b.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TestKeysAgreeWithTheDatabase stores strings in columns of each collation
// Key reproduces and checks, for every pair, that the database finds them
// equal exactly when their Keys are; and that a string whose Key is
// refused is one the column cannot name (a character beyond the BMP).
func TestKeysAgreeWithTheDatabase(t *testing.T) {
	db := openMySQL(t)
	columns := map[string]string{
		"general":       "varchar(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
		"general_nopad": "varchar(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_nopad_ci",
		"bin":           "varchar(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"nopad_bin":     "varchar(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin",
		"mb3_general":   "varchar(40) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci",
		"char_general":  "char(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
		"text_bin":      "text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"bytes":         "varbinary(160)",
	}
	var defs []string
	for name, typ := range columns {
		defs = append(defs, name+" "+typ)
	}
	require.NoError(t, db.Exec("CREATE TABLE samples (id int PRIMARY KEY, "+strings.Join(defs, ", ")+")").Error)
	cat := collation.Catalog{Dialect: "mysql"}
	_, err := cat.Load(context.Background(), db.ConnPool, []string{"samples"})
	require.NoError(t, err)

	values := randomStrings(rand.New(rand.NewPCG(14, 1)), 300)
	for name := range columns {
		t.Run(name, func(t *testing.T) {
			checkKeys(t, db, cat.Column("samples", name), name, values, func(v string) bool {
				return !(name == "mb3_general" && strings.ContainsAny(v, "😀😁")) // utf8mb3 cannot store it: strict mode refuses
			}, func(v string) bool { return strings.ContainsAny(v, "😀😁") })
		})
	}
}

// checkKeys stores the values that stores accepts in the column of the
// samples table, and checks, for every pair, that the database finds them
// equal exactly when their Keys are; a value whose Key is refused must be
// one refusable accepts.
func checkKeys(t *testing.T, db *gorm.DB, col collation.Column, column string, values []string, stores, refusable func(string) bool) {
	require.Equal(t, collation.Text, col.Kind)
	stored := map[int]string{}
	for i, v := range values {
		if stores(v) {
			require.NoError(t, db.Exec("INSERT INTO samples (id, "+column+") VALUES (?, ?)", i, v).Error)
			stored[i] = v
		}
	}
	t.Cleanup(func() { db.Exec("DELETE FROM samples") })
	type pair struct{ A, B int }
	var equal []pair
	require.NoError(t, db.Raw("SELECT x.id AS a, y.id AS b FROM samples x JOIN samples y ON x."+column+" = y."+column).Scan(&equal).Error)
	dbEqual := map[pair]bool{}
	for _, p := range equal {
		dbEqual[p] = true
	}
	refused, named := 0, 0
	for i, a := range stored {
		ka, okA := col.Key(a)
		if !okA {
			refused++
			assert.True(t, refusable(a), "%s: Key refused %q", column, a)
			continue
		}
		named++
		for j, b := range stored {
			kb, okB := col.Key(b)
			if okB && (ka == kb) != dbEqual[pair{i, j}] {
				t.Errorf("%s: %q and %q: Keys %q and %q, but the database says equal = %v", column, a, b, ka, kb, dbEqual[pair{i, j}])
			}
		}
	}
	t.Logf("%s: %d strings named, %d refused", column, named, refused)
}

// TestKinds checks what each column type and collation is taken for.
func TestKinds(t *testing.T) {
	db := openMySQL(t)
	require.NoError(t, db.Exec(`CREATE TABLE kinds (
		i int, u bigint unsigned, b tinyint(1), d decimal(10, 0), f float, ts datetime,
		v varchar(10), c char(5) COLLATE utf8mb4_bin, cn char(5) COLLATE utf8mb4_nopad_bin,
		uni varchar(10) COLLATE utf8mb4_unicode_ci, l1 varchar(10) CHARACTER SET latin1,
		e enum('a', 'b'), j json, vb varbinary(10), bn binary(4), Mixed int)`).Error)
	cat := collation.Catalog{Dialect: "mysql"}
	_, err := cat.Load(context.Background(), db.ConnPool, []string{"kinds", "missing"})
	require.NoError(t, err)
	for col, want := range map[string]collation.Kind{
		"i": collation.Integer, "u": collation.Integer, "b": collation.Integer,
		"d": collation.Other, "f": collation.Other, "ts": collation.Other,
		"v": collation.Text, "c": collation.Text, "cn": collation.Other,
		"uni": collation.Other, "l1": collation.Other, "e": collation.Other, "vb": collation.Text,
		"bn": collation.Other, "mixed": collation.Integer, "Mixed": collation.Other, "nosuch": collation.Other,
	} {
		assert.Equal(t, want, cat.Column("kinds", col).Kind, col)
	}
	assert.Equal(t, collation.Other, cat.Column("missing", "i").Kind)
	assert.True(t, cat.Strict("kinds"), "MariaDB's default sql_mode is strict")
	assert.False(t, cat.Strict("never_loaded"))
	assert.Equal(t, cat.Column("kinds", "i"), cat.Column("kinds", "mixed"), "two integer columns compare alike")
	assert.NotEqual(t, cat.Column("kinds", "v"), cat.Column("kinds", "c"), "general_ci and bin compare differently")
}

// TestStoresAssigned checks which tables an UPDATE leaves as it assigns
// them: not those with a generated column, nor outside strict mode.
func TestStoresAssigned(t *testing.T) {
	db := openMySQL(t)
	require.NoError(t, db.Exec("CREATE TABLE plain (id int, name varchar(10), at timestamp NULL ON UPDATE CURRENT_TIMESTAMP)").Error)
	require.NoError(t, db.Exec("CREATE TABLE virtual (id int, name varchar(10), lname varchar(10) AS (lower(name)) VIRTUAL)").Error)
	require.NoError(t, db.Exec("CREATE TABLE stored (id int, name varchar(10), lname varchar(10) AS (lower(name)) STORED)").Error)
	cat := collation.Catalog{Dialect: "mysql"}
	_, err := cat.Load(context.Background(), db.ConnPool, []string{"plain", "virtual", "stored"})
	require.NoError(t, err)
	assert.True(t, cat.StoresAssigned("plain"), "ON UPDATE sets a time only")
	assert.False(t, cat.StoresAssigned("virtual"))
	assert.False(t, cat.StoresAssigned("stored"))
	assert.False(t, cat.StoresAssigned("never_loaded"))

	sqlDB, err := db.DB()
	require.NoError(t, err)
	sqlDB.SetMaxOpenConns(1) // one session: the one whose sql_mode is set
	require.NoError(t, db.Exec("SET SESSION sql_mode = ''").Error)
	lax := collation.Catalog{Dialect: "mysql"}
	_, err = lax.Load(context.Background(), db.ConnPool, []string{"plain"})
	require.NoError(t, err)
	assert.False(t, lax.StoresAssigned("plain"), "outside strict mode MySQL stores what it can")
}

// TestReloadTellsChanges checks that Load reads a table again after Forget
// and reports it when its columns now compare otherwise.
func TestReloadTellsChanges(t *testing.T) {
	db := openMySQL(t)
	ctx := context.Background()
	require.NoError(t, db.Exec("CREATE TABLE people (id int, name varchar(10), other varchar(10))").Error)
	cat := collation.Catalog{Dialect: "mysql"}
	changed, err := cat.Load(ctx, db.ConnPool, []string{"people"})
	require.NoError(t, err)
	assert.Empty(t, changed, "a first read changes nothing")
	general := cat.Column("people", "name")

	require.NoError(t, db.Exec("ALTER TABLE people MODIFY name varchar(10) COLLATE utf8mb4_bin").Error)
	changed, err = cat.Load(ctx, db.ConnPool, []string{"people"})
	require.NoError(t, err)
	assert.Empty(t, changed, "read again before Forget or MaxAge")
	assert.Equal(t, general, cat.Column("people", "name"))

	cat.Forget([]string{"people"}, false)
	assert.Equal(t, general, cat.Column("people", "name"), "Forget keeps what was read until it is read again")
	changed, err = cat.Load(ctx, db.ConnPool, []string{"people"})
	require.NoError(t, err)
	assert.Equal(t, []string{"people"}, changed)
	k, ok := cat.Column("people", "name").Key("Ada ")
	assert.True(t, ok)
	assert.Equal(t, "Ada", k, "utf8mb4_bin: case kept, trailing spaces ignored")

	require.NoError(t, db.Exec("ALTER TABLE people ADD COLUMN age int").Error)
	cat.Forget(nil, true)
	changed, err = cat.Load(ctx, db.ConnPool, []string{"people"})
	require.NoError(t, err)
	assert.Equal(t, []string{"people"}, changed, "a new column changes the table")
}

func TestKeyOfOtherColumns(t *testing.T) {
	for _, c := range []collation.Column{{}, {Kind: collation.Integer}} {
		_, ok := c.Key("a")
		assert.False(t, ok, fmt.Sprint(c.Kind))
	}
}
