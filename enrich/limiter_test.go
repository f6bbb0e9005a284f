package enrich

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluicehq/sluice/internal/testenv"
)

func TestClockLimiterPacesAndRespectsDeadline(t *testing.T) {
	clock := newFakeClock()
	l := newClockLimiter(5, 2, clock)
	start := clock.Now()
	var at []time.Duration
	for range 5 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		at = append(at, clock.Now().Sub(start))
	}
	want := []time.Duration{0, 0, 200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond}
	for i := range want {
		if at[i] != want[i] {
			t.Fatalf("grants at %v, want %v", at, want)
		}
	}

	// The next token is 200ms away: a 50ms deadline fails at once, wrapped.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := l.Wait(ctx)
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past the deadline = %v", err)
	}
	if clock.Now().Sub(start) != 600*time.Millisecond {
		t.Fatal("a refused wait moved the clock")
	}
	// The refused reservation was given back: the next token is still 200ms away.
	if err := l.Wait(context.Background()); err != nil || clock.Now().Sub(start) != 800*time.Millisecond {
		t.Fatalf("after a refused wait: %v at %v, want a grant at 800ms", err, clock.Now().Sub(start))
	}
}

// redisClock is virtual time shared by the test and miniredis's TIME, which
// the shared limiter's script reads.
type redisClock struct {
	mu  sync.Mutex
	mr  *miniredis.Miniredis
	now time.Time
}

func (c *redisClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *redisClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mr.SetTime(c.now)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func TestSharedLimiterCapsTheFleet(t *testing.T) {
	mr := miniredis.RunT(t)
	clock := &redisClock{mr: mr, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	mr.SetTime(clock.now)
	client := redisCacheAt(t, "redis://"+mr.Addr()+"?read_timeout=2s").Client()
	const perSecond, burst = 4, 2
	// Three instances share one ceiling.
	fleet := []*SharedLimiter{
		NewSharedLimiter(client, "sluice:enrich:geo:rate", perSecond, burst, clock),
		NewSharedLimiter(client, "sluice:enrich:geo:rate", perSecond, burst, clock),
		NewSharedLimiter(client, "sluice:enrich:geo:rate", perSecond, burst, clock),
	}
	start := clock.Now()
	var grants []time.Time
	for i := range 30 {
		if err := fleet[i%3].Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, clock.Now())
	}
	for _, w := range []time.Duration{time.Second, 3 * time.Second} {
		limit := burst + int(perSecond*w.Seconds())
		for _, s := range grants {
			n := 0
			for _, g := range grants {
				if !g.Before(s) && g.Before(s.Add(w)) {
					n++
				}
			}
			if n > limit {
				t.Fatalf("%d calls within %v from %v, over the fleet's limit %d", n, w, s.Sub(start), limit)
			}
		}
	}
	if span := grants[len(grants)-1].Sub(start); span < 7*time.Second {
		t.Errorf("30 calls at 4/s (burst 2) took %v, want at least 7s", span)
	}
	if ttl := mr.TTL("sluice:enrich:geo:rate"); ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("limiter key TTL %v; want it to expire soon after the fleet goes quiet", ttl)
	}
}

func TestSharedLimiterRealRedis(t *testing.T) {
	addr := testenv.RedisAddr(t)
	c := redisCacheAt(t, "redis://"+addr+"?read_timeout=2s")
	client := c.Client()
	key := "sluice:test:rate:" + time.Now().Format(time.RFC3339Nano)
	defer resolved(t, c).Del(context.Background(), key)
	const perSecond, calls = 50, 20
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := NewSharedLimiter(client, key, perSecond, 1, nil)
			for range calls / 2 {
				if err := l.Wait(context.Background()); err != nil {
					t.Errorf("instance %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// 20 calls at 50/s, burst 1, from two instances: the last cannot be
	// granted before 19 intervals of 20ms have passed.
	if elapsed := time.Since(start); elapsed < 19*time.Second/perSecond {
		t.Fatalf("20 calls in %v: the fleet ran faster than %d/s", elapsed, perSecond)
	}
}

func TestSharedLimiterFailsOpenWhenRedisIsDown(t *testing.T) {
	r := newToxicRedis(t)
	a := newAPI(t, realClock{})
	cfg := genericConfig(a.URL)
	cfg.SharedRate = 100
	e, m := newTestEnricher(t, cfg, WithCache(r.cache))
	if _, ok := e.shared.(*SharedLimiter); !ok {
		t.Fatalf("shared limiter is %T, want a Redis one with a Redis cache", e.shared)
	}
	r.proxy.Stop()
	k := keyOf(t, e, "ok:a")
	if res := e.Lookup(context.Background(), []string{k})[k]; !res.Found {
		t.Fatalf("got %+v", res)
	}
	// One for the cache read, one for the limiter.
	if d := metric(m, e, "EnrichDegraded"); d != 2 {
		t.Errorf("EnrichDegraded = %v, want 2", d)
	}
}

func TestSharedLimiterFailsClosedWhenRedisRefuses(t *testing.T) {
	mr := miniredis.RunT(t)
	a := newAPI(t, realClock{})
	cfg := genericConfig(a.URL)
	cfg.SharedRate = 1
	e, m := newTestEnricher(t, cfg, WithCache(redisCacheAt(t, "redis://"+mr.Addr()+"?cluster=false&read_timeout=2s")))
	// What a cluster answers a client that takes it for one node.
	mr.SetError("MOVED 12539 127.0.0.1:7002")
	keys := []string{keyOf(t, e, "ok:a"), keyOf(t, e, "ok:b"), keyOf(t, e, "ok:c")}
	for k, res := range e.Lookup(context.Background(), keys) {
		if res.Err == nil || !strings.Contains(res.Err.Error(), "REDIS_URL") || !strings.Contains(res.Err.Error(), "cluster=false") {
			t.Errorf("%s: %+v; want a failed lookup naming REDIS_URL and what to change", k, res)
		}
	}
	if a.total() != 0 {
		t.Errorf("%d calls went through a shared limiter Redis refused", a.total())
	}
	// A cache that cannot be read degrades the batch; a refused limiter
	// does not count as degraded, it fails.
	if d := metric(m, e, "EnrichDegraded"); d != 1 {
		t.Errorf("EnrichDegraded = %v, want 1 (the cache read)", d)
	}
}
