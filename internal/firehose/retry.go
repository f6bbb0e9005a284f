package firehose

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// codeThrottled is the per-record (and whole-call) error code Firehose uses
// when a stream is over its quota.
const codeThrottled = "ServiceUnavailableException"

var (
	// The SDK's own checks come first: they refuse a cancelled request
	// whatever its code.
	retryables = retry.IsErrorRetryables(append(slices.Clone(retry.DefaultRetryables),
		retry.RetryableErrorCode{Codes: map[string]struct{}{
			codeThrottled:              {},
			"InternalFailure":          {},
			"InternalFailureException": {},
			"InternalServerError":      {},
		}},
	))
	throttles = retry.IsErrorThrottles(append([]retry.IsErrorThrottle{
		retry.ThrottleErrorCode{Codes: map[string]struct{}{codeThrottled: {}}},
	}, retry.DefaultThrottles...))
)

// retryable reports whether a failed PutRecordBatch call may be repeated:
// throttling, 5xx and network errors may; validation, missing stream,
// access and KMS errors may not.
func retryable(err error) bool {
	return retryables.IsErrorRetryable(err) == aws.TrueTernary
}

func throttled(err error) bool {
	return throttles.IsErrorThrottle(err) == aws.TrueTernary
}

// Clock is the time source of the retry loop; tests pass a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option sets an injectable dependency of a Producer.
type Option func(*Producer)

// WithClock replaces the wall clock used for backoff and deadline checks.
func WithClock(c Clock) Option { return func(p *Producer) { p.clock = c } }

// WithRand replaces the jitter source: it returns a number in [0, 1).
func WithRand(f func() float64) Option { return func(p *Producer) { p.rand = f } }

// backoff is "full jitter": a uniform delay between 0 and
// min(MaxDelay, BaseDelay·2^(retry-1)), so producers throttled together do
// not come back together.
func (p *Producer) backoff(retry int) time.Duration {
	ceiling := p.opts.BaseDelay
	for i := 1; i < retry && ceiling < p.opts.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.opts.MaxDelay)
	return time.Duration(p.rand() * float64(ceiling))
}

// pause waits d unless the context ends first or the deadline would pass
// before another attempt could start.
func (p *Producer) pause(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && !p.clock.Now().Add(d).Before(dl) {
		return ErrDeadline
	}
	select {
	case <-p.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var defaultRand = rand.Float64
