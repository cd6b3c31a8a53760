package depscan_test

import (
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// benchStatements are typical built statements.
func benchStatements(b *testing.B) []struct {
	name string
	stmt *gorm.Statement
} {
	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		stmt *gorm.Statement
	}{
		{"pk", db.First(&User{}, 2).Statement},
		{"filter", db.Where("user_id = ? AND status = ?", 2, 1).Find(&[]Photo{}).Statement},
		{"preload", db.Where("user_id IN ?", []int{1, 2, 3, 4}).Find(&[]Photo{}).Statement},
		{"join", db.Joins("User").Where("photos.user_id = ? AND photos.status = ?", 2, 1).Find(&[]Photo{}).Statement},
		{"or", db.Where("name = ? OR (age = ? AND active = ?)", "ann", 30, true).Find(&[]User{}).Statement},
	}
}

// BenchmarkExtract measures what a cache miss of a SQL text seen for the
// first time costs to find its dependencies: sqlscan.Analyze, then
// Extract.
func BenchmarkExtract(b *testing.B) {
	for _, bm := range benchStatements(b) {
		b.Run(bm.name, func(b *testing.B) {
			sql := bm.stmt.SQL.String()
			b.ReportAllocs()
			b.SetBytes(int64(len(sql)))
			for b.Loop() {
				a := sqlscan.Analyze(sql)
				if _, err := depscan.Extract(bm.stmt, &a, depscan.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExtractAnalysed measures Extract alone: a miss of a SQL text
// whose analysis the plugin keeps.
func BenchmarkExtractAnalysed(b *testing.B) {
	for _, bm := range benchStatements(b) {
		b.Run(bm.name, func(b *testing.B) {
			a := sqlscan.Analyze(bm.stmt.SQL.String())
			b.ReportAllocs()
			b.SetBytes(int64(bm.stmt.SQL.Len()))
			for b.Loop() {
				if _, err := depscan.Extract(bm.stmt, &a, depscan.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExtractor measures an Extractor on statements it has read
// before with other values: a miss of a statement the application runs
// often. Each iteration gives the statement new values (a new id), as
// misses on new rows do.
func BenchmarkExtractor(b *testing.B) {
	for _, bm := range benchStatements(b) {
		b.Run(bm.name, func(b *testing.B) {
			x := depscan.NewExtractor(100)
			a := sqlscan.Analyze(bm.stmt.SQL.String())
			stmt := bm.stmt
			b.ReportAllocs()
			i := 1000
			for b.Loop() {
				i++
				if n, ok := stmt.Vars[0].(int); ok {
					stmt.Vars[0] = n%1000 + i
				}
				if _, err := x.Extract(stmt, &a, depscan.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
