package testenv

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMotoStarts(t *testing.T) {
	endpoint := Moto(t)
	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto answered %d", resp.StatusCode)
	}
}

func TestRedisAnswers(t *testing.T) {
	_ = RedisAddr(t)
}

func TestRedisCluster(t *testing.T) {
	addrs := RedisCluster(t).Addrs
	if len(addrs) != RedisClusterNodes {
		t.Fatalf("%d nodes", len(addrs))
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	ctx := context.Background()
	var mu sync.Mutex
	masters := map[string]bool{}
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters[m.Options().Addr] = true
		return nil
	})
	if err != nil || len(masters) != RedisClusterNodes {
		t.Fatalf("masters %v, %v", masters, err)
	}
	// A real cluster refuses what miniredis lets pass.
	single := redis.NewClient(&redis.Options{Addr: addrs[0]})
	defer single.Close()
	if err := single.MGet(ctx, "a", "b").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("MGET of keys in two slots: %v, want CROSSSLOT", err)
	}
}

func TestRedisClusterTLS(t *testing.T) {
	cl := RedisClusterTLS(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, TLSConfig: cl.TLS})
	defer c.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	plain := redis.NewClient(&redis.Options{Addr: cl.Addrs[0], MaxRetries: -1, ReadTimeout: time.Second})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("a TLS-only node answered a plain connection")
	}
}
