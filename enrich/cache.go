package enrich

import (
	"context"
	"sync"
	"time"
)

// Cache stores lookup results. Implementations must answer a whole batch
// in one round trip: MGet returns one value per key, nil for a miss. An MGet
// that fails for some keys only may return the values it read (one per key,
// nil where unknown) with its error.
type Cache interface {
	MGet(ctx context.Context, keys []string) ([][]byte, error)
	MSet(ctx context.Context, entries []Entry) error
}

// Entry is one value to cache with its time to live.
type Entry struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// DefaultMemoryEntries bounds a MemoryCache made by NewMemoryCache.
const DefaultMemoryEntries = 100_000

// MemoryCache is an in-process Cache for the local runner and tests. It
// honours TTLs against its clock and holds at most MaxEntries values.
type MemoryCache struct {
	mu         sync.Mutex
	clock      Clock
	maxEntries int
	m          map[string]memEntry
}

type memEntry struct {
	value   []byte
	expires time.Time
}

// NewMemoryCache returns an empty MemoryCache of DefaultMemoryEntries; a
// nil clock means the wall clock.
func NewMemoryCache(clock Clock) *MemoryCache {
	if clock == nil {
		clock = realClock{}
	}
	return &MemoryCache{clock: clock, maxEntries: DefaultMemoryEntries, m: map[string]memEntry{}}
}

// MGet implements Cache.
func (c *MemoryCache) MGet(_ context.Context, keys []string) ([][]byte, error) {
	now := c.clock.Now()
	out := make([][]byte, len(keys))
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if e, ok := c.m[k]; ok {
			if now.Before(e.expires) {
				out[i] = e.value
			} else {
				delete(c.m, k)
			}
		}
	}
	return out, nil
}

// MSet implements Cache. When full it drops expired entries, then
// arbitrary ones: it is a cache, not a store. Entries beyond the bound in
// one call are still kept until the next sweep.
func (c *MemoryCache) MSet(_ context.Context, entries []Entry) error {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+len(entries) > c.maxEntries {
		// Make room for a tenth more than needed, so that a full cache is not
		// swept on every write.
		target := max(c.maxEntries-c.maxEntries/10-len(entries), 0)
		for k, e := range c.m {
			if !now.Before(e.expires) || len(c.m) > target {
				delete(c.m, k)
			}
		}
	}
	for _, e := range entries {
		if e.TTL <= 0 {
			continue
		}
		c.m[e.Key] = memEntry{value: append([]byte(nil), e.Value...), expires: now.Add(e.TTL)}
	}
	return nil
}
