// Command blog is gormcache's first demo: a small blog on SQLite with the
// in-memory store (its schema and rows are package testdata/blog's, shared
// with the admin's tests). It needs no setup:
//
//	go run ./examples/blog
//
// It shows a query served by the database, the same query served by the
// cache, a write that makes the cached result stale, the query served fresh
// again, and the plugin's statistics.
//
// With -serve it then serves the admin pages on
// http://127.0.0.1:8080/cache/ (user admin, a random password printed on
// start), and Prometheus metrics on /metrics behind the same password, and
// keeps reading and writing a little so that the pages change:
//
//	go run ./examples/blog -serve
//
// With -instances it runs as two instances of the blog sharing Redis, each
// with a near cache (store/redis.Near) that serves hits from its own memory,
// and shows a write through one invalidating the other's copy before it
// returns. It starts a redis-server from PATH, or uses the one -redis names:
//
//	go run ./examples/blog -instances [-redis host:port]
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/metrics"
	"github.com/gormcache/gormcache/testdata/blog"
)

func main() {
	serve := flag.Bool("serve", false, "after the demo, serve the admin pages on -addr")
	addr := flag.String("addr", "127.0.0.1:8080", "the address of the admin pages, with -serve")
	instances := flag.Bool("instances", false, "run as two instances sharing Redis, each with a near cache")
	redisAddr := flag.String("redis", "", "the Redis of -instances (default: start a redis-server from PATH)")
	flag.Parse()
	var err error
	if *instances {
		err = runInstances(*redisAddr)
	} else {
		err = run(*serve, *addr)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func run(serve bool, addr string) error {
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
	if err := blog.Seed(db); err != nil {
		return err
	}

	fmt.Println("gormcache demo: a blog on SQLite, cached in process memory.")
	fmt.Println()

	published := func() ([]blog.Post, time.Duration, error) {
		var posts []blog.Post
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

	fmt.Println("3. Grace publishes a post. The cached result depends only on Ada's published")
	fmt.Println("   posts (author_id = 1 AND published = true), so this write leaves it cached:")
	if err := db.Create(&blog.Post{AuthorID: 2, Title: "Nanoseconds", Published: true}).Error; err != nil {
		return err
	}
	if err := show("   the same read:"); err != nil {
		return err
	}

	fmt.Println("4. Ada publishes a new post (db.Create): it is one of the rows the cached")
	fmt.Println("   result depends on, so the write invalidates it right after it commits.")
	if err := db.Create(&blog.Post{AuthorID: 1, Title: "Caching without stale reads", Published: true}).Error; err != nil {
		return err
	}
	if err := show("   the same read after the write (fresh again):"); err != nil {
		return err
	}
	if err := show("   and once more:"); err != nil {
		return err
	}

	fmt.Println("5. Inside a transaction reads go to the database, and the write's")
	fmt.Println("   invalidation waits for the commit:")
	err = db.Transaction(func(tx *gorm.DB) error {
		return tx.Model(&blog.Post{}).Where("title = ?", "Draft notes").Update("published", true).Error
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
	if !serve {
		return nil
	}
	return serveAdmin(db, cache, addr)
}

// serveAdmin serves the admin pages on addr until interrupted, while a
// goroutine reads and writes posts.
func serveAdmin(db *gorm.DB, cache *gormcache.Plugin, addr string) error {
	password := rand.Text()
	const realm = "gormcache demo"
	authorized := func(r *http.Request) bool {
		user, pass, ok := r.BasicAuth()
		return ok && user == "admin" && subtle.ConstantTimeCompare([]byte(pass), []byte(password)) == 1
	}
	h := admin.New(admin.Config{
		Plugin:    cache,
		Authorize: authorized,
		Realm:     realm,
		Models:    blog.Models(),
		DB:        db, // offers "invalidate object" by primary key
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(cache, metrics.Options{}))
	mux := http.NewServeMux()
	mux.Handle("/cache/", http.StripPrefix("/cache", h))
	// The metrics name the tables and count what the cache does: behind
	// the same password (a Prometheus scrape config gives it as basic_auth).
	mux.Handle("/metrics", requireAuth(authorized, realm, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go traffic(ctx, db)
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	fmt.Println()
	fmt.Printf("Admin pages: http://%s/cache/ and Prometheus metrics: http://%s/metrics\n(user admin, password %s). Ctrl-C stops.\n", addr, addr, password)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requireAuth serves next to the requests authorized allows, and asks the
// others for a password of realm.
func requireAuth(authorized func(*http.Request) bool, realm string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", realm))
			http.Error(w, "not authorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// traffic reads posts by author and by id every half second, and now and
// then writes one, until ctx is done.
func traffic(ctx context.Context, db *gorm.DB) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		db := db.WithContext(ctx)
		var posts []blog.Post
		db.Clauses(gormcache.Cache()).Where("author_id = ?", 1+i%2).Order("id").Find(&posts)
		var post blog.Post
		db.Clauses(gormcache.Cache()).First(&post, 1+i%5)
		var authors []blog.Author
		db.Clauses(gormcache.Cache()).Order("name").Find(&authors)
		if i%20 == 19 {
			db.Create(&blog.Post{AuthorID: 2, Title: fmt.Sprintf("Note %d", i/20), Published: i%40 == 19})
		}
	}
}
