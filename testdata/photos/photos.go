// Package photos is the schema most of the plugin's tests share — users
// with photos (soft-deleted), a profile and tags — with the rows they seed
// and the workload of the read benchmarks: the plugin's (BenchmarkRead,
// memory store) and the Redis store's (BenchmarkPlugin) measure the same
// statements on the same rows, so that their figures compare.
//
// The root package's tests and benchmarks and those of store/redis import
// it. Being under testdata, it is matched by no ./... pattern: the go
// command builds it only for its importers, and scripts/test.sh names it
// for gofmt and vet.
package photos

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// Users is the number of users Seed creates, and Rows the number of photos
// of each: Find100 reads the Rows photos of one user.
const (
	Users = 10
	Rows  = 100
)

// User, Photo, Tag and Profile are the shared models: a user has photos
// (soft-deleted), a profile and tags (many-to-many, through user_tags).
type User struct {
	ID      uint
	Name    string
	Email   string
	Photos  []Photo
	Profile *Profile
	Tags    []Tag `gorm:"many2many:user_tags"`
}

type Photo struct {
	ID        uint
	UserID    uint
	Title     string
	Status    int
	DeletedAt gorm.DeletedAt `gorm:"index"`
	User      *User
}

type Tag struct {
	ID   uint
	Name string `gorm:"uniqueIndex"`
}

type Profile struct {
	ID     uint
	UserID uint
	Bio    string
}

// All returns a value of each model, for AutoMigrate.
func All() []any { return []any{&User{}, &Photo{}, &Tag{}, &Profile{}} }

// Seed creates the tables of the models in db and gives each of Users users
// Rows photos.
func Seed(tb testing.TB, db *gorm.DB) {
	tb.Helper()
	require.NoError(tb, db.AutoMigrate(All()...))
	for u := 1; u <= Users; u++ {
		photos := make([]Photo, Rows)
		for i := range photos {
			photos[i] = Photo{Title: fmt.Sprintf("photo %d of %d", i, u), Status: i % 3}
		}
		require.NoError(tb, db.Create(&User{Name: fmt.Sprintf("user%d", u), Email: "u@example.com", Photos: photos}).Error)
	}
}

// A Query is one statement the benchmarks measure. Run fails when the
// statement returns something else than the seeded rows (unless db is a
// DryRun, which returns nothing).
type Query struct {
	Name string
	Run  func(db *gorm.DB) error
}

// Queries are the statements measured: a primary-key read and a read of
// Rows rows.
var Queries = []Query{
	{"FirstByPK", func(db *gorm.DB) error {
		var u User
		err := db.First(&u, 7).Error
		if err == nil && !db.DryRun && u.ID != 7 {
			err = fmt.Errorf("got user %d, want 7", u.ID)
		}
		return err
	}},
	{"Find100", func(db *gorm.DB) error {
		var ps []Photo
		err := db.Where("user_id = ?", 3).Find(&ps).Error
		if err == nil && !db.DryRun && len(ps) != Rows {
			err = fmt.Errorf("got %d photos, want %d", len(ps), Rows)
		}
		return err
	}},
}
