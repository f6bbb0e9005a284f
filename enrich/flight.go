package enrich

import (
	"context"
	"fmt"
	"sync"
)

// flight makes concurrent lookups of one key share a single request, even
// across batches looked up at the same time.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done    chan struct{}
	res     Result
	waiters int // callers sharing this call, guarded by flight.mu
}

// do runs fn for key unless a call for key is in flight, in which case it
// waits for that call's result; shared tells which happened.
func (f *flight) do(ctx context.Context, key string, fn func() Result) (res Result, shared bool) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	if c, ok := f.calls[key]; ok {
		c.waiters++
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.res, true
		case <-ctx.Done():
			return Result{Status: StatusError, Err: fmt.Errorf("enrich: waiting for the same lookup in flight: %w", ctx.Err())}, true
		}
	}
	c := &flightCall{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()

	c.res = fn()
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
	close(c.done)
	return c.res, false
}
