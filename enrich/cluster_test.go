package enrich

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestRedisCluster runs the cache, batch lookups and the shared limiter
// against a real 3-node Redis Cluster, which refuses what miniredis lets
// pass: a multi-key command across slots (CROSSSLOT), a key on another node
// (MOVED). The URL names one node only: the client asks it what it is.
func TestRedisCluster(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	url := cluster.URL()

	t.Run("cache contract", func(t *testing.T) {
		testCacheContract(t, func(t *testing.T) cacheUnderTest {
			c := redisCacheAt(t, url+"?read_timeout=2s&write_timeout=2s")
			return cacheUnderTest{Cache: c, full: true, expire: waitReal}
		})
	})

	t.Run("two identical batches", func(t *testing.T) {
		c := redisCacheAt(t, url+"?read_timeout=2s&write_timeout=2s")
		cc, ok := resolved(t, c).(*redis.ClusterClient)
		if !ok {
			t.Fatalf("the client is %T, want a cluster client", resolved(t, c))
		}
		ctx := context.Background()
		// Connect to every node first: a new connection's handshake is not
		// the batch's. Then count the exchanges each node sees.
		counter := &roundTripCounter{}
		var masters []*redis.Client
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			if _, err := n.Pipelined(ctx, func(p redis.Pipeliner) error { return p.Ping(ctx).Err() }); err != nil {
				return err
			}
			n.AddHook(counter)
			mu.Lock()
			masters = append(masters, n)
			mu.Unlock()
			return nil
		})
		if err != nil || len(masters) != testenv.RedisClusterNodes {
			t.Fatalf("%d masters, %v", len(masters), err)
		}

		a := newAPI(t, realClock{})
		e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(c))
		keys := batchOf500(t, e)
		for k, r := range e.Lookup(ctx, keys) {
			if !r.Found && r.Status != StatusNotFound {
				t.Fatalf("%s: %+v", k, r)
			}
		}
		if a.total() != 50 || metric(m, e, "EnrichDegraded") != 0 || metric(m, e, "EnrichCacheWriteErrors") != 0 {
			t.Fatalf("first batch: %d lookups, degraded %v, write errors %v; want 50, 0, 0",
				a.total(), metric(m, e, "EnrichDegraded"), metric(m, e, "EnrichCacheWriteErrors"))
		}
		// One pipelined exchange per node to read, one per node to write.
		if n := counter.n.Load(); n != 2*int64(len(masters)) {
			t.Fatalf("a batch of misses made %d exchanges with %d nodes, want 2 each (one pipeline of GETs, one of SETs)", n, len(masters))
		}
		// The cache spans the cluster: every node holds some of the keys.
		for _, n := range masters {
			if size := n.DBSize(ctx).Val(); size == 0 {
				t.Errorf("node %s holds no key of 50: the keys did not spread over the slots", n.Options().Addr)
			}
		}

		counter.n.Store(0)
		e.Lookup(ctx, keys)
		if a.total() != 50 || metric(m, e, "EnrichCacheHits") != 50 {
			t.Fatalf("second batch: %d more lookups and %v hits, want none and 50", a.total()-50, metric(m, e, "EnrichCacheHits"))
		}
		if n := counter.n.Load(); n != int64(len(masters)) {
			t.Fatalf("a cached batch made %d exchanges with %d nodes, want 1 each", n, len(masters))
		}
	})

	t.Run("one node silent", func(t *testing.T) {
		c := redisCacheAt(t, url)
		a := newAPI(t, realClock{})
		e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(c))
		ctx := context.Background()
		var keys []string
		for i := range 30 {
			keys = append(keys, keyOf(t, e, fmt.Sprintf("ok:silent-%d", i)))
		}
		e.Lookup(ctx, keys)
		if a.total() != 30 {
			t.Fatalf("%d lookups, want 30", a.total())
		}
		// One master stops answering (SIGSTOP) until the test ends.
		cc := resolved(t, c).(*redis.ClusterClient)
		silent, err := cc.MasterForKey(ctx, e.CacheKey(keys[0]))
		if err != nil {
			t.Fatal(err)
		}
		onSilent := 0
		for _, k := range keys {
			n, err := cc.MasterForKey(ctx, e.CacheKey(k))
			if err != nil {
				t.Fatal(err)
			}
			if n.Options().Addr == silent.Options().Addr {
				onSilent++
			}
		}
		if onSilent == len(keys) {
			t.Fatalf("all %d keys on one node", len(keys))
		}
		cluster.Freeze(t, silent.Options().Addr)
		start := time.Now()
		got := e.Lookup(ctx, keys)
		elapsed := time.Since(start)
		for k, r := range got {
			if !r.Found {
				t.Fatalf("%s: %+v", k, r)
			}
		}
		// Keys on the other nodes are still read from the cache.
		if more := a.total() - 30; more != onSilent {
			t.Errorf("%d more lookups, want %d (the keys on the silent node only)", more, onSilent)
		}
		if metric(m, e, "EnrichDegraded") != 1 {
			t.Errorf("EnrichDegraded = %v, want 1", metric(m, e, "EnrichDegraded"))
		}
		// The read and the write each cost the silent node a few per-call
		// timeouts (a new connection's handshake, one retry), not forever.
		t.Logf("a batch with one node silent took %v", elapsed)
		if elapsed > 3*time.Second {
			t.Errorf("a silent node held the batch %v", elapsed)
		}
	})

	t.Run("shared limiter told cluster=false fails closed", func(t *testing.T) {
		// An enricher whose limiter key lives on another node than the one
		// REDIS_URL names, so that the node answers MOVED.
		ctx := context.Background()
		cc := resolved(t, redisCacheAt(t, url)).(*redis.ClusterClient)
		name := ""
		for i := 0; name == ""; i++ {
			n, err := cc.MasterForKey(ctx, SharedLimiterKey(fmt.Sprint("moved", i)))
			if err != nil {
				t.Fatal(err)
			}
			if "redis://"+n.Options().Addr != url {
				name = fmt.Sprint("moved", i)
			}
		}
		a := newAPI(t, realClock{})
		cfg := genericConfig(a.URL)
		cfg.Name, cfg.SharedRate = name, 1
		e, _ := newTestEnricher(t, cfg, WithCache(redisCacheAt(t, url+"?cluster=false")))
		keys := []string{keyOf(t, e, "ok:a"), keyOf(t, e, "ok:b"), keyOf(t, e, "ok:c")}
		for k, r := range e.Lookup(ctx, keys) {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "remove cluster=false from REDIS_URL") {
				t.Errorf("%s: %+v; want a failed lookup saying what to change in REDIS_URL", k, r)
			}
		}
		if a.total() != 0 {
			t.Errorf("%d calls went through a limiter the cluster refused", a.total())
		}
	})

	t.Run("shared_rate 1 caps the fleet", func(t *testing.T) {
		a := newAPI(t, realClock{})
		cfg := genericConfig(a.URL)
		cfg.Name = "capped"
		cfg.SharedRate, cfg.Burst = 1, 1
		// Two instances with their own clients, as two Lambdas would be.
		var fleet []*Enricher
		for range 2 {
			e, m := newTestEnricher(t, cfg, WithCache(redisCacheAt(t, url+"?read_timeout=2s")))
			if _, ok := e.shared.(*SharedLimiter); !ok {
				t.Fatalf("shared limiter %T, want the Redis one", e.shared)
			}
			t.Cleanup(func() {
				if d := metric(m, e, "EnrichDegraded"); d != 0 {
					t.Errorf("EnrichDegraded = %v: the limiter failed open", d)
				}
			})
			fleet = append(fleet, e)
		}
		start := time.Now()
		var wg sync.WaitGroup
		for i, e := range fleet {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 2 {
					k := keyOf(t, e, "ok:"+string(rune('a'+2*i+j)))
					if r := e.Lookup(context.Background(), []string{k})[k]; !r.Found {
						t.Errorf("%+v", r)
					}
				}
			}()
		}
		wg.Wait()
		// 4 calls at 1/s with no burst: the last cannot start before 3s.
		if elapsed := time.Since(start); elapsed < 2900*time.Millisecond || a.total() != 4 {
			t.Fatalf("%d calls in %v: the fleet ran faster than shared_rate 1/s", a.total(), elapsed)
		}
	})
}
