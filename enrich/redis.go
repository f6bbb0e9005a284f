package enrich

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRedisURL names the environment variable holding the Redis URL.
const EnvRedisURL = "REDIS_URL"

// Redis defaults, used when the URL does not set them (query parameters
// dial_timeout, read_timeout, write_timeout, pool_timeout, max_retries).
// They are short on purpose: a slow cache must cost a batch little, since
// the enricher then goes straight to the API.
const (
	DefaultRedisDialTimeout  = 250 * time.Millisecond
	DefaultRedisReadTimeout  = 200 * time.Millisecond
	DefaultRedisWriteTimeout = 200 * time.Millisecond
	DefaultRedisPoolTimeout  = 200 * time.Millisecond
)

// RedisCache is the Cache on Redis (ElastiCache in AWS): MGET for a batch
// read, one pipeline of SET PX for a batch write.
type RedisCache struct {
	client redis.UniversalClient
}

// NewRedisCache connects (lazily) to the Redis at rawURL, e.g.
// redis://host:6379/0, or rediss://user:password@host:6379 for TLS and
// AUTH as ElastiCache in-transit encryption needs. Context deadlines bound
// every call (ContextTimeoutEnabled); commands are not retried.
func NewRedisCache(rawURL string) (*RedisCache, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold the password
		}
		return nil, fmt.Errorf("enrich: %s: %w", EnvRedisURL, err)
	}
	q := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	opt.ContextTimeoutEnabled = true
	if !q.Has("dial_timeout") {
		opt.DialTimeout = DefaultRedisDialTimeout
	}
	if !q.Has("read_timeout") {
		opt.ReadTimeout = DefaultRedisReadTimeout
	}
	if !q.Has("write_timeout") {
		opt.WriteTimeout = DefaultRedisWriteTimeout
	}
	if !q.Has("pool_timeout") {
		opt.PoolTimeout = DefaultRedisPoolTimeout
	}
	if !q.Has("max_retries") {
		opt.MaxRetries = -1 // no retries: failing open beats waiting
	}
	opt.DialerRetries = 1
	return &RedisCache{client: redis.NewClient(opt)}, nil
}

// Client returns the underlying client (the shared limiter uses it too).
func (c *RedisCache) Client() redis.UniversalClient { return c.client }

// Close closes the client's connections.
func (c *RedisCache) Close() error { return c.client.Close() }

// MGet implements Cache with one MGET.
func (c *RedisCache) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	vals, err := c.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("enrich: redis MGET: %w", err)
	}
	out := make([][]byte, len(keys))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

// MSet implements Cache with one pipeline of SET key value PX ttl.
func (c *RedisCache) MSet(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			if e.TTL > 0 {
				p.Set(ctx, e.Key, e.Value, e.TTL)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enrich: redis pipelined SET: %w", err)
	}
	return nil
}
