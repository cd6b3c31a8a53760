package redis_test

import (
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/store/memory"
	"github.com/gormcache/gormcache/store/redis"
)

// Every instance of an application that registers the plugin this way
// shares one cache: a write through any instance invalidates the results
// the others cached.
func Example() {
	rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 []string{"localhost:6379"}, // several: a Cluster
		ContextTimeoutEnabled: true,                       // required: bounds calls by Config.Timeout
	})
	s, err := redis.New(rdb, redis.Config{Prefix: "app1:"})
	if err != nil {
		log.Fatal(err)
	}
	db, err := gorm.Open(sqlite.Open("app.db"), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Use(gormcache.New(gormcache.Config{Store: s})); err != nil {
		log.Fatal(err)
	}
}

// A two-level store keeps hot values in process memory and checks them
// against Redis on every hit, without transferring them.
func ExampleNewTwoLevel() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	remote, err := redis.New(rdb, redis.Config{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := redis.NewTwoLevel(remote, memory.Config{MaxBytes: 256 << 20})
	if err != nil {
		log.Fatal(err)
	}
	_ = gormcache.New(gormcache.Config{Store: s})
}

// A near cache serves hits from process memory with no round trip, and a
// write through any instance returns only once every other instance's near
// cache dropped what it changed. Every instance writing under the prefix
// uses one.
func ExampleNewNear() {
	rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 []string{"localhost:6379"}, // several: a Cluster
		ContextTimeoutEnabled: true,
	})
	remote, err := redis.New(rdb, redis.Config{Prefix: "app1:"})
	if err != nil {
		log.Fatal(err)
	}
	near, err := redis.NewNear(remote, redis.NearConfig{Lease: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer near.Close() // gives the lease up
	_ = gormcache.New(gormcache.Config{Store: near})
}
