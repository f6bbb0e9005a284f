package localfirehose

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/firehose"
)

// TestPutOwnedRecordBatchThenReleasesOnceDelivered: a call's release runs
// once, only when every one of its records is delivered, whether Ok or
// failed to the error prefix, and a call whose records span buffers waits
// for the last of them.
func TestPutOwnedRecordBatchThenReleasesOnceDelivered(t *testing.T) {
	// Every third record fails: it goes to the error prefix, delivered too.
	failSome := func(ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		r, _ := okNewline(ev)
		for i := range r.Records {
			if strings.HasSuffix(string(ev.Records[i].Data), "2") {
				r.Records[i] = firehose.ResponseRecord{RecordID: r.Records[i].RecordID, Result: firehose.ProcessingFailed, Data: ev.Records[i].Data}
			}
		}
		return r, nil
	}
	for _, opts := range [][]Option{nil, {WithPipeline(2)}} {
		// Buffers of 0.2 MB (209,715 bytes): the second call's records span two.
		h := newHarness(t, "streams:\n  listings: {buffer_size_mb: 0.2}\n", failSome, opts...)
		released := make([]int, 2)
		// delivered waits for the buffers cut so far, leaving the one
		// filling as it is.
		delivered := func() {
			if h.e.pipe != nil {
				if err := h.e.pipe.drain(); err != nil {
					t.Fatal(err)
				}
			}
		}
		call := func(n int, size int, tag string) {
			in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("listings")}
			for i := range 3 {
				in.Records = append(in.Records, types.Record{Data: []byte(strings.Repeat(tag, size) + string(rune('0'+i)))})
			}
			if err := h.e.PutOwnedRecordBatchThen(context.Background(), in, func() { released[n]++ }); err != nil {
				t.Fatal(err)
			}
		}
		call(0, 10, "a") // small: waits in the buffer
		delivered()
		if released[0] != 0 {
			t.Fatalf("options %d: released before its records were delivered", len(opts))
		}
		call(1, 105_000, "b") // fills the buffer: the first two of its records go with the first call's
		delivered()
		if released[0] != 1 || released[1] != 0 {
			t.Fatalf("options %d: released %v after the first buffer; want the first call's once and not the second's, whose last record waits", len(opts), released)
		}
		if err := h.e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if released[0] != 1 || released[1] != 1 {
			t.Fatalf("options %d: released %v after every record was delivered, want each once", len(opts), released)
		}
		if st := h.e.Stats().Total(); st.RecordsIn != 6 || st.Ok != 4 || st.Failed != 2 {
			t.Fatalf("options %d: stats %+v", len(opts), st)
		}
	}
}

// TestCopierReusesReleasedMemory: a copy is the records' bytes; a call of
// about the same size is copied into the memory of one released before it,
// never into that of one still in use.
func TestCopierReusesReleasedMemory(t *testing.T) {
	records := func(tag string, n int) []types.Record {
		var rs []types.Record
		for i := range n {
			rs = append(rs, types.Record{Data: []byte(strings.Repeat(tag, 300) + string(rune('0'+i%10)))})
		}
		return rs
	}
	// The slice Copy returns is reused by the next Copy; the records'
	// data is what the emulator keeps.
	data := func(rs []types.Record) [][]byte {
		var d [][]byte
		for _, r := range rs {
			d = append(d, r.Data)
		}
		return d
	}
	var c Copier
	got, releaseFirst := c.Copy(records("a", 500))
	first := data(got)
	got, _ = c.Copy(records("b", 490)) // the first is not released: new memory
	second := data(got)
	if &first[0][0] == &second[0][0] {
		t.Fatal("a call was copied into memory still in use")
	}
	releaseFirst()
	got, _ = c.Copy(records("c", 495))
	third := data(got)
	if &third[0][0] != &first[0][0] {
		t.Fatal("a call of about the same size was not copied into the released memory")
	}
	for i, d := range third {
		if want := strings.Repeat("c", 300) + string(rune('0'+i%10)); string(d) != want || cap(d) != len(d) {
			t.Fatalf("record %d = %q (cap %d), want %q with no room after it", i, d, cap(d), want)
		}
	}
	for _, d := range second {
		if d[0] != 'b' {
			t.Fatal("a call in use was written over")
		}
	}
}

// TestCopierLargeRecords: without Large a call's large records (packed
// records) are copied each into memory of its own, as CopyRecords does;
// with it they share one slab, reused once released, and the Copier keeps
// no more than Large's Most bytes of them.
func TestCopierLargeRecords(t *testing.T) {
	call := func(tag byte) []types.Record {
		return []types.Record{
			{Data: bytes.Repeat([]byte{tag}, ownCopyBytes+10)},
			{Data: []byte("small")},
			{Data: bytes.Repeat([]byte{tag}, 2*ownCopyBytes)},
		}
	}
	check := func(got []types.Record, tag byte) {
		t.Helper()
		want := call(tag)
		for i := range want {
			if !bytes.Equal(got[i].Data, want[i].Data) || cap(got[i].Data) != len(got[i].Data) {
				t.Fatalf("record %d: %d bytes (cap %d), want %d bytes of %q with no room after", i, len(got[i].Data), cap(got[i].Data), len(want[i].Data), tag)
			}
		}
	}
	var plain Copier
	got, release := plain.Copy(call('a'))
	check(got, 'a')
	first := &got[0].Data[0]
	if unsafe.Add(unsafe.Pointer(first), ownCopyBytes+10) == unsafe.Pointer(&got[2].Data[0]) {
		t.Fatal("without Large, large records share memory")
	}
	release()
	if got, _ = plain.Copy(call('b')); &got[0].Data[0] == first {
		t.Fatal("without Large, a large record's memory was reused")
	}

	pooled := Copier{Large: &firehose.BufferPool{Most: 1 << 20}}
	got, release = pooled.Copy(call('c'))
	check(got, 'c')
	first = &got[0].Data[0]
	if unsafe.Add(unsafe.Pointer(first), ownCopyBytes+10) != unsafe.Pointer(&got[2].Data[0]) {
		t.Fatal("with Large, a call's large records are not in one slab")
	}
	got, _ = pooled.Copy(call('d')) // the first is not released: new memory
	check(got, 'd')
	if &got[0].Data[0] == first {
		t.Fatal("a call's large records were copied into memory still in use")
	}
	release()
	got, _ = pooled.Copy(call('e'))
	check(got, 'e')
	if &got[0].Data[0] != first {
		t.Fatal("a released slab of large records was not reused")
	}
	tight := Copier{Large: &firehose.BufferPool{Most: ownCopyBytes}} // less than one call's slab
	_, release = tight.Copy(call('f'))
	release()
	if b := tight.Large.TakeFit(0); b != nil {
		t.Fatalf("a Copier keeps a slab of %d bytes over its pool's %d", cap(b), ownCopyBytes)
	}
}
