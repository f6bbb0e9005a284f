package enrich

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/redisx"
)

// fakeClock is virtual time: After fires at once and moves the clock on by
// d, so backoff and Retry-After cost no wall time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// advanceTo moves the clock to t unless it is already later.
func (c *fakeClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// recordingLimiter is a token bucket on a fakeClock that records the
// virtual time of every token it grants, so a test can check the rate.
type recordingLimiter struct {
	mu     sync.Mutex
	lim    *rate.Limiter
	clock  *fakeClock
	grants []time.Time
}

func newRecordingLimiter(perSecond float64, burst int, clock *fakeClock) *recordingLimiter {
	return &recordingLimiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst), clock: clock}
}

func (l *recordingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clock.Now()
	r := l.lim.ReserveN(now, 1)
	at := now.Add(r.DelayFrom(now))
	l.grants = append(l.grants, at)
	l.mu.Unlock()
	l.clock.advanceTo(at)
	return ctx.Err()
}

// maxInWindow is the most grants in any window of length w.
func (l *recordingLimiter) maxInWindow(w time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	best := 0
	for _, start := range l.grants {
		n := 0
		for _, t := range l.grants {
			if !t.Before(start) && t.Before(start.Add(w)) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// api is an httptest server scripted by the request's q parameter:
//
//	ok:<name>   200 {"name":..., "loc":{"lat":1.5,"lng":-2}}
//	404         404
//	429         429 with Retry-After: 1 on the first request, then 200
//	429date     429 with Retry-After as an HTTP date, then 200
//	429long     429 with Retry-After: 3600
//	500         500 every time
//	400         400 every time
//	hang        no answer until the client gives up
//	block       no answer until release is closed, then 200
type api struct {
	*httptest.Server
	clock   Clock
	release chan struct{}

	mu       sync.Mutex
	requests map[string]int
	headers  []http.Header
	entered  chan string
}

func newAPI(t *testing.T, clock Clock) *api {
	t.Helper()
	a := &api{clock: clock, release: make(chan struct{}), requests: map[string]int{}, entered: make(chan string, 100)}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	a.mu.Lock()
	a.requests[q]++
	n := a.requests[q]
	a.headers = append(a.headers, r.Header.Clone())
	a.mu.Unlock()
	select {
	case a.entered <- q:
	default:
	}
	switch {
	case strings.HasPrefix(q, "ok:"):
		writeJSON(w, map[string]any{"name": q[3:], "loc": map[string]any{"lat": 1.5, "lng": -2.0}})
	case q == "404":
		http.NotFound(w, r)
	case q == "429" || q == "429date" || q == "429long":
		if n > 1 && q != "429long" {
			writeJSON(w, map[string]any{"name": q, "loc": map[string]any{"lat": 1.0, "lng": 1.0}})
			return
		}
		switch q {
		case "429":
			w.Header().Set("Retry-After", "1")
		case "429date":
			w.Header().Set("Retry-After", a.clock.Now().Add(30*time.Second).UTC().Format(http.TimeFormat))
		default:
			w.Header().Set("Retry-After", "3600")
		}
		w.WriteHeader(http.StatusTooManyRequests)
	case q == "500":
		w.WriteHeader(http.StatusInternalServerError)
	case q == "400":
		w.WriteHeader(http.StatusBadRequest)
	case q == "hang":
		<-r.Context().Done()
	case strings.HasPrefix(q, "block"):
		select {
		case <-a.release:
		case <-r.Context().Done():
			return
		}
		writeJSON(w, map[string]any{"name": q, "loc": map[string]any{"lat": 2.0, "lng": 2.0}})
	default:
		w.WriteHeader(http.StatusTeapot)
	}
}

func (a *api) count(q string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[q]
}

func (a *api) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.requests {
		n += c
	}
	return n
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// genericConfig is an enricher of the api above keyed on field "q".
func genericConfig(url string) config.Enricher {
	retries := 2
	return config.Enricher{
		Name:    "things",
		Schema:  "thing",
		Key:     []string{"q"},
		URL:     url + "/v1/lookup?q={q}",
		Map:     map[string]string{"name": "name", "lat": "loc.lat", "lng": "loc.lng", "missing": "no.such.path"},
		Rate:    1000,
		Burst:   1000,
		Timeout: 5 * time.Second, // far above a loaded machine's stalls; TestHangingAPITimesOut sets its own
		Retries: &retries,
	}
}

// keyOf builds the key of a record whose field q is v.
func keyOf(t testing.TB, e *Enricher, v string) string {
	t.Helper()
	k, ok := e.Key(func(f string) (string, bool) { return v, f == "q" || f == "address" })
	if !ok {
		t.Fatalf("no key for %q", v)
	}
	return k
}

func newTestEnricher(t testing.TB, cfg config.Enricher, opts ...Option) (*Enricher, *metrics.Set) {
	t.Helper()
	m := metrics.New(nil)
	e, err := New(context.Background(), cfg, append([]Option{WithMetrics(m)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e, m
}

func metric(m *metrics.Set, e *Enricher, name string) float64 {
	return m.Get(name, metrics.Dim{Name: "Enricher", Value: e.Name()})
}

// redisCacheAt is a RedisCache for a test, closed at its end.
func redisCacheAt(t testing.TB, url string) *RedisCache {
	t.Helper()
	client, err := redisx.New(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return NewRedisCache(client)
}

// resolved is the go-redis client under c.
func resolved(t testing.TB, c *RedisCache) redis.UniversalClient {
	t.Helper()
	rc, err := c.Client().Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rc
}
