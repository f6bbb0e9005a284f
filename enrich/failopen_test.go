package enrich

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/sluicehq/sluice/internal/testenv"
)

// toxicRedis is miniredis behind an in-process toxiproxy on a free
// loopback port, so tests can make Redis slow, silent or gone.
type toxicRedis struct {
	mr    *miniredis.Miniredis
	proxy *toxiproxy.Proxy
	cache *RedisCache
}

func newToxicRedis(t *testing.T) *toxicRedis {
	t.Helper()
	mr := miniredis.RunT(t)
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(srv, "redis", "127.0.0.1:0", mr.Addr())
	if err := srv.Collection.Add(proxy, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Collection.Clear() })
	// Timeouts well above a loaded machine's stalls, well below the toxics'.
	c := redisCacheAt(t, "redis://"+proxy.Listen+"?read_timeout=500ms&write_timeout=500ms")
	return &toxicRedis{mr: mr, proxy: proxy, cache: c}
}

func (r *toxicRedis) addToxic(t *testing.T, json string) {
	t.Helper()
	if _, err := r.proxy.Toxics.AddToxicJson(strings.NewReader(json)); err != nil {
		t.Fatal(err)
	}
}

func (r *toxicRedis) heal(t *testing.T) {
	t.Helper()
	r.proxy.Toxics.ResetToxics(context.Background())
	if err := r.proxy.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		t.Fatal(err)
	}
}

func TestFailOpenWhenRedisIsSlowSilentOrDown(t *testing.T) {
	faults := map[string]func(t *testing.T, r *toxicRedis){
		"latency": func(t *testing.T, r *toxicRedis) {
			r.addToxic(t, `{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":3000}}`)
		},
		"timeout": func(t *testing.T, r *toxicRedis) {
			r.addToxic(t, `{"name":"silent","type":"timeout","stream":"downstream","attributes":{"timeout":0}}`)
		},
		"down": func(t *testing.T, r *toxicRedis) { r.proxy.Stop() },
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			r := newToxicRedis(t)
			a := newAPI(t, realClock{})
			e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(r.cache))
			ctx := context.Background()
			warm := keyOf(t, e, "ok:warm")

			// Healthy: the first batch fills the cache.
			e.Lookup(ctx, []string{warm})
			if a.total() != 1 || len(r.mr.Keys()) != 1 {
				t.Fatalf("healthy batch: %d requests, keys %v", a.total(), r.mr.Keys())
			}

			fault(t, r)
			cold := keyOf(t, e, "ok:cold")
			got := e.Lookup(ctx, []string{warm, cold})
			for k, res := range got {
				if !res.Found || res.Err != nil {
					t.Fatalf("%s with Redis %s: %+v; want found straight from the API", k, name, res)
				}
			}
			if a.count("ok:warm") != 2 || a.count("ok:cold") != 1 {
				t.Errorf("with Redis %s: warm asked %d times, cold %d; want 2 and 1", name, a.count("ok:warm"), a.count("ok:cold"))
			}
			if d := metric(m, e, "EnrichDegraded"); d != 1 {
				t.Errorf("EnrichDegraded = %v, want 1", d)
			}

			// Healed: the cache is used again.
			r.heal(t)
			before := a.total()
			got = e.Lookup(ctx, []string{warm})
			if !got[warm].Found || a.total() != before {
				t.Errorf("after healing: %+v and %d new requests; want a cache hit", got[warm], a.total()-before)
			}
		})
	}
}

func TestFailedCacheWriteNeverFailsARecord(t *testing.T) {
	a := newAPI(t, realClock{})
	e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(failingWrites{NewMemoryCache(nil)}))
	k := keyOf(t, e, "ok:a")
	if r := e.Lookup(context.Background(), []string{k})[k]; !r.Found || r.Err != nil {
		t.Fatalf("got %+v", r)
	}
	if n := metric(m, e, "EnrichCacheWriteErrors"); n != 1 {
		t.Errorf("EnrichCacheWriteErrors = %v, want 1", n)
	}
}

type failingWrites struct{ *MemoryCache }

func (failingWrites) MSet(context.Context, []Entry) error { return errFake }

var errFake = errors.New("fake: cache write refused")

func TestSlowRedisCostsAtMostItsTimeout(t *testing.T) {
	r := newToxicRedis(t)
	r.addToxic(t, `{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":5000}}`)
	a := newAPI(t, realClock{})
	e, _ := newTestEnricher(t, genericConfig(a.URL), WithCache(r.cache))
	k := keyOf(t, e, "ok:a")
	// The Lambda's own deadline is far off; the Redis read timeout, not the
	// 5s of latency, must end the cache read.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if res := e.Lookup(ctx, []string{k})[k]; !res.Found {
		t.Fatalf("got %+v", res)
	}
	if ctx.Err() != nil {
		t.Fatal("a slow Redis held the batch until the deadline")
	}
}

func TestSilentRedisCostsPerCallTimeouts(t *testing.T) {
	c := redisCacheAt(t, "redis://"+testenv.SilentListener(t))
	a := newAPI(t, realClock{})
	e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(c))
	k := keyOf(t, e, "ok:a")
	// The Lambda's own deadline is far off: the per-call timeouts (read,
	// then write) must end the cache calls, not the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if res := e.Lookup(ctx, []string{k})[k]; !res.Found {
		t.Fatalf("got %+v", res)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("a silent Redis held the batch %v (go-redis's default read timeout alone is 3s)", elapsed)
	}
	if metric(m, e, "EnrichDegraded") != 1 || metric(m, e, "EnrichCacheWriteErrors") != 1 {
		t.Errorf("degraded %v, write errors %v; want 1 and 1", metric(m, e, "EnrichDegraded"), metric(m, e, "EnrichCacheWriteErrors"))
	}
}

// A cache that could read some keys only (a cluster with a node down):
// the batch uses what it read and looks up the rest.
func TestPartialCacheReadUsesWhatItRead(t *testing.T) {
	a := newAPI(t, realClock{})
	mem := NewMemoryCache(nil)
	e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(halfReads{mem}))
	keys := []string{keyOf(t, e, "ok:a"), keyOf(t, e, "ok:b"), keyOf(t, e, "ok:c"), keyOf(t, e, "ok:d")}
	e.Lookup(context.Background(), keys)
	if a.total() != 4 {
		t.Fatalf("%d lookups, want 4", a.total())
	}
	for k, r := range e.Lookup(context.Background(), keys) {
		if !r.Found {
			t.Fatalf("%s: %+v", k, r)
		}
	}
	// Keys 0 and 2 were read; 1 and 3 could not be and were looked up again.
	if a.total() != 6 || a.count("ok:b") != 2 || a.count("ok:d") != 2 {
		t.Errorf("%d lookups (b %d, d %d), want 6 (b and d twice)", a.total(), a.count("ok:b"), a.count("ok:d"))
	}
	if metric(m, e, "EnrichDegraded") != 2 || metric(m, e, "EnrichCacheHits") != 2 {
		t.Errorf("degraded %v, hits %v; want 2 and 2", metric(m, e, "EnrichDegraded"), metric(m, e, "EnrichCacheHits"))
	}
}

// halfReads reads every other key and fails the rest.
type halfReads struct{ *MemoryCache }

func (h halfReads) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	vals, _ := h.MemoryCache.MGet(ctx, keys)
	for i := 1; i < len(vals); i += 2 {
		vals[i] = nil
	}
	return vals, errFake
}
