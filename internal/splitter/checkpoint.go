package splitter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/redisx"
)

// Progress is how far an object has been split. It is saved after every
// acknowledged batch and read back when a later invocation continues.
type Progress struct {
	// Next is the index of the first record not known to be delivered:
	// every record before it was acknowledged by Firehose or dead-lettered.
	Next int64 `json:"next"`
	// Offset is the byte offset, in the decompressed object, of the last
	// acknowledged record.
	Offset int64 `json:"offset"`
	// DeadLettered is the index below which every dead letter is written.
	DeadLettered int64 `json:"dead_lettered"`
	// Sent and Failed count records delivered and dead-lettered so far.
	Sent   int64 `json:"sent"`
	Failed int64 `json:"failed"`
	// Invocations counts the invocations that have worked on the object.
	Invocations int `json:"invocations"`
	// Segment counts a rollup route's segments emitted: Next is the first
	// line of the next one.
	Segment int `json:"segment,omitempty"`
}

// CheckpointStore keeps Progress per object and marks finished objects so a
// redelivered event does nothing.
type CheckpointStore interface {
	// Load returns the object's progress (zero if none) and whether it is
	// finished.
	Load(ctx context.Context, id string) (p Progress, done bool, err error)
	Save(ctx context.Context, id string, p Progress) error
	// Finish marks the object done for the store's TTL and drops its
	// progress.
	Finish(ctx context.Context, id string) error
}

// ObjectID names an object version in checkpoints and dead-letter keys:
// bucket, key and the version id, or the ETag when the bucket is not
// versioned.
func ObjectID(o Object) string {
	ident := o.Version
	if ident == "" {
		ident = o.ETag
	}
	h := sha256.New()
	for _, s := range []string{o.Bucket, o.Key, ident} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RedisStore keeps checkpoints in Redis: a single node, a Redis Cluster or
// ElastiCache Serverless. An object's two keys share a hash tag, so they
// live in one slot and are read with one MGET and finished in one MULTI on
// a cluster too.
type RedisStore struct {
	client *redisx.Client
	// TTL bounds how long a done marker and a checkpoint live.
	ttl time.Duration
}

// DefaultCheckpointTTL is how long a done marker (and an abandoned
// checkpoint) is kept: longer than S3's and SQS's redelivery windows.
const DefaultCheckpointTTL = 7 * 24 * time.Hour

// NewRedisStore keeps checkpoints in the Redis of client (see redisx.New
// for the URL forms and the per-call timeouts), keeping markers for ttl
// (DefaultCheckpointTTL when 0).
func NewRedisStore(client *redisx.Client, ttl time.Duration) *RedisStore {
	if ttl <= 0 {
		ttl = DefaultCheckpointTTL
	}
	return &RedisStore{client: client, ttl: ttl}
}

// The hash tag {sluice:split:<id>} puts both keys of an object in one slot.
func progressKey(id string) string { return "{sluice:split:" + id + "}:progress" }
func doneKey(id string) string     { return "{sluice:split:" + id + "}:done" }

// Load implements CheckpointStore.
func (s *RedisStore) Load(ctx context.Context, id string) (Progress, bool, error) {
	rc, err := s.client.Resolve(ctx)
	if err != nil {
		return Progress{}, false, fmt.Errorf("splitter: checkpoint load: %w", err)
	}
	vals, err := rc.MGet(ctx, progressKey(id), doneKey(id)).Result()
	if err != nil {
		return Progress{}, false, fmt.Errorf("splitter: checkpoint load: %w", s.client.Explain(err))
	}
	if vals[1] != nil {
		return Progress{}, true, nil
	}
	var p Progress
	if v, ok := vals[0].(string); ok {
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return Progress{}, false, fmt.Errorf("splitter: checkpoint %s: %w", id, err)
		}
	}
	return p, false, nil
}

// Save implements CheckpointStore.
func (s *RedisStore) Save(ctx context.Context, id string, p Progress) error {
	rc, err := s.client.Resolve(ctx)
	if err != nil {
		return fmt.Errorf("splitter: checkpoint save: %w", err)
	}
	b, _ := json.Marshal(p)
	if err := rc.Set(ctx, progressKey(id), b, s.ttl).Err(); err != nil {
		return fmt.Errorf("splitter: checkpoint save: %w", s.client.Explain(err))
	}
	return nil
}

// Finish implements CheckpointStore.
func (s *RedisStore) Finish(ctx context.Context, id string) error {
	rc, err := s.client.Resolve(ctx)
	if err != nil {
		return fmt.Errorf("splitter: checkpoint finish: %w", err)
	}
	_, err = rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, doneKey(id), "1", s.ttl)
		p.Del(ctx, progressKey(id))
		return nil
	})
	if err != nil {
		return fmt.Errorf("splitter: checkpoint finish: %w", s.client.Explain(err))
	}
	return nil
}

// Close closes the Redis client.
func (s *RedisStore) Close() error { return s.client.Close() }

// MemoryStore keeps checkpoints in the process. Without Redis, progress and
// done markers last only as long as the process (one warm Lambda instance).
// It remembers at most MaxDone finished objects, forgetting the oldest.
type MemoryStore struct {
	mu       sync.Mutex
	progress map[string]Progress
	done     map[string]bool
	order    []string // done ids, oldest first
}

// MaxDone bounds the done markers a MemoryStore keeps (a few MiB).
const MaxDone = 100_000

// NewMemoryStore returns an empty in-process store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{progress: map[string]Progress{}, done: map[string]bool{}}
}

// Load implements CheckpointStore.
func (m *MemoryStore) Load(_ context.Context, id string) (Progress, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.progress[id], m.done[id], nil
}

// Save implements CheckpointStore.
func (m *MemoryStore) Save(_ context.Context, id string, p Progress) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress[id] = p
	return nil
}

// Finish implements CheckpointStore.
func (m *MemoryStore) Finish(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.progress, id)
	if m.done[id] {
		return nil
	}
	m.done[id] = true
	m.order = append(m.order, id)
	if len(m.order) > MaxDone {
		delete(m.done, m.order[0])
		m.order = m.order[1:]
	}
	return nil
}
