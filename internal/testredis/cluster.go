package testredis

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// StartCluster starts a Redis Cluster of three masters of its own (no
// replicas), killed in t.Cleanup, and returns its servers, so that a test
// may pause or kill them without disturbing the tests that share the
// Cluster make test starts.
func StartCluster(t testing.TB) []*Server {
	t.Helper()
	return startCluster(t, 0)
}

// StartClusterWithReplicas starts a Redis Cluster of three masters with a
// replica each, six servers killed in t.Cleanup, and returns them once every
// node sees the Cluster ok and every replica is in sync with its master,
// so that a test may fail a master over (Failover). Which server replicates
// which master is for redis-cli to choose: ask Role.
func StartClusterWithReplicas(t testing.TB) []*Server {
	t.Helper()
	return startCluster(t, 1)
}

// startCluster starts three masters with replicas replicas each and waits
// until the Cluster is whole.
func startCluster(t testing.TB, replicas int) []*Server {
	var nodes []*Server
	var addrs []string
	for range 3 * (1 + replicas) {
		s := StartServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
		nodes = append(nodes, s)
		addrs = append(addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("testredis: redis-cli --cluster create: %v: %s", err, out)
	}
	admin := adminsOf(nodes)
	defer admin.close()
	waitFor(t, 20*time.Second, "the Cluster is whole", func(ctx context.Context) error {
		for _, n := range nodes {
			if err := admin.clusterOK(ctx, n, len(nodes)); err != nil {
				return err
			}
			if r := admin.role(ctx, n); r.err != nil {
				return r.err
			} else if r.Master == "" && len(r.replicas) != replicas {
				return fmt.Errorf("master %s has %d replicas", n.Addr, len(r.replicas))
			} else if r.Master != "" && !r.inSync {
				return fmt.Errorf("replica %s is not in sync with %s", n.Addr, r.Master)
			}
		}
		return nil
	})
	return nodes
}

// ClusterClientOf returns a client of the Cluster whose nodes StartCluster
// started, closed in t.Cleanup.
func ClusterClientOf(t testing.TB, nodes []*Server) *goredis.ClusterClient {
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Role is what a Cluster node is now.
type Role struct {
	// Master is the address of the master the node replicates, "" when it
	// is a master itself.
	Master string

	replicas []string // a master's replicas
	inSync   bool     // a replica's link to its master is up
	err      error
}

// RoleOf returns what node is now, by the ROLE command.
func RoleOf(t testing.TB, node *Server) Role {
	t.Helper()
	admin := adminsOf([]*Server{node})
	defer admin.close()
	r := admin.role(t.Context(), node)
	if r.err != nil {
		t.Fatalf("testredis: ROLE of %s: %v", node.Addr, r.err)
	}
	return r
}

// Failover promotes replica, a replica of a Cluster's master, with CLUSTER
// FAILOVER sent to it, and returns once every node of the Cluster sees the
// Cluster ok and the replica as a master, and the former master replicates
// it in sync. When the master has not handed over within 5s (the failover
// needs its consent), it forces the failover (CLUSTER FAILOVER FORCE) and
// waits 10s more. It returns how long the topology took to settle and
// whether it had to force.
func Failover(t testing.TB, nodes []*Server, replica *Server) (took time.Duration, forced bool) {
	t.Helper()
	admin := adminsOf(nodes)
	defer admin.close()
	former := admin.role(t.Context(), replica)
	if former.err != nil || former.Master == "" {
		t.Fatalf("testredis: %s is no replica: %+v", replica.Addr, former)
	}
	id, err := admin[replica].ClusterMyID(t.Context()).Result()
	if err != nil {
		t.Fatalf("testredis: CLUSTER MYID: %v", err)
	}
	settled := func(ctx context.Context) error {
		if r := admin.role(ctx, replica); r.err != nil || r.Master != "" {
			return fmt.Errorf("%s is not a master yet (%v)", replica.Addr, r.err)
		}
		for _, n := range nodes {
			if err := admin.clusterOK(ctx, n, len(nodes)); err != nil {
				return err
			}
			out, err := admin[n].ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			for line := range strings.SplitSeq(out, "\n") {
				if f := strings.Fields(line); len(f) > 2 && f[0] == id && !strings.Contains(f[2], "master") {
					return fmt.Errorf("%s still sees %s as %s", n.Addr, replica.Addr, f[2])
				}
			}
			if n.Addr == former.Master {
				if r := admin.role(ctx, n); r.err != nil || r.Master != replica.Addr || !r.inSync {
					return fmt.Errorf("the former master %s does not replicate %s in sync yet (%v)", n.Addr, replica.Addr, r.err)
				}
			}
		}
		return nil
	}
	start := time.Now()
	if err := admin[replica].Do(t.Context(), "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("testredis: CLUSTER FAILOVER: %v", err)
	}
	if poll(t.Context(), 5*time.Second, settled) != nil {
		forced = true
		if err := admin[replica].Do(t.Context(), "CLUSTER", "FAILOVER", "FORCE").Err(); err != nil {
			t.Fatalf("testredis: CLUSTER FAILOVER FORCE: %v", err)
		}
		waitFor(t, 10*time.Second, "the forced failover settles", settled)
	}
	return time.Since(start), forced
}

// admins are clients of some nodes, for the commands of the test itself.
type admins map[*Server]*goredis.Client

func adminsOf(nodes []*Server) admins {
	a := admins{}
	for _, n := range nodes {
		a[n] = goredis.NewClient(&goredis.Options{Addr: n.Addr, ContextTimeoutEnabled: true})
	}
	return a
}

func (a admins) close() {
	for _, c := range a {
		_ = c.Close()
	}
}

// clusterOK returns an error unless node sees the Cluster ok with known
// nodes.
func (a admins) clusterOK(ctx context.Context, node *Server, known int) error {
	info, err := a[node].ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(known)+"\r") {
		return fmt.Errorf("%s does not see the Cluster ok yet:\n%s", node.Addr, info)
	}
	return nil
}

// role returns what node is, from its reply to ROLE: ["master", offset,
// [[ip, port, offset]...]] or ["slave", ip, port, state, offset].
func (a admins) role(ctx context.Context, node *Server) Role {
	reply, err := a[node].Do(ctx, "ROLE").Slice()
	if err != nil {
		return Role{err: err}
	}
	switch kind, _ := reply[0].(string); {
	case kind == "master" && len(reply) == 3:
		var r Role
		replicas, _ := reply[2].([]any)
		for _, x := range replicas {
			if f, ok := x.([]any); ok && len(f) == 3 {
				r.replicas = append(r.replicas, fmt.Sprintf("%v:%v", f[0], f[1]))
			}
		}
		return r
	case kind == "slave" && len(reply) == 5:
		return Role{Master: fmt.Sprintf("%v:%v", reply[1], reply[2]), inSync: reply[3] == "connected"}
	}
	return Role{err: fmt.Errorf("ROLE of %s: unexpected reply %v", node.Addr, reply)}
}

// poll calls check every 20ms until it returns nil or within has passed,
// and returns its last error.
func poll(ctx context.Context, within time.Duration, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(within)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := check(cctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls check and fails t when it has not returned nil within.
func waitFor(t testing.TB, within time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	if err := poll(t.Context(), within, check); err != nil {
		t.Fatalf("testredis: not done after %v: %s: %v", within, what, err)
	}
}
