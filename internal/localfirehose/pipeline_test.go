package localfirehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
)

// pipelineRun puts the same records into two streams of small buffers and
// returns what was delivered. Invocations take different times, so that
// with several workers they finish out of order.
func pipelineRun(t *testing.T, opts ...Option) (*Memory, StreamStats) {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n  b: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	proc := func(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		time.Sleep(time.Duration(4-calls.Add(1)%4) * time.Millisecond)
		return okNewline(ev)
	}
	out := &Memory{}
	clock := &fakeClock{t: t0}
	e, err := New(cfg, proc, out, append([]Option{WithClock(clock.now), WithIDs(counterIDs())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	putAndClose(t, e, 60, 20, 2000, func(i int) string { return []string{"a", "b"}[i%3/2] })
	return out, e.Stats().Total()
}

// putAndClose puts calls calls of perCall records of about size bytes
// each into e, call i into stream(i), and closes e.
func putAndClose(t *testing.T, e *Emulator, calls, perCall, size int, stream func(i int) string) {
	t.Helper()
	ctx := context.Background()
	for i := range calls {
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream(i))}
		for j := range perCall {
			in.Records = append(in.Records, types.Record{Data: fmt.Appendf(nil, "%d-%d-%s", i, j, bytes.Repeat([]byte("d"), size))})
		}
		if _, err := e.PutRecordBatch(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineDeliversTheSameWhateverTheWorkers(t *testing.T) {
	one, st := pipelineRun(t, WithPipeline(1))
	// 2.4 MB in buffers of 0.2 MB, delivered in objects of 1 MiB: several
	// batches in each object, and several objects in stream a.
	if st.RecordsIn != 1200 || st.Ok != 1200 || st.Invocations < 10 || st.Files < 3 || st.Files >= st.Invocations {
		t.Fatalf("stats %+v", st)
	}
	for _, workers := range []int{2, 4} {
		got, _ := pipelineRun(t, WithPipeline(workers))
		if !maps.EqualFunc(one.Objects, got.Objects, bytes.Equal) {
			t.Fatalf("%d workers deliver %v, one worker %v", workers, got.Keys(), one.Keys())
		}
	}
	// Without the pipeline, objects have other names (invocations draw
	// ids) but the same contents.
	sync, _ := pipelineRun(t)
	bodies := func(m *Memory) []string {
		var b []string
		for _, v := range m.Objects {
			b = append(b, string(v))
		}
		slices.Sort(b)
		return b
	}
	if !slices.Equal(bodies(sync), bodies(one)) {
		t.Fatal("the pipeline delivers other contents than a processor run by the putting call")
	}
}

func TestPipelineProcessorMayPutBack(t *testing.T) {
	var e *Emulator
	proc := func(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		var r firehose.Response
		for _, rec := range ev.Records {
			if bytes.HasPrefix(rec.Data, []byte("big")) {
				// The transform puts overflow back with its invocation's
				// context: this must not wait for the pipeline to empty.
				if _, err := e.PutRecordBatch(ctx, &awsfirehose.PutRecordBatchInput{
					DeliveryStreamName: aws.String("a"),
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
	}
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err = New(cfg, proc, &Memory{}, WithPipeline(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 20 {
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("a"), Records: []types.Record{{Data: []byte("big")}}}
		for range 4 {
			in.Records = append(in.Records, types.Record{Data: bytes.Repeat([]byte("d"), 60_000)})
		}
		if _, err := e.PutRecordBatch(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.Stats().Total()
	if st.RecordsIn != 140 || st.Ok != 120 || st.Dropped != 20 {
		t.Fatalf("stats %+v", st)
	}
}

// Records the processor puts back reach the same objects whatever the
// workers and however long each invocation takes: they wait with their
// batch, then join the stream's put-back buffer in delivery order. Some
// are put back a second time when processed, and every record ends
// delivered.
func TestPipelinePutBacksDeliverTheSameWhateverTheWorkers(t *testing.T) {
	run := func(workers int) (*Memory, StreamStats) {
		cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n  b: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n"))
		if err != nil {
			t.Fatal(err)
		}
		var e *Emulator
		var calls atomic.Int64
		proc := func(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
			time.Sleep(time.Duration(4-calls.Add(1)%4) * time.Millisecond)
			var r firehose.Response
			var back [][]byte
			for _, rec := range ev.Records {
				again := bytes.HasPrefix(rec.Data, []byte("back-"))
				if again && !bytes.HasPrefix(rec.Data, []byte("back-back-")) && bytes.Contains(rec.Data, []byte("-1")) ||
					!again && bytes.Contains(rec.Data, []byte("7-")) {
					// As the transform does: put back, answer Dropped.
					back = append(back, append([]byte("back-"), rec.Data...))
					r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Dropped, Data: []byte{}})
					continue
				}
				r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Ok, Data: append(append([]byte{}, rec.Data...), '\n')})
			}
			if len(back) > 0 {
				in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(ev.DeliveryStreamArn[strings.LastIndexByte(ev.DeliveryStreamArn, '/')+1:])}
				for _, b := range back {
					in.Records = append(in.Records, types.Record{Data: b})
				}
				if _, err := e.PutRecordBatch(ctx, in); err != nil {
					return r, err
				}
			}
			return r, nil
		}
		out := &Memory{}
		clock := &fakeClock{t: t0}
		e, err = New(cfg, proc, out, WithClock(clock.now), WithIDs(counterIDs()), WithPipeline(workers))
		if err != nil {
			t.Fatal(err)
		}
		putAndClose(t, e, 60, 20, 2000, func(i int) string { return []string{"a", "b"}[i%3/2] })
		return out, e.Stats().Total()
	}
	one, st := run(1)
	delivered, back, twice := 0, 0, 0
	for _, body := range one.Objects {
		for _, line := range bytes.SplitAfter(body, []byte("\n")) {
			switch {
			case len(line) == 0:
				continue
			case bytes.HasPrefix(line, []byte("back-back-")):
				twice++
			case bytes.HasPrefix(line, []byte("back-")):
				back++
			}
			delivered++
		}
	}
	if st.RecordsIn != st.Ok+st.Dropped || st.Ok != 1200 || delivered != 1200 || back+twice < 150 || twice < 10 || st.Dropped != int64(back+2*twice) {
		t.Fatalf("stats %+v, %d delivered, %d of them put back, %d twice", st, delivered, back, twice)
	}
	for _, workers := range []int{2, 4, 4} {
		got, _ := run(workers)
		if !maps.EqualFunc(one.Objects, got.Objects, bytes.Equal) {
			t.Fatalf("%d workers deliver %v, one worker %v", workers, got.Keys(), one.Keys())
		}
	}
}

type failingWriter struct{}

func (failingWriter) WriteObject(context.Context, string, []byte) error {
	return errors.New("disk full")
}

func TestPipelineReportsADeliveryFault(t *testing.T) {
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		return okNewline(ev)
	},
		failingWriter{}, WithPipeline(2))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var putErr error
	for range 50 {
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("a"), Records: []types.Record{{Data: bytes.Repeat([]byte("d"), 100_000)}}}
		if _, putErr = e.PutRecordBatch(ctx, in); putErr != nil {
			break
		}
	}
	closeErr := e.Close(ctx)
	for _, err := range []error{putErr, closeErr} {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
			t.Errorf("got %v, want the delivery fault", err)
		}
	}
}

// TestReusedEventsDeliverTheSame: with WithReusedEvents the emulator builds
// each event in an answered one's memory, and delivers the same objects,
// with the pipeline or without.
func TestReusedEventsDeliverTheSame(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPipeline(1)}, {WithPipeline(2)}} {
		want, _ := pipelineRun(t, opts...)
		got, st := pipelineRun(t, append(opts, WithReusedEvents())...)
		if st.RecordsIn != 1200 || st.Ok != 1200 {
			t.Fatalf("stats %+v", st)
		}
		if len(opts) == 0 {
			// Without the pipeline invocation ids, which name nothing
			// here, are drawn from the id generator, and so are objects'
			// names: compare the bodies.
			want, got = byBody(want), byBody(got)
		}
		if !maps.EqualFunc(want.Objects, got.Objects, bytes.Equal) {
			t.Fatalf("options %d: reused events deliver %v, new ones %v", len(opts), got.Keys(), want.Keys())
		}
	}
	// The memory is reused: a second invocation's records are where the
	// first's were.
	h := newHarness(t, "streams:\n  a: {}\n", okNewline, WithReusedEvents())
	for range 2 {
		h.put(t, "a", "x", "y")
		h.clock.advance(60 * time.Second)
		if err := h.e.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.events) != 2 || &h.events[0].Records[0] != &h.events[1].Records[0] {
		t.Fatalf("%d invocations, not one in the other's memory", len(h.events))
	}
}

// byBody keys m's objects by their contents.
func byBody(m *Memory) *Memory {
	out := &Memory{Objects: map[string][]byte{}}
	for _, v := range m.Objects {
		out.Objects[string(v)] = v
	}
	return out
}

// TestPipelineHoldsAtMostOneBatchPerWorker: PutRecordBatch waits while as
// many batches as there are workers are cut but not delivered, so memory
// holds no more, however fast the puts come.
func TestPipelineHoldsAtMostOneBatchPerWorker(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		var e *Emulator
		var most atomic.Int64
		proc := func(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
			e.pipe.mu.Lock()
			held := int64(len(e.pipe.order))
			e.pipe.mu.Unlock()
			for m := most.Load(); held > m && !most.CompareAndSwap(m, held); m = most.Load() {
			}
			time.Sleep(time.Millisecond) // slower than the puts
			return okNewline(ev)
		}
		cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2}\n"))
		if err != nil {
			t.Fatal(err)
		}
		e, err = New(cfg, proc, &Memory{}, WithPipeline(workers))
		if err != nil {
			t.Fatal(err)
		}
		putAndClose(t, e, 40, 10, 30_000, func(int) string { return "a" })
		if st := e.Stats().Total(); st.Ok != 400 {
			t.Fatalf("stats %+v", st)
		}
		if got := most.Load(); got > int64(workers) || got < 1 {
			t.Fatalf("%d workers: %d batches held at once, want at most %d", workers, got, workers)
		}
	}
}

// TestFreeListKeepsAndFits: a freeList keeps at most as many values as
// asked, gives back the last kept that fits, and loses nothing to a
// garbage collection.
func TestFreeListKeepsAndFits(t *testing.T) {
	var l freeList[[]byte]
	for _, n := range []int{8, 64, 16, 32} {
		l.keep(make([]byte, 0, n), 3)
	}
	runtime.GC()
	if v, ok := l.take(func(b []byte) bool { return cap(b) >= 20 }); !ok || cap(v) != 64 {
		t.Fatalf("took %d bytes, %v; want the one of 64 (the one of 32 was not kept)", cap(v), ok)
	}
	if v, ok := l.take(nil); !ok || cap(v) != 16 {
		t.Fatalf("took %d bytes, %v; want the last kept, 16", cap(v), ok)
	}
	if _, ok := l.take(func(b []byte) bool { return cap(b) > 8 }); ok {
		t.Fatal("took a value that does not fit")
	}
	if v, ok := l.take(nil); !ok || cap(v) != 8 {
		t.Fatalf("took %d bytes, %v; want 8", cap(v), ok)
	}
	if _, ok := l.take(nil); ok {
		t.Fatal("took from an empty list")
	}
}
