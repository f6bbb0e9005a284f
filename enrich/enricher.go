package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/schema"
)

// Statuses a Result carries. Presets add their API's own (ZERO_RESULTS,
// OVER_QUERY_LIMIT, REQUEST_DENIED, INVALID_REQUEST...).
const (
	StatusOK       = "OK"
	StatusNotFound = "NOT_FOUND" // HTTP 404 or 410: a negative, cached result
	StatusNoKey    = "NO_KEY"    // a key field was missing or empty: no lookup
	StatusError    = "ERROR"     // the lookup failed; Err says why
)

// Result is the outcome of looking up one key.
type Result struct {
	// Found is false for a negative result (ZERO_RESULTS, 404): no Fields.
	Found bool `json:"found"`
	// Fields maps schema field names to values taken from the response
	// (JSON-decoded types). A path absent from the response is left out.
	// Every record with the same key shares the map: treat it as read-only.
	Fields map[string]any `json:"fields,omitempty"`
	// Status is OK, a negative status, NO_KEY, or an error status.
	Status string `json:"status"`
	// Err is set when the lookup failed after retries; on_error applies.
	Err error `json:"-"`
}

// Enricher looks up keys built from records against one HTTP JSON API.
// Build it once per process with New; it is safe for concurrent use.
type Enricher struct {
	cfg     config.Enricher
	version string
	tmpl    *urlTemplate
	paths   map[string]jsonPath
	secret  string
	preset  preset

	client  *http.Client
	cache   Cache
	metrics *metrics.Set
	clock   Clock
	limiter Limiter
	shared  Limiter
	sm      SecretsManagerAPI
	ps      ParameterStoreAPI
	loadAWS AWSConfigLoader
	flight  flight
}

// Option sets an injectable dependency of New.
type Option func(*Enricher)

// WithHTTPClient sets the HTTP client. Default: one that refuses redirects
// to another host; per-attempt timeouts come from config.
func WithHTTPClient(c *http.Client) Option { return func(e *Enricher) { e.client = c } }

// WithCache sets the cache. Default: a MemoryCache.
func WithCache(c Cache) Option { return func(e *Enricher) { e.cache = c } }

// WithMetrics sets where metrics go. Default: none.
func WithMetrics(m *metrics.Set) Option { return func(e *Enricher) { e.metrics = m } }

// WithClock sets the clock for rate limiting and backoff. Default: wall clock.
func WithClock(c Clock) Option { return func(e *Enricher) { e.clock = c } }

// WithSecrets sets the clients that read the secret; either may be nil.
// Default: clients from the default AWS config, made only when needed.
func WithSecrets(sm SecretsManagerAPI, ps ParameterStoreAPI) Option {
	return func(e *Enricher) { e.sm, e.ps = sm, ps }
}

// WithAWSConfig sets how the Secrets Manager and SSM clients that
// WithSecrets did not set get their AWS configuration. Default: none, and a
// secretsmanager: or ssm: secret is an error.
func WithAWSConfig(load AWSConfigLoader) Option { return func(e *Enricher) { e.loadAWS = load } }

// WithLimiter replaces the per-instance limiter built from rate and burst.
func WithLimiter(l Limiter) Option { return func(e *Enricher) { e.limiter = l } }

// New builds an enricher from its config at cold start: it applies the
// config's defaults, validates it and loads the secret once.
func New(ctx context.Context, cfg config.Enricher, opts ...Option) (*Enricher, error) {
	cfg.ApplyDefaults()
	if key, problem := cfg.Check(); problem != "" {
		return nil, fmt.Errorf("enrich: %s: %s: %s", cfg.Name, key, problem)
	}
	e := &Enricher{cfg: cfg, paths: map[string]jsonPath{}, preset: presets[cfg.Preset]}
	for _, o := range opts {
		o(e)
	}
	var err error
	if e.tmpl, err = parseTemplate(cfg.URL); err != nil {
		return nil, err
	}
	for field, p := range cfg.Map {
		e.paths[field] = parsePath(p)
	}
	e.version = version(cfg)
	if e.clock == nil {
		e.clock = realClock{}
	}
	if e.client == nil {
		e.client = defaultClient(cfg.Concurrency)
	}
	if e.cache == nil {
		e.cache = NewMemoryCache(e.clock)
	}
	if e.limiter == nil {
		e.limiter = newClockLimiter(cfg.Rate, cfg.Burst, e.clock)
	}
	if cfg.SharedRate > 0 {
		if rc, ok := e.cache.(*RedisCache); ok {
			e.shared = NewSharedLimiter(rc.Client(), SharedLimiterKey(cfg.Name), cfg.SharedRate, cfg.Burst, e.clock)
		} else {
			// One process with no shared Redis is the whole fleet.
			e.shared = newClockLimiter(cfg.SharedRate, cfg.Burst, e.clock)
		}
	}
	if cfg.Secret != "" {
		if e.secret, err = loadSecret(ctx, cfg.Secret, e.sm, e.ps, e.loadAWS); err != nil {
			return nil, fmt.Errorf("enrich: %s: %w", cfg.Name, err)
		}
	}
	return e, nil
}

func defaultClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != via[0].URL.Host || len(via) >= 3 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// version changes whenever what a cached value means changes: the preset,
// URL, key fields or mapping (not the secret or headers).
func version(cfg config.Enricher) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", cfg.Preset, cfg.URL, strings.Join(cfg.Key, "\x1f"))
	fields := make([]string, 0, len(cfg.Map))
	for f := range cfg.Map {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		fmt.Fprintf(h, "%s=%s\x00", f, cfg.Map[f])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Name is the enricher's configured name.
func (e *Enricher) Name() string { return e.cfg.Name }

// Schema is the schema whose records the enricher applies to.
func (e *Enricher) Schema() string { return e.cfg.Schema }

// OnError is "fail" or "pass".
func (e *Enricher) OnError() string { return e.cfg.OnError }

// StatusField is the schema field for the lookup's status ("" for none).
func (e *Enricher) StatusField() string { return e.cfg.StatusField }

// Version identifies the enricher's preset, URL, key and mapping; it is
// part of every cache key.
func (e *Enricher) Version() string { return e.version }

// Key builds the lookup key from a record's fields (schema field names).
// ok is false when a key field is missing or blank: no lookup is made and
// the record counts as negative with status NO_KEY. Values are trimmed.
func (e *Enricher) Key(get func(field string) (string, bool)) (key string, ok bool) {
	b := make([]byte, 1, 64)
	b[0] = '['
	for i, f := range e.cfg.Key {
		v, ok := get(f)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return "", false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = schema.AppendString(b, v)
	}
	return string(append(b, ']')), true
}

// keyValues turns a key made by Key back into field values.
func (e *Enricher) keyValues(key string) (map[string]string, error) {
	var vals []string
	if err := json.Unmarshal([]byte(key), &vals); err != nil || len(vals) != len(e.cfg.Key) {
		return nil, fmt.Errorf("enrich: %s: malformed key (make keys with Enricher.Key)", e.cfg.Name)
	}
	m := make(map[string]string, len(vals))
	for i, f := range e.cfg.Key {
		m[f] = vals[i]
	}
	return m, nil
}

// CacheKey is the cache key of a lookup key:
// sluice:enrich:<name>:<version>:<hex sha256(key)>.
func (e *Enricher) CacheKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sluice:enrich:" + e.cfg.Name + ":" + e.version + ":" + hex.EncodeToString(sum[:])
}

// Lookup resolves the distinct keys of a whole batch: one cache read, a
// rate-limited request for each miss (each key once), one cache write. It
// never fails as a whole: each key's Result carries its own Err. A cache
// that is down or slow only makes the batch run degraded (uncached).
func (e *Enricher) Lookup(ctx context.Context, keys []string) map[string]Result {
	out := make(map[string]Result, len(keys))
	distinct := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, dup := out[k]; !dup {
			out[k] = Result{}
			distinct = append(distinct, k)
		}
	}
	if len(distinct) == 0 {
		return out
	}
	cacheKeys := make([]string, len(distinct))
	for i, k := range distinct {
		cacheKeys[i] = e.CacheKey(k)
	}

	// A read that failed still lets the batch write what it looks up: a
	// cache that cannot be read now (a node down, a timeout) is filled for
	// the next batch rather than left empty.
	cached, cacheErr := e.cache.MGet(ctx, cacheKeys)
	if len(cached) != len(distinct) {
		if cacheErr == nil {
			cacheErr = fmt.Errorf("enrich: cache answered %d values for %d keys", len(cached), len(distinct))
		}
		cached = nil
	}
	if cacheErr != nil {
		e.count("EnrichDegraded", metrics.Count, 1)
	}
	var misses []int
	for i, k := range distinct {
		if cached != nil && cached[i] != nil {
			if r, ok := decodeResult(cached[i]); ok {
				out[k] = r
				continue
			}
		}
		misses = append(misses, i)
	}
	e.count("EnrichCacheHits", metrics.Count, float64(len(distinct)-len(misses)))
	e.count("EnrichCacheMisses", metrics.Count, float64(len(misses)))
	if len(misses) == 0 {
		return out
	}

	results := make([]Result, len(misses))
	shared := make([]bool, len(misses))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(e.cfg.Concurrency, len(misses)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				key := distinct[misses[j]]
				results[j], shared[j] = e.flight.do(ctx, key, func() Result { return e.fetch(ctx, key) })
			}
		}()
	}
	for j := range misses {
		work <- j
	}
	close(work)
	wg.Wait()

	entries := make([]Entry, 0, len(misses))
	for j, i := range misses {
		r := results[j]
		out[distinct[i]] = r
		if r.Err != nil || shared[j] {
			continue // errors are never cached; a shared result was cached by its owner
		}
		ttl := e.cfg.CacheTTL
		if !r.Found {
			ttl = e.cfg.NegativeTTL
		}
		b, err := json.Marshal(r)
		if err != nil {
			continue
		}
		entries = append(entries, Entry{Key: cacheKeys[i], Value: b, TTL: ttl})
	}
	if len(entries) > 0 {
		if err := e.cache.MSet(ctx, entries); err != nil {
			e.count("EnrichCacheWriteErrors", metrics.Count, 1)
		}
	}
	return out
}

func (e *Enricher) count(name string, unit metrics.Unit, v float64) {
	e.metrics.Add(name, unit, v, metrics.Dim{Name: "Enricher", Value: e.cfg.Name})
}

// since is the elapsed time in milliseconds on the enricher's clock.
func (e *Enricher) since(start time.Time) float64 {
	return float64(e.clock.Now().Sub(start)) / float64(time.Millisecond)
}

// decodeResult reads a cached Result. Decoding into any takes
// encoding/json's reflection-free path, which matters at 50+ hits a batch.
func decodeResult(b []byte) (Result, bool) {
	var doc any
	if json.Unmarshal(b, &doc) != nil {
		return Result{}, false
	}
	m, _ := doc.(map[string]any)
	status, _ := m["status"].(string)
	if status == "" {
		return Result{}, false
	}
	found, _ := m["found"].(bool)
	fields, _ := m["fields"].(map[string]any)
	return Result{Found: found, Fields: fields, Status: status}, true
}
