package redrive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/envelope"
	sfirehose "github.com/sluicehq/sluice/internal/firehose"
)

// PutRecordBatchAPI is the Firehose call redrive puts records back with:
// the AWS SDK client or the local emulator.
type PutRecordBatchAPI = sfirehose.PutRecordBatchAPI

// ObjectWriter stores an object under a key (a folder or an S3 bucket).
type ObjectWriter interface {
	WriteObject(ctx context.Context, key string, body []byte) error
}

// maxRecordBytes is Firehose's record limit.
const maxRecordBytes = sfirehose.MaxRecordBytes

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
	// and a failed call retried, with internal/firehose's jittered
	// backoff. Default: 5.
	Retries int
	// Clock is what the backoff waits on. Default: the real clock.
	Clock sfirehose.Clock
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

// Redriver puts dead-letter records back into delivery streams with
// internal/firehose's producer (batches of at most 500 records and 4 MiB,
// only refused entries resent) and parks records that reached a cap.
type Redriver struct {
	client    PutRecordBatchAPI
	parked    ObjectWriter
	opt       Options
	producers map[string]*sfirehose.Producer // by stream
	parkedBuf bytes.Buffer
	result    Result
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
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Redriver{client: client, parked: parked, opt: opt, producers: map[string]*sfirehose.Producer{},
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
	// A fresh producer sends nothing on Add, so the second try succeeds.
	for {
		p, err := r.producer(stream)
		if err != nil {
			return err
		}
		if err := p.Add(ctx, data); err == nil {
			return nil
		} else if err := r.failed(stream, err); err != nil {
			return err
		}
	}
}

func (r *Redriver) producer(stream string) (*sfirehose.Producer, error) {
	if p := r.producers[stream]; p != nil {
		return p, nil
	}
	var opts []sfirehose.Option
	if r.opt.Clock != nil {
		opts = append(opts, sfirehose.WithClock(r.opt.Clock))
	}
	p, err := sfirehose.New(r.client, sfirehose.Options{Stream: stream, MaxAttempts: r.opt.Retries + 1}, opts...)
	if err != nil {
		return nil, fmt.Errorf("redrive: %w", err)
	}
	r.producers[stream] = p
	return p, nil
}

// failed accounts for a batch the producer gave up on and retires the
// producer. Records it refused on every try are counted as failed (they
// stay in the source); an error is returned only when going on is
// pointless: the request is wrong, the stream missing, or ctx ended.
func (r *Redriver) failed(stream string, err error) error {
	delete(r.producers, stream)
	var pe *sfirehose.PutError
	if !errors.As(err, &pe) {
		return fmt.Errorf("redrive: put into %s: %w", stream, err)
	}
	// Every record before Sent was sent; those not listed were acknowledged.
	acked := pe.Sent - int64(len(pe.Unacked))
	r.result.Redriven += acked
	r.result.RedrivenByStream[stream] += acked
	for _, u := range pe.Unacked {
		code := u.ErrorCode
		if code == "" {
			code = errorCode(pe.Err)
		}
		r.result.Failed++
		r.result.FailedByCode[code]++
	}
	if !pe.Retryable() {
		return fmt.Errorf("redrive: put into %s: %w", stream, err)
	}
	return nil
}

// Close sends what is batched and writes the parked records.
func (r *Redriver) Close(ctx context.Context) (Result, error) {
	streams := make([]string, 0, len(r.producers))
	for s := range r.producers {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	var errs []error
	for _, s := range streams {
		p := r.producers[s]
		if err := p.Flush(ctx); err != nil {
			errs = append(errs, r.failed(s, err))
			continue
		}
		r.result.Redriven += p.Added()
		r.result.RedrivenByStream[s] += p.Added()
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

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "RequestError"
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
