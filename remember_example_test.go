package gormcache_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
)

// ShopOrder is the model of the examples.
type ShopOrder struct {
	ID     uint
	ShopID uint
	Amount int
}

// openExample opens a new SQLite database with the plugin registered and
// the ShopOrder table migrated.
func openExample() (db *gorm.DB, cleanup func()) {
	db, cleanup = openDatabase()
	if err := db.Use(gormcache.New(gormcache.Config{})); err != nil {
		log.Fatal(err)
	}
	return db, cleanup
}

// openDatabase opens a new SQLite database with the ShopOrder table
// migrated.
func openDatabase() (db *gorm.DB, cleanup func()) {
	dir, err := os.MkdirTemp("", "gormcache-example-*")
	if err != nil {
		log.Fatal(err)
	}
	db, err = gorm.Open(sqlite.Open(filepath.Join(dir, "shop.db")), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		err = db.AutoMigrate(&ShopOrder{})
	}
	if err != nil {
		log.Fatal(err)
	}
	return db, func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
		_ = os.RemoveAll(dir)
	}
}

func ExampleRemember() {
	db, cleanup := openExample()
	defer cleanup()

	// The sales of a shop: an aggregate that is worth caching, computed
	// again only after a write to the orders of that shop.
	sales := func(shopID uint) (int, error) {
		return gormcache.Remember(db, gormcache.Key("sales", shopID), func(ctx context.Context) (int, error) {
			fmt.Println("computing the sales of shop", shopID)
			var total int
			err := db.WithContext(ctx).Model(&ShopOrder{}).Where("shop_id = ?", shopID).
				Select("COALESCE(SUM(amount), 0)").Scan(&total).Error
			return total, err
		}, gormcache.DependsOnRows(&ShopOrder{}, "ShopID", shopID), gormcache.RememberTTL(time.Hour))
	}

	db.Create(&ShopOrder{ShopID: 1, Amount: 30})
	total, _ := sales(1)
	fmt.Println(total)
	total, _ = sales(1) // cached
	fmt.Println(total)
	db.Create(&ShopOrder{ShopID: 1, Amount: 12})
	total, _ = sales(1)
	fmt.Println(total)
	// Output:
	// computing the sales of shop 1
	// 30
	// 30
	// computing the sales of shop 1
	// 42
}

func ExampleForget() {
	db, cleanup := openExample()
	defer cleanup()

	rate := func(context.Context) (float64, error) {
		fmt.Println("asking the bank")
		return 1.08, nil
	}
	for range 2 {
		r, _ := gormcache.Remember(db, "eur-usd", rate, gormcache.RememberTTL(time.Minute))
		fmt.Println(r)
	}
	_ = gormcache.Forget(db, "eur-usd") // the bank published a new rate
	r, _ := gormcache.Remember(db, "eur-usd", rate, gormcache.RememberTTL(time.Minute))
	fmt.Println(r)
	// Output:
	// asking the bank
	// 1.08
	// 1.08
	// asking the bank
	// 1.08
}

func ExampleKey() {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	fmt.Println(gormcache.Key("sales", 42, day))
	fmt.Println(gormcache.Key("sales", int64(42), day) == gormcache.Key("sales", 42, day))
	fmt.Println(gormcache.Key("a", "bc") == gormcache.Key("ab", "c"))
	fmt.Println(gormcache.Key("sales", "42", day) == gormcache.Key("sales", 42, day))
	// Output:
	// sales:2DO0qrtYeidLTu63CXa04CqRDIGccHMc
	// true
	// false
	// false
}
