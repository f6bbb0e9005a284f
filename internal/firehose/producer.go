package firehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
)

// PutRecordBatch limits (Firehose developer guide).
const (
	// MaxRecordBytes is the largest Firehose record, before base64.
	MaxRecordBytes = config.MaxFirehoseRecordBytes
	// MaxBatchRecords is the most records one PutRecordBatch call takes.
	MaxBatchRecords = 500
	// MaxBatchBytes is the most data bytes one call takes.
	MaxBatchBytes = 4 << 20
)

// PutRecordBatchAPI is the one call the producer needs from
// *firehose.Client.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// Options configure a Producer. The zero value of every field but Stream is
// its default.
type Options struct {
	// Stream is the delivery stream's name. Required.
	Stream string

	// Pack writes every record as one line (a newline is appended when it
	// has none) and joins lines into Firehose records of up to
	// MaxRecordBytes. A record with a newline before its end is rejected.
	// Only for destinations that split on newlines (S3, Redshift) or a
	// transform that does. Default: false, one Firehose record per record.
	Pack bool

	// BatchBytes bounds the data bytes of one call, below Firehose's
	// MaxBatchBytes: a caller whose calls stay in memory until delivered
	// (sluice run's in-process Firehose) holds less. Default, or 0 or
	// above MaxBatchBytes: MaxBatchBytes.
	BatchBytes int

	// MaxAttempts bounds PutRecordBatch calls per batch, the first
	// included. Default: 8.
	MaxAttempts int

	// BaseDelay and MaxDelay shape the backoff between attempts: the n-th
	// retry waits a random time up to min(MaxDelay, BaseDelay·2^(n-1)).
	// Defaults: 100ms and 5s.
	BaseDelay time.Duration
	MaxDelay  time.Duration

	// Limit is the stream's rate limit, shared by all its Producers.
	// Default: nil, unlimited.
	Limit *RateLimit

	// Metrics receives the Firehose* counters with a Stream dimension.
	// Default: nil, none.
	Metrics *metrics.Set

	// OnAck is called after a call when the acknowledged prefix grows:
	// acked is such that every record Add accepted before it (sequence
	// numbers 0 to acked-1) is durably in Firehose. A checkpoint may record
	// it. Default: nil.
	OnAck func(acked int64)
}

// Producer batches records into PutRecordBatch calls, resends only what
// Firehose did not acknowledge and never resends what it did. Records are
// numbered in the order Add accepts them, from 0. A Producer is for one
// goroutine (one object); its RateLimit may be shared.
type Producer struct {
	client PutRecordBatchAPI
	opts   Options
	dim    metrics.Dim
	clock  Clock
	rand   func() float64

	buf     []byte  // data of the batch being built
	entries []entry // its Firehose records, in order
	open    bool    // packing: the last entry still takes lines
	next    int64   // sequence number of the next accepted record
	acked   int64   // all records below it are acknowledged
	err     error   // set once a flush failed

	// reused by every flush
	records []types.Record
	pending []int
}

// entry is one Firehose record of the batch: buf[start:end], holding the
// records first to first+n-1.
type entry struct {
	start, end int
	first      int64
	n          int
	ok         bool
	code, msg  string
}

// New returns a Producer for opts.Stream.
func New(client PutRecordBatchAPI, opts Options, options ...Option) (*Producer, error) {
	if opts.Stream == "" {
		return nil, errors.New("firehose: Options.Stream is required")
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 5 * time.Second
	}
	if opts.BatchBytes <= 0 || opts.BatchBytes > MaxBatchBytes {
		opts.BatchBytes = MaxBatchBytes
	}
	p := &Producer{
		client: client,
		opts:   opts,
		dim:    metrics.Dim{Name: "Stream", Value: opts.Stream},
		clock:  realClock{},
		rand:   defaultRand,
	}
	for _, o := range options {
		o(p)
	}
	return p, nil
}

// Acked returns the acknowledged prefix: every record with a lower sequence
// number is durably in Firehose.
func (p *Producer) Acked() int64 { return p.acked }

// Added returns how many records Add has accepted.
func (p *Producer) Added() int64 { return p.next }

// Add accepts one record, copying it, and sends the batch first when the
// record does not fit in it. A *RecordError rejects the record alone (the
// producer goes on); any other error comes from sending the previous batch,
// and the record was not accepted. ctx bounds that send.
func (p *Producer) Add(ctx context.Context, data []byte) error {
	if p.err != nil {
		return p.err
	}
	size, newline := len(data), false
	if p.opts.Pack {
		if i := bytes.IndexByte(data, '\n'); i >= 0 && i != len(data)-1 {
			return &RecordError{Size: size, Reason: "it contains a newline, so it cannot be packed as one line"}
		} else if i < 0 {
			size++
			newline = true
		}
	}
	if size > MaxRecordBytes {
		return &RecordError{Size: size, Reason: fmt.Sprintf("over Firehose's record limit of %d bytes", MaxRecordBytes)}
	}
	fitsBatch := len(p.buf)+size <= p.opts.BatchBytes
	if last := len(p.entries) - 1; p.open && fitsBatch && p.entries[last].end-p.entries[last].start+size <= MaxRecordBytes {
		p.entries[last].n++
	} else {
		if len(p.entries) == MaxBatchRecords || !fitsBatch {
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
		p.entries = append(p.entries, entry{start: len(p.buf), first: p.next, n: 1})
		p.open = p.opts.Pack
	}
	if len(p.buf)+size > cap(p.buf) {
		p.grow(size)
	}
	p.buf = append(p.buf, data...)
	if newline {
		p.buf = append(p.buf, '\n')
	}
	p.entries[len(p.entries)-1].end = len(p.buf)
	p.next++
	return nil
}

// grow makes room in p.buf for size more bytes. It doubles the buffer, up
// to the batch limit it never needs more than: append's growth by a quarter
// at these sizes would copy a packing producer's batch a dozen times on the
// way to 4 MiB.
func (p *Producer) grow(size int) {
	n := min(max(2*cap(p.buf), len(p.buf)+size, 4096), p.opts.BatchBytes)
	buf := make([]byte, len(p.buf), max(n, len(p.buf)+size))
	copy(buf, p.buf)
	p.buf = buf
}

// Flush sends what is buffered and returns once every record is
// acknowledged, or with a *PutError naming those that are not.
func (p *Producer) Flush(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	if len(p.entries) == 0 {
		return nil
	}
	return p.flush(ctx)
}

func (p *Producer) flush(ctx context.Context) error {
	defer func() {
		p.buf, p.entries, p.open = p.buf[:0], p.entries[:0], false
		clear(p.records)
	}()
	pending := p.pending[:0]
	for i := range p.entries {
		pending = append(pending, i)
	}
	attempts, cause := p.send(ctx, pending)
	p.pending = pending[:0]

	var put PutError
	for i := range p.entries {
		e := &p.entries[i]
		if e.ok {
			if put.Unacked == nil && p.acked == e.first {
				p.acked = e.first + int64(e.n)
			}
			continue
		}
		put.Unacked = append(put.Unacked, p.unacked(e)...)
	}
	if p.opts.OnAck != nil && p.acked > p.entries[0].first {
		p.opts.OnAck(p.acked)
	}
	if len(put.Unacked) == 0 {
		return nil
	}
	last := p.entries[len(p.entries)-1]
	put.Stream, put.Attempts, put.Err = p.opts.Stream, attempts, cause
	put.Sent = last.first + int64(last.n)
	put.Batch = int(put.Sent - p.entries[0].first)
	p.count("FirehoseFailed", metrics.Count, len(put.Unacked))
	p.err = ErrStopped
	return &put
}

// send makes up to MaxAttempts calls, each carrying only the entries not
// yet acknowledged, in their original order. It marks the acknowledged ones
// and returns the number of calls and the last failure (nil when all are
// acknowledged).
func (p *Producer) send(ctx context.Context, pending []int) (attempts int, cause error) {
	for {
		records, size := p.records[:0], 0
		for _, i := range pending {
			e := p.entries[i]
			records = append(records, types.Record{Data: p.buf[e.start:e.end]})
			size += e.end - e.start
		}
		p.records = records
		if err := p.opts.Limit.wait(ctx, len(records), size); err != nil {
			if cause != nil {
				err = fmt.Errorf("%w (last failure: %w)", err, cause)
			}
			return attempts, err
		}
		attempts++
		if attempts > 1 {
			p.count("FirehoseRetries", metrics.Count, 1)
		}
		p.count("FirehoseBatches", metrics.Count, 1)
		out, err := p.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
			DeliveryStreamName: aws.String(p.opts.Stream),
			Records:            records,
		})
		switch {
		case err != nil && ctx.Err() != nil:
			// The call was cut short: its records may or may not be in
			// Firehose.
			return attempts, fmt.Errorf("firehose: PutRecordBatch cut short: %w: %w", ctx.Err(), err)
		case err != nil && !retryable(err):
			return attempts, err
		case err != nil:
			if throttled(err) {
				p.count("FirehoseThrottled", metrics.Count, len(pending))
			}
			cause = err
		case len(out.RequestResponses) != len(records):
			// Without one answer per record nothing can be marked
			// acknowledged, and resending could duplicate.
			return attempts, fmt.Errorf("firehose: PutRecordBatch answered %d entries for %d records", len(out.RequestResponses), len(records))
		default:
			pending, cause = p.mark(pending, out.RequestResponses)
			if len(pending) == 0 {
				return attempts, nil
			}
		}
		if attempts >= p.opts.MaxAttempts {
			return attempts, cause
		}
		if err := p.pause(ctx, p.backoff(attempts)); err != nil {
			return attempts, fmt.Errorf("%w (last failure: %w)", err, cause)
		}
	}
}

// mark records the answer for each pending entry and returns the entries
// to resend, still in order.
func (p *Producer) mark(pending []int, answers []types.PutRecordBatchResponseEntry) ([]int, error) {
	failed := pending[:0]
	var last *entryFailure
	for k, i := range pending {
		e := &p.entries[i]
		code := aws.ToString(answers[k].ErrorCode)
		if code == "" {
			e.ok = true
			p.count("FirehoseRecordsPut", metrics.Count, e.n)
			p.count("FirehoseBytesPut", metrics.Bytes, e.end-e.start)
			continue
		}
		e.code, e.msg = code, aws.ToString(answers[k].ErrorMessage)
		if code == codeThrottled {
			p.count("FirehoseThrottled", metrics.Count, 1)
		}
		if last == nil {
			last = &entryFailure{}
		}
		last.failed++
		last.code, last.msg = e.code, e.msg
		failed = append(failed, i)
	}
	if last == nil {
		return failed, nil
	}
	return failed, last
}

// unacked copies the records of an unacknowledged entry out of the buffer.
func (p *Producer) unacked(e *entry) []Unacked {
	data := p.buf[e.start:e.end]
	out := make([]Unacked, 0, e.n)
	for k := 0; k < e.n; k++ {
		rec := data
		if p.opts.Pack {
			i := bytes.IndexByte(data, '\n')
			rec, data = data[:i], data[i+1:]
		}
		out = append(out, Unacked{Seq: e.first + int64(k), Data: bytes.Clone(rec), ErrorCode: e.code, ErrorMessage: e.msg})
	}
	return out
}

func (p *Producer) count(name string, unit metrics.Unit, v int) {
	p.opts.Metrics.Add(name, unit, float64(v), p.dim)
}
