package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisClusterNodes is how many masters RedisCluster starts: enough for
// keys to land on different nodes, so that CROSSSLOT and MOVED are real.
const RedisClusterNodes = 3

// Cluster is a Redis Cluster started for a test.
type Cluster struct {
	Addrs []string // the masters' host:port, one per node
	// TLS is set for a cluster that accepts only TLS (RedisClusterTLS):
	// a client config trusting the cluster's own certificate authority.
	TLS   *tls.Config
	procs map[string]*os.Process
}

// URL is a REDIS_URL for the cluster: its first node, which the client
// asks whether it is a cluster; rediss:// for a TLS cluster.
func (c *Cluster) URL() string {
	if c.TLS != nil {
		return "rediss://" + c.Addrs[0]
	}
	return "redis://" + c.Addrs[0]
}

// Freeze stops the node at addr (SIGSTOP) until the test ends: the kernel
// still accepts connections for it, but nothing answers, as with a hung
// server.
func (c *Cluster) Freeze(t testing.TB, addr string) {
	t.Helper()
	p := c.procs[addr]
	if p == nil {
		t.Fatalf("testenv: no cluster node at %s", addr)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("testenv: freeze %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = p.Signal(syscall.SIGCONT) })
}

// RedisCluster starts a Redis Cluster of RedisClusterNodes masters (no
// replicas) on free loopback ports, in a temporary directory, for the
// test's lifetime. The servers are redis-server --cluster-enabled yes,
// joined with redis-cli --cluster create; it returns once every node
// reports cluster_state:ok.
func RedisCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, false)
}

// RedisClusterTLS is RedisCluster accepting only TLS, on clients' ports and
// on the cluster bus, as ElastiCache Serverless does. Its certificate,
// for 127.0.0.1, is signed by a certificate authority made for the test.
func RedisClusterTLS(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, true)
}

func startCluster(t testing.TB, withTLS bool) *Cluster {
	t.Helper()
	server := Tool(t, "redis-server")
	cli := Tool(t, "redis-cli")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGCONT) // a frozen node cannot stop
		}
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
	})
	cluster := &Cluster{procs: map[string]*os.Process{}}
	var tlsArgs, cliTLS []string
	if withTLS {
		var ca string
		cluster.TLS, ca = certificates(t, dir)
		tlsArgs = []string{"--tls-cert-file", filepath.Join(dir, "node.pem"), "--tls-key-file", filepath.Join(dir, "node.key"),
			"--tls-ca-cert-file", ca, "--tls-auth-clients", "no", "--tls-cluster", "yes", "--tls-replication", "yes"}
		cliTLS = []string{"--tls", "--cacert", ca}
	}
	addrs := make([]string, RedisClusterNodes)
	for i := range addrs {
		port, bus := FreePort(t), FreePort(t)
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
		log, err := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { log.Close() })
		ports := []string{"--port", fmt.Sprint(port)}
		if withTLS {
			ports = append([]string{"--port", "0", "--tls-port", fmt.Sprint(port)}, tlsArgs...)
		}
		args := append([]string{"--bind", "127.0.0.1"}, ports...)
		args = append(args, "--cluster-enabled", "yes", "--cluster-port", fmt.Sprint(bus),
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
			"--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no")
		cmd := exec.CommandContext(ctx, server, args...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		cmds = append(cmds, cmd)
		cluster.procs[addrs[i]] = cmd.Process
	}
	clients := make([]*redis.Client, len(addrs))
	for i, addr := range addrs {
		clients[i] = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, TLSConfig: cluster.TLS})
		defer clients[i].Close()
		waitFor(t, dir, 10*time.Second, "redis-server on "+addr, func() error {
			return clients[i].Ping(context.Background()).Err()
		})
	}
	args := append(cliTLS, "--cluster", "create")
	args = append(args, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, c := range clients {
		waitFor(t, dir, 20*time.Second, "cluster_state:ok on "+c.Options().Addr, func() error {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && !strings.Contains(info, "cluster_state:ok") {
				err = fmt.Errorf("not yet ok")
			}
			return err
		})
	}
	cluster.Addrs = addrs
	return cluster
}

// waitFor polls ready until it succeeds, failing the test with the
// servers' logs in dir after timeout.
func waitFor(t testing.TB, dir string, timeout time.Duration, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			var b strings.Builder
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(l), data)
			}
			t.Fatalf("testenv: no %s after %v: %v\n%s", what, timeout, err, b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
