package splitter

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
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
	s := NewRedisStore(redisAt(t, "redis://"+mr.Addr()+patient), time.Hour)
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
	testStore(t, NewRedisStore(redisAt(t, "redis://"+addr+"/0"+patient), time.Minute))
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

// patient lengthens the per-call timeouts for tests against a server that
// answers (miniredis, the real Redis): the 200 ms defaults are for Lambda,
// and a loaded test machine running -race can take longer than that. The
// tests of a silent server keep the defaults.
const patient = "?read_timeout=2s&write_timeout=2s"

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

// Three SQS messages and a Redis that accepts connections but never
// answers: each message fails (to be retried) within the per-call
// timeouts, long before the invocation's 12s deadline, and nothing is sent.
func TestSilentRedisFailsSQSMessagesQuickly(t *testing.T) {
	r := newRig(t, NewRedisStore(redisAt(t, "redis://"+testenv.SilentListener(t)), time.Minute))
	var bodies []json.RawMessage
	for i := range 3 {
		bodies = append(bodies, s3EventFor(r.s3.add("b", fmt.Sprintf("listings/%d.txt", i), numbered(10), "", fmt.Sprint("e", i))))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	start := time.Now()
	out, err := r.h.Handle(ctx, sqsEventFor(bodies...))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if f := out.(events.SQSEventResponse).BatchItemFailures; len(f) != 3 {
		t.Fatalf("batch item failures %+v, want all three messages", f)
	}
	if n := len(r.fh.records("events")); n != 0 {
		t.Fatalf("%d records sent without a checkpoint", n)
	}
	// Three objects, each failing at its first checkpoint call: about 0.2s
	// each with the default read timeout (go-redis's own default is 3s).
	if elapsed > 3*time.Second {
		t.Fatalf("a silent Redis held three messages %v", elapsed)
	}
}

func TestNewAWSTakesCheckpointsFromRedisURL(t *testing.T) {
	cfg, err := config.Parse("sluice.yaml", []byte(testYAML))
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{Region: "us-east-1"}
	t.Setenv(redisx.EnvURL, "")
	h, err := NewAWS(cfg, awsCfg, metrics.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.checkpoints.(*MemoryStore); !ok {
		t.Fatalf("without REDIS_URL: %T", h.checkpoints)
	}
	t.Setenv(redisx.EnvURL, "rediss://sluice-abc.serverless.use1.cache.amazonaws.com:6379")
	if h, err = NewAWS(cfg, awsCfg, metrics.New(nil)); err != nil {
		t.Fatal(err)
	}
	if s, ok := h.checkpoints.(*RedisStore); !ok {
		t.Fatalf("with REDIS_URL: %T", h.checkpoints)
	} else if cluster, _ := s.client.Cluster(); !cluster {
		t.Fatal("an ElastiCache Serverless URL did not make a cluster client")
	}
	t.Setenv(redisx.EnvURL, "rediss://sluice-abc.serverless.use1.cache.amazonaws.com:6379/1")
	if _, err := NewAWS(cfg, awsCfg, metrics.New(nil)); err == nil || !strings.Contains(err.Error(), "remove /1 from REDIS_URL") {
		t.Fatalf("a database number on Serverless: %v", err)
	}
}
