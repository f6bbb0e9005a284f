package enrich

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

// cacheUnderTest is a Cache plus a way to let time pass for its TTLs.
type cacheUnderTest struct {
	Cache
	expire func(t *testing.T, d time.Duration) // let d pass
	full   bool                                // run the slower cases too
}

// testCacheContract is the behaviour every Cache must have.
func testCacheContract(t *testing.T, newCache func(t *testing.T) cacheUnderTest) {
	ctx := context.Background()
	prefix := fmt.Sprintf("sluice:test:%d:", time.Now().UnixNano())
	k := func(s string) string { return prefix + s }

	t.Run("miss is nil", func(t *testing.T) {
		c := newCache(t)
		got, err := c.MGet(ctx, []string{k("none"), k("none2")})
		if err != nil || len(got) != 2 || got[0] != nil || got[1] != nil {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("round trip keeps order, duplicates and bytes", func(t *testing.T) {
		c := newCache(t)
		bin := []byte{0, 1, 0xff, '\r', '\n', '"'}
		err := c.MSet(ctx, []Entry{{k("a"), []byte("A"), time.Hour}, {k("b"), bin, time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.MGet(ctx, []string{k("b"), k("x"), k("a"), k("b")})
		if err != nil || len(got) != 4 || !bytes.Equal(got[0], bin) || got[1] != nil || string(got[2]) != "A" || !bytes.Equal(got[3], bin) {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		c := newCache(t)
		_ = c.MSet(ctx, []Entry{{k("o"), []byte("1"), time.Hour}})
		_ = c.MSet(ctx, []Entry{{k("o"), []byte("2"), time.Hour}})
		if got, _ := c.MGet(ctx, []string{k("o")}); string(got[0]) != "2" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("empty write", func(t *testing.T) {
		if err := newCache(t).MSet(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ttl", func(t *testing.T) {
		c := newCache(t)
		err := c.MSet(ctx, []Entry{{k("short"), []byte("s"), 50 * time.Millisecond}, {k("long"), []byte("l"), time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		c.expire(t, 100*time.Millisecond)
		got, err := c.MGet(ctx, []string{k("short"), k("long")})
		if err != nil || got[0] != nil || string(got[1]) != "l" {
			t.Fatalf("after its TTL: %q, %v", got, err)
		}
	})
	t.Run("large batch", func(t *testing.T) {
		c := newCache(t)
		if !c.full {
			t.Skip("fuller suite only")
		}
		var entries []Entry
		var keys []string
		for i := range 2000 {
			entries = append(entries, Entry{k(fmt.Sprint("big", i)), []byte(fmt.Sprint(i)), time.Hour})
			keys = append(keys, k(fmt.Sprint("big", i)))
		}
		if err := c.MSet(ctx, entries); err != nil {
			t.Fatal(err)
		}
		got, err := c.MGet(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if string(v) != fmt.Sprint(i) {
				t.Fatalf("key %d = %q", i, v)
			}
		}
	})
}

func TestMemoryCacheContract(t *testing.T) {
	testCacheContract(t, func(t *testing.T) cacheUnderTest {
		clock := newFakeClock()
		return cacheUnderTest{Cache: NewMemoryCache(clock), full: true, expire: func(_ *testing.T, d time.Duration) { clock.Advance(d) }}
	})
}

func TestMiniredisCacheContract(t *testing.T) {
	testCacheContract(t, func(t *testing.T) cacheUnderTest {
		mr := miniredis.RunT(t)
		c := redisCacheAt(t, "redis://"+mr.Addr()+"?read_timeout=2s&write_timeout=2s")
		return cacheUnderTest{Cache: c, full: true, expire: func(_ *testing.T, d time.Duration) { mr.FastForward(d) }}
	})
}

func TestRedisCacheContract(t *testing.T) {
	addr := testenv.RedisAddr(t)
	testCacheContract(t, func(t *testing.T) cacheUnderTest {
		c := redisCacheAt(t, "redis://"+addr+"?read_timeout=2s&write_timeout=2s")
		t.Cleanup(func() { deleteTestKeys(resolved(t, c)) })
		return cacheUnderTest{Cache: c, full: true, expire: waitReal}
	})
}

// waitReal lets real time pass for a real server's TTLs.
func waitReal(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-time.After(d):
	case <-t.Context().Done():
	}
}

func TestMemoryCacheIsBounded(t *testing.T) {
	clock := newFakeClock()
	c := NewMemoryCache(clock)
	c.maxEntries = 10
	ctx := context.Background()
	for i := range 25 {
		_ = c.MSet(ctx, []Entry{{fmt.Sprint(i), []byte("v"), time.Hour}})
	}
	if len(c.m) > 10 {
		t.Fatalf("%d entries, bound 10", len(c.m))
	}
	if got, _ := c.MGet(ctx, []string{"24"}); got[0] == nil {
		t.Fatal("the newest entry was evicted")
	}
}

// deleteTestKeys removes what the contract wrote to a real Redis.
func deleteTestKeys(c redis.UniversalClient) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "sluice:test:*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

func TestBatchUsesOneReadAndOneWrite(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redisCacheAt(t, "redis://"+mr.Addr()+"?read_timeout=2s&write_timeout=2s")
	rc := resolved(t, c)
	// Connect first (go-redis keeps a second pool for pipelines): a new
	// connection's handshake is not the batch's.
	if err := rc.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Pipelined(context.Background(), func(p redis.Pipeliner) error { return p.Ping(context.Background()).Err() }); err != nil {
		t.Fatal(err)
	}
	counter := &roundTripCounter{}
	rc.(*redis.Client).AddHook(counter)
	a := newAPI(t, realClock{})
	e, _ := newTestEnricher(t, genericConfig(a.URL), WithCache(c))
	keys := batchOf500(t, e)
	e.Lookup(context.Background(), keys)
	if n := counter.n.Load(); n != 2 {
		t.Fatalf("a batch of misses made %d Redis round trips, want 2 (one pipeline of GETs, then one of SETs)", n)
	}
	if got := len(mr.Keys()); got != 50 {
		t.Fatalf("%d keys cached, want 50 (49 found, 1 negative)", got)
	}
	for _, k := range mr.Keys() {
		ttl := mr.TTL(k)
		if ttl != 24*time.Hour && ttl != time.Hour {
			t.Fatalf("%s has TTL %v, want the cache or negative TTL", k, ttl)
		}
	}
	if ttl := mr.TTL(e.CacheKey(keyOf(t, e, "404"))); ttl != time.Hour {
		t.Fatalf("negative result cached for %v, want negative_ttl 1h", ttl)
	}
	counter.n.Store(0)
	e.Lookup(context.Background(), keys)
	if n := counter.n.Load(); n != 1 || a.total() != 50 {
		t.Fatalf("a cached batch made %d round trips and %d lookups, want 1 and none", n, a.total()-50)
	}
}

// batchOf500 is 500 keys of which 50 are distinct, one of them a 404.
func batchOf500(t *testing.T, e *Enricher) []string {
	keys := make([]string, 500)
	for i := range keys {
		q := fmt.Sprintf("ok:%d", i%50)
		if i%50 == 7 {
			q = "404"
		}
		keys[i] = keyOf(t, e, q)
	}
	return keys
}

func TestFailedReadStillWrites(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redisCacheAt(t, "redis://"+mr.Addr()+"?cluster=false&read_timeout=2s&write_timeout=2s")
	a := newAPI(t, realClock{})
	e, m := newTestEnricher(t, genericConfig(a.URL), WithCache(readsFail{c}))
	k := keyOf(t, e, "ok:a")
	if r := e.Lookup(context.Background(), []string{k})[k]; !r.Found {
		t.Fatalf("got %+v", r)
	}
	if metric(m, e, "EnrichDegraded") != 1 || len(mr.Keys()) != 1 {
		t.Fatalf("degraded %v, keys %v: want the batch degraded and its result written", metric(m, e, "EnrichDegraded"), mr.Keys())
	}
	// The next batch reads it back.
	e2, _ := newTestEnricher(t, genericConfig(a.URL), WithCache(c))
	if r := e2.Lookup(context.Background(), []string{k})[k]; !r.Found || a.total() != 1 {
		t.Fatalf("got %+v after %d lookups, want a cache hit", r, a.total())
	}
}

type readsFail struct{ *RedisCache }

func (readsFail) MGet(context.Context, []string) ([][]byte, error) { return nil, errFake }
