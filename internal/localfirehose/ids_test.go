package localfirehose

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// formatRecordID and formatPutRecordID spell the ids the plain way; the
// emulator's writers must give the same text.
func formatRecordID(seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	return "49" + strings.Repeat("0", 54-len(s)) + s
}

func formatPutRecordID(stream string, seq uint64) string {
	return fmt.Sprintf("%s-%016x", stream, seq)
}

func recordIDOf(seq uint64) string {
	var b strings.Builder
	appendRecordID(&b, seq)
	return b.String()
}

func putRecordIDOf(stream string, seq uint64) string {
	var b strings.Builder
	appendPutRecordID(&b, stream, seq)
	return b.String()
}

func TestRecordIDText(t *testing.T) {
	if got, want := recordIDOf(7), "49"+strings.Repeat("0", 53)+"7"; got != want {
		t.Fatalf("record id of 7: %q, want %q", got, want)
	}
	if got := putRecordIDOf("s", 255); got != "s-00000000000000ff" {
		t.Fatalf("put record id of 255: %q", got)
	}
	for _, seq := range []uint64{0, 1, 9, 10, 255, 1 << 32, math.MaxInt64, math.MaxUint64} {
		if got, want := recordIDOf(seq), formatRecordID(seq); got != want || len(got) != recordIDLen {
			t.Errorf("record id of %d: %q, want %q", seq, got, want)
		}
		if got, want := putRecordIDOf("page_views", seq), formatPutRecordID("page_views", seq); got != want || len(got) != putRecordIDLen("page_views") {
			t.Errorf("put record id of %d: %q, want %q", seq, got, want)
		}
	}
}

func FuzzRecordIDs(f *testing.F) {
	f.Add("listings", uint64(1))
	f.Add("", uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, stream string, seq uint64) {
		if got, want := recordIDOf(seq), formatRecordID(seq); got != want {
			t.Fatalf("record id of %d: %q, want %q", seq, got, want)
		}
		if got, want := putRecordIDOf(stream, seq), formatPutRecordID(stream, seq); got != want {
			t.Fatalf("put record id of %q %d: %q, want %q", stream, seq, got, want)
		}
	})
}

// Every record of a stream gets the next sequence number, whether its
// call cut a batch in the middle or not: the processor sees it as its
// record id and PutRecordBatch answers with it, each spelt its own way.
func TestRecordIDsFollowTheSequence(t *testing.T) {
	h := newHarness(t, "streams:\n  a: {buffer_size_mb: 0.2}\n  b: {}\n", okNewline)
	ctx := context.Background()
	next := map[string]uint64{}
	for call, n := range []int{3, 500, 500, 1, 499} {
		for _, stream := range []string{"a", "b"} {
			in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
			for range n {
				in.Records = append(in.Records, types.Record{Data: []byte(strings.Repeat("d", 1000))})
			}
			out, err := h.e.PutRecordBatch(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range out.RequestResponses {
				next[stream]++
				if r.RecordId == nil || *r.RecordId != formatPutRecordID(stream, next[stream]) {
					t.Fatalf("call %d, stream %s, record %d: id %v, want %s", call, stream, i, r.RecordId, formatPutRecordID(stream, next[stream]))
				}
			}
		}
	}
	if err := h.e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	for _, ev := range h.events {
		stream := ev.DeliveryStreamArn[strings.LastIndexByte(ev.DeliveryStreamArn, '/')+1:]
		for _, r := range ev.Records {
			seen[stream]++
			if want := formatRecordID(seen[stream]); r.RecordID != want {
				t.Fatalf("stream %s: record id %s, want %s", stream, r.RecordID, want)
			}
		}
	}
	if seen["a"] != next["a"] || seen["b"] != next["b"] || len(h.events) < 5 {
		t.Fatalf("processed %v of %v in %d invocations", seen, next, len(h.events))
	}
}
