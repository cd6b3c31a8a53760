package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/store/redis"
	"github.com/gormcache/gormcache/testdata/blog"
)

// instance is one instance of the blog: its own database handle, Redis
// client, near cache and plugin, as in a process of its own.
type instance struct {
	name  string
	db    *gorm.DB
	cache *gormcache.Plugin
	near  *redis.Near
}

// runInstances runs the demo as two instances of the blog sharing one
// SQLite database and the Redis at addr, each with a near cache; with addr
// empty, it starts a redis-server from PATH for the demo.
func runInstances(addr string) error {
	dir, err := os.MkdirTemp("", "gormcache-blog-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if addr == "" {
		var stop func()
		if addr, stop, err = startRedis(dir); err != nil {
			return err
		}
		defer stop()
	}
	dsn := filepath.Join(dir, "blog.db") + "?_journal_mode=WAL&_busy_timeout=5000"
	prefix := fmt.Sprintf("blog-demo-%d:", time.Now().UnixNano())
	var in [2]*instance
	for i, name := range []string{"A", "B"} {
		if in[i], err = openInstance(name, dsn, addr, prefix); err != nil {
			return err
		}
		defer in[i].close()
	}
	a, b := in[0], in[1]
	fmt.Printf("gormcache demo: two instances, A and B, of a blog on one SQLite database,\nsharing Redis at %s, each with a near cache in its own memory.\n\n", addr)
	// The first writes on a new prefix wait a lease (see the store/redis
	// package doc): seeding does, here.
	if err := blog.Seed(a.db); err != nil {
		return err
	}
	for _, x := range in {
		if err := x.waitTrusted(); err != nil {
			return err
		}
	}
	fmt.Println()
	steps := []struct {
		say string
		who *instance
	}{
		{"1. A reads Ada's published posts (nothing cached yet):", a},
		{"2. A reads them again:", a},
		{"3. B reads them: the entry A stored is in Redis, and B keeps a copy:", b},
		{"4. B reads them again:", b},
	}
	for _, s := range steps {
		if err := s.who.show(s.say); err != nil {
			return err
		}
	}

	fmt.Println("5. A publishes a new post by Ada. Its invalidation returns once B has")
	fmt.Println("   acknowledged it, that is once B no longer serves what it changed:")
	start := time.Now()
	if err := a.db.Create(&blog.Post{AuthorID: 1, Title: "Near caches", Published: true}).Error; err != nil {
		return err
	}
	fmt.Printf("   the write took %v, B's acknowledgement included\n", time.Since(start).Round(time.Microsecond))
	if err := b.show("6. B reads Ada's published posts (fresh: one more post):"); err != nil {
		return err
	}
	if err := b.show("7. B reads them again:"); err != nil {
		return err
	}

	fmt.Println()
	for _, x := range in {
		s, n := x.cache.Stats(), x.near.NearStats()
		fmt.Printf("Instance %s: %d hits (%d from memory, no round trip), %d misses; lease renewed %d times.\n",
			x.name, s.Hits, n.Hits, s.Misses, n.Renewals)
	}
	return nil
}

// openInstance opens the instance name of the blog.
func openInstance(name, dsn, addr, prefix string) (*instance, error) {
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	logf := func(format string, args ...any) { fmt.Printf("   [%s] "+format+"\n", append([]any{name}, args...)...) }
	st, err := redis.New(client, redis.Config{Prefix: prefix, Logf: logf})
	if err != nil {
		return nil, err
	}
	near, err := redis.NewNear(st, redis.NearConfig{Lease: time.Second})
	if err != nil {
		return nil, err
	}
	cache := gormcache.New(gormcache.Config{Store: near, TTL: 5 * time.Minute})
	if err := db.Use(cache); err != nil {
		return nil, err
	}
	return &instance{name: name, db: db, cache: cache, near: near}, nil
}

func (x *instance) close() {
	_ = x.near.Flush(context.Background())
	_ = x.near.Close()
	if sqlDB, err := x.db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// waitTrusted waits until the near cache holds its lease.
func (x *instance) waitTrusted() error {
	for deadline := time.Now().Add(5 * time.Second); !x.near.NearStats().Trusted; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %s: the near cache holds no lease after 5s", x.name)
		}
	}
	return nil
}

// show reads Ada's published posts through x and says where they came from.
func (x *instance) show(step string) error {
	before, near := x.cache.Stats().Misses, x.near.NearStats().Hits
	var posts []blog.Post
	start := time.Now()
	err := x.db.Clauses(gormcache.Cache()).Where("author_id = ? AND published = ?", 1, true).Order("id").Find(&posts).Error
	took := time.Since(start)
	if err != nil {
		return err
	}
	source := "the database"
	switch {
	case x.near.NearStats().Hits > near:
		source = "its near cache (memory, no round trip)"
	case x.cache.Stats().Misses == before:
		source = "Redis (validated, copied to memory)"
	}
	fmt.Printf("%s\n   %s: %d posts, from %s, in %v\n", step, x.name, len(posts), source, took.Round(time.Microsecond))
	return nil
}

// startRedis starts a redis-server from PATH on a free loopback port, with
// no persistence, and returns its address and how to stop it.
func startRedis(dir string) (string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("-instances needs a Redis: give one with -redis host:port, or put redis-server on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); c.Ping(context.Background()).Err() != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on port %d does not answer", port)
		}
	}
	return addr, stop, nil
}
