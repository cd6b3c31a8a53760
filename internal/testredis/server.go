package testredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gormcache/gormcache/internal/testdb"
)

// Server is a redis-server process that one test owns, so that it may stop,
// restart or pause it. It keeps its data in an append-only file written at
// every command, so a restart finds every key the killed server had.
type Server struct {
	// Addr is the server's host:port; it stays the same across restarts.
	Addr string

	t    testing.TB
	dir  string
	port int
	args []string // the test's own redis-server options
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartServer starts a redis-server from PATH on a free loopback port and
// kills it in t.Cleanup. args are redis-server options that override the
// defaults (--appendonly no, say, for a server that keeps RDB snapshots
// only). Like Client it needs GORMCACHE_REDIS_ADDR, the sign that the test
// script installed Redis.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	testdb.RequireService(t, AddrEnv, "Redis")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testredis: %s is set but redis-server is not on PATH: %v", AddrEnv, err)
	}
	s := &Server{t: t, dir: t.TempDir(), args: args}
	for attempt := 1; ; attempt++ {
		s.port = freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		err := s.start(bin)
		if err == nil {
			break
		}
		if attempt == 5 {
			t.Fatalf("testredis: %v", err)
		}
	}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.Kill()
		}
	})
	return s
}

// freePort returns a loopback port that nothing listened on a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the server and waits until it answers PING.
func (s *Server) start(bin string) error {
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.cmd, s.done = cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			return fmt.Errorf("redis-server on port %d does not answer after 10s: %v", s.port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL, as a crash would, and waits until it
// is gone.
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("testredis: kill: %v", err)
	}
	<-s.done
	s.cmd = nil
}

// Restart starts the killed server again on the same port, with the data
// it had.
func (s *Server) Restart() {
	s.t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err == nil {
		err = s.start(bin)
	}
	if err != nil {
		s.t.Fatalf("testredis: restart: %v", err)
	}
}

// Client returns a client of the server, closed in t.Cleanup, that honours
// context deadlines.
func (s *Server) Client() *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop suspends the server (SIGSTOP): it keeps its connections and data but
// answers nothing until Cont.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("testredis: stop: %v", err)
	}
}

// Cont resumes a server Stop suspended.
func (s *Server) Cont() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("testredis: cont: %v", err)
	}
}

// Sentinel is a master, its replica and a Sentinel watching them, all
// killed in t.Cleanup: a deployment whose master a test may kill to see the
// replica promoted.
type Sentinel struct {
	// Master and Replica are the servers as started; after a failover the
	// replica is the master.
	Master, Replica *Server
	// Addr is the Sentinel's address; MasterName the name it knows the
	// master by.
	Addr, MasterName string
}

// StartSentinel starts a master, a replica of it and a Sentinel that fails
// the master over half a second after it stops answering.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	master := StartServer(t)
	replica := StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	s := &Sentinel{Master: master, Replica: replica, MasterName: "gormcache"}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		conf := filepath.Join(dir, "sentinel.conf")
		err := os.WriteFile(conf, fmt.Appendf(nil, "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 1\n"+
			"sentinel down-after-milliseconds %[4]s 500\n"+
			"sentinel failover-timeout %[4]s 2000\n",
			port, dir, filepath.Join(dir, "sentinel.log"), s.MasterName, master.port), 0o644)
		if err != nil {
			t.Fatalf("testredis: %v", err)
		}
		cmd := exec.Command(bin, conf, "--sentinel")
		if err := cmd.Start(); err != nil {
			t.Fatalf("testredis: sentinel: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr})
		ready := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			replicas, err := c.Replicas(ctx, s.MasterName).Result()
			cancel()
			if err == nil && len(replicas) == 1 {
				ready = true
				break
			}
		}
		_ = c.Close()
		if ready {
			return s
		}
		if attempt == 3 {
			t.Fatalf("testredis: the Sentinel on %s does not see the replica after 10s", s.Addr)
		}
	}
}

// FailoverClient returns a client that finds the master through the
// Sentinel, closed in t.Cleanup.
func (s *Sentinel) FailoverClient(t testing.TB) *goredis.Client {
	c := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}, ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MasterAddr returns the address the Sentinel gives for the master now.
func (s *Sentinel) MasterAddr(t testing.TB) string {
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr})
	defer c.Close()
	addr, err := c.GetMasterAddrByName(t.Context(), s.MasterName).Result()
	if err != nil {
		t.Fatalf("testredis: the Sentinel's master: %v", err)
	}
	return net.JoinHostPort(addr[0], addr[1])
}
