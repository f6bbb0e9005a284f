package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/redisx"
)

// MaxResponseBytes caps a response body; a longer one is an error.
const MaxResponseBytes = 1 << 20

// Backoff between retries without Retry-After: exponential from
// backoffBase, capped at backoffMax, with jitter.
const (
	backoffBase = 200 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// LookupError says why a key could not be looked up. It never holds the
// request URL, which may carry the secret.
type LookupError struct {
	Enricher string
	Status   string // the API's status or HTTP_<code>, TIMEOUT, RATE_LIMIT...
	Attempts int    // requests made
	Err      error
}

func (e *LookupError) Error() string {
	return fmt.Sprintf("enrich: %s: lookup failed after %d attempt(s): %s: %v", e.Enricher, e.Attempts, e.Status, e.Err)
}

func (e *LookupError) Unwrap() error { return e.Err }

// outcome is one attempt's result.
type outcome struct {
	res        Result
	verdict    verdict
	status     string // detail for LookupError
	apiStatus  bool   // status is the API's own (a preset's), not ours
	retryAfter time.Duration
	err        error
}

// fetch looks one key up, retrying 429, 5xx, timeouts and the preset's
// retryable statuses with backoff within ctx's deadline.
func (e *Enricher) fetch(ctx context.Context, key string) Result {
	values, err := e.keyValues(key)
	if err != nil {
		return Result{Status: StatusError, Err: err}
	}
	target, err := e.tmpl.expand(values, e.secret)
	if err != nil {
		return Result{Status: StatusError, Err: err}
	}
	attempts := 0
	failed := func(o outcome) Result {
		e.count("EnrichErrors", metrics.Count, 1)
		res := Result{Status: StatusError, Err: &LookupError{Enricher: e.cfg.Name, Status: o.status, Attempts: attempts, Err: o.err}}
		if o.apiStatus {
			res.Status = o.status // the API's own word: OVER_QUERY_LIMIT, REQUEST_DENIED...
		}
		return res
	}
	for {
		if err := e.wait(ctx); err != nil {
			return failed(outcome{status: "RATE_LIMIT", err: fmt.Errorf("waiting for the rate limit: %w", err)})
		}
		attempts++
		start := e.clock.Now()
		o := e.attempt(ctx, target)
		e.count("EnrichLookups", metrics.Count, 1)
		e.count("EnrichLookupLatency", metrics.Milliseconds, e.since(start))
		switch o.verdict {
		case found, negative:
			return o.res
		case fail:
			return failed(o)
		case throttle:
			e.count("EnrichThrottled", metrics.Count, 1)
		}
		if attempts > *e.cfg.Retries || ctx.Err() != nil {
			return failed(o)
		}
		d := max(backoff(attempts), o.retryAfter)
		if err := fitsDeadline(ctx, d); err != nil {
			o.err = fmt.Errorf("%w; not retried: %w", o.err, err)
			return failed(o)
		}
		select {
		case <-e.clock.After(d):
		case <-ctx.Done():
			o.err = fmt.Errorf("%w; not retried: %w", o.err, ctx.Err())
			return failed(o)
		}
	}
}

// wait takes a token from the per-instance limiter, then from the shared
// one. A shared limiter that cannot reach Redis fails open to the
// per-instance rate; one whose Redis refuses the script (a cluster used as
// one node, missing permissions) fails closed, so that a broken cap shows
// as failed lookups naming REDIS_URL instead of letting every call through.
func (e *Enricher) wait(ctx context.Context) error {
	if err := e.limiter.Wait(ctx); err != nil {
		return err
	}
	if e.shared == nil {
		return nil
	}
	err := e.shared.Wait(ctx)
	if err == nil || errors.Is(err, ErrDeadline) || ctx.Err() != nil || !redisx.IsOutage(err) {
		return err
	}
	e.count("EnrichDegraded", metrics.Count, 1)
	return nil
}

func backoff(attempt int) time.Duration {
	d := min(backoffBase<<(attempt-1), backoffMax)
	return d/2 + rand.N(d/2+1)
}

// attempt makes one request, bounded by the configured timeout.
func (e *Enricher) attempt(ctx context.Context, target string) outcome {
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return outcome{verdict: fail, status: StatusError, err: errors.New("building the request failed")}
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, strings.ReplaceAll(v, "{secret}", e.secret))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		err = withoutURL(err)
		if actx.Err() != nil && ctx.Err() == nil {
			return outcome{verdict: retry, status: "TIMEOUT", err: fmt.Errorf("no answer within %v: %w", e.cfg.Timeout, err)}
		}
		return outcome{verdict: retry, status: "NETWORK", err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
		resp.Body.Close()
	}()
	httpStatus := fmt.Sprintf("HTTP_%d", resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return outcome{verdict: throttle, status: httpStatus, retryAfter: e.retryAfter(resp), err: errors.New("throttled (429)")}
	case resp.StatusCode >= 500:
		return outcome{verdict: retry, status: httpStatus, retryAfter: e.retryAfter(resp), err: fmt.Errorf("server error (%d)", resp.StatusCode)}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return outcome{verdict: negative, res: Result{Status: StatusNotFound}}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return outcome{verdict: fail, status: httpStatus, err: fmt.Errorf("unexpected HTTP status %d", resp.StatusCode)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return outcome{verdict: retry, status: "TIMEOUT", err: fmt.Errorf("reading the response: %w", err)}
		}
		return outcome{verdict: retry, status: "NETWORK", err: fmt.Errorf("reading the response: %w", err)}
	}
	if len(body) > MaxResponseBytes {
		return outcome{verdict: fail, status: "BAD_RESPONSE", err: fmt.Errorf("response is over %d bytes", MaxResponseBytes)}
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return outcome{verdict: fail, status: "BAD_RESPONSE", err: fmt.Errorf("response is not JSON: %w", err)}
	}
	status := StatusOK
	if e.preset != nil {
		var v verdict
		var msg string
		status, v, msg = e.preset.judge(doc)
		switch v {
		case negative:
			return outcome{verdict: negative, res: Result{Status: status}}
		case retry, throttle, fail:
			if msg == "" {
				msg = "API status " + status
			}
			return outcome{verdict: v, status: status, apiStatus: true, err: errors.New(truncate(msg, 200))}
		}
	}
	fields := make(map[string]any, len(e.paths))
	for field, p := range e.paths {
		if v, ok := p.get(doc); ok {
			fields[field] = v
		}
	}
	return outcome{verdict: found, res: Result{Found: true, Fields: fields, Status: status}}
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func (e *Enricher) retryAfter(resp *http.Response) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		// Past a day it makes no difference (no deadline is that long) and
		// the multiplication could overflow.
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(e.clock.Now()), 0)
	}
	return 0
}

// withoutURL strips the request URL (which may carry the secret) from a
// client error.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
