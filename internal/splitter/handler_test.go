package splitter

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/envelope"
)

func s3EventFor(objs ...Object) json.RawMessage {
	var ev events.S3Event
	for _, o := range objs {
		var r events.S3EventRecord
		r.EventSource, r.EventName = "aws:s3", "ObjectCreated:Put"
		r.S3.Bucket.Name = o.Bucket
		r.S3.Object.Key = strings.ReplaceAll(strings.ReplaceAll(o.Key, "=", "%3D"), " ", "+")
		r.S3.Object.VersionID, r.S3.Object.ETag, r.S3.Object.Size = o.Version, o.ETag, o.Size
		ev.Records = append(ev.Records, r)
	}
	b, _ := json.Marshal(ev)
	return b
}

func sqsEventFor(bodies ...json.RawMessage) json.RawMessage {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i+1), EventSource: "aws:sqs", Body: string(b)})
	}
	b, _ := json.Marshal(ev)
	return b
}

type envDoc struct {
	ID     string `json:"id"`
	Schema string `json:"schema"`
	Source struct {
		Bucket, Key, Version, Etag, Format string
		Line, Offset                       int64
		IngestedAt                         string `json:"ingested_at"`
	} `json:"source"`
	Fields map[string]string `json:"fields"`
}

// delivered decodes a stream's records and fails on a duplicate id.
func delivered(t *testing.T, fh *fakeFirehose, stream string) []envDoc {
	t.Helper()
	seen := map[string]bool{}
	var out []envDoc
	for _, b := range fh.records(stream) {
		var d envDoc
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("record %q: %v", b, err)
		}
		if seen[d.ID] {
			t.Fatalf("record %s (line %d) delivered twice", d.ID, d.Source.Line)
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	return out
}

func TestHandleS3Event(t *testing.T) {
	r := newRig(t, nil)
	data := []byte("first\nBAD one\nthird\n")
	r.s3.add("sluice-landing", "listings/red flower = äö.csv", data, "096fKKXTRTtl3on89fVO.nfljtsv6qko", "d41d8cd98f00b204e9800998ecf8427e")
	out, err := r.h.Handle(context.Background(), readEvent(t, "s3-put.json"))
	if err != nil || out != nil {
		t.Fatalf("Handle = %v, %v", out, err)
	}
	got := delivered(t, r.fh, "events")
	if len(got) != 2 {
		t.Fatalf("delivered %d records, want 2", len(got))
	}
	d := got[1]
	if d.Fields["line"] != "third" || d.Schema != "listing" || d.Source.Line != 3 || d.Source.Offset != 14 ||
		d.Source.Key != "listings/red flower = äö.csv" || d.Source.Format != "lines" || d.Source.Version != "096fKKXTRTtl3on89fVO.nfljtsv6qko" || d.Source.IngestedAt == "" {
		t.Fatalf("record = %+v", d)
	}
	if want := "0"; got[0].ID == "" || got[0].ID == got[1].ID || want == "" {
		t.Fatal("ids must be set and distinct")
	}
	lines := r.s3.deadLetterLines()
	if len(lines) != 1 {
		t.Fatalf("dead letters = %q, want 1", lines)
	}
	var dl deadletter.Record
	if err := json.Unmarshal([]byte(lines[0]), &dl); err != nil {
		t.Fatal(err)
	}
	if dl.ErrorCode != "Splitter.ParseError" || string(dl.RawData) != "BAD one" || dl.Reason == "" || dl.AttemptsMade != 0 ||
		dl.ArrivalTimestamp == 0 || dl.Source == nil || dl.Source.Line != 2 || dl.Source.Offset != 6 || dl.Source.Key != "listings/red flower = äö.csv" {
		t.Fatalf("dead letter = %+v", dl)
	}
	// The dead letter carries the id the line would have had, between the
	// ids of the records around it.
	if want := envelope.RecordID("sluice-landing", "listings/red flower = äö.csv", "096fKKXTRTtl3on89fVO.nfljtsv6qko", "d41d8cd98f00b204e9800998ecf8427e", 1); dl.RecordID != want || got[0].ID == want || got[1].ID == want {
		t.Fatalf("dead letter recordId = %q, want %q (delivered ids %s, %s)", dl.RecordID, want, got[0].ID, got[1].ID)
	}
	for name := range r.s3.puts {
		if !strings.HasPrefix(name, "dead/splitter-failed/") || !strings.HasSuffix(name, "/000000000001.jsonl") {
			t.Fatalf("dead-letter object %q", name)
		}
	}
	if got := r.metric("DeadLetters", ClassParseError); got != 1 {
		t.Fatalf("DeadLetters metric = %v", got)
	}
	if got := r.metric("Records", ""); got != 2 {
		t.Fatalf("Records metric = %v", got)
	}
	if strings.Contains(r.logs.String(), "third") || strings.Contains(r.logs.String(), "BAD one") {
		t.Fatalf("a record payload was logged: %s", r.logs)
	}
}

func TestHandleEventBridgeAndTestEvent(t *testing.T) {
	r := newRig(t, nil)
	r.s3.add("sluice-landing", "webhooks/2026/11/20/batch 1.jsonl", numbered(3), "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "b1946ac92492d2347c6235b4d2611184")
	if _, err := r.h.Handle(context.Background(), readEvent(t, "eventbridge-object-created.json")); err != nil {
		t.Fatal(err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 3 {
		t.Fatalf("delivered %d, want 3", n)
	}
	out, err := r.h.Handle(context.Background(), readEvent(t, "s3-test-event.json"))
	if err != nil || out != nil {
		t.Fatalf("test event: %v %v", out, err)
	}
}

// S3 → SNS → Lambda: the SNS record's message is the S3 event.
func TestHandleSNSEvent(t *testing.T) {
	r := newRig(t, nil)
	r.s3.add("sluice-landing", "listings/red flower = äö.csv", numbered(4), "096fKKXTRTtl3on89fVO.nfljtsv6qko", "d41d8cd98f00b204e9800998ecf8427e")
	out, err := r.h.Handle(context.Background(), readEvent(t, "sns-s3.json"))
	if err != nil || out != nil {
		t.Fatalf("Handle = %v, %v; want nil, nil", out, err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 4 {
		t.Fatalf("delivered %d, want 4", n)
	}
	// An SNS message that is not an S3 event is an unreadable event, named.
	bad := `{"Records":[{"EventSource":"aws:sns","Sns":{"Type":"Notification","Message":"hello"}}]}`
	var ee *EventError
	if _, err := r.h.Handle(context.Background(), json.RawMessage(bad)); !errors.As(err, &ee) {
		t.Fatalf("bad SNS message: err = %v, want *EventError", err)
	}
}

func TestHandleSQSPartialBatch(t *testing.T) {
	r := newRig(t, nil)
	ok := r.s3.add("b", "listings/a.txt", numbered(5), "", "e1")
	failing := Object{Bucket: "b", Key: "alb-logs/x.log", ETag: "e2"}
	ev := sqsEventFor(s3EventFor(ok), readEvent(t, "s3-test-event.json"), s3EventFor(failing), json.RawMessage("garbage"))
	r.s3.add("b", "alb-logs/x.log", numbered(2), "", "e2")
	r.s3.getErr = nil
	// The third object's GetObject fails with a 500.
	h := r.h
	h.s3 = &selectiveS3{fakeS3: r.s3, failKey: "alb-logs/x.log"}
	out, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(events.SQSEventResponse)
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	if strings.Join(ids, ",") != "m3,m4" {
		t.Fatalf("batchItemFailures = %v, want m3,m4", ids)
	}
	if n := len(delivered(t, r.fh, "events")); n != 5 {
		t.Fatalf("delivered %d, want 5", n)
	}
	// An all-good batch answers with an empty list, not null.
	b, _ := json.Marshal(must(h.Handle(context.Background(), sqsEventFor(readEvent(t, "s3-test-event.json")))))
	if string(b) != `{"batchItemFailures":[]}` {
		t.Fatalf("response = %s", b)
	}
}

type selectiveS3 struct {
	*fakeS3
	failKey string
}

func (s *selectiveS3) GetObject(ctx context.Context, in *s3GetInput, o ...func(*s3Options)) (*s3GetOutput, error) {
	if *in.Key == s.failKey {
		return nil, apiErr(500, "InternalError")
	}
	return s.fakeS3.GetObject(ctx, in, o...)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestUnroutedMissingChanged(t *testing.T) {
	r := newRig(t, nil)
	r.s3.add("b", "listings/v.txt", numbered(2), "v2", "e2")
	r.s3.add("b", "listings/e.txt", numbered(2), "", "e-now")
	tests := []struct {
		name   string
		obj    Object
		status Status
		metric string
	}{
		{"unrouted", Object{Bucket: "b", Key: "elsewhere/secret-payload.bin"}, StatusUnrouted, "Unrouted"},
		{"no such key", Object{Bucket: "b", Key: "listings/gone.txt", ETag: "e"}, StatusMissing, "ObjectsMissing"},
		{"no such version", Object{Bucket: "b", Key: "listings/v.txt", Version: "v1"}, StatusMissing, "ObjectsMissing"},
		{"etag changed (412)", Object{Bucket: "b", Key: "listings/e.txt", ETag: "e-then"}, StatusChanged, "ObjectsChanged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.h.Split(context.Background(), tc.obj, nil)
			if err != nil || res.Status != tc.status {
				t.Fatalf("Split = %+v, %v; want %s", res, err, tc.status)
			}
			if r.metric(tc.metric, "") < 1 {
				t.Fatalf("metric %s not counted", tc.metric)
			}
			// Through Handle it is success, so it is not retried.
			if _, err := r.h.Handle(context.Background(), s3EventFor(tc.obj)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
		})
	}
	if n := len(r.fh.records("events")); n != 0 {
		t.Fatalf("%d records sent", n)
	}
	if !strings.Contains(r.logs.String(), "elsewhere/secret-payload.bin") {
		t.Fatal("the unrouted key is not logged")
	}
}

func TestRedeliveredFinishedObject(t *testing.T) {
	r := newRig(t, nil)
	o := r.s3.add("b", "listings/a.txt", numbered(10), "v1", "e")
	for range 3 {
		if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(delivered(t, r.fh, "events")); n != 10 {
		t.Fatalf("delivered %d, want 10", n)
	}
	if got := r.metric("AlreadyDone", ""); got != 2 {
		t.Fatalf("AlreadyDone = %v, want 2", got)
	}
	// Another version of the same key is another object.
	o2 := r.s3.add("b", "listings/a.txt", numbered(4), "v2", "e2")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o2)); err != nil {
		t.Fatal(err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 14 {
		t.Fatalf("delivered %d, want 14", n)
	}
}

func TestPartialPutFailuresAndThrottling(t *testing.T) {
	r := newRig(t, nil)
	r.fh.throttleCalls = 2 // whole calls throttled
	r.fh.failEntries = 7   // then every 7th entry fails once
	o := r.s3.add("b", "listings/big.txt", numbered(1234), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	got := delivered(t, r.fh, "events") // fails on a duplicate
	if len(got) != 1234 {
		t.Fatalf("delivered %d, want 1234", len(got))
	}
	if r.fh.calls <= 5 {
		t.Fatalf("only %d calls: failures were not retried", r.fh.calls)
	}
}

func TestSinkFailureResumesFromCheckpoint(t *testing.T) {
	r := newRig(t, nil)
	r.sink.MaxAttempts = 2
	r.fh.failAfter = 1100 // Firehose goes down after 1,000 records (two batches)
	o := r.s3.add("b", "listings/a.txt", numbered(3000), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err == nil {
		t.Fatal("want a systemic error while Firehose is down")
	}
	if n := len(r.fh.records("events")); n != 1000 {
		t.Fatalf("delivered %d before the outage, want 1000", n)
	}
	p, _, _ := r.store.Load(context.Background(), ObjectID(o))
	if p.Next != 1000 {
		t.Fatalf("checkpoint next = %d, want 1000", p.Next)
	}
	r.fh.failAfter = 0
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	got := delivered(t, r.fh, "events")
	if len(got) != 3000 {
		t.Fatalf("delivered %d, want 3000", len(got))
	}
	for i, d := range got {
		if d.Fields["line"] != fmt.Sprintf("line-%d", i) {
			t.Fatalf("record %d is %q: order or loss", i, d.Fields["line"])
		}
	}
}

func TestBodyReadErrorIsSystemic(t *testing.T) {
	r := newRig(t, nil)
	r.s3.bodyErr = errors.New("connection reset by peer")
	o := r.s3.add("b", "listings/a.txt", numbered(100), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v, want the read error", err)
	}
	if len(r.s3.deadLetterLines()) != 0 {
		t.Fatal("a network error was dead-lettered as bad data")
	}
	r.s3.bodyErr = nil
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 100 {
		t.Fatalf("delivered %d, want 100", n)
	}
}

func gzipMembers(t testing.TB, parts ...[]byte) []byte {
	var out bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&out)
		w.Write(p)
		w.Close()
	}
	return out.Bytes()
}

func TestGzipObjects(t *testing.T) {
	r := newRig(t, nil)
	// No .gz extension: detected by magic bytes; two members.
	o := r.s3.add("b", "listings/a.txt", gzipMembers(t, numbered(3), []byte("line-3\nBAD\nline-5\n")), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	got := delivered(t, r.fh, "events")
	if len(got) != 5 || got[4].Fields["line"] != "line-5" || got[4].Source.Line != 6 {
		t.Fatalf("delivered %+v", got)
	}
}

func TestGzipBombIsDeadLettered(t *testing.T) {
	r := newRig(t, nil)
	r.cfg.Limits.MaxRatio = 50
	bomb := append(numbered(100), bytes.Repeat([]byte("z"), 8<<20)...) // 100 good lines, then a huge run
	o := r.s3.add("b", "listings/bomb.txt", gzipMembers(t, bomb), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 100 {
		t.Fatalf("delivered %d, want the 100 lines before the cap", n)
	}
	lines := r.s3.deadLetterLines()
	if len(lines) != 1 {
		t.Fatalf("dead letters: %d", len(lines))
	}
	var dl deadletter.Record
	json.Unmarshal([]byte(lines[0]), &dl)
	if dl.ErrorCode != "Splitter.DecompressionLimit" || !strings.Contains(dl.Reason, "max_ratio") {
		t.Fatalf("dead letter = %+v", dl)
	}
	if r.metric("DeadLetters", ClassDecompressionLimit) != 1 {
		t.Fatal("not counted")
	}
	// Absolute cap too.
	r2 := newRig(t, nil)
	r2.cfg.Limits.MaxDecompressedBytes = 1 << 20
	o = r2.s3.add("b", "listings/bomb.txt", gzipMembers(t, bomb), "", "e")
	res, err := r2.h.Split(context.Background(), o, nil)
	if err != nil || res.Sent != 100 || res.DeadLettered != 1 {
		t.Fatalf("Split = %+v, %v", res, err)
	}
}

func TestRecordTooLarge(t *testing.T) {
	r := newRig(t, nil)
	r.cfg.Limits.MaxRecordBytes = 2000
	data := append([]byte("small\n"), bytes.Repeat([]byte("x"), 5000)...)
	data = append(data, "\nsmall again\n"...)
	o := r.s3.add("b", "listings/a.txt", data, "", "e")
	res, err := r.h.Split(context.Background(), o, nil)
	if err != nil || res.Sent != 2 || res.DeadLettered != 1 {
		t.Fatalf("Split = %+v, %v", res, err)
	}
	var dl deadletter.Record
	json.Unmarshal([]byte(r.s3.deadLetterLines()[0]), &dl)
	if dl.ErrorCode != "Splitter.RecordTooLarge" || len(dl.RawData) < 5000 || dl.Source.Line != 2 {
		t.Fatalf("dead letter = %s %d %+v", dl.ErrorCode, len(dl.RawData), dl.Source)
	}
}

func TestFormatThatCannotOpenIsDeadLettered(t *testing.T) {
	r := newRig(t, nil)
	o := r.s3.add("b", "listings/a.txt", numbered(3), "", "e")
	route := r.cfg.Routes[0]
	route.Format = "broken"
	res, err := r.h.Split(context.Background(), o, &route)
	if err != nil || res.DeadLettered != 1 || res.Status != StatusDone {
		t.Fatalf("Split = %+v, %v", res, err)
	}
	// A format that fails without reading is a bad route: systemic, and
	// nothing is dead-lettered.
	o = r.s3.add("b", "listings/b.txt", numbered(3), "", "e")
	route.Format = "nonesuch"
	before := len(r.s3.deadLetterLines())
	if _, err := r.h.Split(context.Background(), o, &route); err == nil || !strings.Contains(err.Error(), "nonesuch") {
		t.Fatalf("err = %v, want the unknown format", err)
	}
	if len(r.s3.deadLetterLines()) != before {
		t.Fatal("a route problem was dead-lettered")
	}
}

// The deadline arrives mid-object: the handler stops cleanly, invokes
// itself with the rest, and the continuation resumes from the checkpoint.
// Every record is delivered exactly once, and every bad line is
// dead-lettered exactly once.
func TestDeadlineContinuationDirect(t *testing.T) {
	mr := miniredis.RunT(t)
	testDeadlineContinuation(t, NewRedisStore(redisAt(t, "redis://"+mr.Addr()+patient), 0))
}

func testDeadlineContinuation(t *testing.T, store CheckpointStore) {
	const n = 20000
	var data bytes.Buffer
	bad := 0
	for i := range n {
		if i%997 == 0 {
			fmt.Fprintf(&data, "BAD %d\n", i)
			bad++
			continue
		}
		fmt.Fprintf(&data, "line-%d\n", i)
	}
	r := newRig(t, store)
	o := r.s3.add("b", "listings/big.txt", data.Bytes(), "", "e")
	payload := s3EventFor(o)
	hops := 0
	for ; payload != nil; hops++ {
		if hops > 50 {
			t.Fatal("no end to continuations")
		}
		// Each invocation has 30s; every clock reading costs 200ms, so the
		// deadline (less the 10s margin) arrives mid-object.
		clock := &stepClock{t: time.Unix(1_800_000_000, 0), step: 200 * time.Millisecond}
		r.h.now = clock.now
		ctx, cancel := context.WithDeadline(context.Background(), clock.t.Add(30*time.Second))
		before := len(r.inv.payloads)
		_, err := r.h.Handle(ctx, payload)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		payload = nil
		if len(r.inv.payloads) > before {
			payload = r.inv.payloads[len(r.inv.payloads)-1]
		}
	}
	if hops < 3 {
		t.Fatalf("only %d invocations: the deadline never arrived mid-object", hops)
	}
	got := delivered(t, r.fh, "events")
	if len(got) != n-bad {
		t.Fatalf("delivered %d, want %d", len(got), n-bad)
	}
	lines := r.s3.deadLetterLines()
	if len(lines) != bad {
		t.Fatalf("dead letters %d, want %d", len(lines), bad)
	}
	if r.inv.function != "splitter-fn" {
		t.Fatalf("invoked %q", r.inv.function)
	}
	var cont continuationEvent
	json.Unmarshal(r.inv.payloads[0], &cont)
	if cont.Hop != 1 || len(cont.Objects) != 1 || cont.Objects[0].Key != "listings/big.txt" {
		t.Fatalf("continuation = %+v", cont)
	}
	if r.metric("Continuations", "") != float64(hops-1) {
		t.Fatalf("Continuations = %v, hops %d", r.metric("Continuations", ""), hops)
	}
	// The finished object is done: a redelivered event does nothing.
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	if len(r.fh.records("events")) != n-bad {
		t.Fatal("redelivery sent records again")
	}
}

// Over SQS, an unfinished object's message is a batch item failure, as are
// the messages not reached; redelivery resumes.
func TestDeadlineContinuationSQS(t *testing.T) {
	r := newRig(t, nil)
	o := r.s3.add("b", "listings/big.txt", numbered(10000), "", "e")
	o2 := r.s3.add("b", "listings/small.txt", numbered(10), "", "e2")
	ev := sqsEventFor(s3EventFor(o), s3EventFor(o2))
	var rounds int
	for pending := true; pending; rounds++ {
		if rounds > 50 {
			t.Fatal("no end")
		}
		clock := &stepClock{t: time.Unix(1_800_000_000, 0), step: 200 * time.Millisecond}
		r.h.now = clock.now
		ctx, cancel := context.WithDeadline(context.Background(), clock.t.Add(20*time.Second))
		out, err := r.h.Handle(ctx, ev)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		resp := out.(events.SQSEventResponse)
		pending = len(resp.BatchItemFailures) > 0
		if pending && resp.BatchItemFailures[0].ItemIdentifier != "m1" {
			t.Fatalf("failures = %+v", resp.BatchItemFailures)
		}
		if pending && len(resp.BatchItemFailures) != 2 {
			t.Fatalf("the message not reached must be retried too: %+v", resp.BatchItemFailures)
		}
	}
	if rounds < 3 {
		t.Fatalf("%d rounds: no continuation happened", rounds)
	}
	if len(r.inv.payloads) != 0 {
		t.Fatal("SQS must not self-invoke")
	}
	if n := len(delivered(t, r.fh, "events")); n != 10010 {
		t.Fatalf("delivered %d, want 10010", n)
	}
}

func TestContinuationWithoutInvokerFailsForRetry(t *testing.T) {
	r := newRig(t, nil)
	r.h.invoker = nil
	o := r.s3.add("b", "listings/big.txt", numbered(5000), "", "e")
	clock := &stepClock{t: time.Unix(1_800_000_000, 0), step: 200 * time.Millisecond}
	r.h.now = clock.now
	ctx, cancel := context.WithDeadline(context.Background(), clock.t.Add(12*time.Second))
	defer cancel()
	var ce *ContinueError
	if _, err := r.h.Handle(ctx, s3EventFor(o)); !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ContinueError", err)
	}
}

func TestRecordOverFirehoseLimit(t *testing.T) {
	r := newRig(t, nil) // limits.max_record_bytes at its default, Firehose's 1,000 KiB
	data := append([]byte("ok\n"), bytes.Repeat([]byte("y"), 1000*1024)...)
	data = append(data, "\nok\n"...)
	o := r.s3.add("b", "listings/a.txt", data, "", "e")
	res, err := r.h.Split(context.Background(), o, nil)
	if err != nil || res.Sent != 2 || res.DeadLettered != 1 {
		t.Fatalf("Split = %+v, %v", res, err)
	}
	for _, rec := range r.fh.records("events") {
		if len(rec) > 1000*1024 {
			t.Fatalf("a %d-byte record reached Firehose", len(rec))
		}
	}
}

// Dead letters are written in parts named by their first record, and a
// retry after a failure rewrites the same parts: each bad line is in the
// dead-letter location exactly once.
func TestDeadLetterPartsAndRetry(t *testing.T) {
	r := newRig(t, nil)
	r.sink.MaxAttempts = 1
	var data bytes.Buffer
	bad := 0
	for i := range 12000 {
		if i%2 == 0 {
			fmt.Fprintf(&data, "BAD %d %s\n", i, strings.Repeat("q", 700))
			bad++
			continue
		}
		fmt.Fprintf(&data, "line-%d\n", i)
	}
	o := r.s3.add("b", "listings/a.txt", data.Bytes(), "", "e")
	r.fh.failAfter = 4000
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err == nil {
		t.Fatal("want a failure while Firehose is down")
	}
	r.fh.failAfter = 0
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	if n := len(delivered(t, r.fh, "events")); n != 12000-bad {
		t.Fatalf("delivered %d, want %d", n, 12000-bad)
	}
	lines := r.s3.deadLetterLines()
	seen := map[string]bool{}
	for _, l := range lines {
		var dl deadletter.Record
		json.Unmarshal([]byte(l), &dl)
		if seen[string(dl.RawData)] {
			t.Fatalf("dead letter at line %d written twice", dl.Source.Line)
		}
		seen[string(dl.RawData)] = true
	}
	if len(lines) != bad {
		t.Fatalf("dead letters %d, want %d", len(lines), bad)
	}
	if len(r.s3.puts) < 2 {
		t.Fatalf("%d dead-letter parts, want several (~4 MiB each)", len(r.s3.puts))
	}
	for name, body := range r.s3.puts {
		if len(body) > deadLetterPartBytes+4096 {
			t.Fatalf("part %s is %d bytes", name, len(body))
		}
	}
}

func TestContinuationGivesUp(t *testing.T) {
	r := newRig(t, nil)
	o := r.s3.add("b", "listings/big.txt", numbered(5000), "", "e")
	raw, _ := json.Marshal(continuationEvent{Sluice: continueMarker, Hop: MaxHops, Objects: []Object{o}})
	clock := &stepClock{t: time.Unix(1_800_000_000, 0), step: 200 * time.Millisecond}
	r.h.now = clock.now
	ctx, cancel := context.WithDeadline(context.Background(), clock.t.Add(12*time.Second))
	defer cancel()
	var ce *ContinueError
	if _, err := r.h.Handle(ctx, raw); !errors.As(err, &ce) || len(r.inv.payloads) != 0 {
		t.Fatalf("err = %v, invocations %d; want a *ContinueError and no invocation", err, len(r.inv.payloads))
	}
}

// An EventBridge key is decoded; if no object has the decoded key, the key
// as sent is read, so a literal "+" works either way.
func TestEventBridgeRawKeyFallback(t *testing.T) {
	r := newRig(t, nil)
	r.s3.add("b", "webhooks/c++ notes.txt", numbered(2), "", "e1") // found by decoding
	r.s3.add("b", "webhooks/a+b.txt", numbered(3), "", "e2")       // only the raw key exists
	ev := func(key, etag string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":%q,"etag":%q}}}`, key, etag))
	}
	if _, err := r.h.Handle(context.Background(), ev("webhooks/c%2B%2B+notes.txt", "e1")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.h.Handle(context.Background(), ev("webhooks/a+b.txt", "e2")); err != nil {
		t.Fatal(err)
	}
	got := delivered(t, r.fh, "events")
	if len(got) != 5 || got[0].Source.Key != "webhooks/c++ notes.txt" || got[4].Source.Key != "webhooks/a+b.txt" {
		t.Fatalf("delivered %+v", got)
	}
	if r.metric("ObjectsMissing", "") != 0 {
		t.Fatal("a found object was counted missing")
	}
	// Neither key exists: missing, once.
	if _, err := r.h.Handle(context.Background(), ev("webhooks/x+y.txt", "e3")); err != nil {
		t.Fatal(err)
	}
	if r.metric("ObjectsMissing", "") != 1 {
		t.Fatal("missing object not counted once")
	}
}

// A key with a literal "+" whose decoded reading also names an object (with
// other content): the decoded key answers 412, but the event's object is
// the raw key and must be read, not acknowledged as changed.
func TestEventBridgePlusKeyNotChangedWhileAReadingMatches(t *testing.T) {
	for _, tc := range []struct {
		name          string
		sentKey       string
		version, etag string
	}{
		{"etag, raw key", "webhooks/a+b.txt", "", "e-plus"},
		{"version, raw key", "webhooks/a+b.txt", "v-plus", "e-plus"},
		{"etag, percent-encoded with a literal plus", "webhooks/a+b%2Etxt", "", "e-plus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.s3.add("b", "webhooks/a b.txt", numbered(7), "v-space", "e-space") // the decoded reading: another object
			r.s3.add("b", "webhooks/a+b.txt", numbered(3), tc.version, "e-plus")
			ev := fmt.Sprintf(`{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":%q,"etag":%q,"version-id":%q}}}`, tc.sentKey, tc.etag, tc.version)
			if _, err := r.h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
				t.Fatal(err)
			}
			got := delivered(t, r.fh, "events")
			if len(got) != 3 || got[0].Source.Key != "webhooks/a+b.txt" {
				t.Fatalf("delivered %d records (%+v), want the 3 of webhooks/a+b.txt", len(got), got)
			}
			if n := r.metric("ObjectsChanged", ""); n != 0 {
				t.Fatalf("ObjectsChanged = %v, want 0: an object matching the event was found", n)
			}
		})
	}
	// No reading matches the event's ETag: changed, counted once.
	r := newRig(t, nil)
	r.s3.add("b", "webhooks/a b.txt", numbered(7), "", "e-space")
	r.s3.add("b", "webhooks/a+b.txt", numbered(3), "", "e-plus")
	ev := `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":"webhooks/a+b.txt","etag":"e-old"}}}`
	if _, err := r.h.Handle(context.Background(), json.RawMessage(ev)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.fh.records("events")); n != 0 || r.metric("ObjectsChanged", "") != 1 || r.metric("ObjectsMissing", "") != 0 {
		t.Fatalf("delivered %d, ObjectsChanged %v, ObjectsMissing %v; want 0, 1, 0", n, r.metric("ObjectsChanged", ""), r.metric("ObjectsMissing", ""))
	}
}
