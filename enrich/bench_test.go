package enrich

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

// roundTripCounter is a go-redis hook counting round trips: one per
// command or pipeline sent.
type roundTripCounter struct{ n atomic.Int64 }

func (h *roundTripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}

func (h *roundTripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// benchCachedBatch times keying and looking up a 500-record batch with 50
// distinct keys, all cached.
func benchCachedBatch(b *testing.B, cache Cache, counter *roundTripCounter) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, map[string]any{"name": r.URL.Query().Get("q"), "loc": map[string]any{"lat": 1.5, "lng": 2.5}})
	}))
	defer srv.Close()
	e, _ := newTestEnricher(b, genericConfig(srv.URL), WithCache(cache))
	records := make([]map[string]string, 500)
	for i := range records {
		records[i] = map[string]string{"q": fmt.Sprintf("ok:%d Main Street, Springfield", i%50), "other": "x"}
	}
	ctx := context.Background()
	batch := func() {
		keys := make([]string, 0, len(records))
		for _, rec := range records {
			if k, ok := e.Key(func(f string) (string, bool) { v, ok := rec[f]; return v, ok }); ok {
				keys = append(keys, k)
			}
		}
		if got := e.Lookup(ctx, keys); len(got) != 50 {
			b.Fatalf("%d results", len(got))
		}
	}
	batch() // fill the cache
	if calls.Load() != 50 {
		b.Fatalf("warm-up made %d lookups, want 50", calls.Load())
	}
	before := int64(0)
	if counter != nil {
		before = counter.n.Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		batch()
	}
	b.StopTimer()
	// On a loaded machine a read can overrun the 200ms Redis timeout; the
	// enricher then fails open and fetches. Report it rather than hide it.
	b.ReportMetric(float64(calls.Load()-50)/float64(b.N), "lookups/op")
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "records/s")
	if counter != nil {
		rt := float64(counter.n.Load()-before) / float64(b.N)
		if rt != 1 {
			b.Fatalf("%v Redis round trips per cached batch, want exactly 1", rt)
		}
		b.ReportMetric(rt, "roundtrips/op")
	}
}

func redisCacheWithCounter(b *testing.B, addr string) (*RedisCache, *roundTripCounter) {
	c := redisCacheAt(b, "redis://"+addr+"?cluster=false")
	counter := &roundTripCounter{}
	resolved(b, c).(*redis.Client).AddHook(counter)
	return c, counter
}

// BenchmarkCachedBatchMemory is the in-process baseline: the enricher's own
// cost with no network.
func BenchmarkCachedBatchMemory(b *testing.B) {
	benchCachedBatch(b, NewMemoryCache(nil), nil)
}

func BenchmarkCachedBatchMiniredis(b *testing.B) {
	mr := miniredis.RunT(b)
	c, counter := redisCacheWithCounter(b, mr.Addr())
	benchCachedBatch(b, c, counter)
}

func BenchmarkCachedBatchRedis(b *testing.B) {
	addr := testenv.RedisAddr(b)
	c, counter := redisCacheWithCounter(b, addr)
	b.Cleanup(func() {
		ctx := context.Background()
		rc := resolved(b, c)
		iter := rc.Scan(ctx, 0, "sluice:enrich:things:*", 1000).Iterator()
		for iter.Next(ctx) {
			rc.Del(ctx, iter.Val())
		}
	})
	benchCachedBatch(b, c, counter)
}

// BenchmarkRedisPing is one bare round trip, to compare with a batch.
func BenchmarkRedisPing(b *testing.B) {
	addr := testenv.RedisAddr(b)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	conn.Close()
	c, _ := redisCacheWithCounter(b, addr)
	ctx := context.Background()
	for range b.N {
		if err := resolved(b, c).Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
