package chaos_test

// The fault matrix: one test per fault, each running the local pipeline
// (or the splitter's handler) and checking conservation by record id. The
// rows that need real services or the handlers' own fakes live with them;
// RELIABILITY.md lists every row and its test.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/chaos"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/localrun"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter"
)

// conserved runs in on the shipped config with inj and checks every id.
func conserved(t *testing.T, inj *chaos.Injector, opts localrun.Options) chaos.Report {
	t.Helper()
	opts.Out, opts.Faults = t.TempDir(), inj
	if _, err := localrun.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if err := inj.Ledger().ReadOutput(opts.Out); err != nil {
		t.Fatal(err)
	}
	rep := inj.Ledger().Check()
	if !rep.Conserved() {
		t.Fatalf("conservation broken: %s", rep.Broken(10))
	}
	return rep
}

// PutRecordBatch partial failures, throttling storms and timeouts after
// accept: only refused entries are resent, duplicates carry the same id and
// document, nothing is lost.
func TestMatrixPutRecordBatchFaults(t *testing.T) {
	in := t.TempDir()
	lines := writeInput(t, in, 6, 500)
	inj := chaos.New(7, 0.3).Only(chaos.PutPartial, chaos.PutThrottled, chaos.PutTimeoutAccepted)
	opts := shipped(t)
	opts.Inputs = []string{in}
	rep := conserved(t, inj, opts)
	if rep.IDs != lines || inj.Total() == 0 {
		t.Fatalf("%d ids for %d lines, %d faults", rep.IDs, lines, inj.Total())
	}
	if n := count(inj, chaos.PutTimeoutAccepted); n > 0 && rep.Duplicates == 0 {
		t.Fatalf("%d timeouts after accept left no duplicate", n)
	}
	// A refused entry is never counted as sent: every id was accepted at
	// least once, and a partial failure alone resends nothing accepted.
	for _, id := range inj.Ledger().IDs() {
		if inj.Ledger().Sends(id) == 0 && inj.Ledger().Ends(id).DeadLettered == 0 {
			t.Fatalf("%s was never accepted", id)
		}
	}
}

func count(inj *chaos.Injector, f chaos.Fault) int64 {
	for _, c := range inj.Counts() {
		if c.Fault == f {
			return c.N
		}
	}
	return 0
}

// Transform invocation errors and timeouts: the emulator retries the batch,
// then writes it under the error prefix as Lambda.FunctionError; every id
// ends somewhere.
func TestMatrixTransformInvocationFaults(t *testing.T) {
	in := t.TempDir()
	writeInput(t, in, 6, 500)
	inj := chaos.New(3, 0.6).Only(chaos.InvokeError, chaos.InvokeTimeout)
	opts := streamsAs(shipped(t), false, 0.2) // several invocations
	opts.Inputs = []string{in}
	rep := conserved(t, inj, opts)
	if inj.Total() == 0 || rep.Failed == 0 {
		t.Fatalf("%d faults, %d failed ids: the batch retries were not exhausted", inj.Total(), rep.Failed)
	}
}

// The splitter interrupted mid-object: the next attempt resumes from the
// checkpoint, so only records after it are sent again.
func TestMatrixInterruptedMidObject(t *testing.T) {
	in := t.TempDir()
	const perObject = 20_000 // the splitter checkpoints every 5,000 records
	lines := writeInput(t, in, 2, perObject)
	inj := chaos.New(5, 0.5).Only(chaos.ReadInterrupted)
	opts := shipped(t)
	opts.Inputs = []string{in}
	conserved(t, inj, opts)
	n := count(inj, chaos.ReadInterrupted)
	if n == 0 {
		t.Fatal("no read was interrupted")
	}
	resent := 0
	for _, id := range inj.Ledger().IDs() {
		if inj.Ledger().Sends(id) > 1 {
			resent++
		}
	}
	// An interruption halfway resends at most what followed the last
	// checkpoint: never the whole object.
	if resent >= int(n)*perObject/2 || resent >= lines {
		t.Fatalf("%d interruptions resent %d records: not resumed from the checkpoint", n, resent)
	}
}

// A duplicate S3 event: the second delivery finds the object done and
// sends nothing.
func TestMatrixDuplicateEvent(t *testing.T) {
	in := t.TempDir()
	lines := writeInput(t, in, 1, 300)
	inj := chaos.New(1, 0)
	opts := shipped(t)
	fh := capture{}
	h, err := splitter.New(opts.Config, splitter.Files{}, splitter.NewFirehoseSink(inj.Firehose(fh), splitter.WithStreams(opts.Config.Streams)),
		splitter.WithDeadLetters(discard{}))
	if err != nil {
		t.Fatal(err)
	}
	o := splitter.Object{Bucket: in, Key: "webhooks/2024-05-01/batch-000.jsonl"}
	var route *config.Route
	for i := range opts.Config.Routes {
		if opts.Config.Routes[i].Key == "webhooks/**" {
			route = &opts.Config.Routes[i]
		}
	}
	for i, want := range []splitter.Status{splitter.StatusDone, splitter.StatusAlreadyDone} {
		res, err := h.Split(context.Background(), o, route)
		if err != nil || res.Status != want {
			t.Fatalf("delivery %d: %v %v, want %s", i+1, res.Status, err, want)
		}
	}
	ids := inj.Ledger().IDs()
	if len(ids) != lines-lines/50 { // one line in 50 is dead-lettered
		t.Fatalf("%d ids sent for %d lines", len(ids), lines)
	}
	for _, id := range ids {
		if n := inj.Ledger().Sends(id); n != 1 {
			t.Fatalf("%s sent %d times, want once", id, n)
		}
	}
}

// A poison record that always fails: exactly that record is dead-lettered
// (ProcessingFailed), every other is delivered, whether records travel one
// per Firehose record or packed (the failed part is re-ingested alone).
func TestMatrixPoisonRecord(t *testing.T) {
	in := t.TempDir()
	var b strings.Builder
	for i := range 20 {
		amount := fmt.Sprintf("%d.50", i)
		if i == 13 {
			amount = "12.345" // more decimals than the schema's amount keeps
		}
		fmt.Fprintf(&b, `{"id":"evt_%d","type":"payment.succeeded","created_at":"2024-05-01T10:00:00Z","amount":%q}`+"\n", i, amount)
	}
	p := filepath.Join(in, "webhooks", "poison.jsonl")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, pack := range []bool{false, true} {
		t.Run(fmt.Sprint("pack ", pack), func(t *testing.T) {
			opts := streamsAs(shipped(t), pack, 0)
			opts.Inputs = []string{in}
			inj := chaos.New(1, 0)
			rep := conserved(t, inj, opts)
			if rep.IDs != 20 || rep.Delivered != 19 || rep.Failed != 1 {
				t.Fatalf("%+v: want 19 delivered and 1 failed of 20", rep)
			}
			for _, id := range inj.Ledger().IDs() {
				ends := inj.Ledger().Ends(id)
				if poison := strings.HasSuffix(id, "-13"); poison != (ends.Failed == 1) || !poison && ends.Delivered != 1 {
					t.Fatalf("%s ended %+v", id, ends)
				}
			}
		})
	}
}

// streamsAs sets every stream's packing and (unless 0) processor buffer size.
func streamsAs(opts localrun.Options, pack bool, bufferMB float64) localrun.Options {
	cfg := *opts.Config
	cfg.Streams = map[string]config.Stream{}
	for name, s := range opts.Config.Streams {
		s.Pack = pack
		if bufferMB > 0 {
			s.BufferSizeMB = bufferMB
		}
		cfg.Streams[name] = s
	}
	opts.Config = &cfg
	return opts
}

// capture accepts every record.
type capture struct{}

func (capture) PutRecordBatch(_ context.Context, in *awsfirehose.PutRecordBatchInput, _ ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	return &awsfirehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}, nil
}

type discard struct{}

func (discard) WriteDeadLetters(context.Context, string, []byte) error { return nil }

// geocodeStub answers like the Google Geocoding API and counts calls.
func geocodeStub(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"OK","results":[{"geometry":{"location":{"lat":51.45,"lng":-2.59}}}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// lookupCalls counts the lookup requests the enricher sends (sent) and
// those the injector lets through to the API (passed).
type lookupCalls struct{ sent, passed atomic.Int64 }

type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// withGeocoder adds a geocoding enricher of listings (on_error as given)
// calling url, its cache and HTTP transport wrapped by inj; calls counts
// the requests on either side of inj.
func withGeocoder(t *testing.T, opts localrun.Options, inj *chaos.Injector, url, onError string, calls *lookupCalls) localrun.Options {
	t.Helper()
	t.Setenv("SLUICE_TEST_GEOCODE_KEY", "k")
	extra, err := config.Parse("enrich.yaml", []byte(fmt.Sprintf(`
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
    retries: 2
    timeout: 300ms
    on_error: %s
`, url, onError)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := *opts.Config
	cfg.Enrichers = extra.Enrichers
	opts.Config = &cfg
	client := &http.Client{Transport: countingTransport{&calls.sent, inj.Transport(countingTransport{&calls.passed, http.DefaultTransport})}}
	es, err := app.Enrichers(context.Background(), opts.Config, opts.Registry,
		enrich.WithCache(inj.Cache(enrich.NewMemoryCache(nil))), enrich.WithHTTPClient(client), enrich.WithMetrics(metrics.New(io.Discard)))
	if err != nil {
		t.Fatal(err)
	}
	opts.Enrichers = es
	return opts
}

// Lookup API 429 with Retry-After, 5xx and hangs, and a cache that fails or
// stalls: lookups are retried within the deadline, then on_error decides
// (pass: the record is delivered without the lookup's fields; fail: it is
// ProcessingFailed); no record is lost either way.
func TestMatrixLookupAndCacheFaults(t *testing.T) {
	// Whether any request gets past the faults depends on how many
	// attempts the deadline leaves (fault decisions follow the seed and
	// the attempt), so that is not asserted; what is: the enricher sends
	// lookups, and when the injector lets one through, it reaches the API.
	var sent, passed, reached int64
	defer func() {
		if t.Failed() {
			return
		}
		if sent == 0 {
			t.Fatalf("the enricher sent no lookup in either run")
		}
		if passed > 0 && reached == 0 {
			t.Fatalf("%d lookups got past the faults, none reached the API", passed)
		}
	}()
	for _, onError := range []string{"pass", "fail"} {
		t.Run("on_error "+onError, func(t *testing.T) {
			srv, calls := geocodeStub(t)
			inj := chaos.New(11, 0.4).Only(chaos.LookupRateLimited, chaos.LookupServerError, chaos.LookupHang, chaos.CacheUnavailable, chaos.CacheSlow)
			var lookups lookupCalls
			opts := withGeocoder(t, streamsAs(shipped(t), false, 0), inj, srv.URL, onError, &lookups)
			opts.Inputs = []string{"../../examples/input"}
			rep := conserved(t, inj, opts)
			sent, passed, reached = sent+lookups.sent.Load(), passed+lookups.passed.Load(), reached+calls.Load()
			if inj.Total() == 0 {
				t.Fatalf("no fault injected (%d calls reached the API)", calls.Load())
			}
			if onError == "pass" && rep.Failed != 0 {
				t.Fatalf("on_error pass: %d records failed: %+v", rep.Failed, rep)
			}
			t.Logf("faults %v; lookups sent %d, past the faults %d, reached %d; %+v", inj.Counts(), lookups.sent.Load(), lookups.passed.Load(), calls.Load(), rep)
		})
	}
}
