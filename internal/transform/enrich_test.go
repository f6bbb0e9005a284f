package transform

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
)

// geocodeAPI answers like the Google Geocoding API, by address.
func geocodeAPI(t *testing.T) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := r.URL.Query().Get("address")
		if r.URL.Query().Get("key") != "test-key" {
			t.Errorf("request without the secret key: %s", r.URL)
		}
		mu.Lock()
		calls[addr]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(addr, "Nowhere"):
			fmt.Fprint(w, `{"status":"ZERO_RESULTS","results":[]}`)
		case strings.Contains(addr, "Broken"):
			w.WriteHeader(http.StatusInternalServerError)
		default:
			lat := 51.0 + float64(len(addr))/100
			fmt.Fprintf(w, `{"status":"OK","results":[{"geometry":{"location":{"lat":%g,"lng":-2.5}}}]}`, lat)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range calls {
			out[k] = v
		}
		return out
	}
}

func enrichConfig(t *testing.T, url, onError string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`
streams:
  listings:
    schema: listing
enrichers:
  - name: geocode
    preset: google_geocode
    schema: listing
    url: "%s/maps/api/geocode/json?address={address}&key={secret}"
    secret: env:SLUICE_TEST_GEOCODE_KEY
    rate: 1000
    burst: 100
    retries: 0
    on_error: %s
`, url, onError)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func enrichedHandler(t *testing.T, cfg *config.Config) *Handler {
	t.Helper()
	t.Setenv("SLUICE_TEST_GEOCODE_KEY", "test-key")
	_, reg := loadShipped(t)
	var es []Enricher
	for _, ec := range cfg.Enrichers {
		e, err := enrich.New(context.Background(), ec, enrich.WithMetrics(metrics.New(&bytes.Buffer{})))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return quietHandler(t, cfg, reg, WithEnrichers(es...))
}

// TestGoldenEnrichment transforms a batch with geocoding and compares it
// with testdata/transform-enrich/geocode/expected.json.
func TestGoldenEnrichment(t *testing.T) {
	srv, calls := geocodeAPI(t)
	for _, onError := range []string{"pass", "fail"} {
		t.Run(onError, func(t *testing.T) {
			h := enrichedHandler(t, enrichConfig(t, srv.URL, onError))
			dir := "../../testdata/transform-enrich/geocode"
			var records []string
			mustJSON(t, filepath.Join(dir, "records.json"), &records)
			ev := eventOf("listings", records)
			compareGolden(t, h, h.reg, ev, "listing", filepath.Join(dir, "expected-on-error-"+onError+".json"))
		})
	}
	// Each distinct address was looked up once per run (two runs, each
	// with its own in-process cache), never once per record.
	for addr, n := range calls() {
		if n != 2 {
			t.Errorf("address %q looked up %d times over two runs, want 2", addr, n)
		}
	}
}

func TestEnrichmentSkipsFailedRecords(t *testing.T) {
	srv, calls := geocodeAPI(t)
	h := enrichedHandler(t, enrichConfig(t, srv.URL, "fail"))
	resp, _, err := h.Process(context.Background(), eventOf("listings", []string{
		`{"shop_name":"x","price":"no price","listed":"2024-05-01","url":"u","address":"1 Failed Road"}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Records[0].Result != firehose.ProcessingFailed || len(calls()) != 0 {
		t.Fatalf("a record that fails normalisation was looked up: %v", calls())
	}
}

// With an enricher, whose lookup step normalises the batch before the
// records are written, each record is still observed once (the run
// report's counts are not doubled), and observed with its lookup applied.
func TestEnrichmentObservesEachRecordOnce(t *testing.T) {
	srv, _ := geocodeAPI(t)
	t.Setenv("SLUICE_TEST_GEOCODE_KEY", "test-key")
	cfg := enrichConfig(t, srv.URL, "pass")
	_, reg := loadShipped(t)
	var es []Enricher
	for _, ec := range cfg.Enrichers {
		e, err := enrich.New(context.Background(), ec, enrich.WithMetrics(metrics.New(&bytes.Buffer{})))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	h := quietHandler(t, cfg, reg, WithEnrichers(es...), WithObserver(func(o Observation) {
		mu.Lock()
		defer mu.Unlock()
		seen[o.Meta.RecordID]++
	}))
	ev := eventOf("listings", []string{
		`{"shop_name":"a","price":"10","listed":"2024-05-01","url":"u","address":"1 High Street"}`,
		`{"shop_name":"b","price":"no price","listed":"2024-05-01","url":"u","address":"2 High Street"}`,
		`{"shop_name":"c","price":"1,050","listed":"2024-05-01","url":"u","address":"3 High Street"}`,
		`{"shop_name":"d","price":"2.500,00","listed":"2024-05-01","url":"u","address":"4 High Street"}`,
	})
	resp, _, err := h.Process(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(resp.Records) {
		t.Fatalf("observed %d records (%v), want %d", len(seen), seen, len(resp.Records))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s observed %d times, want once", id, n)
		}
	}
}

// keylessEnricher applies to listings and finds no key in any: the batch's
// lookup pass runs, and nothing is looked up.
type keylessEnricher struct{}

func (keylessEnricher) Name() string        { return "keyless" }
func (keylessEnricher) Schema() string      { return "listing" }
func (keylessEnricher) OnError() string     { return "pass" }
func (keylessEnricher) StatusField() string { return "" }
func (keylessEnricher) Key(func(string) (string, bool)) (string, bool) {
	return "", false
}
func (keylessEnricher) Lookup(context.Context, []string) map[string]enrich.Result { return nil }

// TestLookupPassHoldsOneLineOfAPackedRecord: the lookup pass, which
// normalises every record to find its keys before any is written, lets
// each line of a packed record go as soon as its keys are read, as the
// main pass does. It bounds what the pass allocates beyond a handler
// without enrichers, per line of one packed record of 3,000 lines: the
// lines' values, held all at once, would take about 2 KB a line.
func TestLookupPassHoldsOneLineOfAPackedRecord(t *testing.T) {
	cfg, reg := loadShipped(t)
	var packed []byte
	const lines = 3000
	for i := range lines {
		packed = envelope.Append(packed, &envelope.Record{ID: fmt.Sprintf("id-%d", i), Schema: "listing",
			Source: envelope.Source{Bucket: "in", Key: "listings/a.csv", Format: "csv", Line: int64(i + 2)},
			Fields: []envelope.Field{{Name: "Shop Name", Value: fmt.Sprintf("Shop %d", i)}, {Name: "Address", Value: "12 High St, Bristol"},
				{Name: "Price", Value: "£1,299.00"}, {Name: "Listed", Value: "2024-05-01"}, {Name: "URL", Value: "https://example.com/s"},
				{Name: "Rating", Value: "4.5"}, {Name: "Tags", Value: "books; cafe"}}})
		packed = append(packed, '\n')
	}
	ev := eventOf("listings", []string{string(packed)})
	// New handlers: a worker keeps the memory of the values it held (up to
	// 8 MiB), which a warmed one would reuse instead of allocating.
	allocated := func(h *Handler) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		resp, err := h.Handle(context.Background(), ev)
		runtime.ReadMemStats(&after)
		if err != nil || len(resp.Records) != 1 || resp.Records[0].Result != firehose.Ok {
			t.Fatalf("packed record not delivered: %v %+v", err, resp.Records)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	plain := allocated(quietHandler(t, cfg, reg))
	enriched := allocated(quietHandler(t, cfg, reg, WithEnrichers(keylessEnricher{})))
	perLine := (float64(enriched) - float64(plain)) / lines
	t.Logf("lookup pass: %.0f bytes a line (%d with it, %d without)", perLine, enriched, plain)
	if perLine > 300 {
		t.Fatalf("the lookup pass allocates %.0f bytes a line of a packed record: its lines' values are held together", perLine)
	}
}
