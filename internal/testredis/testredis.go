// Package testredis gives tests clients of the Redis servers that
// scripts/test.sh (make test) starts, and Redis servers of their own for
// tests that stop, restart or slow down a server, or fail a master over
// (Sentinel, or a Cluster with a replica per master).
//
// The script exports the address of a standalone server as
// GORMCACHE_REDIS_ADDR and those of a three-master Cluster as
// GORMCACHE_REDIS_CLUSTER_ADDRS. Without them a test is skipped, and it
// fails under CI=true, as testdb.RequireService says. Tests share the
// servers, also with the test binaries of other packages running at the same
// time: each one writes under a Prefix of its own.
package testredis

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/internal/testdb"
)

// Environment variables scripts/test.sh exports.
const (
	// AddrEnv holds the host:port of a standalone Redis server.
	AddrEnv = "GORMCACHE_REDIS_ADDR"
	// ClusterAddrsEnv holds the comma-separated host:port of the masters
	// of a Redis Cluster.
	ClusterAddrsEnv = "GORMCACHE_REDIS_CLUSTER_ADDRS"
)

// Client returns a client of the standalone server, closed in t.Cleanup.
// Like every client of this package it honours context deadlines, as the
// Redis store requires.
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	addr := testdb.RequireService(t, AddrEnv, "Redis")
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ClusterClient returns a client of the Cluster, closed in t.Cleanup.
func ClusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	addrs := testdb.RequireService(t, ClusterAddrsEnv, "Redis Cluster")
	c := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs:                 strings.Split(addrs, ","),
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix that no other test uses, in this process or
// another, and that shows which test wrote a key.
func Prefix(t testing.TB) string {
	var b strings.Builder
	b.WriteString("test:")
	for _, r := range t.Name() {
		if b.Len() == 60 {
			break
		}
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '/' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("%s:%08x:", b.String(), rand.Uint32())
}
