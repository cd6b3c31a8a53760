// Package blog is the schema of the demo (examples/blog) and of the admin's
// tests: authors, their posts, and tags whose primary key has two columns.
// Seed creates the tables with the demo's rows; the admin's test fixture
// (admin/internal/admintest) calls Migrate and inserts rows of its own, which
// its tests assert on.
//
// Being under testdata, it is matched by no ./... pattern: the go command
// builds it only for its importers, and scripts/test.sh names it for gofmt
// and vet.
package blog

import (
	"time"

	"gorm.io/gorm"
)

// Author writes posts.
type Author struct {
	ID    uint
	Name  string
	Posts []Post
}

// Post is a blog post by its author.
type Post struct {
	ID        uint
	AuthorID  uint
	Title     string
	Published bool
	CreatedAt time.Time
}

// Tag labels a post. Its primary key has two columns, one of them narrower
// than an int (the admin's invalidate-object form parses each column).
type Tag struct {
	PostID uint32 `gorm:"primaryKey"`
	Name   string `gorm:"primaryKey"`
	Color  string
}

// Models returns a value of each model, for AutoMigrate and
// admin.Config.Models.
func Models() []any { return []any{&Author{}, &Post{}, &Tag{}} }

// Migrate creates the tables of the models in db, or brings them up to date.
func Migrate(db *gorm.DB) error { return db.AutoMigrate(Models()...) }

// Seed migrates db and creates the demo's rows: Ada (author 1) with two
// published posts and the draft "Draft notes", and Grace (author 2) with
// one published post. It creates no tags.
func Seed(db *gorm.DB) error {
	if err := Migrate(db); err != nil {
		return err
	}
	authors := []Author{
		{Name: "Ada", Posts: []Post{
			{Title: "Hello, world", Published: true},
			{Title: "Notes on the analytical engine", Published: true},
			{Title: "Draft notes", Published: false},
		}},
		{Name: "Grace", Posts: []Post{{Title: "Compilers", Published: true}}},
	}
	return db.Create(&authors).Error
}
