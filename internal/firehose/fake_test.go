package firehose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// fakeFirehose records every call and answers through answer (all
// acknowledged when nil). It also counts, per record, how often Firehose
// acknowledged it: anything above 1 is a duplicate sent by sluice.
type fakeFirehose struct {
	calls  [][]string
	acked  map[string]int
	answer func(call int, recs []string) (failed map[int]string, err error)
}

func (f *fakeFirehose) PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	recs := make([]string, len(in.Records))
	for i, r := range in.Records {
		recs[i] = string(r.Data)
	}
	f.calls = append(f.calls, recs)
	var failed map[int]string
	if f.answer != nil {
		var err error
		if failed, err = f.answer(len(f.calls)-1, recs); err != nil {
			return nil, err
		}
	}
	if f.acked == nil {
		f.acked = map[string]int{}
	}
	out := &firehose.PutRecordBatchOutput{RequestResponses: make([]types.PutRecordBatchResponseEntry, len(recs))}
	for i, r := range recs {
		if code, ok := failed[i]; ok {
			out.RequestResponses[i] = types.PutRecordBatchResponseEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("fake " + code)}
			continue
		}
		out.RequestResponses[i].RecordId = aws.String(fmt.Sprint(len(f.calls), "-", i))
		f.acked[r]++
	}
	out.FailedPutCount = aws.Int32(int32(len(failed)))
	return out, nil
}

// sizes returns the number of records of each call.
func (f *fakeFirehose) sizes() []int {
	n := make([]int, len(f.calls))
	for i, c := range f.calls {
		n[i] = len(c)
	}
	return n
}

// callBytes returns the data bytes of each call.
func (f *fakeFirehose) callBytes() []int {
	n := make([]int, len(f.calls))
	for i, c := range f.calls {
		for _, r := range c {
			n[i] += len(r)
		}
	}
	return n
}

// fakeClock jumps forward by every delay asked of it, at once.
type fakeClock struct {
	now    time.Time
	delays []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.delays = append(c.delays, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// fakeLimiter hands out tokens without waiting and counts them.
type fakeLimiter struct {
	burst int
	waits []int
	// err is returned from the failAt-th wait on (counting from 0).
	err    error
	failAt int
}

func (l *fakeLimiter) WaitN(_ context.Context, n int) error {
	if l.err != nil && len(l.waits) >= l.failAt {
		return l.err
	}
	l.waits = append(l.waits, n)
	return nil
}

func (l *fakeLimiter) Burst() int { return l.burst }

func (l *fakeLimiter) total() int {
	t := 0
	for _, n := range l.waits {
		t += n
	}
	return t
}

// rec is the test record i, padded to size bytes.
func rec(i, size int) []byte {
	s := fmt.Sprintf("r%07d", i)
	if size > len(s) {
		s += strings.Repeat("x", size-len(s))
	}
	return []byte(s[:max(size, 0)])
}
