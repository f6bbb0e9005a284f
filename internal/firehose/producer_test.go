package firehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
)

const stream = "listings"

// newTest returns a producer over f with a fake clock and the largest
// jitter (rand = 1), so backoff delays are their ceilings.
func newTest(t *testing.T, f *fakeFirehose, opts Options) (*Producer, *fakeClock) {
	t.Helper()
	opts.Stream = stream
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p, err := New(f, opts, WithClock(clock), WithRand(func() float64 { return 1 }))
	if err != nil {
		t.Fatal(err)
	}
	return p, clock
}

func addAll(t *testing.T, p *Producer, recs ...[]byte) {
	t.Helper()
	for _, r := range recs {
		if err := p.Add(context.Background(), r); err != nil {
			t.Fatalf("Add(%d bytes): %v", len(r), err)
		}
	}
}

func records(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = rec(i, size)
	}
	return out
}

func TestBatchLimits(t *testing.T) {
	const mib4 = 4 << 20
	tests := []struct {
		name      string
		sizes     []int // record sizes, in order
		wantCalls []int // records per call
		wantBytes []int // bytes per call
		// batchBytes is Options.BatchBytes: 0, Firehose's 4 MiB.
		batchBytes int
	}{
		{"500 records is one batch", repeat(500, 10), []int{500}, []int{5000}, 0},
		{"501 records is two", repeat(501, 10), []int{500, 1}, []int{5000, 10}, 0},
		{"1001 records is three", repeat(1001, 10), []int{500, 500, 1}, []int{5000, 5000, 10}, 0},
		{"exactly 4 MiB is one batch", repeat(8, mib4/8), []int{8}, []int{mib4}, 0},
		{"one byte over 4 MiB starts a second", append(repeat(8, mib4/8), 1), []int{8, 1}, []int{mib4, 1}, 0},
		{"bytes fill before records", append(repeat(4, 1_000_000), 194_304, 194_305), []int{5, 1}, []int{mib4, 194_305}, 0},
		{"record that would overflow moves whole", append(repeat(4, 1_000_000), 194_305), []int{4, 1}, []int{4_000_000, 194_305}, 0},
		{"500 records at the byte limit", repeat(500, mib4/500), []int{500}, []int{500 * (mib4 / 500)}, 0},
		// BatchBytes: a lower bound on a call's bytes.
		{"BatchBytes 1 MiB: exactly 1 MiB is one call", repeat(4, 1<<18), []int{4}, []int{1 << 20}, 1 << 20},
		{"BatchBytes 1 MiB: a byte over starts a second", append(repeat(4, 1<<18), 1), []int{4, 1}, []int{1 << 20, 1}, 1 << 20},
		{"BatchBytes 512 KiB: a record larger goes alone", []int{10, 1_000_000, 10, 10}, []int{1, 1, 2}, []int{10, 1_000_000, 20}, 512 << 10},
		{"BatchBytes over 4 MiB is 4 MiB", append(repeat(8, mib4/8), 1), []int{8, 1}, []int{mib4, 1}, 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{}
			p, _ := newTest(t, f, Options{BatchBytes: tt.batchBytes})
			for i, s := range tt.sizes {
				addAll(t, p, rec(i, s))
			}
			if err := p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := f.sizes(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("records per call = %v, want %v", got, tt.wantCalls)
			}
			if got := f.callBytes(); !slices.Equal(got, tt.wantBytes) {
				t.Errorf("bytes per call = %v, want %v", got, tt.wantBytes)
			}
			if p.Acked() != int64(len(tt.sizes)) {
				t.Errorf("Acked = %d, want %d", p.Acked(), len(tt.sizes))
			}
		})
	}
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

func TestOversizeRecordRejected(t *testing.T) {
	tests := []struct {
		name   string
		pack   bool
		data   []byte
		reject bool
	}{
		{"exactly 1,000 KiB", false, rec(0, MaxRecordBytes), false},
		{"one byte over", false, rec(0, MaxRecordBytes+1), true},
		{"packed: newline appended makes it over", true, rec(0, MaxRecordBytes), true},
		{"packed: fits with appended newline", true, rec(0, MaxRecordBytes-1), false},
		{"packed: own trailing newline", true, append(rec(0, MaxRecordBytes-1), '\n'), false},
		{"packed: inner newline", true, []byte("a\nb"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{}
			p, _ := newTest(t, f, Options{Pack: tt.pack})
			err := p.Add(context.Background(), tt.data)
			var re *RecordError
			if tt.reject != errors.As(err, &re) {
				t.Fatalf("Add = %v, want rejection %v", err, tt.reject)
			}
			if tt.reject && re.Reason == "" {
				t.Error("RecordError has no reason")
			}
			// The producer goes on after a rejection; a rejected record is
			// never sent and takes no sequence number.
			addAll(t, p, []byte("next"))
			if err := p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var sent int
			for _, c := range f.calls {
				sent += len(c)
			}
			want := map[bool]int64{true: 1, false: 2}[tt.reject]
			if p.Acked() != want || p.Added() != want {
				t.Errorf("Acked %d Added %d, want %d", p.Acked(), p.Added(), want)
			}
			if tt.reject && bytes.Contains([]byte(strings.Join(f.calls[0], "")), tt.data) {
				t.Error("rejected record was sent")
			}
			if !tt.pack && sent != int(want) {
				t.Errorf("sent %d records, want %d", sent, want)
			}
		})
	}
}

func TestPartialFailureResendsOnlyFailedEntries(t *testing.T) {
	f := &fakeFirehose{answer: func(call int, recs []string) (map[int]string, error) {
		switch call {
		case 0:
			return map[int]string{2: "ServiceUnavailableException", 5: "ServiceUnavailableException", 7: "InternalFailure"}, nil
		case 1:
			return map[int]string{1: "ServiceUnavailableException"}, nil // r5 again
		}
		return nil, nil
	}}
	m := metrics.New(&bytes.Buffer{})
	var acks []int64
	p, clock := newTest(t, f, Options{Metrics: m, OnAck: func(n int64) { acks = append(acks, n) }})
	recs := records(10, 16)
	addAll(t, p, recs...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		strs(recs...),
		strs(recs[2], recs[5], recs[7]),
		strs(recs[5]),
	}
	if !slices.EqualFunc(f.calls, want, slices.Equal) {
		t.Fatalf("calls:\n got %q\nwant %q", f.calls, want)
	}
	for _, r := range recs {
		if n := f.acked[string(r)]; n != 1 {
			t.Errorf("%s acknowledged %d times, want 1", r, n)
		}
	}
	if !slices.Equal(acks, []int64{10}) {
		t.Errorf("OnAck calls = %v, want [10]", acks)
	}
	if !slices.Equal(clock.delays, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}) {
		t.Errorf("backoff delays = %v", clock.delays)
	}
	d := metrics.Dim{Name: "Stream", Value: stream}
	for name, want := range map[string]float64{
		"FirehoseBatches": 3, "FirehoseRetries": 2, "FirehoseThrottled": 3,
		"FirehoseRecordsPut": 10, "FirehoseBytesPut": 160, "FirehoseFailed": 0,
	} {
		if got := m.Get(name, d); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func strs(b ...[]byte) []string {
	s := make([]string, len(b))
	for i := range b {
		s[i] = string(b[i])
	}
	return s
}

func TestRetriesExhaustedReportsUnacked(t *testing.T) {
	f := &fakeFirehose{answer: func(call int, recs []string) (map[int]string, error) {
		failed := map[int]string{}
		for i, r := range recs {
			if r == string(rec(3, 16)) {
				failed[i] = "ServiceUnavailableException"
			}
		}
		return failed, nil
	}}
	m := metrics.New(&bytes.Buffer{})
	var acks []int64
	p, _ := newTest(t, f, Options{MaxAttempts: 4, Metrics: m, OnAck: func(n int64) { acks = append(acks, n) }})
	recs := records(5, 16)
	addAll(t, p, recs...)
	err := p.Flush(context.Background())
	var pe *PutError
	if !errors.As(err, &pe) {
		t.Fatalf("Flush = %v, want *PutError", err)
	}
	if pe.Attempts != 4 || pe.Batch != 5 || pe.Sent != 5 || len(pe.Unacked) != 1 {
		t.Fatalf("PutError = %+v", pe)
	}
	u := pe.Unacked[0]
	if u.Seq != 3 || string(u.Data) != string(recs[3]) || u.ErrorCode != "ServiceUnavailableException" {
		t.Errorf("Unacked = %+v", u)
	}
	if !strings.Contains(err.Error(), "1 of 5 records not acknowledged") {
		t.Errorf("error does not say how many: %v", err)
	}
	// The prefix stops at the first unacknowledged record; those after it
	// were acknowledged once and never resent.
	if p.Acked() != 3 || !slices.Equal(acks, []int64{3}) {
		t.Errorf("Acked = %d, OnAck %v; want 3", p.Acked(), acks)
	}
	for i, r := range recs {
		if want := map[bool]int{true: 0, false: 1}[i == 3]; f.acked[string(r)] != want {
			t.Errorf("%s acknowledged %d times, want %d", r, f.acked[string(r)], want)
		}
	}
	for _, c := range f.calls[1:] {
		if !slices.Equal(c, strs(recs[3])) {
			t.Errorf("resent %q, want only %s", c, recs[3])
		}
	}
	if m.Get("FirehoseFailed", metrics.Dim{Name: "Stream", Value: stream}) != 1 {
		t.Error("FirehoseFailed not counted")
	}
	if err := p.Add(context.Background(), []byte("more")); !errors.Is(err, ErrStopped) {
		t.Errorf("Add after failure = %v, want ErrStopped", err)
	}
	if err := p.Flush(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Flush after failure = %v, want ErrStopped", err)
	}
}

// TestNoDuplicatesUnderRandomFailures fails random entries of every call and
// checks that each record is acknowledged exactly once and never sent again
// after that.
func TestNoDuplicatesUnderRandomFailures(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		f := &fakeFirehose{}
		f.answer = func(_ int, recs []string) (map[int]string, error) {
			for _, r := range recs {
				if f.acked[r] > 0 {
					t.Fatalf("seed %d: %s resent after acknowledgement", seed, r)
				}
			}
			failed := map[int]string{}
			for i := range recs {
				if rng.IntN(3) == 0 {
					failed[i] = "ServiceUnavailableException"
				}
			}
			return failed, nil
		}
		var lastAck int64
		p, _ := newTest(t, f, Options{MaxAttempts: 100, OnAck: func(n int64) {
			if n <= lastAck {
				t.Fatalf("OnAck went from %d to %d", lastAck, n)
			}
			lastAck = n
		}})
		recs := records(1234, 12)
		addAll(t, p, recs...)
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if f.acked[string(r)] != 1 {
				t.Fatalf("seed %d: %s acknowledged %d times", seed, r, f.acked[string(r)])
			}
		}
		if lastAck != 1234 {
			t.Fatalf("seed %d: last OnAck %d, want 1234", seed, lastAck)
		}
	}
}

func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "fake"}
}

func TestThrottledCallsBackOffUntilTheDeadline(t *testing.T) {
	f := &fakeFirehose{answer: func(int, []string) (map[int]string, error) {
		return nil, &types.ServiceUnavailableException{Message: new("slow down")}
	}}
	m := metrics.New(&bytes.Buffer{})
	p, clock := newTest(t, f, Options{Metrics: m, MaxAttempts: 100})
	// The real deadline is an hour away; the fake clock starts one second
	// before it, so only the producer's own deadline check can stop it.
	deadline := time.Now().Add(time.Hour)
	clock.now = deadline.Add(-time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	addAll(t, p, records(3, 10)...)
	err := p.Flush(ctx)
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush = %v, want ErrDeadline", err)
	}
	var sue *types.ServiceUnavailableException
	if !errors.As(err, &sue) {
		t.Errorf("last failure not kept in the chain: %v", err)
	}
	// 100+200+400 ms fit in the second; the next 800 ms would not.
	if !slices.Equal(clock.delays, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}) {
		t.Errorf("delays = %v", clock.delays)
	}
	var pe *PutError
	if !errors.As(err, &pe) || pe.Attempts != 4 || len(pe.Unacked) != 3 {
		t.Fatalf("PutError = %+v", pe)
	}
	if got := m.Get("FirehoseThrottled", metrics.Dim{Name: "Stream", Value: stream}); got != 12 {
		t.Errorf("FirehoseThrottled = %v, want 12 (3 records × 4 calls)", got)
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p, err := New(&fakeFirehose{}, Options{Stream: stream}, WithRand(func() float64 { return 0.5 }))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{50, 100, 200, 400, 800, 1600, 2500, 2500}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
}

func TestCancelledContextStopsTheWait(t *testing.T) {
	f := &fakeFirehose{answer: func(int, []string) (map[int]string, error) {
		return map[int]string{0: "ServiceUnavailableException"}, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := New(f, Options{Stream: stream, BaseDelay: time.Hour, MaxDelay: time.Hour},
		WithRand(func() float64 { return 1 }), WithClock(blockedClock{cancel}))
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, p, []byte("a"))
	if err := p.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush = %v, want context.Canceled", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("%d calls, want 1", len(f.calls))
	}
}

// blockedClock never fires; asking it to wait cancels the context.
type blockedClock struct{ cancel func() }

func (blockedClock) Now() time.Time { return time.Now() }
func (c blockedClock) After(time.Duration) <-chan time.Time {
	c.cancel()
	return nil
}

func TestWholeCallErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
		target    any
	}{
		{"missing stream", &types.ResourceNotFoundException{Message: new("no such stream")}, 1, new(*types.ResourceNotFoundException)},
		{"validation", &types.InvalidArgumentException{Message: new("bad")}, 1, new(*types.InvalidArgumentException)},
		{"access denied", apiError("AccessDeniedException"), 1, new(smithy.APIError)},
		{"throttled", &types.ServiceUnavailableException{}, 3, new(*types.ServiceUnavailableException)},
		{"throttling code", apiError("ThrottlingException"), 3, new(smithy.APIError)},
		{"HTTP 500", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}}, Err: errors.New("boom")}, 3, new(*smithyhttp.ResponseError)},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, 3, new(*net.OpError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeFirehose{answer: func(int, []string) (map[int]string, error) { return nil, tt.err }}
			p, _ := newTest(t, f, Options{MaxAttempts: 3})
			addAll(t, p, records(2, 10)...)
			err := p.Flush(context.Background())
			var pe *PutError
			if !errors.As(err, &pe) || len(pe.Unacked) != 2 || pe.Unacked[0].Seq != 0 {
				t.Fatalf("Flush = %v, want *PutError with 2 unacknowledged", err)
			}
			if !errors.As(err, tt.target) {
				t.Errorf("error chain lost the cause: %v", err)
			}
			if len(f.calls) != tt.wantCalls {
				t.Errorf("%d calls, want %d", len(f.calls), tt.wantCalls)
			}
		})
	}
}

func TestShortAnswerIsNotTrusted(t *testing.T) {
	f := &shortFirehose{}
	p, err := New(f, Options{Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	addAll(t, p, records(3, 10)...)
	var pe *PutError
	if err := p.Flush(context.Background()); !errors.As(err, &pe) || len(pe.Unacked) != 3 || f.calls != 1 {
		t.Fatalf("Flush = %v after %d calls, want 3 unacknowledged after 1 call", err, f.calls)
	}
}

type shortFirehose struct{ calls int }

func (f *shortFirehose) PutRecordBatch(context.Context, *firehose.PutRecordBatchInput, ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	f.calls++
	return &firehose.PutRecordBatchOutput{}, nil
}

func TestPacking(t *testing.T) {
	line := func(i int) []byte { return rec(i, 1023) } // 1,024 bytes with its newline
	t.Run("a packed record holds exactly 1,000 KiB", func(t *testing.T) {
		f := &fakeFirehose{}
		p, _ := newTest(t, f, Options{Pack: true})
		for i := range 1001 {
			addAll(t, p, line(i))
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.sizes(), []int{2}) || !slices.Equal(f.callBytes(), []int{MaxRecordBytes + 1024}) {
			t.Fatalf("calls %v bytes %v", f.sizes(), f.callBytes())
		}
		first := f.calls[0][0]
		if len(first) != MaxRecordBytes || strings.Count(first, "\n") != 1000 || !strings.HasSuffix(first, "\n") {
			t.Errorf("first packed record: %d bytes, %d lines", len(first), strings.Count(first, "\n"))
		}
		if f.calls[0][1] != string(line(1000))+"\n" {
			t.Errorf("second packed record = %.20q", f.calls[0][1])
		}
		if p.Acked() != 1001 {
			t.Errorf("Acked = %d, want 1001 (counted per original record)", p.Acked())
		}
	})
	t.Run("packed records fill a batch to exactly 4 MiB", func(t *testing.T) {
		f := &fakeFirehose{}
		p, _ := newTest(t, f, Options{Pack: true})
		for i := range 4200 {
			addAll(t, p, line(i))
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		// 4 full records of 1,000 lines, then 96 lines reach 4 MiB.
		if !slices.Equal(f.sizes(), []int{5, 1}) || !slices.Equal(f.callBytes(), []int{MaxBatchBytes, 104 * 1024}) {
			t.Fatalf("calls %v bytes %v", f.sizes(), f.callBytes())
		}
	})
	t.Run("500 packed records per batch", func(t *testing.T) {
		f := &fakeFirehose{}
		p, _ := newTest(t, f, Options{Pack: true})
		// 600 KB lines: each packed record holds one.
		for i := range 501 {
			addAll(t, p, rec(i, 600_000))
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, n := range f.sizes() {
			if n > MaxBatchRecords {
				t.Fatalf("a call held %d records", n)
			}
		}
		if got := f.callBytes(); got[0] > MaxBatchBytes {
			t.Fatalf("a call held %d bytes", got[0])
		}
	})
	t.Run("small records share one Firehose record", func(t *testing.T) {
		f := &fakeFirehose{}
		p, _ := newTest(t, f, Options{Pack: true})
		addAll(t, p, []byte(`{"a":1}`), []byte("{\"b\":2}\n"), []byte(`{"c":3}`))
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := [][]string{{"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"}}; !slices.EqualFunc(f.calls, want, slices.Equal) {
			t.Fatalf("calls = %q, want %q", f.calls, want)
		}
	})
	t.Run("a failed packed record reports each original", func(t *testing.T) {
		// The second packed record (lines 1000 to 1002) always fails.
		f := &fakeFirehose{answer: func(_ int, recs []string) (map[int]string, error) {
			return map[int]string{len(recs) - 1: "InternalFailure"}, nil
		}}
		var acks []int64
		p, _ := newTest(t, f, Options{Pack: true, MaxAttempts: 2, OnAck: func(n int64) { acks = append(acks, n) }})
		for i := range 1003 {
			addAll(t, p, line(i))
		}
		err := p.Flush(context.Background())
		var pe *PutError
		if !errors.As(err, &pe) || len(pe.Unacked) != 3 {
			t.Fatalf("Flush = %v, want 3 unacknowledged originals", err)
		}
		for k, u := range pe.Unacked {
			if u.Seq != int64(1000+k) || !bytes.Equal(u.Data, line(1000+k)) || u.ErrorCode != "InternalFailure" {
				t.Errorf("Unacked[%d] = seq %d %.12q %s", k, u.Seq, u.Data, u.ErrorCode)
			}
		}
		if !slices.Equal(acks, []int64{1000}) {
			t.Errorf("OnAck = %v, want [1000]", acks)
		}
	})
}

func TestRateLimitTokens(t *testing.T) {
	recs, bytesLim := &fakeLimiter{burst: 100}, &fakeLimiter{burst: 1000}
	f := &fakeFirehose{answer: func(call int, _ []string) (map[int]string, error) {
		if call == 0 {
			return map[int]string{0: "ServiceUnavailableException", 1: "ServiceUnavailableException"}, nil
		}
		return nil, nil
	}}
	p, _ := newTest(t, f, Options{Limit: &RateLimit{Records: recs, Bytes: bytesLim}})
	addAll(t, p, records(250, 10)...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 250 records, then the 2 resent: every record sent takes a token, in
	// steps no larger than the bucket.
	if !slices.Equal(recs.waits, []int{100, 100, 50, 2}) {
		t.Errorf("record tokens = %v", recs.waits)
	}
	if bytesLim.total() != 2520 || slices.Max(bytesLim.waits) > 1000 {
		t.Errorf("byte tokens = %v (total %d), want 2520 in steps ≤ 1000", bytesLim.waits, bytesLim.total())
	}
}

func TestPackedRecordsTakeOneRecordToken(t *testing.T) {
	recs := &fakeLimiter{burst: 1000}
	p, _ := newTest(t, &fakeFirehose{}, Options{Pack: true, Limit: &RateLimit{Records: recs}})
	addAll(t, p, records(300, 10)...)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs.waits, []int{1}) {
		t.Errorf("record tokens = %v, want [1]", recs.waits)
	}
}

func TestRateLimitWaitRespectsTheDeadline(t *testing.T) {
	f := &fakeFirehose{}
	// One record a second and a deadline well under the wait for five.
	p, err := New(f, Options{Stream: stream, Limit: NewRateLimit(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	addAll(t, p, records(5, 10)...)
	err = p.Flush(ctx)
	var pe *PutError
	if !errors.Is(err, ErrDeadline) || !errors.As(err, &pe) || pe.Attempts != 0 || len(pe.Unacked) != 5 {
		t.Fatalf("Flush = %v, want ErrDeadline with 5 unacknowledged and no call", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("%d calls made", len(f.calls))
	}
}

func TestNewRateLimit(t *testing.T) {
	if NewRateLimit(0, 0) != nil {
		t.Error("NewRateLimit(0, 0) should be nil: unlimited")
	}
	l := NewRateLimit(250.5, 0)
	if l.Records == nil || l.Records.Burst() != 251 || l.Bytes != nil {
		t.Errorf("NewRateLimit(250.5, 0) = %+v", l)
	}
	if l := NewRateLimit(0, 1<<20); l.Records != nil || l.Bytes.Burst() != 1<<20 {
		t.Errorf("NewRateLimit(0, 1MiB) = %+v", l)
	}
}

func TestNewNeedsAStream(t *testing.T) {
	if _, err := New(&fakeFirehose{}, Options{}); err == nil {
		t.Error("New without a stream succeeded")
	}
}

func TestEmptyFlushMakesNoCall(t *testing.T) {
	f := &fakeFirehose{}
	p, _ := newTest(t, f, Options{})
	if err := p.Flush(context.Background()); err != nil || len(f.calls) != 0 {
		t.Fatalf("Flush = %v with %d calls", err, len(f.calls))
	}
}

func TestNewRateLimitsSharesOnePerStream(t *testing.T) {
	limits := NewRateLimits(map[string]config.Stream{
		"listings": {RecordsPerSecond: 1000, BytesPerSecond: 1 << 20},
		"events":   {},
	})
	if len(limits) != 1 || limits["listings"] == nil || limits["listings"].Records.Burst() != 1000 || limits["listings"].Bytes.Burst() != 1<<20 {
		t.Fatalf("NewRateLimits = %v", limits)
	}
	if limits["events"] != nil {
		t.Error("a stream without limits got one")
	}
}

func TestCallCutShortByTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeFirehose{answer: func(int, []string) (map[int]string, error) {
		cancel() // the context ends while the call is in flight
		return nil, errors.New("request canceled")
	}}
	p, _ := newTest(t, f, Options{})
	addAll(t, p, records(2, 10)...)
	err := p.Flush(ctx)
	var pe *PutError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || len(pe.Unacked) != 2 || len(f.calls) != 1 {
		t.Fatalf("Flush = %v after %d calls, want context.Canceled with 2 unacknowledged after 1 call", err, len(f.calls))
	}
}

func TestRateLimitFailureOnRetryKeepsTheLastFailure(t *testing.T) {
	limiter := &fakeLimiter{burst: 100, err: errors.New("rate: Wait(n=1) would exceed context deadline"), failAt: 1}
	f := &fakeFirehose{answer: func(int, []string) (map[int]string, error) {
		return map[int]string{0: "ServiceUnavailableException"}, nil
	}}
	p, _ := newTest(t, f, Options{Limit: &RateLimit{Records: limiter}})
	addAll(t, p, records(3, 10)...)
	err := p.Flush(context.Background())
	var pe *PutError
	if !errors.Is(err, ErrDeadline) || !errors.As(err, &pe) || pe.Attempts != 1 || len(pe.Unacked) != 1 {
		t.Fatalf("Flush = %v, want ErrDeadline after 1 attempt with 1 unacknowledged", err)
	}
	if !strings.Contains(err.Error(), "ServiceUnavailableException") {
		t.Errorf("the last failure is missing: %v", err)
	}
}

func TestPutErrorRetryable(t *testing.T) {
	refused := &entryFailure{failed: 1, code: "ServiceUnavailableException"}
	tests := []struct {
		err  error
		want bool
	}{
		{refused, true},
		{&smithy.GenericAPIError{Code: "ServiceUnavailableException", Fault: smithy.FaultServer}, true},
		{&types.ResourceNotFoundException{Message: aws.String("no stream")}, false},
		{fmt.Errorf("%w (last failure: %w)", context.Canceled, refused), false},
		{ErrDeadline, false},
	}
	for _, tt := range tests {
		if got := (&PutError{Err: tt.err}).Retryable(); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestBufferGrowsByDoubling: a packing producer's buffer reaches a full
// batch in doublings, never above the batch limit, and keeps its memory
// for the next batch.
func TestBufferGrowsByDoubling(t *testing.T) {
	f := &fakeFirehose{}
	p, _ := newTest(t, f, Options{Pack: true})
	var caps []int
	for i := range 2 * MaxBatchBytes / 1024 {
		addAll(t, p, rec(i, 1023))
		if c := cap(p.buf); len(caps) == 0 || caps[len(caps)-1] != c {
			caps = append(caps, c)
		}
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if caps[len(caps)-1] != MaxBatchBytes {
		t.Fatalf("buffer grew to %d bytes, want the batch limit %d (every size: %v)", caps[len(caps)-1], MaxBatchBytes, caps)
	}
	if len(caps) > 11 {
		t.Fatalf("buffer grew %d times on the way to %d bytes: %v", len(caps), MaxBatchBytes, caps)
	}
	if got := f.callBytes(); len(got) != 2 || got[0]+got[1] != 2*MaxBatchBytes {
		t.Fatalf("calls of %v bytes, want two of the batch limit", got)
	}
}
