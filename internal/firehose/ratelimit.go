package firehose

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/time/rate"

	"github.com/sluicehq/sluice/internal/config"
)

// Limiter is the part of *rate.Limiter a RateLimit uses.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
	Burst() int
}

// RateLimit caps what the Producers of one delivery stream send from one
// process (one Lambda instance): Firehose records per second and data bytes
// per second. Build one per stream at start-up and give it to every Producer
// of that stream; it is safe for concurrent use.
//
// Firehose's Direct PUT quota is per stream (records, requests and bytes per
// second, see docs/firehose.md) and shared by every producer. A limit of
// quota/N per instance, with the function's concurrency capped at N, keeps
// the whole fleet under the quota; since one object is split by one
// invocation, one big file can take at most one instance's share and
// other producers keep the rest.
type RateLimit struct {
	// Records counts Firehose records (a packed record counts once, as
	// Firehose counts it). Nil: unlimited.
	Records Limiter
	// Bytes counts data bytes before base64. Nil: unlimited.
	Bytes Limiter
}

// NewRateLimit returns token buckets for recordsPerSecond and
// bytesPerSecond, each holding one second's worth; 0 means unlimited. It
// returns nil when both are 0.
func NewRateLimit(recordsPerSecond, bytesPerSecond float64) *RateLimit {
	if recordsPerSecond <= 0 && bytesPerSecond <= 0 {
		return nil
	}
	l := &RateLimit{}
	if recordsPerSecond > 0 {
		l.Records = rate.NewLimiter(rate.Limit(recordsPerSecond), burst(recordsPerSecond))
	}
	if bytesPerSecond > 0 {
		l.Bytes = rate.NewLimiter(rate.Limit(bytesPerSecond), burst(bytesPerSecond))
	}
	return l
}

func burst(perSecond float64) int {
	return int(math.Max(1, math.Min(math.Ceil(perSecond), math.MaxInt32)))
}

// wait takes tokens for a call carrying records and bytes. A batch may need
// more tokens than a bucket holds, so it waits in bucket-sized steps: the
// average rate holds and the bucket stays one second deep.
func (l *RateLimit) wait(ctx context.Context, records, bytes int) error {
	if l == nil {
		return nil
	}
	if err := waitN(ctx, l.Records, records); err != nil {
		return err
	}
	return waitN(ctx, l.Bytes, bytes)
}

func waitN(ctx context.Context, l Limiter, n int) error {
	if l == nil {
		return nil
	}
	step := max(l.Burst(), 1)
	for n > 0 {
		k := min(n, step)
		if err := l.WaitN(ctx, k); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("firehose: rate limit: %w", ctx.Err())
			}
			// rate reports a wait that would outlast the deadline with a
			// plain error; ErrDeadline lets callers branch on it.
			return fmt.Errorf("firehose: rate limit: %w: %w", ErrDeadline, err)
		}
		n -= k
	}
	return nil
}

// NewRateLimits builds the rate limit of every configured stream that has
// one (streams.<name>.records_per_second and bytes_per_second), keyed by
// stream name. Build it once per process: Producers of the same stream must
// share their stream's RateLimit for the limit to hold.
func NewRateLimits(streams map[string]config.Stream) map[string]*RateLimit {
	limits := map[string]*RateLimit{}
	for name, s := range streams {
		if l := NewRateLimit(s.RecordsPerSecond, s.BytesPerSecond); l != nil {
			limits[name] = l
		}
	}
	return limits
}
