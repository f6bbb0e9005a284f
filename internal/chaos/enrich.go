package chaos

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/enrich"
)

// Transport wraps the lookup API's HTTP transport: a request may be
// answered, without reaching the API, 429 with Retry-After, 503, or not at
// all until the caller's context ends (a hang).
func (in *Injector) Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		answer := func(status int, header http.Header) (*http.Response, error) {
			return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: header,
				Body: io.NopCloser(strings.NewReader("chaos")), Request: req, ProtoMajor: 1, ProtoMinor: 1}, nil
		}
		url := []byte(req.URL.String())
		switch {
		case in.fire(LookupRateLimited, url):
			return answer(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
		case in.fire(LookupServerError, url):
			return answer(http.StatusServiceUnavailable, http.Header{})
		case in.fire(LookupHang, url):
			return nil, stall(req.Context())
		}
		return next.RoundTrip(req)
	})
}

// Stall is how long a hang lasts when the caller sets no deadline.
const Stall = 2 * time.Second

// stall waits until ctx ends, or Stall, and fails as a timeout.
func stall(ctx context.Context) error {
	t := time.NewTimer(Stall)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return timeoutError{}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Cache wraps the enrichment cache: a call may fail (Redis unavailable) or
// stall until its context ends (Redis slow past the timeout).
func (in *Injector) Cache(next enrich.Cache) enrich.Cache { return &cacheFaults{in: in, next: next} }

type cacheFaults struct {
	in   *Injector
	next enrich.Cache
}

var errRedisDown = errors.New("chaos: dial tcp 127.0.0.1:6379: connect: connection refused")

func (c *cacheFaults) fault(ctx context.Context, keys []string) error {
	key := []byte(strings.Join(keys, "\x00"))
	switch {
	case c.in.fire(CacheUnavailable, key):
		return errRedisDown
	case c.in.fire(CacheSlow, key):
		return stall(ctx)
	}
	return nil
}

func (c *cacheFaults) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	if err := c.fault(ctx, keys); err != nil {
		return nil, err
	}
	return c.next.MGet(ctx, keys)
}

func (c *cacheFaults) MSet(ctx context.Context, entries []enrich.Entry) error {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	if err := c.fault(ctx, keys); err != nil {
		return err
	}
	return c.next.MSet(ctx, entries)
}
