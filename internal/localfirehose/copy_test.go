package localfirehose

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// CopyRecords keeps what the records held when the caller reuses its
// buffers, and a large record's copy shares its memory with no other.
func TestCopyRecords(t *testing.T) {
	big := bytes.Repeat([]byte("p"), ownCopyBytes)
	in := []types.Record{{Data: []byte("a")}, {Data: big}, {Data: nil}, {Data: []byte("bc")}, {Data: bytes.Repeat([]byte("q"), ownCopyBytes+1)}}
	want := make([][]byte, len(in))
	for i, r := range in {
		want[i] = bytes.Clone(r.Data)
	}
	out := CopyRecords(in)
	for _, r := range in {
		for j := range r.Data {
			r.Data[j] = 'z' // the producer reuses its buffer
		}
	}
	for i, r := range out {
		if !bytes.Equal(r.Data, want[i]) {
			t.Fatalf("record %d: %q, want %q", i, r.Data, want[i])
		}
	}
	// Small records share one allocation, cut to their own length and
	// capacity; each large one has its own.
	if cap(out[0].Data) != 1 || cap(out[3].Data) != 2 || unsafe.Add(unsafe.Pointer(&out[0].Data[0]), 1) != unsafe.Pointer(&out[3].Data[0]) {
		t.Fatalf("small records not cut from one allocation: caps %d %d", cap(out[0].Data), cap(out[3].Data))
	}
	slab := uintptr(unsafe.Pointer(&out[0].Data[0]))
	for _, i := range []int{1, 4} {
		if p := uintptr(unsafe.Pointer(&out[i].Data[0])); p >= slab && p <= slab+3 {
			t.Fatalf("large record %d copied into the small records' allocation", i)
		}
	}
}
