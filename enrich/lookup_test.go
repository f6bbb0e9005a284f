package enrich

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

func TestKey(t *testing.T) {
	cfg := genericConfig("https://api.example.com")
	cfg.Key = []string{"street", "city"}
	cfg.URL = "https://api.example.com/{city}?s={street}"
	e, _ := newTestEnricher(t, cfg)
	rec := map[string]string{"street": " 1 Main St ", "city": `Spring"field`}
	get := func(f string) (string, bool) { v, ok := rec[f]; return v, ok }
	k, ok := e.Key(get)
	if !ok || k != `["1 Main St","Spring\"field"]` {
		t.Fatalf("Key = %q, %v", k, ok)
	}
	vals, err := e.keyValues(k)
	if err != nil || vals["street"] != "1 Main St" || vals["city"] != `Spring"field` {
		t.Fatalf("keyValues = %v, %v", vals, err)
	}
	for name, r := range map[string]map[string]string{
		"missing": {"street": "1 Main St"},
		"blank":   {"street": "1 Main St", "city": "  "},
	} {
		rec = r
		if k, ok := e.Key(get); ok {
			t.Errorf("%s: Key = %q, want no key", name, k)
		}
	}
}

func TestCacheKeyIsNamespacedAndVersioned(t *testing.T) {
	cfg := genericConfig("https://api.example.com")
	e1, _ := newTestEnricher(t, cfg)
	ck := e1.CacheKey(`["x"]`)
	if !regexp.MustCompile(`^sluice:enrich:things:[0-9a-f]{12}:[0-9a-f]{64}$`).MatchString(ck) {
		t.Fatalf("cache key %q", ck)
	}
	if strings.Contains(ck, "x") {
		t.Errorf("cache key %q shows the raw key", ck)
	}
	same, _ := newTestEnricher(t, cfg)
	if same.CacheKey(`["x"]`) != ck {
		t.Error("same config, different cache key")
	}
	changes := map[string]func(c *config.Enricher){
		"mapping": func(c *config.Enricher) { c.Map = map[string]string{"name": "other"} },
		"url":     func(c *config.Enricher) { c.URL = "https://api.example.com/v2/lookup?q={q}" },
		"preset":  func(c *config.Enricher) { c.Preset = config.PresetGoogleGeocode; c.StatusField = "s" },
	}
	for name, change := range changes {
		c := genericConfig("https://api.example.com")
		change(&c)
		e2, _ := newTestEnricher(t, c)
		if e2.CacheKey(`["x"]`) == ck {
			t.Errorf("changing the %s kept the cache key", name)
		}
	}
	c := genericConfig("https://api.example.com")
	c.Headers = map[string]string{"X-Api-Key": "{secret}"}
	c.Secret = "env:SLUICE_TEST_KEY"
	t.Setenv("SLUICE_TEST_KEY", "rotated")
	if e3, _ := newTestEnricher(t, c); e3.CacheKey(`["x"]`) != ck {
		t.Error("headers or secret changed the cache key; rotating a key must not flush the cache")
	}
}

func TestLookupOutcomes(t *testing.T) {
	clock := newFakeClock()
	a := newAPI(t, clock)
	e, m := newTestEnricher(t, genericConfig(a.URL), WithClock(clock))
	ctx := context.Background()
	keys := map[string]string{}
	var all []string
	for _, q := range []string{"ok:a", "404", "429", "429date", "500", "400"} {
		keys[q] = keyOf(t, e, q)
		all = append(all, keys[q], keys[q]) // duplicates are looked up once
	}
	start := clock.Now()
	got := e.Lookup(ctx, all)
	if len(got) != 6 {
		t.Fatalf("got %d results, want 6", len(got))
	}

	ok := got[keys["ok:a"]]
	if !ok.Found || ok.Status != "OK" || ok.Err != nil || ok.Fields["name"] != "a" || ok.Fields["lat"] != 1.5 || ok.Fields["lng"] != -2.0 {
		t.Errorf("ok: %+v", ok)
	}
	if _, has := ok.Fields["missing"]; has {
		t.Errorf("a path absent from the response must be left out: %+v", ok.Fields)
	}
	if r := got[keys["404"]]; r.Found || r.Status != StatusNotFound || r.Err != nil {
		t.Errorf("404: %+v", r)
	}
	for _, q := range []string{"429", "429date"} {
		if r := got[keys[q]]; !r.Found || r.Err != nil || a.count(q) != 2 {
			t.Errorf("%s: %+v after %d requests, want found after 2", q, r, a.count(q))
		}
	}
	if waited := clock.Now().Sub(start); waited < 30*time.Second {
		t.Errorf("virtual time passed %v: Retry-After (1s and an HTTP date 30s ahead) not honoured", waited)
	}
	for q, wantAttempts := range map[string]int{"500": 3, "400": 1} {
		r := got[keys[q]]
		var le *LookupError
		if r.Found || r.Status != StatusError || !errors.As(r.Err, &le) || le.Attempts != wantAttempts || a.count(q) != wantAttempts {
			t.Errorf("%s: %+v (%d requests), want ERROR after %d attempts", q, r, a.count(q), wantAttempts)
		}
	}
	if n := metric(m, e, "EnrichThrottled"); n != 2 {
		t.Errorf("EnrichThrottled = %v, want 2", n)
	}
	if n := metric(m, e, "EnrichErrors"); n != 2 {
		t.Errorf("EnrichErrors = %v, want 2", n)
	}
	if n := metric(m, e, "EnrichLookups"); n != 1+1+2+2+3+1 {
		t.Errorf("EnrichLookups = %v, want 10", n)
	}

	// Found and negative results are cached; errors are not.
	before := a.total()
	again := e.Lookup(ctx, all)
	if again[keys["ok:a"]].Fields["name"] != "a" || again[keys["404"]].Status != StatusNotFound {
		t.Errorf("cached results differ: %+v", again)
	}
	if d := a.total() - before; d != 3+1 {
		t.Errorf("second lookup made %d requests, want 4 (only the errors again)", d)
	}
	if h := metric(m, e, "EnrichCacheHits"); h != 4 {
		t.Errorf("EnrichCacheHits = %v, want 4", h)
	}
}

func TestHangingAPITimesOut(t *testing.T) {
	a := newAPI(t, realClock{})
	cfg := genericConfig(a.URL)
	cfg.Timeout = 100 * time.Millisecond
	e, m := newTestEnricher(t, cfg, WithClock(newFakeClock()))
	k := keyOf(t, e, "hang")
	r := e.Lookup(context.Background(), []string{k})[k]
	var le *LookupError
	if r.Found || r.Status != StatusError || !errors.As(r.Err, &le) || le.Status != "TIMEOUT" || le.Attempts != 3 || a.count("hang") != 3 {
		t.Fatalf("got %+v after %d requests; want TIMEOUT after 3 attempts", r, a.count("hang"))
	}
	if n := metric(m, e, "EnrichErrors"); n != 1 {
		t.Errorf("EnrichErrors = %v, want 1", n)
	}
}

func TestNegativeResultsUseNegativeTTL(t *testing.T) {
	clock := newFakeClock()
	a := newAPI(t, clock)
	cfg := genericConfig(a.URL)
	cfg.CacheTTL, cfg.NegativeTTL = time.Hour, time.Minute
	e, _ := newTestEnricher(t, cfg, WithClock(clock), WithCache(NewMemoryCache(clock)))
	keys := []string{keyOf(t, e, "ok:a"), keyOf(t, e, "404")}
	e.Lookup(context.Background(), keys)
	clock.Advance(2 * time.Minute)
	e.Lookup(context.Background(), keys)
	if a.count("ok:a") != 1 || a.count("404") != 2 {
		t.Fatalf("after 2m: %d and %d requests, want the 404 (1m TTL) fetched again and the hit (1h) not", a.count("ok:a"), a.count("404"))
	}
}

func TestRetryAfterBeyondDeadlineIsNotWaited(t *testing.T) {
	a := newAPI(t, realClock{})
	e, _ := newTestEnricher(t, genericConfig(a.URL))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k := keyOf(t, e, "429long")
	r := e.Lookup(ctx, []string{k})[k]
	if r.Err == nil || !errors.Is(r.Err, ErrDeadline) || !errors.Is(r.Err, context.DeadlineExceeded) || a.count("429long") != 1 {
		t.Fatalf("got %+v after %d requests; want one request and an ErrDeadline", r, a.count("429long"))
	}
	if ctx.Err() != nil {
		t.Fatal("the lookup waited for the deadline instead of giving up at once")
	}
}

func TestRateLimitRespectsDeadline(t *testing.T) {
	a := newAPI(t, realClock{})
	cfg := genericConfig(a.URL)
	cfg.Rate, cfg.Burst = 0.001, 1 // one token, then a 1000s wait
	e, _ := newTestEnricher(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k1, k2 := keyOf(t, e, "ok:1"), keyOf(t, e, "ok:2")
	got := e.Lookup(ctx, []string{k1, k2})
	var failed Result
	if got[k1].Found == got[k2].Found {
		t.Fatalf("want one found and one refused by the rate limit: %+v", got)
	}
	if failed = got[k1]; failed.Found {
		failed = got[k2]
	}
	var le *LookupError
	if !errors.As(failed.Err, &le) || le.Status != "RATE_LIMIT" || le.Attempts != 0 || !errors.Is(failed.Err, ErrDeadline) {
		t.Fatalf("refused lookup: %+v", failed)
	}
	if a.total() != 1 || ctx.Err() != nil {
		t.Fatalf("%d requests, ctx %v: want 1 and no wait", a.total(), ctx.Err())
	}
}

// TestBatchOf500With50DistinctKeys checks the per-batch promise: every
// distinct key fetched exactly once, and never faster than the rate.
func TestBatchOf500With50DistinctKeys(t *testing.T) {
	clock := newFakeClock()
	a := newAPI(t, clock)
	cfg := genericConfig(a.URL)
	cfg.Rate, cfg.Burst, cfg.Concurrency = 10, 3, 8
	lim := newRecordingLimiter(cfg.Rate, cfg.Burst, clock)
	e, m := newTestEnricher(t, cfg, WithClock(clock), WithLimiter(lim))
	keys := make([]string, 500)
	for i := range keys {
		keys[i] = keyOf(t, e, fmt.Sprintf("ok:%d", i%50))
	}
	got := e.Lookup(context.Background(), keys)
	if len(got) != 50 {
		t.Fatalf("%d results, want 50", len(got))
	}
	for k, r := range got {
		if !r.Found {
			t.Fatalf("%s: %+v", k, r)
		}
	}
	if a.total() != 50 || len(lim.grants) != 50 || metric(m, e, "EnrichLookups") != 50 {
		t.Fatalf("%d requests, %d tokens, %v lookups; want exactly 50", a.total(), len(lim.grants), metric(m, e, "EnrichLookups"))
	}
	for i := range 50 {
		if n := a.count(fmt.Sprintf("ok:%d", i)); n != 1 {
			t.Fatalf("key %d fetched %d times", i, n)
		}
	}
	// A token bucket of rate r and burst b grants at most b + r*w in any
	// window w.
	for _, w := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second} {
		limit := cfg.Burst + int(cfg.Rate*w.Seconds())
		if n := lim.maxInWindow(w); n > limit {
			t.Errorf("%d lookups within %v, over the limit %d", n, w, limit)
		}
	}
	if span := lim.grants[len(lim.grants)-1].Sub(lim.grants[0]); span < 4*time.Second {
		t.Errorf("50 lookups at 10/s (burst 3) took only %v of virtual time", span)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	a := newAPI(t, realClock{})
	cfg := genericConfig(a.URL)
	cfg.Concurrency = 3
	e, _ := newTestEnricher(t, cfg)
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = keyOf(t, e, fmt.Sprintf("block%d", i))
	}
	// Every "blockN" request waits for release; count how many arrive.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.Lookup(context.Background(), keys) }()
	for range 3 {
		<-a.entered
	}
	select {
	case q := <-a.entered:
		t.Errorf("a 4th request (%s) was in flight with concurrency 3", q)
	case <-time.After(100 * time.Millisecond):
	}
	close(a.release)
	wg.Wait()
}

func TestSameKeyInFlightIsFetchedOnce(t *testing.T) {
	a := newAPI(t, realClock{})
	e, _ := newTestEnricher(t, genericConfig(a.URL))
	k := keyOf(t, e, "block")
	results := make(chan Result, 2)
	go func() { results <- e.Lookup(context.Background(), []string{k})[k] }()
	<-a.entered
	go func() { results <- e.Lookup(context.Background(), []string{k})[k] }()
	for {
		e.flight.mu.Lock()
		c := e.flight.calls[k]
		joined := c != nil && c.waiters == 1
		e.flight.mu.Unlock()
		if joined {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(a.release)
	for range 2 {
		if r := <-results; !r.Found {
			t.Fatalf("got %+v", r)
		}
	}
	if n := a.count("block"); n != 1 {
		t.Fatalf("%d requests for one key in flight twice, want 1", n)
	}
}

func TestMalformedKeyIsAnError(t *testing.T) {
	e, _ := newTestEnricher(t, genericConfig("https://api.example.com"))
	r := e.Lookup(context.Background(), []string{"not json"})["not json"]
	if r.Err == nil || r.Status != StatusError {
		t.Fatalf("got %+v", r)
	}
}
