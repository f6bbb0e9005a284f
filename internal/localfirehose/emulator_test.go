package localfirehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/firehose"
)

var t0 = time.Date(2024, 11, 22, 10, 10, 0, 0, time.UTC)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func counterIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }
}

// harness is an emulator on a fake clock with a recording processor.
type harness struct {
	e      *Emulator
	clock  *fakeClock
	out    *Memory
	events []events.KinesisFirehoseEvent
}

func newHarness(t *testing.T, yaml string, respond func(ev events.KinesisFirehoseEvent) (firehose.Response, error), opts ...Option) *harness {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{clock: &fakeClock{t: t0}, out: &Memory{}}
	proc := func(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		h.events = append(h.events, ev)
		return respond(ev)
	}
	opts = append([]Option{WithClock(h.clock.now), WithIDs(counterIDs())}, opts...)
	h.e, err = New(cfg, proc, h.out, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// okNewline answers Ok with each record's data and a newline, the way the
// transform emits newline-delimited documents.
func okNewline(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
	var r firehose.Response
	for _, rec := range ev.Records {
		r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Ok, Data: append(append([]byte{}, rec.Data...), '\n')})
	}
	return r, nil
}

const oneStream = "streams:\n  listings: {}\n"

func (h *harness) put(t *testing.T, stream string, data ...string) *awsfirehose.PutRecordBatchOutput {
	t.Helper()
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
	for _, d := range data {
		in.Records = append(in.Records, types.Record{Data: []byte(d)})
	}
	out, err := h.e.PutRecordBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("PutRecordBatch: %v", err)
	}
	return out
}

func TestBufferFlushesBySize(t *testing.T) {
	h := newHarness(t, "streams:\n  listings: {buffer_size_mb: 0.2}\n", okNewline)
	rec := strings.Repeat("x", 100_000)
	h.put(t, "listings", rec, rec)
	if len(h.events) != 0 {
		t.Fatalf("200,000 bytes of a 209,715-byte buffer were processed early")
	}
	h.put(t, "listings", rec, "y")
	if len(h.events) != 1 || len(h.events[0].Records) != 3 {
		t.Fatalf("want one invocation of 3 records when the buffer filled, got %d", len(h.events))
	}
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.events) != 2 || len(h.events[1].Records) != 1 || string(h.events[1].Records[0].Data) != "y" {
		t.Fatalf("the rest was not flushed at Close: %d invocations", len(h.events))
	}
}

func TestBufferFlushesByInterval(t *testing.T) {
	h := newHarness(t, "streams:\n  listings: {buffer_interval: 60s}\n  webhooks: {}\n", okNewline)
	ctx := context.Background()
	h.put(t, "listings", "a")
	h.clock.advance(59 * time.Second)
	h.put(t, "listings", "b")
	if err := h.e.Poll(ctx); err != nil || len(h.events) != 0 {
		t.Fatalf("processed before the interval: %v, %d", err, len(h.events))
	}
	h.clock.advance(time.Second)
	// A put on another stream is enough for Firehose's clock to run.
	h.put(t, "webhooks", "c")
	if len(h.events) != 1 || len(h.events[0].Records) != 2 {
		t.Fatalf("want the listings buffer processed at 60s, got %d invocations", len(h.events))
	}
	h.clock.advance(60 * time.Second)
	if err := h.e.Poll(ctx); err != nil || len(h.events) != 2 {
		t.Fatalf("Poll did not process the expired webhooks buffer: %v, %d", err, len(h.events))
	}
}

func TestCloseFlushesAndRefusesMore(t *testing.T) {
	h := newHarness(t, oneStream, okNewline)
	h.put(t, "listings", "a")
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.e.Stats().Streams["listings"].Ok; got != 1 {
		t.Fatalf("Ok = %d after Close", got)
	}
	_, err := h.e.PutRecordBatch(context.Background(), &awsfirehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("listings"), Records: []types.Record{{Data: []byte("late")}}})
	if err == nil {
		t.Fatal("PutRecordBatch after Close succeeded")
	}
}

func TestEventShape(t *testing.T) {
	h := newHarness(t, oneStream, okNewline, WithAccount("eu-west-1", "111122223333"))
	h.put(t, "listings", "a", "")
	h.clock.advance(time.Second)
	h.put(t, "listings", "b")
	h.e.Close(context.Background())
	ev := h.events[0]
	if ev.InvocationID != "00000000-0000-4000-8000-000000000001" ||
		ev.DeliveryStreamArn != "arn:aws:firehose:eu-west-1:111122223333:deliverystream/listings" || ev.Region != "eu-west-1" {
		t.Fatalf("event header: %+v", ev)
	}
	ids := map[string]bool{}
	for _, r := range ev.Records {
		if len(r.RecordID) != 56 || ids[r.RecordID] {
			t.Fatalf("record id %q is not a unique Firehose-like id", r.RecordID)
		}
		ids[r.RecordID] = true
	}
	if got := ev.Records[2].ApproximateArrivalTimestamp.UnixMilli(); got != t0.Add(time.Second).UnixMilli() {
		t.Fatalf("arrival %d", got)
	}
	// The JSON the handler would receive from Firehose: base64 data, ms times.
	b, _ := json.Marshal(ev)
	for _, want := range []string{`"invocationId":`, `"approximateArrivalTimestamp":1732270200000`, `"data":"YQ=="`, `"data":""`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("event JSON lacks %s: %s", want, b)
		}
	}
}

func TestDefaultLayoutAndObjectNames(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		r.Records[1].Result = firehose.ProcessingFailed
		r.Records[2].Result = firehose.Dropped
		return r, nil
	})
	h.put(t, "listings", `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`)
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// The error object is written with its batch; the Ok records wait
		// in the destination buffer until Close, so their name is drawn
		// after it.
		"2024/11/22/10/listings-1-2024-11-22-10-10-00-00000000-0000-4000-8000-000000000003",
		"processing-failed/2024/11/22/10/listings-1-2024-11-22-10-10-00-00000000-0000-4000-8000-000000000002",
	}
	if got := h.out.Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys\n got %q\nwant %q", got, want)
	}
	// Firehose concatenates with no delimiter; the transform's documents
	// end in \n, so the object is newline-delimited.
	if got := string(h.out.Objects[want[0]]); got != "{\"n\":1}\n{\"n\":4}\n" {
		t.Fatalf("object body %q", got)
	}
	st := h.e.Stats().Streams["listings"]
	if st.RecordsIn != 4 || st.Ok != 2 || st.Dropped != 1 || st.Failed != 1 || st.Files != 1 || st.ErrorFiles != 1 ||
		st.BytesOut != 16 || st.FailedByCode[CodeProcessingFailed] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if st.RecordsIn != st.Ok+st.Dropped+st.Failed {
		t.Fatal("records were lost")
	}
	if st.Undelimited != 0 {
		t.Fatalf("newline-terminated documents counted as undelimited: %d", st.Undelimited)
	}
}

func TestConcatenatesWithoutDelimiter(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		var r firehose.Response
		for _, rec := range ev.Records {
			r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Ok, Data: rec.Data})
		}
		return r, nil
	})
	h.put(t, "listings", "a", "b", "c\n")
	h.e.Close(context.Background())
	for _, body := range h.out.Objects {
		if string(body) != "abc\n" {
			t.Fatalf("body %q, want the records back to back", body)
		}
	}
	if st := h.e.Stats().Streams["listings"]; st.Undelimited != 2 {
		t.Fatalf("Undelimited = %d, want 2", st.Undelimited)
	}
}

func TestErrorRecordIsFirehoseShaped(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		return firehose.Response{Records: []firehose.ResponseRecord{
			{RecordID: ev.Records[0].RecordID, Result: firehose.ProcessingFailed, Data: []byte{}},
		}}, nil
	})
	h.put(t, "listings", "bad,row")
	h.clock.advance(2500 * time.Millisecond)
	h.e.Close(context.Background())
	var body []byte
	for _, b := range h.out.Objects {
		body = b
	}
	want := `{"attemptsMade":1,"arrivalTimestamp":1732270200000,"errorCode":"Lambda.ProcessingFailedStatus",` +
		`"errorMessage":"ProcessingFailed status set for record","attemptEndingTimestamp":1732270202500,` +
		`"rawData":"YmFkLHJvdw==","lambdaArn":"arn:aws:lambda:us-east-1:123456789012:function:sluice-transform:$LATEST"}` + "\n"
	if string(body) != want {
		t.Fatalf("error record\n got %s\nwant %s", body, want)
	}
}

func TestMissingRecordIDFailsThatRecord(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		r.Records = r.Records[1:] // forget the first
		return r, nil
	})
	h.put(t, "listings", "a", "b")
	h.e.Close(context.Background())
	st := h.e.Stats().Streams["listings"]
	if st.Ok != 1 || st.FailedByCode[CodeMissingRecordID] != 1 || st.Invocations != 1 {
		t.Fatalf("stats %+v", st)
	}
	recs := errorRecords(t, h.out)
	if len(recs) != 1 || string(recs[0].RawData) != "a" || recs[0].ErrorMessage != msgMissingRecordID {
		t.Fatalf("error records %+v", recs)
	}
}

func TestDuplicatedRecordIDFailsTheBatch(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		r.Records[1].RecordID = r.Records[0].RecordID
		return r, nil
	})
	h.put(t, "listings", "a", "b")
	h.e.Close(context.Background())
	st := h.e.Stats().Streams["listings"]
	if st.Ok != 0 || st.FailedByCode[CodeDuplicatedID] != 2 || st.Invocations != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInvalidResponsesAreFunctionErrors(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(*firehose.Response)
	}{
		{"unknown result", func(r *firehose.Response) { r.Records[0].Result = "OK" }},
		{"null data", func(r *firehose.Response) { r.Records[0].Data = nil }},
		{"empty record id", func(r *firehose.Response) { r.Records[0].RecordID = "" }},
		{"response over 6,000,000 bytes", func(r *firehose.Response) {
			r.Records[0].Data = bytes.Repeat([]byte("z"), 4_500_001) // 6,000,004 bytes of base64
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
				r, _ := okNewline(ev)
				tt.mangle(&r)
				return r, nil
			})
			h.put(t, "listings", "a", "b")
			h.e.Close(context.Background())
			st := h.e.Stats().Streams["listings"]
			if st.Invocations != 4 || st.FailedByCode[CodeFunctionError] != 2 || st.Ok != 0 {
				t.Fatalf("stats %+v", st)
			}
			for _, rec := range errorRecords(t, h.out) {
				if rec.AttemptsMade != 4 {
					t.Fatalf("attemptsMade %d, want 4", rec.AttemptsMade)
				}
			}
		})
	}
}

func TestResponseJustUnderTheCapIsAccepted(t *testing.T) {
	h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		r.Records[0].Data = bytes.Repeat([]byte("z"), 4_499_000)
		return r, nil
	})
	h.put(t, "listings", "a")
	h.e.Close(context.Background())
	if st := h.e.Stats().Streams["listings"]; st.Ok != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProcessorErrorsAreRetried(t *testing.T) {
	t.Run("then succeeds", func(t *testing.T) {
		calls := 0
		h := newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
			calls++
			if calls < 3 {
				return firehose.Response{}, errors.New("redis down")
			}
			return okNewline(ev)
		})
		h.put(t, "listings", "a")
		h.e.Close(context.Background())
		st := h.e.Stats().Streams["listings"]
		if st.Ok != 1 || st.Invocations != 3 || st.FailedInvocations != 2 {
			t.Fatalf("stats %+v", st)
		}
		if h.events[0].InvocationID == h.events[1].InvocationID || h.events[0].Records[0].RecordID != h.events[1].Records[0].RecordID {
			t.Fatal("a retry must carry a fresh invocation id and the same record ids")
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		h := newHarness(t, oneStream, func(events.KinesisFirehoseEvent) (firehose.Response, error) {
			panic("boom")
		}, WithRetries(1))
		h.put(t, "listings", "a", "b")
		h.e.Close(context.Background())
		st := h.e.Stats().Streams["listings"]
		if st.Invocations != 2 || st.FailedInvocations != 2 || st.FailedByCode[CodeFunctionError] != 2 {
			t.Fatalf("stats %+v", st)
		}
		recs := errorRecords(t, h.out)
		if len(recs) != 2 || recs[0].AttemptsMade != 2 || recs[0].ErrorMessage != msgFunctionError {
			t.Fatalf("error records %+v", recs)
		}
	})
}

func TestCustomPrefixes(t *testing.T) {
	yaml := `streams:
  listings:
    prefix: "data/dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH'h'mm}/city=!{partitionKeyFromLambda:city}/"
    error_prefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
`
	h := newHarness(t, yaml, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		for i := range r.Records {
			city := string(ev.Records[i].Data)
			if city != "none" {
				r.Records[i].Metadata = &firehose.Metadata{PartitionKeys: map[string]string{"city": city}}
			}
		}
		return r, nil
	})
	h.clock.advance(5*time.Minute + 7*time.Second)
	h.put(t, "listings", "paris", "berlin", "paris", "none")
	h.e.Close(context.Background())
	want := []string{
		"data/dt=2024-11-22/h=10h15/city=berlin/listings-1-2024-11-22-10-15-07-00000000-0000-4000-8000-000000000002",
		"data/dt=2024-11-22/h=10h15/city=paris/listings-1-2024-11-22-10-15-07-00000000-0000-4000-8000-000000000003",
		"errors/processing-failed/2024/11/22/listings-1-2024-11-22-10-15-07-00000000-0000-4000-8000-000000000004",
	}
	if got := h.out.Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys\n got %q\nwant %q", got, want)
	}
	if got := string(h.out.Objects[want[1]]); got != "paris\nparis\n" {
		t.Fatalf("paris object %q", got)
	}
	recs := errorRecords(t, h.out)
	if len(recs) != 1 || recs[0].ErrorCode != CodeMissingPartitionKey || string(recs[0].RawData) != "none" {
		t.Fatalf("error records %+v", recs)
	}
}

func TestStaticPrefixes(t *testing.T) {
	tests := []struct {
		prefix, errorPrefix string
		wantOK, wantErr     string
	}{
		{"", "", "2024/11/22/10/", "processing-failed/2024/11/22/10/"},
		{"listings/", "", "listings/2024/11/22/10/", "listings/processing-failed/2024/11/22/10/"},
		{"listings/", "failed/", "listings/2024/11/22/10/", "failed/processing-failed/2024/11/22/10/"},
		{"x/!{timestamp:yyyy}/", "e/!{firehose:error-output-type}/", "x/2024/", "e/processing-failed/"},
	}
	for _, tt := range tests {
		ok, failed, _, err := streamPrefixes(tt.prefix, tt.errorPrefix)
		if err != nil {
			t.Fatalf("%q %q: %v", tt.prefix, tt.errorPrefix, err)
		}
		gotOK, _ := ok.eval(t0, nil, nil)
		gotErr, _ := failed.eval(t0, nil, nil)
		if gotOK != tt.wantOK || gotErr != tt.wantErr {
			t.Errorf("%q %q: got %q %q, want %q %q", tt.prefix, tt.errorPrefix, gotOK, gotErr, tt.wantOK, tt.wantErr)
		}
	}
}

func TestPrefixErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		stream, key, problem string
	}{
		{`{prefix: "a/!{timestamp:yyyy}/"}`, "streams.s.error_prefix", "is required"},
		{`{prefix: "a/!{timestamp:yyyy}/", error_prefix: "e/!{timestamp:yyyy}/"}`, "streams.s.error_prefix", "error-output-type"},
		{`{prefix: "a/!{firehose:error-output-type}/", error_prefix: "e/"}`, "streams.s.prefix", "only in error_prefix"},
		{`{prefix: "a/!{timestamp:yyyy"}`, "streams.s.prefix", "unclosed"},
		{`{prefix: "a/!{timestamp:EEE}/", error_prefix: "e/!{firehose:error-output-type}"}`, "streams.s.prefix", "not supported"},
		{`{prefix: "a/!{partitionKeyFromQuery:k}/", error_prefix: "e/!{firehose:error-output-type}"}`, "streams.s.prefix", "partitionKeyFromLambda"},
		{`{prefix: "a/!{nope:k}/"}`, "streams.s.prefix", "unknown namespace"},
		{`{prefix: "a/!{k}/"}`, "streams.s.prefix", "namespace and a value"},
		{`{prefix: "a/!{firehose:x}/"}`, "streams.s.prefix", "random-string"},
		{`{error_prefix: "e/!{firehose:error-output-type}/!{partitionKeyFromLambda:k}"}`, "streams.s.error_prefix", "may not appear"},
	}
	for _, tt := range tests {
		cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  s: "+tt.stream+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(cfg, nil, &Memory{})
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Key != tt.key || !strings.Contains(ce.Problem, tt.problem) || ce.Path != "sluice.yaml" {
			t.Errorf("%s: got %v, want %s: ...%s...", tt.stream, err, tt.key, tt.problem)
		}
	}
}

func TestTimePatterns(t *testing.T) {
	at := time.Date(2007, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := map[string]string{
		"yyyy/MM/dd/HH":      "2007/03/04/05",
		"yyyy'-'MM'-'dd":     "2007-03-04",
		"yy.MM.dd HH:mm:ss":  "07.03.04 05:06:07",
		"'year='yyyy":        "year=2007",
		"'it''s' HH":         "it's 05",
		"''yyyy''":           "'2007'",
		"uuuu-MM-dd'T'HH:mm": "2007-03-04T05:06",
	}
	for pattern, want := range tests {
		toks, err := parseTimePattern(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		var b strings.Builder
		formatTime(&b, at, toks)
		if b.String() != want {
			t.Errorf("%s = %q, want %q", pattern, b.String(), want)
		}
	}
	for _, bad := range []string{"yyy", "D", "'open", "hh"} {
		if _, err := parseTimePattern(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestPutRecordBatchLimits(t *testing.T) {
	h := newHarness(t, oneStream, okNewline)
	put := func(stream string, sizes ...int) error {
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
		for _, n := range sizes {
			in.Records = append(in.Records, types.Record{Data: make([]byte, n)})
		}
		_, err := h.e.PutRecordBatch(context.Background(), in)
		return err
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	n := func(count, size int) []int {
		out := make([]int, count)
		for i := range out {
			out[i] = size
		}
		return out
	}
	if err := put("listings", n(500, 10)...); err != nil {
		t.Fatalf("500 records: %v", err)
	}
	if err := put("listings", MaxRecordBytes, 1000, 1000, 1000); err != nil {
		t.Fatalf("a 1,024,000-byte record: %v", err)
	}
	if err := put("listings", 1_000_000, 1_000_000, 1_000_000, 1_000_000, 194_304); err != nil {
		t.Fatalf("exactly 4 MiB: %v", err)
	}
	tests := []struct {
		name   string
		stream string
		sizes  []int
		code   string
		text   string
	}{
		{"501 records", "listings", n(501, 1), "ValidationException", "less than or equal to 500"},
		{"no records", "listings", nil, "ValidationException", "greater than or equal to 1"},
		{"record over 1,000 KiB", "listings", []int{1, MaxRecordBytes + 1}, "ValidationException", "'records.2.member.data'"},
		{"over 4 MiB", "listings", []int{MaxRecordBytes, MaxRecordBytes, MaxRecordBytes, MaxRecordBytes, 98_305}, "InvalidArgumentException", "Records size exceeds 4 MB limit"},
		{"unknown stream", "nope", []int{1}, "ResourceNotFoundException", "Firehose nope under account 123456789012 not found."},
	}
	for _, tt := range tests {
		err := put(tt.stream, tt.sizes...)
		if code(err) != tt.code || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got %v, want %s ...%s...", tt.name, err, tt.code, tt.text)
		}
	}
	out := h.put(t, "listings", "a", "b")
	if *out.FailedPutCount != 0 || len(out.RequestResponses) != 2 || out.RequestResponses[0].RecordId == nil || out.RequestResponses[0].ErrorCode != nil {
		t.Fatalf("output %+v", out)
	}
}

func TestCallerMayReuseItsBuffers(t *testing.T) {
	h := newHarness(t, oneStream, okNewline)
	data := []byte("first")
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("listings"), Records: []types.Record{{Data: data}}}
	if _, err := h.e.PutRecordBatch(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXX")
	h.e.Close(context.Background())
	for _, body := range h.out.Objects {
		if string(body) != "first\n" {
			t.Fatalf("body %q", body)
		}
	}
}

func TestRequestStaysUnderTheInvocationCap(t *testing.T) {
	h := newHarness(t, "streams:\n  listings: {buffer_size_mb: 3}\n", okNewline)
	big := strings.Repeat("q", MaxRecordBytes)
	// 4 records of 1,000 KiB stay under the 3 MiB hint until the 4th, but
	// their base64 would pass 6,000,000 bytes: Firehose sends them in two.
	h.put(t, "listings", big, big, big)
	h.put(t, "listings", big)
	h.e.Close(context.Background())
	for _, ev := range h.events {
		b, _ := json.Marshal(ev)
		if len(b) > MaxInvocationBytes {
			t.Fatalf("request of %d bytes", len(b))
		}
	}
	if st := h.e.Stats().Streams["listings"]; st.Ok != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDirWriter(t *testing.T) {
	root := t.TempDir()
	d := Dir(root)
	ctx := context.Background()
	if err := d.WriteObject(ctx, "2024/11/22/10/s-1-x", []byte("doc\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "2024", "11", "22", "10", "s-1-x"))
	if err != nil || string(b) != "doc\n" {
		t.Fatalf("%q %v", b, err)
	}
	for _, bad := range []string{"", "/etc/x", "a/../../x", "..", "a/../b", "dir/"} {
		if err := d.WriteObject(ctx, bad, nil); err == nil {
			t.Errorf("key %q was written", bad)
		}
	}
}

func errorRecords(t *testing.T, m *Memory) []*deadletter.Record {
	t.Helper()
	var out []*deadletter.Record
	for _, k := range m.Keys() {
		if !strings.Contains(k, "processing-failed/") {
			continue
		}
		r := deadletter.NewReader(bytes.NewReader(m.Objects[k]))
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			out = append(out, rec)
		}
	}
	return out
}

// The transform re-ingests overflow into its own stream from inside the
// invocation; the emulator must neither deadlock nor lose those records,
// even during Close.
func TestTransformMayPutIntoItsOwnStream(t *testing.T) {
	var h *harness
	h = newHarness(t, oneStream, func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		var r firehose.Response
		for _, rec := range ev.Records {
			if string(rec.Data) == "big" {
				if _, err := h.e.PutRecordBatch(context.Background(), &awsfirehose.PutRecordBatchInput{
					DeliveryStreamName: aws.String("listings"),
					Records:            []types.Record{{Data: []byte("part1")}, {Data: []byte("part2")}},
				}); err != nil {
					return r, err
				}
				r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Dropped, Data: []byte{}})
				continue
			}
			r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Ok, Data: append(rec.Data, '\n')})
		}
		return r, nil
	})
	h.put(t, "listings", "small", "big")
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := h.e.Stats().Streams["listings"]
	if st.RecordsIn != 4 || st.Ok != 3 || st.Dropped != 1 || len(h.events) != 2 {
		t.Fatalf("stats %+v after %d invocations", st, len(h.events))
	}
}

func TestConcurrentProducers(t *testing.T) {
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2}\n  b: {buffer_size_mb: 0.2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	proc := func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		return okNewline(ev)
	}
	out := &Memory{}
	e, err := New(cfg, proc, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			stream := []string{"a", "b"}[g%2]
			for range 50 {
				in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
				for range 10 {
					in.Records = append(in.Records, types.Record{Data: bytes.Repeat([]byte("d"), 1000)})
				}
				if _, err := e.PutRecordBatch(ctx, in); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	total := e.Stats().Total()
	var delivered int
	for _, body := range out.Objects {
		delivered += bytes.Count(body, []byte("\n"))
	}
	if total.RecordsIn != 2000 || total.Ok != 2000 || delivered != 2000 {
		t.Fatalf("in %d, Ok %d, delivered %d", total.RecordsIn, total.Ok, delivered)
	}
}

// A put that cuts a batch before its record goes in (the request would
// pass the invocation cap) releases the stream while the batch is
// processed; records the transform puts back meanwhile must not share a
// record id with the ones that follow, or Firehose's duplicate check
// fails the whole next batch.
func TestRecordIDsStayUniqueWhenTheTransformPutsBack(t *testing.T) {
	var h *harness
	putBack := true
	h = newHarness(t, "streams:\n  listings: {buffer_size_mb: 3}\n", func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		if putBack {
			putBack = false
			if _, err := h.e.PutRecordBatch(context.Background(), &awsfirehose.PutRecordBatchInput{
				DeliveryStreamName: aws.String("listings"),
				Records:            []types.Record{{Data: []byte("back")}},
			}); err != nil {
				return firehose.Response{}, err
			}
		}
		return okNewline(ev)
	})
	// Records of 100 bytes: 6,000,000 bytes of request come before the
	// 3 MiB buffer is full, in the middle of a call.
	rec := strings.Repeat("r", 100)
	recs := make([]string, MaxBatchRecords)
	for i := range recs {
		recs[i] = rec
	}
	for range 40 {
		h.put(t, "listings", recs...)
	}
	if err := h.e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range h.events {
		for _, r := range ev.Records {
			if seen[r.RecordID] {
				t.Fatalf("record id %s sent twice", r.RecordID)
			}
			seen[r.RecordID] = true
		}
	}
	st := h.e.Stats().Streams["listings"]
	if st.RecordsIn != 40*MaxBatchRecords+1 || st.Ok != st.RecordsIn || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}
