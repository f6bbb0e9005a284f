package splitter

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// Sink delivers records into Firehose delivery streams. The splitter
// checkpoints from what it reports as acknowledged, so the counts must be
// exact:
//
//   - Records are numbered in Put order from the last Flush (or the Sink's
//     creation). Put and Flush return acked: records 0..acked-1 of that run
//     are acknowledged by Firehose (a prefix, even if later records were
//     acknowledged out of order).
//   - Put may send and wait (a full batch, a rate limit). It owns data
//     after the call; the splitter does not reuse it.
//   - Flush sends every queued record, waits, and starts a new run. On
//     error, the records past acked are abandoned: never sent later.
//   - An error from either is systemic (the API is unreachable after
//     retries, or ctx ended): the object is retried from its checkpoint.
type Sink interface {
	Put(ctx context.Context, stream string, data []byte) (acked int64, err error)
	Flush(ctx context.Context) (acked int64, err error)
}

// PutRecordBatchAPI is the Firehose call FirehoseSink needs.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, opts ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// Firehose's PutRecordBatch limits.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 4 << 20
)

// FirehoseSink is a plain PutRecordBatch Sink: batches of at most 500
// records and 4 MiB in Put order, one stream at a time, resending only the
// entries that failed, with exponential backoff and jitter bounded by ctx.
// It does no rate limiting or packing.
type FirehoseSink struct {
	client PutRecordBatchAPI
	// MaxAttempts bounds the calls for one batch. Default: 8.
	MaxAttempts int
	// BaseDelay is the first backoff. Default: 100ms.
	BaseDelay time.Duration

	stream  string
	batch   [][]byte
	bytes   int
	acked   int64
	attempt func(ctx context.Context, d time.Duration) error
}

// NewFirehoseSink returns a Sink on client.
func NewFirehoseSink(client PutRecordBatchAPI) *FirehoseSink {
	return &FirehoseSink{client: client, MaxAttempts: 8, BaseDelay: 100 * time.Millisecond, attempt: wait}
}

// Put implements Sink.
func (s *FirehoseSink) Put(ctx context.Context, stream string, data []byte) (int64, error) {
	if len(s.batch) > 0 && (stream != s.stream || len(s.batch) == maxBatchRecords || s.bytes+len(data) > maxBatchBytes) {
		if err := s.send(ctx); err != nil {
			return s.acked, err
		}
	}
	s.stream = stream
	s.batch = append(s.batch, data)
	s.bytes += len(data)
	return s.acked, nil
}

// Flush implements Sink.
func (s *FirehoseSink) Flush(ctx context.Context) (int64, error) {
	var err error
	if len(s.batch) > 0 {
		err = s.send(ctx)
	}
	acked := s.acked
	s.acked, s.batch, s.bytes = 0, s.batch[:0], 0
	return acked, err
}

// PutBatchError is a batch Firehose did not take whole after every attempt.
type PutBatchError struct {
	Stream   string
	Failed   int    // entries still failing
	LastCode string // the last entry error code, e.g. ServiceUnavailableException
	Err      error  // the last call error, if the call itself failed
}

func (e *PutBatchError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("splitter: PutRecordBatch to %s: %v", e.Stream, e.Err)
	}
	return fmt.Sprintf("splitter: PutRecordBatch to %s: %d records still failing (%s)", e.Stream, e.Failed, e.LastCode)
}

func (e *PutBatchError) Unwrap() error { return e.Err }

// send puts the batch, resending only failed entries. acked advances only
// over a fully acknowledged batch, so it stays a prefix; a batch that fails
// is abandoned.
func (s *FirehoseSink) send(ctx context.Context) error {
	defer func() { s.batch, s.bytes = s.batch[:0], 0 }()
	pending := make([]int, len(s.batch)) // indexes into s.batch still to send
	for i := range pending {
		pending[i] = i
	}
	var lastErr error
	var lastCode string
	for attempt := 0; attempt < s.MaxAttempts; attempt++ {
		if attempt > 0 {
			d := s.BaseDelay << (attempt - 1)
			d = d/2 + rand.N(d/2+1) // jitter
			if err := s.attempt(ctx, d); err != nil {
				return &PutBatchError{Stream: s.stream, Failed: len(pending), LastCode: lastCode, Err: err}
			}
		}
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(s.stream), Records: make([]types.Record, len(pending))}
		for i, p := range pending {
			in.Records[i] = types.Record{Data: s.batch[p]}
		}
		out, err := s.client.PutRecordBatch(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				return &PutBatchError{Stream: s.stream, Failed: len(pending), Err: err}
			}
			lastErr = err
			continue
		}
		lastErr = nil
		if aws.ToInt32(out.FailedPutCount) == 0 {
			pending = pending[:0]
			break
		}
		still := pending[:0]
		for i, r := range out.RequestResponses {
			if r.ErrorCode != nil {
				still = append(still, pending[i])
				lastCode = aws.ToString(r.ErrorCode)
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
	}
	if len(pending) > 0 {
		return &PutBatchError{Stream: s.stream, Failed: len(pending), LastCode: lastCode, Err: lastErr}
	}
	s.acked += int64(len(s.batch))
	return nil
}

// wait waits d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("splitter: backoff: %w", ctx.Err())
	}
}

// WriterSink writes each record as a line to W and acknowledges it at once
// (the CLI's stdout).
type WriterSink struct {
	W     io.Writer
	acked int64
}

// Put implements Sink.
func (s *WriterSink) Put(_ context.Context, _ string, data []byte) (int64, error) {
	if _, err := s.W.Write(append(data, '\n')); err != nil {
		return s.acked, fmt.Errorf("splitter: write: %w", err)
	}
	s.acked++
	return s.acked, nil
}

// Flush implements Sink.
func (s *WriterSink) Flush(context.Context) (int64, error) {
	n := s.acked
	s.acked = 0
	return n, nil
}
