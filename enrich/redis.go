package enrich

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/redisx"
)

// RedisCache is the Cache on Redis: a single node, a Redis Cluster or
// ElastiCache Serverless. A batch is one pipeline of single-key GETs (or of
// SET PX), never a multi-key command, since the keys are independent and a
// cluster spreads them over its slots: one round trip on a single node, one
// pipelined exchange per node on a cluster.
type RedisCache struct {
	client *redisx.Client
}

// NewRedisCache caches in the Redis of client (see redisx.New for the URL
// forms and the per-call timeouts).
func NewRedisCache(client *redisx.Client) *RedisCache { return &RedisCache{client: client} }

// Client returns the Redis client (the shared limiter uses it too).
func (c *RedisCache) Client() *redisx.Client { return c.client }

// Close closes the client's connections.
func (c *RedisCache) Close() error { return c.client.Close() }

// MGet implements Cache with one pipeline of GETs. When some GETs fail (a
// node down), it still returns the values it read, with the error.
func (c *RedisCache) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	rc, err := c.client.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("enrich: cache read: %w", err)
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err = rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	out := make([][]byte, len(keys))
	var first error
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		switch {
		case err == nil:
			out[i] = b
		case errors.Is(err, redis.Nil):
		case first == nil:
			first = err
		}
	}
	if first == nil && err != nil && !errors.Is(err, redis.Nil) {
		first = err
	}
	if first != nil {
		return out, fmt.Errorf("enrich: cache read (pipelined GET): %w", c.client.Explain(first))
	}
	return out, nil
}

// MSet implements Cache with one pipeline of SET key value PX ttl.
func (c *RedisCache) MSet(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	rc, err := c.client.Resolve(ctx)
	if err != nil {
		return fmt.Errorf("enrich: cache write: %w", err)
	}
	_, err = rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			if e.TTL > 0 {
				p.Set(ctx, e.Key, e.Value, e.TTL)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enrich: cache write (pipelined SET): %w", c.client.Explain(err))
	}
	return nil
}
