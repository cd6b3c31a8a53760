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

// Users is the number of users Seed creates, each with Rows photos:
// FirstByPK reads one user, Find100 one user's photos. Enough that a miss
// benchmark of up to Users iterations reads rows no earlier iteration read,
// as a cold cache and a long tail of ids make users pay.
const (
	Users = 3_000
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
	UserID    uint `gorm:"index"`
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

// Seed creates the tables of the models in db, Users users and the Rows
// photos of each.
func Seed(tb testing.TB, db *gorm.DB) {
	tb.Helper()
	require.NoError(tb, db.AutoMigrate(All()...))
	const batch = 1000
	users := make([]User, 0, batch)
	for u := 1; u <= Users; u++ {
		users = append(users, User{ID: uint(u), Name: fmt.Sprintf("user%d", u), Email: "u@example.com"})
		if len(users) == batch {
			require.NoError(tb, db.Create(&users).Error)
			users = users[:0]
		}
	}
	photos := make([]Photo, 0, batch)
	for u := 1; u <= Users; u++ {
		for i := range Rows {
			photos = append(photos, Photo{UserID: uint(u), Title: fmt.Sprintf("photo %d of %d", i, u), Status: i % 3})
		}
		if len(photos) >= batch {
			require.NoError(tb, db.Create(&photos).Error)
			photos = photos[:0]
		}
	}
	if len(photos) > 0 {
		require.NoError(tb, db.Create(&photos).Error)
	}
	// Statistics for the planner, which would scan the photos otherwise.
	analyze := "ANALYZE"
	if db.Dialector.Name() == "mysql" {
		analyze = "ANALYZE TABLE users, photos"
	}
	require.NoError(tb, db.Exec(analyze).Error)
}

// A Query is one statement the benchmarks measure, reading the i-th of its
// rows: a hit benchmark reads one i again and again, a miss benchmark a
// new i each time. Run fails when the statement returns something else
// than the seeded rows (unless db is a DryRun, which returns nothing).
type Query struct {
	Name string
	Run  func(db *gorm.DB, i int) error
}

// Queries are the statements measured: a primary-key read and a read of
// Rows rows.
var Queries = []Query{
	{"FirstByPK", func(db *gorm.DB, i int) error {
		id := uint(1 + i%Users)
		var u User
		err := db.First(&u, id).Error
		if err == nil && !db.DryRun && u.ID != id {
			err = fmt.Errorf("got user %d, want %d", u.ID, id)
		}
		return err
	}},
	{"Find100", func(db *gorm.DB, i int) error {
		var ps []Photo
		err := db.Where("user_id = ?", 1+i%Users).Find(&ps).Error
		if err == nil && !db.DryRun && len(ps) != Rows {
			err = fmt.Errorf("got %d photos, want %d", len(ps), Rows)
		}
		return err
	}},
}

// HitRow is the row the hit benchmarks read, the i of Query.Run.
const HitRow = 6
