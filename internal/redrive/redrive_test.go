package redrive

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localfirehose"
)

const fixtures = "../../testdata/deadletter"

func line(t testing.TB, r deadletter.Record) string {
	t.Helper()
	b, err := deadletter.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

func collect(t *testing.T, src *Source) ([]Item, []BadLine) {
	t.Helper()
	var items []Item
	var bad []BadLine
	src.OnBadLine = func(b BadLine) { bad = append(bad, b) }
	if err := src.Each(context.Background(), func(it Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	return items, bad
}

func TestSourceReadsAFolderRecursively(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, body []byte) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("2024/11/22/10/s-1-a", []byte(line(t, deadletter.Record{RawData: []byte("one")})+"garbage\n"))
	write("2024/11/22/11/s-1-b.gz", gz(line(t, deadletter.Record{RawData: []byte("two")})))
	write("parked/2024/11/22/10/redrive-x", []byte(line(t, deadletter.Record{RawData: []byte("parked")})))
	write("2024/11/22/11/.partial-123", []byte("half"))
	src := &Source{Location: root, Skip: func(p string) bool { return filepath.Base(p) == "parked" }}
	items, bad := collect(t, src)
	var got []string
	for _, it := range items {
		got = append(got, string(it.Record.RawData))
	}
	if !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Fatalf("records %q", got)
	}
	if len(bad) != 1 || bad[0].Line != 2 || !strings.HasSuffix(bad[0].Object, "s-1-a") {
		t.Fatalf("bad lines %+v", bad)
	}
	if items[1].Line != 1 || !strings.HasSuffix(items[1].Object, "s-1-b.gz") {
		t.Fatalf("item %+v", items[1])
	}
}

func TestSourceReadsTheFixtures(t *testing.T) {
	items, bad := collect(t, &Source{Location: fixtures})
	// 2 + 2 (gzip) + 2 + 1 + 2 + 2 good records, 5 bad lines.
	if len(items) != 11 || len(bad) != 5 {
		t.Fatalf("%d records, %d bad lines", len(items), len(bad))
	}
}

// fakeS3 serves objects from memory, two keys per page.
type fakeS3 struct {
	objects map[string][]byte // "bucket/key"
	lists   int
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.lists++
	var keys []string
	for k := range f.objects {
		b, key, _ := strings.Cut(k, "/")
		if b == *in.Bucket && strings.HasPrefix(key, aws.ToString(in.Prefix)) && key > aws.ToString(in.ContinuationToken) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for i, k := range keys {
		if i == 2 {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = aws.String(keys[1])
			break
		}
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := f.objects[*in.Bucket+"/"+*in.Key]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

func TestSourceReadsAnS3Prefix(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{
		"dl/processing-failed/2024/11/22/10/a": []byte(line(t, deadletter.Record{RawData: []byte("a")})),
		"dl/processing-failed/2024/11/22/10/b": gz(line(t, deadletter.Record{RawData: []byte("b")})),
		"dl/processing-failed/2024/11/22/11/":  nil,
		"dl/processing-failed/2024/11/22/11/c": []byte(line(t, deadletter.Record{RawData: []byte("c")}) + line(t, deadletter.Record{RawData: []byte("d")})),
		"dl/other/x":                           []byte(line(t, deadletter.Record{RawData: []byte("x")})),
	}}
	items, _ := collect(t, &Source{Location: "s3://dl/processing-failed/", S3: f})
	var got []string
	for _, it := range items {
		got = append(got, string(it.Record.RawData)+"@"+it.Object)
	}
	want := []string{"a@s3://dl/processing-failed/2024/11/22/10/a", "b@s3://dl/processing-failed/2024/11/22/10/b",
		"c@s3://dl/processing-failed/2024/11/22/11/c", "d@s3://dl/processing-failed/2024/11/22/11/c"}
	if !reflect.DeepEqual(got, want) || f.lists != 2 {
		t.Fatalf("got %q after %d lists", got, f.lists)
	}
}

func TestSplitS3(t *testing.T) {
	if b, p, err := SplitS3("s3://bucket/a/b/"); err != nil || b != "bucket" || p != "a/b/" {
		t.Fatalf("%q %q %v", b, p, err)
	}
	for _, bad := range []string{"s3://", "s3:///x", "/tmp/x"} {
		if _, _, err := SplitS3(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExplain(t *testing.T) {
	dir := t.TempDir()
	body := line(t, deadletter.Record{AttemptsMade: 1, ArrivalTimestamp: 1732270200123, ErrorCode: "Lambda.ProcessingFailedStatus", RawData: []byte(`{"price":"x"}`)}) +
		line(t, deadletter.Record{AttemptsMade: 4, ArrivalTimestamp: 1732270201000, ErrorCode: "Lambda.FunctionError", RawData: []byte(`{"price":"1"}`)}) +
		line(t, deadletter.Record{ArrivalTimestamp: 1732270200000, ErrorCode: "Splitter.Parse", RawData: []byte(`a,"b`), Reason: "unterminated quote",
			Source: &envelope.Source{Bucket: "in", Key: "listings/b.csv", Line: 4}})
	os.WriteFile(filepath.Join(dir, "obj"), []byte(body), 0o644)
	var streams []string
	explain := func(_ context.Context, data []byte, stream string) Verdict {
		streams = append(streams, stream)
		if bytes.Contains(data, []byte(`"x"`)) {
			return Verdict{Result: firehose.ProcessingFailed, Reason: "price: \"x\" is not a decimal", Field: "price", Value: "x", HasValue: true,
				Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: 7}}
		}
		return Verdict{Result: firehose.Ok}
	}
	var out bytes.Buffer
	st, err := Explain(context.Background(), &Source{Location: dir}, Stream("listings"), explain, &out)
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "obj")
	want := fmt.Sprintf(`{"object":%q,"line":1,"arrivalTimestamp":1732270200123,"arrival":"2024-11-22T10:10:00.123Z","attemptsMade":1,"errorCode":"Lambda.ProcessingFailedStatus","stream":"listings","result":"ProcessingFailed","reason":"price: \"x\" is not a decimal","sourceObject":"in/listings/a.csv","sourceLine":7,"field":"price","value":"x"}
{"object":%q,"line":2,"arrivalTimestamp":1732270201000,"arrival":"2024-11-22T10:10:01.000Z","attemptsMade":4,"errorCode":"Lambda.FunctionError","stream":"listings","result":"Ok"}
{"object":%q,"line":3,"arrivalTimestamp":1732270200000,"arrival":"2024-11-22T10:10:00.000Z","attemptsMade":0,"errorCode":"Splitter.Parse","result":"SplitterDeadLetter","reason":"unterminated quote","sourceObject":"in/listings/b.csv","sourceLine":4,"value":"a,\"b"}
`, obj, obj, obj)
	if out.String() != want {
		t.Fatalf("explain output\n got %s\nwant %s", out.String(), want)
	}
	if st.Records != 3 || st.ByResult[firehose.Ok] != 1 || st.ByResult[firehose.ProcessingFailed] != 1 || st.ByResult[ResultSplitter] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !reflect.DeepEqual(streams, []string{"listings", "listings"}) {
		t.Fatalf("the splitter's dead letter was re-run, or the stream was lost: %v", streams)
	}
}

// A packed record's documents are explained one by one.
func TestExplainPackedRecord(t *testing.T) {
	dir := t.TempDir()
	packed := []byte(`{"price":"1"}` + "\n" + `{"price":"x"}` + "\n\n")
	os.WriteFile(filepath.Join(dir, "obj"), []byte(line(t, deadletter.Record{AttemptsMade: 1, ErrorCode: "Lambda.ProcessingFailedStatus", RawData: packed})), 0o644)
	var seen []string
	explain := func(_ context.Context, data []byte, _ string) Verdict {
		seen = append(seen, string(data))
		if bytes.Contains(data, []byte(`"x"`)) {
			return Verdict{Result: firehose.ProcessingFailed, Reason: "price: not a number"}
		}
		return Verdict{Result: firehose.Ok}
	}
	var out bytes.Buffer
	st, err := Explain(context.Background(), &Source{Location: dir}, Stream("listings"), explain, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, []string{`{"price":"1"}`, `{"price":"x"}`}) || st.Records != 2 || st.ByResult[firehose.ProcessingFailed] != 1 {
		t.Fatalf("parts %q, stats %+v\n%s", seen, st, out.String())
	}
}

func TestProcessorExplainer(t *testing.T) {
	var got events.KinesisFirehoseEvent
	proc := func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		got = ev
		switch string(ev.Records[0].Data) {
		case "fail":
			return firehose.Response{}, errors.New("redis: connection refused")
		case "forget":
			return firehose.Response{}, nil
		}
		return firehose.Response{Records: []firehose.ResponseRecord{{RecordID: ev.Records[0].RecordID, Result: firehose.Dropped, Data: []byte{}}}}, nil
	}
	x := ProcessorExplainer(proc, "eu-west-1", "111122223333")
	ctx := context.Background()
	if v := x(ctx, []byte("ok"), "page_views"); v.Result != firehose.Dropped ||
		got.DeliveryStreamArn != "arn:aws:firehose:eu-west-1:111122223333:deliverystream/page_views" {
		t.Fatalf("result %+v, event %+v", v, got)
	}
	if v := x(ctx, []byte("fail"), "s"); v.Result != ResultError || !strings.Contains(v.Reason, "connection refused") {
		t.Fatalf("%+v", v)
	}
	if v := x(ctx, []byte("forget"), "s"); v.Result != ResultError || v.Reason == "" {
		t.Fatalf("%+v", v)
	}
}

// fakeStream accepts records, refusing some entries on the first tries.
type fakeStream struct {
	calls    []int // records per call
	refuse   func(call, i int, data []byte) bool
	err      error
	accepted [][]byte
}

func (f *fakeStream) PutRecordBatch(_ context.Context, in *awsfirehose.PutRecordBatchInput, _ ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	call := len(f.calls)
	f.calls = append(f.calls, len(in.Records))
	if f.err != nil {
		return nil, f.err
	}
	out := &awsfirehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}
	for i, r := range in.Records {
		e := types.PutRecordBatchResponseEntry{RecordId: aws.String(fmt.Sprint(i))}
		if f.refuse != nil && f.refuse(call, i, r.Data) {
			e = types.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException"), ErrorMessage: aws.String("Slow down.")}
			*out.FailedPutCount++
		} else {
			f.accepted = append(f.accepted, r.Data)
		}
		out.RequestResponses = append(out.RequestResponses, e)
	}
	return out, nil
}

// noWait is a clock whose waits end at once.
type noWaitClock struct{}

func (noWaitClock) Now() time.Time { return time.Now() }

func (noWaitClock) After(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c
}

var noWait noWaitClock

// neverClock is a clock whose waits never end.
type neverClock struct{}

func (neverClock) Now() time.Time                       { return time.Now() }
func (neverClock) After(time.Duration) <-chan time.Time { return nil }

func TestRedriveResendsOnlyRefusedEntries(t *testing.T) {
	f := &fakeStream{refuse: func(call, i int, data []byte) bool { return call == 0 && i%2 == 1 }}
	parked := &localfirehose.Memory{}
	r := NewRedriver(f, parked, Options{MaxAttempts: 4, Clock: noWait,
		Now: func() time.Time { return time.Date(2024, 11, 22, 10, 0, 0, 0, time.UTC) }})
	ctx := context.Background()
	for i := range 6 {
		if err := r.Add(ctx, "s", &deadletter.Record{AttemptsMade: 1, RawData: []byte(fmt.Sprint("r", i))}); err != nil {
			t.Fatal(err)
		}
	}
	r.Add(ctx, "s", &deadletter.Record{AttemptsMade: 4, RawData: []byte("poison")})
	r.Add(ctx, "s", &deadletter.Record{ErrorCode: "Splitter.Parse", RawData: []byte("a,b")})
	res, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.calls, []int{6, 3}) {
		t.Fatalf("calls %v: want the 3 refused entries resent alone", f.calls)
	}
	if res.Redriven != 6 || res.Parked != 1 || res.Skipped != 1 || res.Failed != 0 || len(f.accepted) != 6 {
		t.Fatalf("result %+v, accepted %d", res, len(f.accepted))
	}
	keys := parked.Keys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "2024/11/22/10/redrive-2024-11-22-10-00-00-") {
		t.Fatalf("parked keys %q", keys)
	}
	recs := readRecords(t, parked.Objects[keys[0]])
	if len(recs) != 1 || string(recs[0].RawData) != "poison" || !strings.Contains(recs[0].Reason, "cap of 4") {
		t.Fatalf("parked %+v", recs)
	}
}

func readRecords(t *testing.T, b []byte) []*deadletter.Record {
	var out []*deadletter.Record
	r := deadletter.NewReader(bytes.NewReader(b))
	for {
		rec, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, rec)
	}
}

func TestRedriveBatchesWithinLimits(t *testing.T) {
	f := &fakeStream{}
	r := NewRedriver(f, nil, Options{Clock: noWait})
	ctx := context.Background()
	for range 1001 {
		r.Add(ctx, "s", &deadletter.Record{RawData: []byte("x")})
	}
	big := bytes.Repeat([]byte("b"), 1000*1024)
	for range 5 {
		r.Add(ctx, "s", &deadletter.Record{RawData: big})
	}
	r.Add(ctx, "s", &deadletter.Record{RawData: append(big, 'x')}) // over 1,000 KiB
	res, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.calls, []int{500, 500, 5, 1}) {
		t.Fatalf("calls %v", f.calls)
	}
	if res.Redriven != 1006 || res.Failed != 1 || res.FailedByCode["RecordTooLarge"] != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestRedriveGivesUpAfterRetries(t *testing.T) {
	f := &fakeStream{refuse: func(call, i int, _ []byte) bool { return i == 0 }}
	r := NewRedriver(f, nil, Options{Retries: 2, Clock: noWait})
	ctx := context.Background()
	r.Add(ctx, "s", &deadletter.Record{RawData: []byte("stuck")})
	r.Add(ctx, "s", &deadletter.Record{RawData: []byte("fine")})
	res, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || res.Redriven != 1 || res.Failed != 1 || res.FailedByCode["ServiceUnavailableException"] != 1 {
		t.Fatalf("calls %v result %+v", f.calls, res)
	}
}

func TestRedriveCallErrors(t *testing.T) {
	ctx := context.Background()
	throttled := &fakeStream{err: &smithy.GenericAPIError{Code: "ServiceUnavailableException", Fault: smithy.FaultServer}}
	r := NewRedriver(throttled, nil, Options{Retries: 1, Clock: noWait})
	r.Add(ctx, "s", &deadletter.Record{RawData: []byte("x")})
	res, err := r.Close(ctx)
	if err != nil || len(throttled.calls) != 2 || res.Failed != 1 {
		t.Fatalf("throttled: %v calls %v result %+v", err, throttled.calls, res)
	}
	missing := &fakeStream{err: &types.ResourceNotFoundException{Message: aws.String("Firehose s not found")}}
	r = NewRedriver(missing, nil, Options{Clock: noWait})
	r.Add(ctx, "s", &deadletter.Record{RawData: []byte("x")})
	res, err = r.Close(ctx)
	if err == nil || len(missing.calls) != 1 || res.Failed != 1 {
		t.Fatalf("unknown stream: %v calls %v result %+v", err, missing.calls, res)
	}
}

func TestRedriveWaitsOnContext(t *testing.T) {
	f := &fakeStream{refuse: func(int, int, []byte) bool { return true }}
	r := NewRedriver(f, nil, Options{Clock: neverClock{}})
	ctx, cancel := context.WithCancel(context.Background())
	r.Add(ctx, "s", &deadletter.Record{RawData: []byte("x")})
	cancel()
	if _, err := r.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestParkingNeedsALocation(t *testing.T) {
	r := NewRedriver(&fakeStream{}, nil, Options{MaxAttempts: 1})
	r.Add(context.Background(), "s", &deadletter.Record{AttemptsMade: 3, RawData: []byte("x")})
	if _, err := r.Close(context.Background()); err == nil {
		t.Fatal("parked records were dropped silently")
	}
}

func TestStreamFromObjectName(t *testing.T) {
	pick := StreamFromObjectName([]string{"page", "page_views", "listings"})
	tests := map[string]string{
		"out/processing-failed/2024/11/22/10/listings-1-2024-11-22-10-10-00-0b8f":              "listings",
		"s3://b/processing-failed/2024/11/22/10/page_views-12-2024-11-22-10-10-00-0b8f.gz":     "page_views",
		`C:\out\processing-failed\page-1-2024-11-22-10-10-00-x`:                                "page",
		"s3://b/processing-failed/2024/11/22/10/listings-old-1-2024-11-22-10-10-00-0b8f":       "",
		"s3://b/processing-failed/2024/11/22/10/listings-1-2024-11-22-0b8f":                    "",
		"s3://b/processing-failed/2024/11/22/10/orders-1-2024-11-22-10-10-00-00000000-0000-40": "",
	}
	for object, want := range tests {
		got, err := pick(Item{Object: object})
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%s: got %q, %v; want %q", object, got, err, want)
		}
	}
}

func TestRedriveRoutesByStream(t *testing.T) {
	f := &fakeStream{}
	r := NewRedriver(f, nil, Options{Clock: noWait})
	ctx := context.Background()
	r.Add(ctx, "b", &deadletter.Record{RawData: []byte("1")})
	r.Add(ctx, "a", &deadletter.Record{RawData: []byte("2")})
	r.Add(ctx, "b", &deadletter.Record{RawData: []byte("3")})
	res, err := r.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.calls, []int{1, 2}) || res.RedrivenByStream["a"] != 1 || res.RedrivenByStream["b"] != 2 {
		t.Fatalf("calls %v result %+v", f.calls, res)
	}
}

// A record that fails every time comes back from Firehose with a fresh
// attemptsMade; the envelope's redrive count is what parks it.
func TestRedriveCountParksAPoisonEnvelope(t *testing.T) {
	env := envelope.Append(nil, &envelope.Record{ID: "poison", Schema: "listing", Fields: []envelope.Field{{Name: "price", Value: "call us"}}})
	client := &fakeStream{}
	parked := &localfirehose.Memory{}
	data := env
	for round := 1; round <= 4; round++ {
		r := NewRedriver(client, parked, Options{MaxRedrives: 3, Clock: noWait})
		if err := r.Add(context.Background(), "listings", &deadletter.Record{AttemptsMade: 1, RawData: data}); err != nil {
			t.Fatal(err)
		}
		res, err := r.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if round <= 3 {
			if res.Redriven != 1 || res.Parked != 0 {
				t.Fatalf("round %d: %+v, want it redriven", round, res)
			}
			data = client.accepted[len(client.accepted)-1] // Firehose fails it again and writes what it got
			if n, _ := envelope.Redrives(data); n != round {
				t.Fatalf("round %d: count %d", round, n)
			}
		} else if res.Parked != 1 || res.Redriven != 0 {
			t.Fatalf("round %d: %+v, want it parked", round, res)
		}
	}
	var all []byte
	for _, k := range parked.Keys() {
		all = append(all, parked.Objects[k]...)
	}
	if !bytes.Contains(all, []byte("redriven 3 times")) {
		t.Fatalf("parked record lacks its reason: %s", all)
	}
}
