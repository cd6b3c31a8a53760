package gormcache_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// The tests of this file run on tables whose migrations declare how their
// columns compare, where the Go model says nothing of it: a schema managed
// by SQL migrations, not AutoMigrate. The database then finds equal values
// whose bytes differ, and a cached read must see every row it would.

// clubMember is the model of the members table, all strings.
type clubMember struct {
	ID   uint
	Name string
	Code string
	Ref  string
}

// clubTables are the members tables of each engine: a name compared
// without case, a code without trailing spaces, and a ref column whose
// type reads a string its own way (an integer column reads "07" as 7; a
// uuid column reads either case).
var clubTables = map[string]string{
	"sqlite": `CREATE TABLE club_members (id integer PRIMARY KEY, name text COLLATE NOCASE,
		code text COLLATE RTRIM, ref integer)`,
	"postgres": `CREATE TABLE club_members (id serial PRIMARY KEY, name citext, code char(8), ref uuid)`,
	"mysql": `CREATE TABLE club_members (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) COLLATE utf8mb4_unicode_ci,
		code char(8), ref int)`,
}

// refs are the refs of each engine: the first two are the seeded rows',
// the third a write's; each written as the database does not store it.
var refs = map[string][3]string{
	"sqlite":   {"1", "2", "7"},
	"postgres": {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13"},
	"mysql":    {"1", "2", "7"},
}

// refQuery is a way to write ref that the database finds equal to it and
// whose bytes differ.
func refQuery(ref string) string {
	if strings.Contains(ref, "-") {
		return strings.ToUpper(ref)
	}
	return "0" + ref
}

// newClubMembers opens a database of b's engine with the members table that
// its migration creates, and two members.
func newClubMembers(t *testing.T, b backend) *env {
	e := newEnv(t, b, gormcache.Config{})
	require.NoError(t, e.db.Exec(createExtension[b.Name]).Error)
	require.NoError(t, e.db.Exec(clubTables[b.Name]).Error)
	r := refs[b.Name]
	require.NoError(t, e.db.Create(&[]clubMember{{Name: "Ada", Code: "a1", Ref: r[0]}, {Name: "Bob", Code: "b1", Ref: r[1]}}).Error)
	return e
}

// createExtension installs what clubTables needs ("SELECT 1" where
// nothing).
var createExtension = map[string]string{"sqlite": "SELECT 1", "postgres": "CREATE EXTENSION IF NOT EXISTS citext", "mysql": "SELECT 1"}

// TestComparisonsTheSchemaDeclares runs the freshness matrix on the
// members table, on every engine and store.
func TestComparisonsTheSchemaDeclares(t *testing.T) {
	engine := func(db *gorm.DB) string { return db.Dialector.Name() }
	reads := freshness.Reads{
		"name ada": func(t testing.TB, db *gorm.DB) any {
			return findByID[clubMember](t, db.Where("name = ?", "ada"))
		},
		"names ada or carl": func(t testing.TB, db *gorm.DB) any {
			return findByID[clubMember](t, db.Where("name IN ?", []string{"ADA", "carl"}))
		},
		"code x1": func(t testing.TB, db *gorm.DB) any {
			return findByID[clubMember](t, db.Where(&clubMember{Code: "x1"}))
		},
		"ref of the write": func(t testing.TB, db *gorm.DB) any {
			return findByID[clubMember](t, db.Where("ref = ?", refQuery(refs[engine(db)][2])))
		},
		"first of ref 1": func(t testing.TB, db *gorm.DB) any {
			var m clubMember
			err := db.Where("ref = ?", refQuery(refs[engine(db)][0])).First(&m).Error
			return []any{m, err}
		},
	}
	writes := freshness.Writes{
		"rename bob to ADA": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&clubMember{ID: 2}).Update("name", "ADA").Error)
		},
		"rename ada to Carl": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&clubMember{ID: 1}).Update("name", "Carl").Error)
		},
		"code bob x1 with a space": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&clubMember{ID: 2}).Updates(clubMember{Code: "x1 "}).Error)
		},
		"ref bob as the write's": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&clubMember{ID: 2}).Update("ref", refs[engine(db)][2]).Error)
		},
		"create": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&clubMember{Name: "aDa", Code: "x1  ", Ref: refs[engine(db)][2]}).Error)
		},
		"delete ada": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Delete(&clubMember{ID: 1}).Error)
		},
		"save bob": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Save(&clubMember{ID: 2, Name: "CARL", Code: "x1", Ref: refs[engine(db)][2]}).Error)
		},
	}
	checkFreshness(t, newClubMembers, reads, writes)
}

// TestDeclaredComparisonsKeepRows checks that a column compared without
// case or trailing spaces still tracks rows, by the values the database
// finds equal: a write to another clubMember leaves the read cached.
func TestDeclaredComparisonsKeepRows(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		switch b.Name {
		case "postgres":
			t.Skip("citext compares in the database's locale: its terms fall back to the table")
		case "mysql":
			t.Skip("utf8mb4_unicode_ci terms fall back to the table (mysql_test.go has general_ci)")
		}
		e := newClubMembers(t, b)
		read := func() []clubMember {
			var got []clubMember
			require.NoError(t, e.cached().Where("name = ?", "ADA").Find(&got).Error)
			return got
		}
		e.mustMiss(func() { require.Len(t, read(), 1) })
		require.NoError(t, e.db.Model(&clubMember{ID: 2}).Update("name", "Carl").Error)
		e.mustHit(func() { require.Len(t, read(), 1) })
		require.NoError(t, e.db.Model(&clubMember{ID: 2}).Update("name", "aDA").Error)
		e.mustMiss(func() { require.Len(t, read(), 2) })
	})
}

// TestDatabasesCompareApart checks that one plugin reading two SQLite
// databases whose members tables compare names differently names each
// one's values by its own comparison: the database read first (exact)
// does not decide how the other's are named.
func TestDatabasesCompareApart(t *testing.T) {
	dir := t.TempDir()
	p := gormcache.New(gormcache.Config{})
	pools := map[string]*gorm.DB{}
	for _, db := range []struct{ name, table string }{
		{"exact", `CREATE TABLE club_members (id integer PRIMARY KEY, name text, code text, ref text)`},
		{"folded", clubTables["sqlite"]},
	} {
		pools[db.name] = openWith(t, sqlite.Open(filepath.Join(dir, db.name+".db")), p)
		require.NoError(t, pools[db.name].Exec(db.table).Error)
		require.NoError(t, pools[db.name].Create(&[]clubMember{{Name: "Ada"}, {Name: "Bob"}}).Error)
	}
	read := func(db *gorm.DB, c clause.Expression) []clubMember {
		var got []clubMember
		require.NoError(t, db.Clauses(c).Where("name = ?", "ada").Order("id").Find(&got).Error)
		return got
	}
	requireOwnAnswers(t, pools, read)
	require.NoError(t, pools["folded"].Model(&clubMember{ID: 2}).Update("name", "ADA").Error)
	requireOwnAnswers(t, pools, read)
	require.Len(t, read(pools["folded"], gormcache.Cache()), 2)
}

// badge is a model whose code column the model types: char(n), which
// PostgreSQL and MySQL compare without trailing spaces.
type badge struct {
	ID   uint
	Code string `gorm:"type:char(8)"`
}

// pass is a model whose ref column is a PostgreSQL uuid read into a
// string.
type pass struct {
	ID  uint
	Ref string `gorm:"type:uuid"`
}

// TestTypedStringsKeepRows checks that a string column whose model
// declares its type (char(n), uuid) tracks rows by the values the database
// finds equal: a write to another row leaves the read cached, and a write
// of a value the database finds equal to the read's invalidates it.
func TestTypedStringsKeepRows(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&badge{}))
		require.NoError(t, e.db.Create(&[]badge{{Code: "a1"}, {Code: "b1"}}).Error)
		badges := func(db *gorm.DB) []badge {
			var got []badge
			require.NoError(t, db.Where("code = ?", "a1").Order("id").Find(&got).Error)
			return got
		}
		e.mustMiss(func() { badges(e.cached()) })
		require.NoError(t, e.db.Model(&badge{ID: 2}).Update("code", "c1").Error)
		e.mustHit(func() { require.Len(t, badges(e.cached()), 1) })
		require.NoError(t, e.db.Model(&badge{ID: 2}).Update("code", "a1 ").Error)
		require.Equal(t, badges(e.uncached()), badges(e.cached()))

		if b.Name != "postgres" {
			return
		}
		require.NoError(t, e.db.AutoMigrate(&pass{}))
		const ref = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
		require.NoError(t, e.db.Create(&[]pass{{Ref: ref}, {Ref: "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}).Error)
		passes := func(db *gorm.DB) []pass {
			var got []pass
			require.NoError(t, db.Where("ref = ?", strings.ToUpper(ref)).Order("id").Find(&got).Error)
			return got
		}
		e.mustMiss(func() { require.Len(t, passes(e.cached()), 1) })
		require.NoError(t, e.db.Model(&pass{ID: 2}).Update("ref", "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").Error)
		e.mustHit(func() { require.Len(t, passes(e.cached()), 1) })
		require.NoError(t, e.db.Model(&pass{ID: 2}).Update("ref", "{"+strings.ReplaceAll(ref, "-", "")+"}").Error)
		e.mustMiss(func() { require.Len(t, passes(e.cached()), 2) })
	})
}
