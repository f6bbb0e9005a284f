package splitter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

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
	s := NewRedisStoreClient(redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true}), time.Hour)
	testStore(t, s)
	// Markers expire: a done object is forgotten after the TTL.
	id := "ttl"
	if err := s.Finish(context.Background(), id); err != nil {
		t.Fatal(err)
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
	s, err := NewRedisStore("redis://"+addr+"/0", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStore(t, s)
}

func TestNewRedisStoreBadURL(t *testing.T) {
	if _, err := NewRedisStore("http://nope", 0); err == nil {
		t.Fatal("want an error for a non-redis URL")
	}
}
