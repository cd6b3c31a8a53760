// Command blog is gormcache's first demo: a small blog on SQLite with the
// in-memory store. It needs no setup:
//
//	go run ./examples/blog
//
// It shows a query served by the database, the same query served by the
// cache, a write that makes the cached result stale, the query served fresh
// again, and the plugin's statistics.
package main

import (
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

// Author writes posts.
type Author struct {
	ID    uint
	Name  string
	Posts []Post
}

// Post is a blog post.
type Post struct {
	ID        uint
	AuthorID  uint
	Title     string
	Published bool
	CreatedAt time.Time
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "gormcache-blog-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, "blog.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return err
	}
	cache := gormcache.New(gormcache.Config{TTL: 5 * time.Minute})
	if err := db.Use(cache); err != nil {
		return err
	}
	if err := seed(db); err != nil {
		return err
	}

	fmt.Println("gormcache demo: a blog on SQLite, cached in process memory.")
	fmt.Println()

	published := func() ([]Post, time.Duration, error) {
		var posts []Post
		start := time.Now()
		err := db.Clauses(gormcache.Cache()).
			Where("author_id = ? AND published = ?", 1, true).
			Order("id").Find(&posts).Error
		return posts, time.Since(start), err
	}
	show := func(step string) error {
		before := cache.Stats().Misses
		posts, took, err := published()
		if err != nil {
			return err
		}
		source := "the database"
		if cache.Stats().Misses == before {
			source = "the cache"
		}
		fmt.Printf("%s\n   %d published posts by Ada, served by %s in %v\n", step, len(posts), source, took.Round(time.Microsecond))
		return nil
	}
	if err := show("1. First read of Ada's published posts (nothing cached yet):"); err != nil {
		return err
	}
	if err := show("2. The same read again:"); err != nil {
		return err
	}

	fmt.Println("3. Ada publishes a new post (db.Create): the cached result depends on the")
	fmt.Println("   posts table, so the write invalidates it right after it commits.")
	if err := db.Create(&Post{AuthorID: 1, Title: "Caching without stale reads", Published: true}).Error; err != nil {
		return err
	}

	if err := show("4. The same read after the write (fresh again):"); err != nil {
		return err
	}
	if err := show("5. And once more:"); err != nil {
		return err
	}

	fmt.Println("6. Inside a transaction reads go to the database, and the write's")
	fmt.Println("   invalidation waits for the commit:")
	err = db.Transaction(func(tx *gorm.DB) error {
		return tx.Model(&Post{}).Where("title = ?", "Draft notes").Update("published", true).Error
	})
	if err != nil {
		return err
	}
	if err := show("   after the transaction committed:"); err != nil {
		return err
	}

	s := cache.Stats()
	fmt.Println()
	fmt.Printf("Statistics: %d hits, %d misses (hit ratio %.0f%%), %d results stored, %d invalidations.\n",
		s.Hits, s.Misses, 100*s.HitRatio(), s.Fills, s.Invalidated)
	return nil
}

func seed(db *gorm.DB) error {
	if err := db.AutoMigrate(&Author{}, &Post{}); err != nil {
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
