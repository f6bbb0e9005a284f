package redrive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/envelope"
)

// PutRecordBatchAPI is the Firehose call redrive puts records back with:
// the AWS SDK client, the local emulator, or the firehose package's producer.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, opts ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error)
}

// ObjectWriter stores an object under a key (a folder or an S3 bucket).
type ObjectWriter interface {
	WriteObject(ctx context.Context, key string, body []byte) error
}

// Firehose's PutRecordBatch limits.
const (
	maxBatchRecords = 500
	maxBatchBytes   = 4 << 20
	maxRecordBytes  = 1000 * 1024
)

// Options tune a Redriver. Zero values take the defaults.
type Options struct {
	// MaxAttempts parks a record whose attemptsMade is at least this
	// instead of sending it. Default: 10.
	MaxAttempts int64
	// MaxRedrives parks an envelope that redrive has already put back this
	// many times (Firehose's attemptsMade starts again at every delivery, so
	// only this count stops a record that always fails from looping). Bare
	// records carry no count. Default: 3.
	MaxRedrives int
	// Retries is how many times entries that failed (throttled) are resent,
	// and a failed call retried. Default: 5.
	Retries int
	// Backoff is the wait before retry n (1-based). Default: 100ms doubling,
	// capped at 5s.
	Backoff func(n int) time.Duration
	// Now stamps parked objects' names. Default: time.Now.
	Now func() time.Time
}

// Result counts what a redrive did.
type Result struct {
	// Redriven records were accepted by the stream; Parked ones reached the
	// attempts cap and were written to the parked location; Failed ones
	// were still refused after every retry (they stay in the source).
	Redriven, Parked, Failed int64
	// Skipped are the splitter's dead letters, which never reached a
	// stream: fix the input and split it again.
	Skipped int64
	// FailedByCode counts Failed by the last ErrorCode Firehose gave.
	FailedByCode map[string]int64
	// RedrivenByStream counts Redriven by delivery stream.
	RedrivenByStream map[string]int64
}

// Redriver puts dead-letter records back into a delivery stream in
// batches of at most 500 records and 4 MiB, resending only the entries
// Firehose refused, and parks records that reached the attempts cap.
type Redriver struct {
	client PutRecordBatchAPI
	parked ObjectWriter
	opt    Options

	batches   map[string]*batch // by stream
	parkedBuf bytes.Buffer
	result    Result
}

type batch struct {
	records []types.Record
	bytes   int
}

// NewRedriver returns a Redriver through client, parking into parked.
func NewRedriver(client PutRecordBatchAPI, parked ObjectWriter, opt Options) *Redriver {
	if opt.MaxRedrives == 0 {
		opt.MaxRedrives = 3
	}
	if opt.MaxAttempts == 0 {
		opt.MaxAttempts = 10
	}
	if opt.Retries == 0 {
		opt.Retries = 5
	}
	if opt.Backoff == nil {
		opt.Backoff = func(n int) time.Duration {
			d := 100 * time.Millisecond << (n - 1)
			if d > 5*time.Second || d <= 0 {
				d = 5 * time.Second
			}
			return d
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Redriver{client: client, parked: parked, opt: opt, batches: map[string]*batch{},
		result: Result{FailedByCode: map[string]int64{}, RedrivenByStream: map[string]int64{}}}
}

// Redrive reads every record of src and puts it back into its stream,
// chosen by pick.
func Redrive(ctx context.Context, src *Source, pick Picker, r *Redriver) (Result, error) {
	err := src.Each(ctx, func(it Item) error {
		if isSplitter(it.Record.ErrorCode) {
			return r.Add(ctx, "", it.Record)
		}
		stream, err := pick(it)
		if err != nil {
			return err
		}
		return r.Add(ctx, stream, it.Record)
	})
	res, cerr := r.Close(ctx)
	return res, errors.Join(err, cerr)
}

// Add sends rec into stream (batched), parks it, or skips a splitter dead
// letter.
func (r *Redriver) Add(ctx context.Context, stream string, rec *deadletter.Record) error {
	switch {
	case isSplitter(rec.ErrorCode):
		r.result.Skipped++
		return nil
	case rec.AttemptsMade >= r.opt.MaxAttempts:
		return r.park(ctx, rec, fmt.Sprintf("parked by redrive: attemptsMade %d reached the cap of %d", rec.AttemptsMade, r.opt.MaxAttempts))
	}
	data := rec.RawData
	if n, ok := envelope.Redrives(data); ok {
		if n >= r.opt.MaxRedrives {
			return r.park(ctx, rec, fmt.Sprintf("parked by redrive: redriven %d times, the cap is %d", n, r.opt.MaxRedrives))
		}
		data = envelope.WithRedrives(data, n+1)
	}
	switch {
	case len(data) > maxRecordBytes:
		// Firehose would refuse the whole batch; it stays in the source.
		r.result.Failed++
		r.result.FailedByCode["RecordTooLarge"]++
		return nil
	}
	b := r.batches[stream]
	if b == nil {
		b = &batch{}
		r.batches[stream] = b
	}
	if len(b.records) == maxBatchRecords || b.bytes+len(data) > maxBatchBytes {
		if err := r.send(ctx, stream, b); err != nil {
			return err
		}
	}
	b.records = append(b.records, types.Record{Data: data})
	b.bytes += len(data)
	return nil
}

// Close sends what is batched and writes the parked records.
func (r *Redriver) Close(ctx context.Context) (Result, error) {
	streams := make([]string, 0, len(r.batches))
	for s := range r.batches {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	var errs []error
	for _, s := range streams {
		errs = append(errs, r.send(ctx, s, r.batches[s]))
	}
	errs = append(errs, r.flushParked(ctx))
	return r.result, errors.Join(errs...)
}

func (r *Redriver) park(ctx context.Context, rec *deadletter.Record, why string) error {
	parked := *rec
	if parked.Reason == "" {
		parked.Reason = why
	}
	line, err := deadletter.Marshal(&parked)
	if err != nil {
		return fmt.Errorf("redrive: %w", err)
	}
	r.parkedBuf.Write(line)
	r.result.Parked++
	if r.parkedBuf.Len() >= 4<<20 {
		return r.flushParked(ctx)
	}
	return nil
}

// flushParked writes the parked records as one object named like
// Firehose's: parked/YYYY/MM/DD/HH/redrive-<yyyy-MM-dd-HH-mm-ss>-<uuid>.
func (r *Redriver) flushParked(ctx context.Context) error {
	if r.parkedBuf.Len() == 0 {
		return nil
	}
	if r.parked == nil {
		return errors.New("redrive: records reached the attempts cap but no parked location is set")
	}
	now := r.opt.Now().UTC()
	key := now.Format("2006/01/02/15/") + "redrive-" + now.Format("2006-01-02-15-04-05") + "-" + randomUUID()
	if err := r.parked.WriteObject(ctx, key, r.parkedBuf.Bytes()); err != nil {
		return fmt.Errorf("redrive: write parked records: %w", err)
	}
	r.parkedBuf.Reset()
	return nil
}

// send puts the stream's batch, resending only refused entries, with
// backoff.
func (r *Redriver) send(ctx context.Context, stream string, b *batch) error {
	pending := b.records
	b.records, b.bytes = nil, 0
	var lastCodes []string
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > r.opt.Retries {
				r.result.Failed += int64(len(pending))
				for _, c := range lastCodes {
					r.result.FailedByCode[c]++
				}
				return nil
			}
			if err := wait(ctx, r.opt.Backoff(attempt)); err != nil {
				return err
			}
		}
		out, err := r.client.PutRecordBatch(ctx, &awsfirehose.PutRecordBatchInput{
			DeliveryStreamName: aws.String(stream), Records: pending})
		if err != nil {
			if !retryable(err) {
				r.result.Failed += int64(len(pending))
				r.result.FailedByCode[errorCode(err)] += int64(len(pending))
				return fmt.Errorf("redrive: put into %s: %w", stream, err)
			}
			lastCodes = repeat(errorCode(err), len(pending))
			continue
		}
		if len(out.RequestResponses) != len(pending) {
			return fmt.Errorf("redrive: put into %s: %d answers for %d records", stream, len(out.RequestResponses), len(pending))
		}
		var again []types.Record
		lastCodes = lastCodes[:0]
		for i, entry := range out.RequestResponses {
			if entry.ErrorCode == nil || *entry.ErrorCode == "" {
				r.result.Redriven++
				r.result.RedrivenByStream[stream]++
				continue
			}
			again = append(again, pending[i])
			lastCodes = append(lastCodes, *entry.ErrorCode)
		}
		pending = again
	}
	return nil
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "RequestError"
}

// retryable: throttling and service faults are worth another try; a
// request Firehose refuses as invalid, or an unknown stream, is not.
func retryable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch ae.ErrorCode() {
	case "ServiceUnavailableException", "ThrottlingException", "InternalFailure", "InternalServerError":
		return true
	}
	return ae.ErrorFault() == smithy.FaultServer
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
