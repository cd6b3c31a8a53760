package gormcache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// Country declares a model-wide policy: every query of countries is cached
// for a day.
type Country struct {
	Code string `gorm:"primaryKey"`
	Name string
}

func (Country) CachePolicy() gormcache.Policy {
	return gormcache.Policy{CacheAll: true, TTL: 24 * time.Hour}
}

// servedBy runs read and says whether a request scope, the cache or the
// database answered.
func servedBy(db *gorm.DB, read func()) string {
	p := db.Config.Plugins["gormcache"].(*gormcache.Plugin)
	before := p.Stats()
	read()
	switch after := p.Stats(); {
	case after.ScopeHits > before.ScopeHits:
		return "the request scope"
	case after.Hits > before.Hits:
		return "the cache"
	}
	return "the database"
}

func ExampleNew() {
	db, cleanup := openDatabase() // a *gorm.DB, on SQLite here
	defer cleanup()

	// Register the plugin once, right after gorm.Open; here it caches every
	// query. The zero Config caches only the queries that opt in.
	cache := gormcache.New(gormcache.Config{CacheAll: true, TTL: time.Hour, Prefix: "shop:"})
	if err := db.Use(cache); err != nil {
		log.Fatal(err)
	}
	var orders []ShopOrder
	db.Where("shop_id = ?", 1).Find(&orders)
	db.Where("shop_id = ?", 1).Find(&orders)
	fmt.Printf("%+v\n", cache.Stats())
	// Output:
	// {Hits:1 ScopeHits:0 Misses:1 Fills:1 Invalidated:0 Bypassed:0 Errors:0}
}

func ExampleCache() {
	db, cleanup := openExample()
	defer cleanup()
	db.Create(&[]ShopOrder{{ShopID: 1, Amount: 10}, {ShopID: 2, Amount: 20}})

	shopOrders := func(shop uint) func() {
		return func() {
			var orders []ShopOrder
			db.Clauses(gormcache.Cache()).Where("shop_id = ?", shop).Find(&orders)
		}
	}
	fmt.Println("shop 1:", servedBy(db, shopOrders(1)))
	fmt.Println("shop 1 again:", servedBy(db, shopOrders(1)))

	// A write to another shop's rows leaves the result cached; a write to
	// one of shop 1's invalidates it, right after it commits.
	db.Create(&ShopOrder{ShopID: 2, Amount: 30})
	fmt.Println("after an order of shop 2:", servedBy(db, shopOrders(1)))
	db.Create(&ShopOrder{ShopID: 1, Amount: 40})
	fmt.Println("after an order of shop 1:", servedBy(db, shopOrders(1)))
	// Output:
	// shop 1: the database
	// shop 1 again: the cache
	// after an order of shop 2: the cache
	// after an order of shop 1: the database
}

func ExampleCache_generics() {
	db, cleanup := openExample()
	defer cleanup()
	ctx := context.Background()
	gorm.G[ShopOrder](db).Create(ctx, &ShopOrder{ShopID: 1, Amount: 10})

	// gorm.G takes Cache() as an option.
	shopOrders := func() {
		gorm.G[ShopOrder](db, gormcache.Cache()).Where("shop_id = ?", 1).Find(ctx)
	}
	fmt.Println(servedBy(db, shopOrders))
	fmt.Println(servedBy(db, shopOrders))
	gorm.G[ShopOrder](db).Where("shop_id = ?", 1).Update(ctx, "amount", 15)
	fmt.Println("after the update:", servedBy(db, shopOrders))
	// Output:
	// the database
	// the cache
	// after the update: the database
}

func ExamplePolicier_CachePolicy() {
	db, cleanup := openExample()
	defer cleanup()
	db.AutoMigrate(&Country{})
	db.Create(&Country{Code: "FR", Name: "France"})

	// Country's CachePolicy caches its queries without Cache().
	read := func() {
		var c Country
		db.First(&c, "code = ?", "FR")
	}
	fmt.Println(servedBy(db, read))
	fmt.Println(servedBy(db, read))
	// Output:
	// the database
	// the cache
}

func ExampleInvalidateObject() {
	db, cleanup := openExample()
	defer cleanup()
	db.Create(&ShopOrder{ShopID: 1, Amount: 10})

	read := func() {
		var orders []ShopOrder
		db.Clauses(gormcache.Cache()).Where("shop_id = ?", 1).Find(&orders)
	}
	read()
	var order ShopOrder
	db.First(&order, 1)

	// Another program moves the order to shop 2: GORM does not see it.
	sqlDB, _ := db.DB()
	sqlDB.Exec("UPDATE shop_orders SET shop_id = 2 WHERE id = 1")
	fmt.Println("before:", servedBy(db, read))

	// Tell the plugin, with the row as it was: the results that held it,
	// and those it belongs to now, are invalidated.
	if err := gormcache.InvalidateObject(db, &order); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after:", servedBy(db, read))
	// Output:
	// before: the cache
	// after: the database
}
