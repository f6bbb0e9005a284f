package redisx

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

func TestNewChoosesTheClientFromTheURL(t *testing.T) {
	cases := []struct {
		name, url string
		cluster   bool // the client is a ClusterClient before any call
		known     bool // no need to ask the server
	}{
		{"one node, asked", "redis://h:6379", false, false},
		{"one node with a database, asked", "redis://h:6379/2", false, false},
		{"one node, said", "redis://h:6379/3?cluster=false", false, true},
		{"cluster, said", "redis://h:6379?cluster=true", true, true},
		{"cluster, database 0", "redis://h:6379/0?cluster=1", true, true},
		{"cluster seeds", "redis://h1:6379?addr=h2:6379&addr=h3:6379", true, true},
		{"ElastiCache Serverless", "rediss://sluice-abc123.serverless.use1.cache.amazonaws.com:6379", true, true},
		{"ElastiCache Serverless in China", "rediss://sluice-abc123.serverless.cnn1.cache.amazonaws.com.cn:6379", true, true},
		{"ElastiCache configuration endpoint", "rediss://clustercfg.sluice.abc123.use1.cache.amazonaws.com:6379", true, true},
		{"ElastiCache node endpoint, asked", "rediss://sluice.abc123.ng.0001.use1.cache.amazonaws.com:6379", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cluster, known := c.Cluster()
			if cluster != tc.cluster || known != tc.known {
				t.Fatalf("cluster=%v known=%v, want %v %v", cluster, known, tc.cluster, tc.known)
			}
		})
	}
}

func TestNewRefusesWithWhatToChange(t *testing.T) {
	cases := []struct{ url, want string }{
		{"redis://h:6379/2?cluster=true", "remove /2 from REDIS_URL"},
		{"rediss://sluice-abc.serverless.use1.cache.amazonaws.com:6379/1", "remove /1 from REDIS_URL"},
		{"redis://sluice-abc.serverless.use1.cache.amazonaws.com:6379", "use rediss://"},
		{"redis://h:6379?cluster=maybe", "cluster=true or cluster=false"},
		{"http://h:6379", "use redis:// or rediss://"},
		{"redis://h:6379/zero", "database number"},
		{"redis://h:6379?cluster=false&addr=h2:6379", "add cluster=true"},
		{"redis://h:6379?cluster=true&db=2", "add cluster=false"},
		{"redis://user:hunter2@h:6379/%zz", "REDIS_URL"},
	}
	for _, tc := range cases {
		c, err := New(tc.url)
		if err == nil {
			c.Close()
			t.Errorf("%s: no error", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v; want it to say %q (and never the password)", tc.url, err, tc.want)
		}
	}
}

func TestNewSetsShortTimeouts(t *testing.T) {
	c, err := New("rediss://sluice:pa55@cache.example.com:6379/2?cluster=false")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, _ := c.Resolve(context.Background())
	o := rc.(*redis.Client).Options()
	if o.TLSConfig == nil || o.TLSConfig.ServerName != "cache.example.com" || o.Username != "sluice" || o.Password != "pa55" || o.DB != 2 {
		t.Errorf("TLS/AUTH/DB not taken from the URL: tls=%v user=%q db=%d", o.TLSConfig, o.Username, o.DB)
	}
	if !o.ContextTimeoutEnabled || o.DialTimeout != DefaultDialTimeout || o.ReadTimeout != DefaultReadTimeout ||
		o.WriteTimeout != DefaultWriteTimeout || o.PoolTimeout != DefaultPoolTimeout || o.MaxRetries != 0 {
		t.Errorf("one node: ctx=%v dial=%v read=%v write=%v pool=%v retries=%d", o.ContextTimeoutEnabled, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries)
	}
	if c.String() != "rediss://sluice:xxxxx@cache.example.com:6379/2?cluster=false" {
		t.Errorf("String() = %q", c.String())
	}

	cc, err := New("rediss://sluice-abc.serverless.use1.cache.amazonaws.com:6379?read_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	rc, _ = cc.Resolve(context.Background())
	co := rc.(*redis.ClusterClient).Options()
	if co.TLSConfig == nil || !co.ContextTimeoutEnabled || co.DialTimeout != DefaultDialTimeout || co.ReadTimeout != time.Second ||
		co.WriteTimeout != DefaultWriteTimeout || co.PoolTimeout != DefaultPoolTimeout || co.MaxRetries != -1 || co.MaxRedirects != DefaultMaxRedirects {
		t.Errorf("cluster: tls=%v ctx=%v dial=%v read=%v write=%v pool=%v retries=%d redirects=%d", co.TLSConfig, co.ContextTimeoutEnabled, co.DialTimeout, co.ReadTimeout, co.WriteTimeout, co.PoolTimeout, co.MaxRetries, co.MaxRedirects)
	}
	c3, err := New("redis://h:6379?cluster=true&max_redirects=3")
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	rc, _ = c3.Resolve(context.Background())
	if r := rc.(*redis.ClusterClient).Options().MaxRedirects; r != 3 {
		t.Errorf("max_redirects=3 in the URL gave %d", r)
	}
}

func TestResolveAsksTheServer(t *testing.T) {
	mr := miniredis.RunT(t)
	c, err := New("redis://" + mr.Addr() + "/3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	rc, err := c.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cluster, known := c.Cluster(); cluster || !known {
		t.Fatalf("miniredis taken for cluster=%v (known %v)", cluster, known)
	}
	if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	mr.Select(3)
	if v, _ := mr.Get("k"); v != "v" {
		t.Fatal("the URL's database was not selected")
	}
	if again, _ := c.Resolve(ctx); again != rc {
		t.Fatal("Resolve made a second client")
	}
}

func TestResolveRetriesAfterAnOutage(t *testing.T) {
	mr := miniredis.NewMiniRedis()
	addr := freeAddr(t)
	c, err := New("redis://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Resolve(context.Background()); err == nil || !IsOutage(err) || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("nothing listening: %v; want an outage naming REDIS_URL", err)
	}
	if err := mr.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	defer mr.Close()
	if _, err := c.Resolve(context.Background()); err != nil {
		t.Fatalf("once Redis is up: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestSilentServerCostsAPerCallTimeout(t *testing.T) {
	addr := testenv.SilentListener(t)
	for _, q := range []string{"", "?cluster=false", "?cluster=true"} {
		t.Run(q, func(t *testing.T) {
			c, err := New("redis://" + addr + q)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A Lambda's deadline far off: the per-call timeout must end it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			err = func() error {
				rc, err := c.Resolve(ctx)
				if err != nil {
					return err
				}
				return rc.Get(ctx, "k").Err()
			}()
			elapsed := time.Since(start)
			if err == nil || !IsOutage(err) {
				t.Fatalf("err = %v, want an outage", err)
			}
			// go-redis's own default read timeout alone is 3s.
			if elapsed > 2*time.Second {
				t.Fatalf("a silent Redis held the call %v; the per-call timeout is %v", elapsed, DefaultReadTimeout)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	mr := miniredis.RunT(t)
	c, err := New("redis://" + mr.Addr() + "?cluster=false")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	rc, _ := c.Resolve(ctx)
	cases := map[string]string{
		"MOVED 3999 127.0.0.1:7002":                                    "remove cluster=false",
		"CROSSSLOT Keys in request don't hash to the same slot":        "remove cluster=false",
		"ERR SELECT is not allowed in cluster mode":                    "remove the /db",
		"WRONGPASS invalid username-password pair or user is disabled": "user and password",
		"NOPERM this user has no permissions to run the 'get' command": "lacks a permission",
	}
	for reply, want := range cases {
		mr.SetError(reply)
		err := c.Explain(rc.Get(ctx, "k").Err())
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "REDIS_URL") {
			t.Errorf("%s: %v; want it to say %q", reply, err, want)
		}
		if IsOutage(err) {
			t.Errorf("%s counted as an outage", reply)
		}
	}
	mr.SetError("CLUSTERDOWN The cluster is down")
	if err := rc.Get(ctx, "k").Err(); !IsOutage(err) {
		t.Errorf("CLUSTERDOWN: not an outage")
	}
	mr.SetError("")
	if c.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}

// TestRedisCluster checks, against a real 3-node Redis Cluster, that the
// client finds out it is one and that what a cluster refuses is explained.
func TestRedisCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t).Addrs
	ctx := context.Background()

	c, err := New("redis://" + addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cluster, known := c.Cluster(); !cluster || !known {
		t.Fatalf("a cluster node taken for cluster=%v (known %v)", cluster, known)
	}
	// Keys on every node, through the one address given.
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		if err := rc.Set(ctx, k, k, time.Minute).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}

	db, err := New("redis://" + addrs[0] + "/2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Resolve(ctx); err == nil || !strings.Contains(err.Error(), "remove /2 from REDIS_URL") {
		t.Fatalf("a database number on a cluster: %v", err)
	}

	one, err := New("redis://" + addrs[0] + "?cluster=false")
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	orc, _ := one.Resolve(ctx)
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		err := orc.Get(ctx, k).Err()
		if err == nil {
			continue // the node given holds it
		}
		if err := one.Explain(err); !strings.Contains(err.Error(), "remove cluster=false") {
			t.Fatalf("GET %s through one node: %v", k, err)
		}
		return
	}
	t.Fatal("one node answered for every key")
}

// TestRedisClusterTLS is ElastiCache Serverless's setting: a cluster that
// accepts only TLS, reached through one rediss:// address.
func TestRedisClusterTLS(t *testing.T) {
	cl := testenv.RedisClusterTLS(t)
	ctx := context.Background()
	c, err := New(cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The test's certificate authority, where ElastiCache's is a public one.
	c.single.TLSConfig.RootCAs = cl.TLS.RootCAs
	c.clusterO.TLSConfig.RootCAs = cl.TLS.RootCAs
	rc, err := c.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cluster, _ := c.Cluster(); !cluster {
		t.Fatal("a TLS cluster node taken for one node")
	}
	keys := []string{"a", "b", "c", "d", "e", "f"}
	_, err = rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, k, k, time.Minute)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if v, err := rc.Get(ctx, k).Result(); err != nil || v != k {
			t.Fatalf("GET %s = %q, %v", k, v, err)
		}
	}

	// Plain redis:// to a TLS-only server fails as an outage, within the
	// per-call timeouts.
	plain, err := New("redis://" + cl.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	start := time.Now()
	_, err = plain.Resolve(ctx)
	t.Logf("redis:// to a TLS-only node: %v", err)
	if err == nil || !strings.Contains(err.Error(), "use rediss://") || time.Since(start) > 2*time.Second {
		t.Fatalf("redis:// to a TLS-only node: %v after %v; want a hint to use rediss://", err, time.Since(start))
	}
}
