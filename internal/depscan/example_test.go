package depscan_test

import (
	"fmt"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

func ExampleExtract() {
	db, _ := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{DryRun: true})
	tx := db.Joins("User").Where("photos.status IN ?", []int{1, 2}).Where("photos.user_id = ?", 5).Find(&[]Photo{})

	a := sqlscan.Analyze(tx.Statement.SQL.String())
	tables, err := depscan.Extract(tx.Statement, &a, depscan.Options{})
	if err != nil {
		panic(err)
	}
	for _, t := range tables {
		for _, c := range t.Conjs {
			fmt.Printf("%s %s: %s\n", t.Name, c.Scheme(), c.Key())
		}
	}
	// Output:
	// photos status,user_id: status=i1&user_id=i5
	// photos status,user_id: status=i2&user_id=i5
	// users deleted_at,id: deleted_at=n&id=i5
}

func ExampleCanon() {
	db, _ := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{DryRun: true})
	stmt := &gorm.Statement{DB: db}
	_ = stmt.Parse(&User{})
	age := stmt.Schema.LookUpField("age")

	for _, v := range []any{30, int64(30), "30", nil, 30.0} {
		s, ok := depscan.Canon(v, age)
		fmt.Printf("%T %v: %q %v\n", v, v, s, ok)
	}
	// Output:
	// int 30: "i30" true
	// int64 30: "i30" true
	// string 30: "" false
	// <nil> <nil>: "n" true
	// float64 30: "" false
}
