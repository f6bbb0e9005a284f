package splitter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter/splittertest"
)

// fakeS3 holds objects and dead letters; GetObject honours VersionId and
// IfMatch as S3 does.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]fakeObject // bucket/key
	puts    map[string][]byte     // bucket/key of PutObject calls
	nPuts   int
	getErr  error // returned by GetObject when set
	bodyErr error // the body fails with it after half the object
}

type fakeObject struct {
	data          []byte
	version, etag string
}

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string]fakeObject{}, puts: map[string][]byte{}}
}

func (f *fakeS3) add(bucket, key string, data []byte, version, etag string) Object {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[bucket+"/"+key] = fakeObject{data: data, version: version, etag: etag}
	return Object{Bucket: bucket, Key: key, Version: version, ETag: etag, Size: int64(len(data))}
}

func apiErr(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.getErr != nil {
		return nil, f.getErr
	}
	o, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	switch {
	case !ok:
		return nil, apiErr(404, "NoSuchKey")
	case in.VersionId != nil && *in.VersionId != o.version:
		return nil, apiErr(404, "NoSuchVersion")
	case in.IfMatch != nil && *in.IfMatch != `"`+o.etag+`"`:
		return nil, apiErr(412, "PreconditionFailed")
	}
	var body io.Reader = bytes.NewReader(o.data)
	if f.bodyErr != nil {
		body = io.MultiReader(bytes.NewReader(o.data[:len(o.data)/2]), errReader{f.bodyErr})
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(body), ContentLength: aws.Int64(int64(len(o.data)))}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = b
	f.nPuts++
	return &s3.PutObjectOutput{}, nil
}

// deadLetterLines returns every dead-letter line written, across parts.
func (f *fakeS3) deadLetterLines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.puts {
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// fakeFirehose records what PutRecordBatch accepted. throttleCalls makes
// the first calls fail whole with ServiceUnavailableException;
// failEntries makes every entry at an index divisible by it fail once.
type fakeFirehose struct {
	mu            sync.Mutex
	streams       map[string][][]byte
	calls         int
	throttleCalls int
	failEntries   int
	failed        map[string]bool // data already failed once
	failAfter     int             // accept this many records, then fail every call (0: never)
}

func newFakeFirehose() *fakeFirehose {
	return &fakeFirehose{streams: map[string][][]byte{}, failed: map[string]bool{}}
}

func (f *fakeFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(in.Records) > 500 {
		return nil, fmt.Errorf("batch of %d records", len(in.Records))
	}
	if f.calls <= f.throttleCalls {
		return nil, apiErr(400, "ServiceUnavailableException")
	}
	stream := aws.ToString(in.DeliveryStreamName)
	if f.failAfter > 0 && len(f.streams[stream])+len(in.Records) > f.failAfter {
		return nil, apiErr(500, "InternalFailure")
	}
	out := &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}
	for i, r := range in.Records {
		if f.failEntries > 0 && i%f.failEntries == 0 && !f.failed[string(r.Data)] {
			f.failed[string(r.Data)] = true
			*out.FailedPutCount++
			out.RequestResponses = append(out.RequestResponses, fhtypes.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException")})
			continue
		}
		// Like the SDK, keep nothing of the request after the call: the
		// producer reuses its buffer.
		f.streams[stream] = append(f.streams[stream], bytes.Clone(r.Data))
		out.RequestResponses = append(out.RequestResponses, fhtypes.PutRecordBatchResponseEntry{RecordId: aws.String("id")})
	}
	return out, nil
}

func (f *fakeFirehose) records(stream string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.streams[stream]...)
}

type fakeInvoker struct {
	payloads [][]byte
	function string
}

func (f *fakeInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.payloads = append(f.payloads, in.Payload)
	f.function = aws.ToString(in.FunctionName)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

// stepClock advances by step on every reading.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// rig is a Handler on fakes.
type rig struct {
	h       *Handler
	s3      *fakeS3
	fh      *fakeFirehose
	sink    *FirehoseSink
	inv     *fakeInvoker
	metrics *metrics.Set
	emf     *bytes.Buffer
	logs    *bytes.Buffer
	store   CheckpointStore
	cfg     *config.Config
}

const testYAML = `
streams:
  events: {}
  other: {}
routes:
  - bucket: "sluice-landing"
    key: "listings/**"
    format: lines
    schema: listing
    stream: events
  - key: "alb-logs/**"
    format: lines
    schema: page_view
    stream: other
  - key: "webhooks/**"
    format: lines
    schema: webhook_event
    stream: events
  - key: "forks/**"
    format: lines
    schema: listing
    to:
      - stream: events
        where: [{field: Line, match: "[02468]$"}]
      - stream: other
        schema: page_view
  - key: "**/*.txt"
    format: lines
    schema: listing
    stream: events
dead_letter:
  bucket: dead
  prefix: splitter-failed
`

func newRig(t *testing.T, store CheckpointStore, opts ...Option) *rig {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{s3: newFakeS3(), fh: newFakeFirehose(), inv: &fakeInvoker{}, logs: &bytes.Buffer{}, store: store, cfg: cfg}
	if r.store == nil {
		r.store = NewMemoryStore()
	}
	r.emf = &bytes.Buffer{}
	r.metrics = metrics.New(r.emf)
	r.sink = NewFirehoseSink(r.fh, WithSinkClock(instantClock{})) // no real waiting
	base := []Option{
		WithCheckpoints(r.store), WithFormats(splittertest.OpenFormat), WithMetrics(r.metrics),
		WithLogger(slog.New(slog.NewJSONHandler(r.logs, nil))), WithInvoker(r.inv, "splitter-fn"),
	}
	r.h, err = New(cfg, r.s3, r.sink, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// numbered returns n lines "line-<i>".
func numbered(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "line-%d\n", i)
	}
	return b.Bytes()
}

type (
	s3GetInput  = s3.GetObjectInput
	s3GetOutput = s3.GetObjectOutput
	s3Options   = s3.Options
)

// metric sums name over every EMF line flushed so far (and flushes what is
// pending), optionally only lines whose Reason dimension is reason.
func (r *rig) metric(name, reason string) float64 {
	if err := r.metrics.Flush(); err != nil {
		panic(err)
	}
	var sum float64
	for _, line := range strings.Split(r.emf.String(), "\n") {
		var doc map[string]any
		if json.Unmarshal([]byte(line), &doc) != nil {
			continue
		}
		if reason != "" && doc["Reason"] != reason {
			continue
		}
		if v, ok := doc[name].(float64); ok {
			sum += v
		}
	}
	return sum
}

// instantClock lets backoff waits end at once.
type instantClock struct{}

func (instantClock) Now() time.Time { return time.Now() }

func (instantClock) After(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c
}
