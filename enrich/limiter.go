package enrich

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/sluicehq/sluice/internal/redisx"
)

// Limiter paces lookups; Wait blocks until one may start. *rate.Limiter
// satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// ErrDeadline reports that a wait (rate limit or Retry-After) would end
// after the context's deadline, so the lookup was not attempted.
var ErrDeadline = errors.New("enrich: the deadline leaves no time to wait for the next lookup")

// clockLimiter is a token bucket (x/time/rate) driven by a Clock, so that
// tests can check the rate in virtual time. Like rate.Limiter.Wait it fails
// at once when the deadline cannot be met.
type clockLimiter struct {
	lim   *rate.Limiter
	clock Clock
}

func newClockLimiter(perSecond float64, burst int, clock Clock) *clockLimiter {
	return &clockLimiter{lim: rate.NewLimiter(rate.Limit(perSecond), burst), clock: clock}
}

func (l *clockLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.clock.Now()
	r := l.lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("enrich: rate limiter refused a token (burst %d)", l.lim.Burst())
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := fitsDeadline(ctx, d); err != nil {
		r.CancelAt(now)
		return err
	}
	select {
	case <-l.clock.After(d):
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// fitsDeadline fails when waiting d would overrun ctx's deadline. Deadlines
// are wall-clock (the Lambda's), whatever Clock paces the waits.
func fitsDeadline(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("%w (needs %v): %w", ErrDeadline, d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	return nil
}

// gcraScript is a generic cell rate algorithm on one Redis key holding the
// theoretical arrival time in microseconds of Redis's own clock (so that
// instance clocks never matter). It reserves a slot and returns 0, or
// returns how many microseconds to wait before asking again.
var gcraScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return math.ceil(wait) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return 0
`)

// SharedLimiterKey is the Redis key of an enricher's shared limiter. The
// script touches this one key only, so it runs on a Redis Cluster too.
func SharedLimiterKey(enricher string) string { return "sluice:enrich:" + enricher + ":rate" }

// SharedLimiter caps calls across every instance that shares a Redis: a
// GCRA in a Lua script on one key, one round trip per granted call.
type SharedLimiter struct {
	client    *redisx.Client
	key       string
	interval  int64 // µs between calls
	tolerance int64 // µs of burst
	clock     Clock
}

// NewSharedLimiter limits the fleet to perSecond calls (burst at once) on
// the Redis key.
func NewSharedLimiter(client *redisx.Client, key string, perSecond float64, burst int, clock Clock) *SharedLimiter {
	if clock == nil {
		clock = realClock{}
	}
	interval := int64(1e6 / perSecond)
	return &SharedLimiter{client: client, key: key, interval: interval, tolerance: interval * int64(max(burst, 1)-1), clock: clock}
}

// Wait implements Limiter. An error that is not ErrDeadline or the
// context's means Redis could not be asked (redisx.IsOutage) or refused the
// script (anything else: a configuration to fix, see redisx.Explain).
func (l *SharedLimiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := l.client.Resolve(ctx)
		if err != nil {
			return fmt.Errorf("enrich: shared rate limiter: %w", err)
		}
		us, err := gcraScript.Run(ctx, rc, []string{l.key}, l.interval, l.tolerance).Int64()
		if err != nil {
			return fmt.Errorf("enrich: shared rate limiter: %w", l.client.Explain(err))
		}
		if us <= 0 {
			return nil
		}
		d := time.Duration(us) * time.Microsecond
		if err := fitsDeadline(ctx, d); err != nil {
			return err
		}
		select {
		case <-l.clock.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
