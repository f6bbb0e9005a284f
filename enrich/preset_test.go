package enrich

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// geocodeAPI answers like the Google Geocoding API, by address.
func geocodeAPI(t *testing.T) (*httptest.Server, func(addr string) int) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/maps/api/geocode/json" || r.URL.Query().Get("key") != "test-key" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		addr := r.URL.Query().Get("address")
		mu.Lock()
		seen[addr]++
		n := seen[addr]
		mu.Unlock()
		status := map[string]string{
			"nowhere": "ZERO_RESULTS", "denied": "REQUEST_DENIED", "invalid": "INVALID_REQUEST",
			"busyforever": "OVER_QUERY_LIMIT", "busy": "OVER_QUERY_LIMIT", "flaky": "UNKNOWN_ERROR",
		}[addr]
		if status == "" || (n > 1 && (addr == "busy" || addr == "flaky")) {
			writeJSON(w, map[string]any{"status": "OK", "results": []any{map[string]any{
				"formatted_address": addr,
				"geometry":          map[string]any{"location": map[string]any{"lat": 52.52, "lng": 13.405}},
			}}})
			return
		}
		body := map[string]any{"status": status, "results": []any{}}
		if status == "REQUEST_DENIED" {
			body["error_message"] = "The provided API key is invalid."
		}
		writeJSON(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func(addr string) int { mu.Lock(); defer mu.Unlock(); return seen[addr] }
}

func TestGoogleGeocodeStatuses(t *testing.T) {
	srv, seen := geocodeAPI(t)
	t.Setenv("SLUICE_TEST_GOOGLE_KEY", "test-key")
	cfg := config.Enricher{
		Name:   "geocode",
		Preset: config.PresetGoogleGeocode,
		Schema: "listing",
		URL:    srv.URL + "/maps/api/geocode/json?address={address}&key={secret}",
		Secret: "env:SLUICE_TEST_GOOGLE_KEY",
		Rate:   1000, Burst: 100,
	}
	clock := newFakeClock()
	e, m := newTestEnricher(t, cfg, WithClock(clock))
	if e.StatusField() != "geocode_status" || e.Schema() != "listing" || e.OnError() != "fail" {
		t.Fatalf("preset defaults: status field %q, schema %q, on_error %q", e.StatusField(), e.Schema(), e.OnError())
	}
	addrs := []string{"Berlin", "nowhere", "busy", "flaky", "busyforever", "denied", "invalid"}
	keys := map[string]string{}
	var all []string
	for _, a := range addrs {
		keys[a] = keyOf(t, e, a)
		all = append(all, keys[a])
	}
	got := e.Lookup(context.Background(), all)

	ok := got[keys["Berlin"]]
	if !ok.Found || ok.Status != "OK" || ok.Fields["latitude"] != 52.52 || ok.Fields["longitude"] != 13.405 || len(ok.Fields) != 2 {
		t.Errorf("Berlin: %+v", ok)
	}
	if r := got[keys["nowhere"]]; r.Found || r.Status != "ZERO_RESULTS" || r.Err != nil || len(r.Fields) != 0 {
		t.Errorf("nowhere: %+v", r)
	}
	for _, a := range []string{"busy", "flaky"} {
		if r := got[keys[a]]; !r.Found || seen(a) != 2 {
			t.Errorf("%s: %+v after %d requests; want found on the retry", a, r, seen(a))
		}
	}
	if r := got[keys["busyforever"]]; r.Status != "OVER_QUERY_LIMIT" || r.Err == nil || seen("busyforever") != 3 {
		t.Errorf("busyforever: %+v after %d requests; want OVER_QUERY_LIMIT after 3", r, seen("busyforever"))
	}
	for _, a := range []string{"denied", "invalid"} {
		r := got[keys[a]]
		var le *LookupError
		if r.Found || r.Err == nil || !errors.As(r.Err, &le) || le.Attempts != 1 || seen(a) != 1 {
			t.Errorf("%s: %+v after %d requests; want an error at once", a, r, seen(a))
		}
	}
	if r := got[keys["denied"]]; r.Status != "REQUEST_DENIED" || !strings.Contains(r.Err.Error(), "The provided API key is invalid.") {
		t.Errorf("denied: %+v", r)
	}
	if r := got[keys["invalid"]]; r.Status != "INVALID_REQUEST" {
		t.Errorf("invalid: %+v", r)
	}
	for _, r := range got {
		if r.Err != nil && strings.Contains(r.Err.Error(), "test-key") {
			t.Errorf("an error shows the API key: %v", r.Err)
		}
	}
	if n := metric(m, e, "EnrichThrottled"); n != 1+3 {
		t.Errorf("EnrichThrottled = %v, want 4 (OVER_QUERY_LIMIT answers)", n)
	}

	// OK and ZERO_RESULTS are cached; the failures are asked again.
	e.Lookup(context.Background(), all)
	for a, want := range map[string]int{"Berlin": 1, "nowhere": 1, "busy": 2, "denied": 2, "invalid": 2, "busyforever": 6} {
		if seen(a) != want {
			t.Errorf("%s: %d requests after two batches, want %d", a, seen(a), want)
		}
	}
}
