package chaos_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/chaos"
)

func TestTransportFaults(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	get := func(inj *chaos.Injector, timeout time.Duration) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		return (&http.Client{Transport: inj.Transport(http.DefaultTransport)}).Do(req)
	}
	if r, err := get(chaos.New(1, 1).Only(chaos.LookupRateLimited), time.Second); err != nil || r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("429: %v %v", r, err)
	}
	if r, err := get(chaos.New(1, 1).Only(chaos.LookupServerError), time.Second); err != nil || r.StatusCode != 503 {
		t.Fatalf("5xx: %v %v", r, err)
	}
	start := time.Now()
	if _, err := get(chaos.New(1, 1).Only(chaos.LookupHang), 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("hang: %v after %v, want the caller's deadline", err, time.Since(start))
	}
	if r, err := get(chaos.New(1, 0), time.Second); err != nil || r.StatusCode != 200 {
		t.Fatalf("no fault: %v %v", r, err)
	}
}

func TestCacheFaults(t *testing.T) {
	ctx := context.Background()
	if _, err := chaos.New(1, 1).Only(chaos.CacheUnavailable).Cache(enrich.NewMemoryCache(nil)).MGet(ctx, []string{"k"}); err == nil {
		t.Fatal("an unavailable cache answered")
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := chaos.New(1, 1).Only(chaos.CacheSlow).Cache(enrich.NewMemoryCache(nil)).MSet(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow cache: %v, want the caller's deadline", err)
	}
	c := chaos.New(1, 0).Cache(enrich.NewMemoryCache(nil))
	if err := c.MSet(ctx, []enrich.Entry{{Key: "k", Value: []byte("v"), TTL: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.MGet(ctx, []string{"k"}); err != nil || string(v[0]) != "v" {
		t.Fatalf("no fault: %q %v", v, err)
	}
}
