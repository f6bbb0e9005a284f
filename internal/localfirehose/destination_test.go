package localfirehose

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
)

// destinationEmulator is one stream "a" with a 0.2 MB processor buffer
// and a 1 MiB destination buffer, on a fixed clock, writing to out.
func destinationEmulator(t *testing.T, out Writer, opts ...Option) *Emulator {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  a: {buffer_size_mb: 0.2, delivery_buffer_size_mb: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: t0}
	e, err := New(cfg, func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		return okNewline(ev)
	}, out, append([]Option{WithClock(clock.now), WithIDs(counterIDs())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// putNumbered puts calls calls of 20 records of about 5,000 bytes, each
// starting with its number, and returns every record's data with the
// newline the processor adds, in order.
func putNumbered(t *testing.T, e *Emulator, calls int) []byte {
	t.Helper()
	var all []byte
	for i := range calls {
		in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("a")}
		for j := range 20 {
			d := fmt.Appendf(nil, "%d-%d-%s", i, j, strings.Repeat("d", 5000))
			in.Records = append(in.Records, types.Record{Data: d})
			all = append(append(all, d...), '\n')
		}
		if _, err := e.PutRecordBatch(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

// TestDestinationObjectsFillToTheSizeHint: 3 MB through a 1 MiB
// destination buffer, in batches of about 0.2 MB, make objects of 1 MiB
// to 1 MiB and a batch (the last one less), holding the records in the
// order they were put, on one worker or several.
func TestDestinationObjectsFillToTheSizeHint(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithPipeline(1)}, {WithPipeline(4)}} {
		out := &Memory{}
		e := destinationEmulator(t, out, opts...)
		want := putNumbered(t, e, 30)
		if err := e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := e.Stats().Total()
		keys := out.Keys() // one clock reading: in the order of their ids
		if len(keys) != 3 || st.Files != 3 || st.BytesOut != int64(len(want)) || st.Invocations < 10 {
			t.Fatalf("%d objects %q, stats %+v", len(keys), keys, st)
		}
		var got []byte
		for i, k := range keys {
			n := len(out.Objects[k])
			if i < len(keys)-1 && (n < 1<<20 || n > 1<<20+220_000) {
				t.Errorf("object %d holds %d bytes, want 1 MiB to 1 MiB and a batch", i, n)
			}
			got = append(got, out.Objects[k]...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("the objects, in order, do not hold the records as put")
		}
	}
}

// TestDestinationPartsLeaveNothingBehind: in a folder, an object being
// filled is a hidden file until it is written; a stopped emulator removes
// it, a closed one moves it under its key.
func TestDestinationPartsLeaveNothingBehind(t *testing.T) {
	files := func(dir string) (partial, objects []string) {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if strings.HasPrefix(d.Name(), ".partial-") {
					partial = append(partial, p)
				} else {
					objects = append(objects, p)
				}
			}
			return err
		})
		return partial, objects
	}

	dir := t.TempDir()
	e := destinationEmulator(t, Dir(dir), WithPipeline(2))
	putNumbered(t, e, 3) // 0.3 MB: in the destination buffer, not yet written
	if err := e.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if partial, objects := files(dir); len(partial) != 0 || len(objects) != 1 {
		t.Fatalf("after a drain: partial files %q, objects %q; want one object", partial, objects)
	}
	putNumbered(t, e, 3)
	e.Stop()
	if partial, objects := files(dir); len(partial) != 0 || len(objects) != 1 {
		t.Fatalf("after a stop: partial files %q, objects %q; want the drained object only", partial, objects)
	}

	dir = t.TempDir()
	e = destinationEmulator(t, Dir(dir))
	want := putNumbered(t, e, 16) // 1.6 MB: one object written, the next one filling
	if partial, objects := files(dir); len(partial) != 1 || len(objects) != 1 {
		t.Fatalf("while filling: partial files %q, objects %q; want one of each", partial, objects)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	partial, objects := files(dir)
	if len(partial) != 0 || len(objects) != 2 {
		t.Fatalf("after close: partial files %q, objects %q", partial, objects)
	}
	slices.Sort(objects)
	var got []byte
	for _, p := range objects {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the objects do not hold the records as put")
	}
}
