package splitter

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	sfirehose "github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Sink delivers records into Firehose delivery streams. The splitter
// checkpoints from what it reports as acknowledged, so the counts must be
// exact:
//
//   - Records are numbered in Put order from the last Flush (or the Sink's
//     creation). Put and Flush return acked: records 0..acked-1 of that run
//     are acknowledged by Firehose (a prefix, even if later records were
//     acknowledged out of order).
//   - Put may send and wait (a full batch, a rate limit). It must not keep
//     data after it returns (copy it): the splitter reuses the buffer.
//   - Flush sends every queued record, waits, and starts a new run. On
//     error, the records past acked are abandoned: never sent later.
//   - An error from either is systemic (the API is unreachable after
//     retries, or ctx ended): the object is retried from its checkpoint.
type Sink interface {
	Put(ctx context.Context, stream string, data []byte) (acked int64, err error)
	Flush(ctx context.Context) (acked int64, err error)
}

// PutRecordBatchAPI is the Firehose call FirehoseSink needs.
type PutRecordBatchAPI = sfirehose.PutRecordBatchAPI

// FirehoseSink puts records into Firehose with internal/firehose's
// Producer: batches of at most 500 records and 4 MiB, only refused entries
// resent with jittered backoff bounded by ctx, each stream's rate limit and
// packing from sluice.yaml. Records for one stream go through one Producer;
// a record for another stream first flushes it, so acknowledgements stay a
// prefix in Put order.
type FirehoseSink struct {
	client  PutRecordBatchAPI
	streams map[string]config.Stream
	limits  map[string]*sfirehose.RateLimit
	metrics *metrics.Set
	clock   sfirehose.Clock
	// batchBytes bounds a call's data (WithBatchBytes); 0 is Firehose's.
	batchBytes int

	// MaxAttempts bounds the calls for one batch. Default: 8.
	MaxAttempts int
	// BaseDelay is the first backoff. Default: 100ms.
	BaseDelay time.Duration

	// One producer per stream, kept between runs so its buffers are reused.
	producers map[string]*sfirehose.Producer
	cur       *sfirehose.Producer
	curStream string
	curBase   int64 // cur.Acked() when it joined this run
	done      int64 // records of this run acknowledged by earlier producers
}

// SinkOption configures a FirehoseSink.
type SinkOption func(*FirehoseSink)

// WithStreams applies each stream's rate limit and packing.
func WithStreams(streams map[string]config.Stream) SinkOption {
	return func(s *FirehoseSink) {
		s.streams = streams
		s.limits = sfirehose.NewRateLimits(streams)
	}
}

// WithBatchBytes bounds the data bytes of one PutRecordBatch call below
// Firehose's 4 MiB: for a client that holds each call in memory until its
// records are delivered (sluice run's in-process Firehose).
func WithBatchBytes(n int) SinkOption { return func(s *FirehoseSink) { s.batchBytes = n } }

// WithSinkMetrics counts what is put, by stream.
func WithSinkMetrics(m *metrics.Set) SinkOption { return func(s *FirehoseSink) { s.metrics = m } }

// WithSinkClock replaces the clock backoff waits on (tests).
func WithSinkClock(c sfirehose.Clock) SinkOption { return func(s *FirehoseSink) { s.clock = c } }

// NewFirehoseSink returns a Sink on client.
func NewFirehoseSink(client PutRecordBatchAPI, opts ...SinkOption) *FirehoseSink {
	s := &FirehoseSink{client: client, producers: map[string]*sfirehose.Producer{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *FirehoseSink) producer(stream string) (*sfirehose.Producer, error) {
	if p := s.producers[stream]; p != nil {
		return p, nil
	}
	opts := sfirehose.Options{Stream: stream, Pack: s.streams[stream].Pack, Limit: s.limits[stream], Metrics: s.metrics,
		MaxAttempts: s.MaxAttempts, BaseDelay: s.BaseDelay, BatchBytes: s.batchBytes}
	var popts []sfirehose.Option
	if s.clock != nil {
		popts = append(popts, sfirehose.WithClock(s.clock))
	}
	p, err := sfirehose.New(s.client, opts, popts...)
	if err != nil {
		return nil, fmt.Errorf("splitter: %w", err)
	}
	s.producers[stream] = p
	return p, nil
}

// Put implements Sink.
func (s *FirehoseSink) Put(ctx context.Context, stream string, data []byte) (int64, error) {
	if s.cur != nil && stream != s.curStream {
		if err := s.finish(ctx); err != nil {
			return s.done, err
		}
	}
	if s.cur == nil {
		p, err := s.producer(stream)
		if err != nil {
			return s.done, err
		}
		s.cur, s.curStream, s.curBase = p, stream, p.Acked()
	}
	if err := s.cur.Add(ctx, data); err != nil {
		acked := s.done + s.cur.Acked() - s.curBase
		s.drop()
		return acked, fmt.Errorf("splitter: %w", err)
	}
	return s.done + s.cur.Acked() - s.curBase, nil
}

// Flush implements Sink.
func (s *FirehoseSink) Flush(ctx context.Context) (int64, error) {
	var err error
	if s.cur != nil {
		err = s.finish(ctx)
	}
	acked := s.done
	s.done = 0
	return acked, err
}

// finish flushes the current stream's producer into the run's count.
func (s *FirehoseSink) finish(ctx context.Context) error {
	err := s.cur.Flush(ctx)
	s.done += s.cur.Acked() - s.curBase
	if err != nil {
		s.drop()
		return fmt.Errorf("splitter: %w", err)
	}
	s.cur = nil
	return nil
}

// drop forgets the current producer after an error: it has stopped, and
// the records past the acknowledged prefix are abandoned.
func (s *FirehoseSink) drop() {
	delete(s.producers, s.curStream)
	s.cur = nil
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
