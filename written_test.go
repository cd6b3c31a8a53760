package gormcache_test

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// The tests of this file write values the caller did not give: hooks
// change them, the database fills in defaults or computes them, Omit and
// Select leave some out. A cached read must see what the database holds.

// article is a model whose hooks write what the caller did not: its slug
// and status come from BeforeCreate and BeforeUpdate (the latter through
// Statement.SetColumn), its edit count from BeforeSave, and every update
// adds a revision from AfterUpdate, in the update's transaction. Reads
// that filter on those columns must see what the hooks wrote.
type article struct {
	ID     uint
	Title  string
	Slug   string
	Status string
	Edits  int
}

// revision is the row article's AfterUpdate hook adds.
type revision struct {
	ID        uint
	ArticleID uint
	Title     string
}

// findByID returns the rows of T that q finds, by ID.
func findByID[T any](t testing.TB, q *gorm.DB) any {
	var got []T
	require.NoError(t, q.Order("id").Find(&got).Error)
	return got
}

func slugOf(title string) string { return strings.ToLower(strings.ReplaceAll(title, " ", "-")) }

func (a *article) BeforeCreate(*gorm.DB) error {
	a.Slug = slugOf(a.Title)
	if a.Status == "" {
		a.Status = "draft"
	}
	return nil
}

// BeforeUpdate renames the slug and marks the article edited when an update
// changes the title, whatever the update's Dest.
func (a *article) BeforeUpdate(tx *gorm.DB) error {
	if !tx.Statement.Changed("Title") {
		return nil
	}
	var title string
	switch d := tx.Statement.Dest.(type) {
	case map[string]any:
		title, _ = d["title"].(string)
	case *article:
		title = d.Title
	case article:
		title = d.Title
	}
	if title != "" {
		tx.Statement.SetColumn("Slug", slugOf(title))
	}
	tx.Statement.SetColumn("Status", "edited")
	return nil
}

func (a *article) BeforeSave(*gorm.DB) error {
	a.Edits++
	return nil
}

func (a *article) AfterUpdate(tx *gorm.DB) error {
	if a.ID == 0 {
		return nil
	}
	return tx.Create(&revision{ArticleID: a.ID, Title: a.Title}).Error
}

// TestHooksWriteColumns runs the freshness matrix on writes whose hooks
// change the values written, and on Omit, Select and batch sizes, which
// change which of the caller's values are written, on every engine and store.
func TestHooksWriteColumns(t *testing.T) {
	reads := freshness.Reads{
		"slug hello-world": func(t testing.TB, db *gorm.DB) any {
			return findByID[article](t, db.Where("slug = ?", "hello-world"))
		},
		"slug goodbye": func(t testing.TB, db *gorm.DB) any {
			return findByID[article](t, db.Where(&article{Slug: "goodbye"}))
		},
		"edited": func(t testing.TB, db *gorm.DB) any {
			return findByID[article](t, db.Where("status = ?", "edited"))
		},
		"drafts, counted": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Model(&article{}).Where("status = ?", "draft").Count(&n).Error)
			return n
		},
		"article 2 saved once": func(t testing.TB, db *gorm.DB) any {
			return findByID[article](t, db.Where("id = ? AND edits = ?", 2, 1))
		},
		"revisions of article 1": func(t testing.TB, db *gorm.DB) any {
			var titles []string
			require.NoError(t, db.Model(&revision{}).Where("article_id = ?", 1).Order("id").Pluck("title", &titles).Error)
			return titles
		},
	}
	writes := freshness.Writes{
		"create": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&article{Title: "Goodbye"}).Error)
		},
		"batch create": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Session(&gorm.Session{CreateBatchSize: 1}).
				Create(&[]article{{Title: "Goodbye"}, {Title: "hello world"}}).Error)
		},
		"update": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&article{ID: 1}).Update("title", "Goodbye").Error)
		},
		"updates from a struct": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&article{ID: 1}).Updates(article{Title: "Goodbye"}).Error)
		},
		"updates from a map": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&article{ID: 1}).Updates(map[string]any{"title": "Goodbye"}).Error)
		},
		"save": func(t testing.TB, db *gorm.DB) {
			var a article
			require.NoError(t, db.Clauses(gormcache.NoCache()).First(&a, 2).Error)
			a.Title = "Renamed"
			require.NoError(t, db.Save(&a).Error)
		},
		"omit": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&article{ID: 1}).Omit("title").
				Updates(article{Title: "Goodbye", Status: "edited"}).Error)
		},
		"select with a zero value": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&article{ID: 2}).Select("edits", "status").
				Updates(article{Status: "edited"}).Error)
		},
		"upsert": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Clauses(clause.OnConflict{UpdateAll: true}).
				Create(&article{ID: 1, Title: "Goodbye"}).Error)
		},
		"first or create with assign": func(t testing.TB, db *gorm.DB) {
			var a article
			require.NoError(t, db.Where(article{Title: "Hello World"}).Assign(article{Status: "edited"}).FirstOrCreate(&a).Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&article{}, &revision{}))
		require.NoError(t, e.db.Create(&[]article{{Title: "Hello World"}, {Title: "Other"}}).Error)
		return e
	}, reads, writes)
}

// ticket has columns whose values the database gives when a create leaves
// them out: GORM reads them back where the dialect returns them
// (PostgreSQL, SQLite), not on MySQL.
type ticket struct {
	ID       uint
	Title    string
	Status   string `gorm:"default:open"`
	Priority int    `gorm:"default:3"`
	Flagged  *bool  `gorm:"default:true"`
}

// TestDatabaseValues runs the freshness matrix on writes whose values the
// database decides: column defaults on create, and an update to the result
// of a subquery, on every engine and store.
func TestDatabaseValues(t *testing.T) {
	reads := freshness.Reads{
		"open": func(t testing.TB, db *gorm.DB) any {
			return findByID[ticket](t, db.Where("status = ?", "open"))
		},
		"priority 3, from a struct": func(t testing.TB, db *gorm.DB) any {
			return findByID[ticket](t, db.Where(&ticket{Priority: 3}))
		},
		"flagged": func(t testing.TB, db *gorm.DB) any {
			return findByID[ticket](t, db.Where("flagged = ?", true))
		},
		"open at priority 3, counted": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Model(&ticket{}).Where("status = ? AND priority = ?", "open", 3).Count(&n).Error)
			return n
		},
	}
	writes := freshness.Writes{
		"create with defaults": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&ticket{Title: "new"}).Error)
		},
		"create a batch, some with defaults": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&[]ticket{{Title: "a"}, {Title: "b", Status: "closed"}}).Error)
		},
		"create from a map": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&ticket{}).Create(map[string]any{"title": "m"}).Error)
		},
		"first or create": func(t testing.TB, db *gorm.DB) {
			var tk ticket
			require.NoError(t, db.Where(ticket{Title: "new"}).FirstOrCreate(&tk).Error)
		},
		"update to a subquery's result": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&ticket{}).Where("id = ?", 1).
				Update("priority", db.Model(&ticket{}).Select("count(*) + 2")).Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&ticket{}))
		no := false
		require.NoError(t, e.db.Create(&ticket{Title: "old", Status: "closed", Priority: 1, Flagged: &no}).Error)
		return e
	}, reads, writes)
}

// upperCode is a column type whose Scan makes something else of what was
// stored, as datatypes.UUID reads any spelling of a UUID as its own: it
// reads 'ab' as "AB", and sends what it holds.
type upperCode string

func (c *upperCode) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c = ""
	case string:
		*c = upperCode(strings.ToUpper(x))
	case []byte:
		*c = upperCode(strings.ToUpper(string(x)))
	default:
		return fmt.Errorf("upperCode: cannot scan a %T", v)
	}
	return nil
}

func (c upperCode) Value() (driver.Value, error) { return string(c), nil }

type tokenMeta struct{ Level int }

// token has columns whose values in the model are not what the database
// stored: a Scanner's, a serializer that reads NULL as "{}", and a column
// GORM writes but never reads.
type token struct {
	ID     uint
	Code   upperCode `gorm:"size:16"`
	Meta   tokenMeta `gorm:"serializer:json;size:64"`
	Secret string    `gorm:"->:false;<-;size:16"`
}

// TestStoredValues runs the freshness matrix on reads of what the database
// stored where the model reads something else: a write must invalidate
// the rows as stored, on every engine and store.
func TestStoredValues(t *testing.T) {
	reads := freshness.Reads{
		"code ab, as stored": func(t testing.TB, db *gorm.DB) any {
			return findByID[token](t, db.Where("code = ?", "ab"))
		},
		"no meta": func(t testing.TB, db *gorm.DB) any {
			return findByID[token](t, db.Where("meta IS NULL"))
		},
		"secret s1, counted": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Model(&token{}).Where("secret = ?", "s1").Count(&n).Error)
			return n
		},
	}
	writes := freshness.Writes{
		"delete token 1": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Delete(&token{}, 1).Error)
		},
		"give token 1 a meta": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&token{ID: 1}).Updates(&token{Meta: tokenMeta{Level: 2}}).Error)
		},
		"take token 2's meta": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&token{ID: 2}).Update("meta", gorm.Expr("NULL")).Error)
		},
		"change token 1's secret": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&token{ID: 1}).Update("secret", "s9").Error)
		},
		"change token 1's code": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&token{ID: 1}).Update("code", "ef").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&token{}))
		// Written as another program would: a code in lower case, and no meta.
		require.NoError(t, e.db.Exec("INSERT INTO tokens (id, code, meta, secret) VALUES (1, 'ab', NULL, 's1'), (2, 'CD', ?, 's2')", `{"Level":1}`).Error)
		return e
	}, reads, writes)
}

// person names its column NAME where the table says name: SQLite and
// MySQL ignore the case of names, and return the table's.
type person struct {
	ID   uint
	Name string `gorm:"column:NAME"`
}

// TestColumnNamesInAnotherCase runs the freshness matrix on a model whose
// column tag differs in case from the table's column, where the database
// ignores the case of names (not PostgreSQL, where GORM quotes them).
func TestColumnNamesInAnotherCase(t *testing.T) {
	reads := freshness.Reads{
		"ada": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Model(&person{}).Where(&person{Name: "ada"}).Count(&n).Error)
			return n
		},
	}
	writes := freshness.Writes{
		"delete ada": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Delete(&person{}, 1).Error)
		},
		"rename ada": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&person{ID: 1}).Update("NAME", "grace").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		if b.Name == "postgres" {
			t.Skip("PostgreSQL compares quoted names with their case")
		}
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.Exec("CREATE TABLE people (id integer PRIMARY KEY, name varchar(32))").Error)
		require.NoError(t, e.db.Create(&person{ID: 1, Name: "ada"}).Error)
		return e
	}, reads, writes)
}
