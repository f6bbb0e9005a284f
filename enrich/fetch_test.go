package enrich

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	clock := newFakeClock()
	e := &Enricher{clock: clock}
	tests := map[string]time.Duration{
		"":           0,
		"3":          3 * time.Second,
		"0":          0,
		"-1":         0,
		"9999999999": 24 * time.Hour,
		"soon":       0,
		clock.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat):  90 * time.Second,
		clock.Now().Add(-90 * time.Second).UTC().Format(http.TimeFormat): 0,
	}
	for v, want := range tests {
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		if got := e.retryAfter(resp); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "Wed, 21 Oct 2015 07:28:00 GMT", "-5", "99999999999999999999", ""} {
		f.Add(s)
	}
	e := &Enricher{clock: newFakeClock()}
	f.Fuzz(func(t *testing.T, v string) {
		if d := e.retryAfter(&http.Response{Header: http.Header{"Retry-After": {v}}}); d < 0 {
			t.Fatalf("Retry-After %q = %v", v, d)
		}
	})
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	for attempt := 1; attempt <= 10; attempt++ {
		d := backoff(attempt)
		full := min(backoffBase<<(attempt-1), backoffMax)
		if d < full/2 || d > full {
			t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, full/2, full)
		}
	}
}
