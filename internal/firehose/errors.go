package firehose

import (
	"context"
	"errors"
	"fmt"
)

// ErrDeadline means the context deadline is too near for another attempt
// (a backoff delay or a rate-limit wait would outlast it). It wraps
// context.DeadlineExceeded, so errors.Is(err, context.DeadlineExceeded) also
// holds: the caller stops, checkpoints and continues later.
var ErrDeadline = fmt.Errorf("firehose: too close to the deadline to try again: %w", context.DeadlineExceeded)

// ErrStopped is returned by Add and Flush after an earlier call returned a
// *PutError: the producer does not guess what the caller did with the
// records that error listed.
var ErrStopped = errors.New("firehose: producer stopped by an earlier error")

// RecordError rejects one record before anything is sent: it is too large
// for Firehose or, when packing, it is not a single line. Nothing of it was
// sent and it is never retried; the caller dead-letters it with Error() as
// the reason.
type RecordError struct {
	// Size is the record's length in bytes (plus its newline when packing).
	Size int
	// Reason says what is wrong.
	Reason string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("firehose: record of %d bytes rejected: %s", e.Size, e.Reason)
}

// PutError says which records of a batch Firehose did not acknowledge, after
// retries or because the failure cannot be retried. Every record accepted
// by Add with a sequence number below Sent was sent; those not listed in
// Unacked were acknowledged and must not be sent again.
//
// Not acknowledged is not always not delivered: when a call was cut short
// (a network error, or the context ending while it was in flight) Firehose
// may have kept records it never confirmed. Sending them again may deliver
// them twice; the envelope's deterministic record id lets the destination
// drop the copy.
type PutError struct {
	// Stream is the delivery stream.
	Stream string
	// Batch is how many records the failed batch held; Attempts how many
	// PutRecordBatch calls were made for it (0 if none could be made).
	Batch    int
	Attempts int
	// Sent is one past the sequence number of the batch's last record.
	Sent int64
	// Unacked lists the records not acknowledged, in sequence order.
	Unacked []Unacked
	// Err is the last failure: the API error (a non-retryable one such as
	// *types.ResourceNotFoundException, or the last retryable one), a
	// context error, ErrDeadline, or the last per-record error code.
	Err error
}

// Unacked is one record Firehose did not acknowledge.
type Unacked struct {
	// Seq is the record's position among the records Add accepted, from 0.
	Seq int64
	// Data is the record as given to Add; when packing, without its
	// trailing newline.
	Data []byte
	// ErrorCode and ErrorMessage are Firehose's last answer for the record,
	// empty when the whole call failed.
	ErrorCode    string
	ErrorMessage string
}

func (e *PutError) Error() string {
	return fmt.Sprintf("firehose: stream %q: %d of %d records not acknowledged after %d attempts: %v",
		e.Stream, len(e.Unacked), e.Batch, e.Attempts, e.Err)
}

func (e *PutError) Unwrap() error { return e.Err }

// entryFailure is the per-record answer of a successful call with
// FailedPutCount > 0.
type entryFailure struct {
	failed int
	code   string
	msg    string
}

func (e *entryFailure) Error() string {
	return fmt.Sprintf("firehose: %d records failed (last %s: %s)", e.failed, e.code, e.msg)
}

// Retryable reports whether the records might be accepted if sent again
// later: Firehose refused them (throttling, internal errors) until the
// attempts ran out. It is false when the request itself is wrong, the
// stream is missing, or the context ended.
func (e *PutError) Retryable() bool {
	// A wait cut short by ctx wraps the last refusal too: ctx decides.
	if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) {
		return false
	}
	var refused *entryFailure
	return errors.As(e.Err, &refused) || retryable(e.Err)
}
