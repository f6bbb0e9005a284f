package splitter

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/splitter/splittertest"
)

// repeatReader yields chunk again and again up to size bytes: a big object
// that never sits in memory.
type repeatReader struct {
	chunk []byte
	left  int64
	pos   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunk[r.pos:])
	if int64(n) > r.left {
		n = int(r.left)
	}
	r.pos = (r.pos + n) % len(r.chunk)
	r.left -= int64(n)
	return n, nil
}

// generated serves one generated object of size bytes made of chunk.
type generated struct {
	chunk []byte
	size  int64
}

func (g generated) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(&repeatReader{chunk: g.chunk, left: g.size}), ContentLength: aws.Int64(g.size)}, nil
}

// discardFirehose takes every batch whole and keeps nothing. It answers one
// entry per record, as Firehose does.
type discardFirehose struct {
	calls   int
	entries []fhtypes.PutRecordBatchResponseEntry
}

func (d *discardFirehose) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	d.calls++
	for len(d.entries) < len(in.Records) {
		d.entries = append(d.entries, fhtypes.PutRecordBatchResponseEntry{RecordId: aws.String("id")})
	}
	return &firehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: d.entries[:len(in.Records)]}, nil
}

// csvLikeChunk is about 1 MiB of ~120-byte lines that end where the chunk
// ends, so repeating it keeps lines whole.
func csvLikeChunk() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%d,2026-11-20T09:14:03Z,listing-%d,Berlin,DE,52.5200,13.4050,1450.00,EUR,apartment,3,84.5\n", i, i*7)
	}
	return b.Bytes()
}

func benchHandler(b *testing.B, getter GetObjectAPI, sink Sink) *Handler {
	cfg, err := config.Parse("sluice.yaml", []byte(testYAML))
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(cfg, getter, sink, WithFormats(splittertest.OpenFormat), WithDeadLetters(WriterDeadLetters{W: io.Discard}),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkSplitThroughput is the splitter's own cost per input byte on one
// core with a Firehose client that discards: reading, envelopes, ids, checkpoint
// bookkeeping (the test's line format stands in for the real ones).
func BenchmarkSplitThroughput(b *testing.B) {
	chunk := csvLikeChunk()
	const size = 64 << 20
	sink := NewFirehoseSink(&discardFirehose{})
	h := benchHandler(b, generated{chunk: chunk, size: size}, sink)
	b.SetBytes(size)
	b.ReportAllocs()
	var records int64
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; b.Loop(); i++ {
		// A new ETag per run: a finished object would be skipped.
		o := Object{Bucket: "b", Key: "listings/big.txt", ETag: strconv.Itoa(i)}
		res, err := h.Split(context.Background(), o, nil)
		if err != nil || res.Status != StatusDone {
			b.Fatalf("%+v %v", res, err)
		}
		records += res.Sent
	}
	b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
	// Throughput per CPU second (GC included): what one core does, even on
	// a busy machine where wall-clock MB/s understates it.
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu/1e6, "MB/cpu-s")
	}
}

// BenchmarkSplitPeakMemory splits a generated object (SPLIT_BENCH_BYTES,
// default 1 GiB) streamed from a generator, plain and as multi-member
// gzip, and reports the peak heap and the process's peak RSS.
func BenchmarkSplitPeakMemory(b *testing.B) {
	size := int64(1 << 30)
	if s := os.Getenv("SPLIT_BENCH_BYTES"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	chunk := csvLikeChunk()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(chunk)
	w.Close()
	members := size / int64(len(chunk))
	for _, tc := range []struct {
		name string
		g    generated
	}{
		{"plain", generated{chunk: chunk, size: size}},
		{"gzip", generated{chunk: gz.Bytes(), size: members * int64(gz.Len())}}, // one member per chunk
	} {
		b.Run(tc.name, func(b *testing.B) {
			sink := NewFirehoseSink(&discardFirehose{})
			h := benchHandler(b, tc.g, sink)
			runtime.GC()
			peak := watchHeap()
			for i := 0; b.Loop(); i++ {
				res, err := h.Split(context.Background(), Object{Bucket: "b", Key: "listings/huge.txt", ETag: strconv.Itoa(i)}, nil)
				if err != nil || res.Status != StatusDone || res.DeadLettered != 0 {
					b.Fatalf("%+v %v", res, err)
				}
			}
			heap := peak()
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			}
			b.ReportMetric(float64(size)/(1<<20), "input-MiB")
		})
	}
}

// watchHeap samples the heap in use until the returned func is called,
// which returns the peak.
func watchHeap() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse+ms.StackInuse)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
