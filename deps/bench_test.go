package deps_test

import (
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/deps"
)

// BenchmarkExtract measures Extract on typical built statements; it runs
// on every cache miss.
func BenchmarkExtract(b *testing.B) {
	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name string
		tx   *gorm.DB
	}{
		{"pk", db.First(&User{}, 2)},
		{"filter", db.Where("user_id = ? AND status = ?", 2, 1).Find(&[]Photo{})},
		{"preload", db.Where("user_id IN ?", []int{1, 2, 3, 4}).Find(&[]Photo{})},
		{"join", db.Joins("User").Where("photos.user_id = ? AND photos.status = ?", 2, 1).Find(&[]Photo{})},
		{"or", db.Where("name = ? OR (age = ? AND active = ?)", "ann", 30, true).Find(&[]User{})},
	} {
		b.Run(bm.name, func(b *testing.B) {
			stmt := bm.tx.Statement
			b.ReportAllocs()
			b.SetBytes(int64(stmt.SQL.Len()))
			for b.Loop() {
				if _, err := deps.Extract(stmt, deps.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
