package localrun

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/report"
)

// TestRunSameOutputOnAnyCoreCount runs the same mixed input (several
// objects per format, several processor buffers per stream) on one core
// and on more, and checks the output folders are identical, file by file:
// splitting objects at once and transforming buffers at once must not
// change what is delivered, or where.
func TestRunSameOutputOnAnyCoreCount(t *testing.T) {
	cfg, reg := shipped(t)
	for name, s := range cfg.Streams {
		s.BufferSizeMB = 0.2       // several buffers per stream from a small input
		s.DeliveryBufferSizeMB = 1 // and several objects, of several buffers each
		cfg.Streams[name] = s
	}
	in := benchInput(t, 2<<20, 256<<10)
	// A few bad prices, far apart: each buffer of this object holds fewer
	// than the report's five samples, so which five it shows depends on
	// the order the buffers are counted in unless it keeps the first.
	var bad strings.Builder
	bad.WriteString("Shop Name,Address,Price,Listed,URL\n")
	var badLines []int64
	for i := 2; i <= 6000; i++ {
		price := fmt.Sprintf("%d.%02d", i%900, i%100)
		if i%600 == 0 {
			price, badLines = "call us", append(badLines, int64(i))
		}
		fmt.Fprintf(&bad, "Shop %d,%d High St,%s,2024-05-01,https://example.com/s/%d\n", i, i, price, i)
	}
	if err := os.WriteFile(filepath.Join(in, "listings", "sparse.csv"), []byte(bad.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(procs int) (string, Summary, *report.Report) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out := t.TempDir()
		now, ids := fixed()
		c := report.NewCollector()
		sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{in}, Out: out, Now: now, NewID: ids, Observer: c})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Conserved() || sum.Ok == 0 {
			t.Fatalf("GOMAXPROCS=%d: %+v", procs, sum)
		}
		return out, sum, c.Report()
	}
	one, sum1, report1 := run(1)
	if sum1.Files < 6 {
		t.Fatalf("only %d files delivered: the input should fill several destination buffers per stream", sum1.Files)
	}
	var samples []int64
	for _, s := range report1.Schemas {
		for _, f := range s.Fields {
			for _, smp := range f.Samples {
				if strings.HasSuffix(smp.Object, "/sparse.csv") {
					samples = append(samples, smp.Line)
				}
			}
		}
	}
	if !slices.Equal(samples, badLines[:5]) {
		t.Fatalf("the report's samples of sparse.csv are lines %v, want the first five bad ones, %v", samples, badLines[:5])
	}
	for _, procs := range []int{2, 4} {
		out, sum, rep := run(procs)
		if sum.Ok != sum1.Ok || sum.Files != sum1.Files || sum.RecordsIn != sum1.RecordsIn {
			t.Errorf("GOMAXPROCS=%d: %+v; on one core: %+v", procs, sum, sum1)
		}
		compareTree(t, out, one)
		if !reflect.DeepEqual(rep, report1) {
			t.Errorf("GOMAXPROCS=%d: the report differs from one core's:\n%+v\none core:\n%+v", procs, rep, report1)
		}
	}
}

// TestQueuedCallCopiedWhenTaken holds the hand-over between a split
// worker and the feeder: the worker's PutRecordBatch returns only once the
// feeder has copied the call, so the producer may then reuse its buffers,
// and no copy is made before the feeder takes the call.
func TestQueuedCallCopiedWhenTaken(t *testing.T) {
	c := &queueClient{q: make(objectQueue), ctx: context.Background(), taken: make(chan struct{})}
	for round := range 3 {
		buf := []byte("listing one")
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("listings"), Records: []types.Record{{Data: buf}}}
		returned := make(chan error, 1)
		go func() {
			_, err := c.PutRecordBatch(context.Background(), in)
			returned <- err
		}()
		qp := <-c.q
		select {
		case err := <-returned:
			t.Fatalf("round %d: PutRecordBatch returned (%v) before the feeder copied the call", round, err)
		default:
		}
		if &qp.in.Records[0].Data[0] != &buf[0] {
			t.Fatalf("round %d: the queue holds a copy already; it should hold the producer's call", round)
		}
		var c localfirehose.Copier
		got, _ := qp.take(&c)
		if err := <-returned; err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		copy(buf, "overwritten") // the producer reuses its buffer
		if string(got.Records[0].Data) != "listing one" || aws.ToString(got.DeliveryStreamName) != "listings" {
			t.Fatalf("round %d: the feeder's call holds %q for %q, want the records as put", round, got.Records[0].Data, aws.ToString(got.DeliveryStreamName))
		}
	}
}

// TestQueuedCallEndsWithTheRun: a worker waiting for the feeder returns
// when the run ends, without the feeder taking the call.
func TestQueuedCallEndsWithTheRun(t *testing.T) {
	run, cancel := context.WithCancelCause(context.Background())
	c := &queueClient{q: make(objectQueue), ctx: run, taken: make(chan struct{})}
	stop := errors.New("delivery fault")
	cancel(stop)
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("listings"), Records: []types.Record{{Data: []byte("x")}}}
	if _, err := c.PutRecordBatch(context.Background(), in); !errors.Is(err, stop) {
		t.Fatalf("PutRecordBatch after the run ended = %v, want the run's cause %v", err, stop)
	}
}

// TestWorkersBoundedByMemoryLimit holds a run's parallelism to its memory
// budget: under the soft limit `sluice run` sets, two transform
// invocations and one splitter at most, however many cores; a larger
// limit makes room for more, up to one per core; no limit, one per core.
func TestWorkersBoundedByMemoryLimit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, c := range []struct {
		limit           int64
		workers, splits int
	}{
		{MemoryLimit, 2, 1},
		{MemoryLimit / 2, 1, 1},
		{MemoryLimit + workerBytes - 1, 2, 1},
		{MemoryLimit + workerBytes, 3, 2},
		{MemoryLimit + 5*workerBytes, 7, 4},
		{MemoryLimit + 100*workerBytes, 8, 4},
		{math.MaxInt64, 8, 4},
	} {
		debug.SetMemoryLimit(c.limit)
		if got := transformWorkers(); got != c.workers {
			t.Errorf("limit %d, 8 cores: %d transform workers, want %d", c.limit, got, c.workers)
		}
		if got := splitWorkers(100); got != c.splits {
			t.Errorf("limit %d, 8 cores: %d split workers, want %d", c.limit, got, c.splits)
		}
	}
	debug.SetMemoryLimit(MemoryLimit)
	runtime.GOMAXPROCS(1)
	if w, s := transformWorkers(), splitWorkers(100); w != 1 || s != 1 {
		t.Errorf("one core: %d transform and %d split workers, want 1 and 1", w, s)
	}
	runtime.GOMAXPROCS(8)
	debug.SetMemoryLimit(math.MaxInt64)
	if got := splitWorkers(3); got != 3 {
		t.Errorf("3 objects: %d split workers, want 3", got)
	}
}

// TestDocumentPoolFromTheMemoryRoom: a run keeps large buffers idle for
// reuse only with room under its memory limit beyond its transform
// invocations: none at sluice run's limit on two cores or more, some on
// one core or without a limit.
func TestDocumentPoolFromTheMemoryRoom(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, c := range []struct {
		limit int64
		procs int
		want  int
	}{
		{MemoryLimit, 1, maxDocumentPool},
		{MemoryLimit, 2, 0},
		{MemoryLimit, 8, 0},
		{MemoryLimit / 2, 1, 0},
		{MemoryLimit + workerBytes, 2, maxDocumentPool},
		{math.MaxInt64, 8, maxDocumentPool},
	} {
		runtime.GOMAXPROCS(c.procs)
		debug.SetMemoryLimit(c.limit)
		if got := documentPool(); got != c.want {
			t.Errorf("limit %d, %d cores: a pool of %d bytes, want %d", c.limit, c.procs, got, c.want)
		}
	}
}
