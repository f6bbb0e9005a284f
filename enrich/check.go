package enrich

import (
	"fmt"
	"sort"

	"github.com/sluicehq/sluice/internal/redisx"
	"github.com/sluicehq/sluice/schema"
)

// CheckSchema reports, at cold start, an enricher whose key, mapped or
// status fields are not fields of its schema, so that a typo in sluice.yaml
// is a configuration error rather than a batch of failed records.
func (e *Enricher) CheckSchema(s *schema.Schema) error {
	need := map[string]string{}
	for _, f := range e.cfg.Key {
		need[f] = "key"
	}
	for f := range e.cfg.Map {
		need[f] = "map"
	}
	if e.cfg.StatusField != "" {
		need[e.cfg.StatusField] = "status_field"
	}
	names := make([]string, 0, len(need))
	for f := range need {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if _, ok := s.Field(f); !ok {
			return fmt.Errorf("enrich: %s: %s names %q, which schema %s v%d does not have", e.cfg.Name, need[f], f, s.Name, s.Version)
		}
	}
	if f, ok := s.Field(e.cfg.StatusField); ok {
		if t, _ := f.Type.NonNull(); t.Kind != schema.String || !f.Type.Nullable() {
			return fmt.Errorf("enrich: %s: status_field %q must be a nullable string in schema %s v%d, it is %s", e.cfg.Name, f.Name, s.Name, s.Version, f.Type)
		}
	}
	return nil
}

// NewCacheFromEnv returns a RedisCache for REDIS_URL when it is set, else
// an in-process MemoryCache (local runs).
func NewCacheFromEnv() (Cache, error) {
	client, err := redisx.FromEnv()
	if err != nil || client == nil {
		return NewMemoryCache(nil), err
	}
	return NewRedisCache(client), nil
}
