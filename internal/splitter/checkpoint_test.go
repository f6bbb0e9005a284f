package splitter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluicehq/sluice/internal/redisx"
	"github.com/sluicehq/sluice/internal/testenv"
)

// testStore is the contract every CheckpointStore meets.
func testStore(t *testing.T, s CheckpointStore) {
	ctx := context.Background()
	id := ObjectID(Object{Bucket: "b", Key: fmt.Sprintf("k-%d", time.Now().UnixNano()), ETag: "e"})
	p, done, err := s.Load(ctx, id)
	if err != nil || done || p != (Progress{}) {
		t.Fatalf("fresh Load = %+v, %v, %v", p, done, err)
	}
	want := Progress{Next: 1500, Offset: 98765, DeadLettered: 1600, Sent: 1490, Failed: 10, Invocations: 2}
	if err := s.Save(ctx, id, want); err != nil {
		t.Fatal(err)
	}
	p, done, err = s.Load(ctx, id)
	if err != nil || done || p != want {
		t.Fatalf("Load = %+v, %v, %v; want %+v", p, done, err, want)
	}
	if err := s.Finish(ctx, id); err != nil {
		t.Fatal(err)
	}
	p, done, err = s.Load(ctx, id)
	if err != nil || !done || p != (Progress{}) {
		t.Fatalf("after Finish: %+v, %v, %v", p, done, err)
	}
}

func TestMemoryStore(t *testing.T) {
	testStore(t, NewMemoryStore())
	m := NewMemoryStore()
	ctx := context.Background()
	for i := range MaxDone + 10 {
		m.Finish(ctx, fmt.Sprint(i))
	}
	if _, done, _ := m.Load(ctx, "0"); done {
		t.Fatal("the oldest done marker was kept past MaxDone")
	}
	if _, done, _ := m.Load(ctx, fmt.Sprint(MaxDone+9)); !done {
		t.Fatal("the newest done marker was dropped")
	}
	if len(m.done) != MaxDone {
		t.Fatalf("%d markers kept", len(m.done))
	}
}

func TestRedisStoreMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	s := NewRedisStore(redisAt(t, "redis://"+mr.Addr()), time.Hour)
	testStore(t, s)
	// Markers expire: a done object is forgotten after the TTL.
	id := "ttl"
	if err := s.Finish(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if !mr.Exists("{sluice:split:ttl}:done") {
		t.Fatalf("keys %v: want the done marker under the object's hash tag", mr.Keys())
	}
	mr.FastForward(2 * time.Hour)
	if _, done, _ := s.Load(context.Background(), id); done {
		t.Fatal("done marker outlived its TTL")
	}
	mr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, _, err := s.Load(ctx, id); err == nil {
		t.Fatal("Load on a closed Redis: want an error")
	}
}

func TestRedisStoreReal(t *testing.T) {
	addr := testenv.RedisAddr(t)
	testStore(t, NewRedisStore(redisAt(t, "redis://"+addr+"/0"), time.Minute))
}

// A Redis that accepts connections and never answers costs each checkpoint
// call its per-call timeout, not the invocation's deadline.
func TestRedisStoreSilentServer(t *testing.T) {
	s := NewRedisStore(redisAt(t, "redis://"+testenv.SilentListener(t)), time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := map[string]func() error{
		"load":   func() error { _, _, err := s.Load(ctx, "x"); return err },
		"save":   func() error { return s.Save(ctx, "x", Progress{Next: 1}) },
		"finish": func() error { return s.Finish(ctx, "x") },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if err == nil || !redisx.IsOutage(err) || !strings.Contains(err.Error(), "REDIS_URL") {
			t.Errorf("%s: %v; want an outage naming REDIS_URL", name, err)
		}
		// go-redis's own default read timeout alone is 3s.
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("%s took %v; the per-call read timeout is %v", name, elapsed, redisx.DefaultReadTimeout)
		}
	}
}

// redisAt is a Redis client for a test, closed at its end.
func redisAt(t *testing.T, url string) *redisx.Client {
	t.Helper()
	c, err := redisx.New(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
