package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/normalize"
)

// Formats are the splitter's input formats.
var Formats = []string{"csv", "jsonl", "elb", "alb", "lines"}

// Validate checks everything that can be checked without the schemas.
func (c *Config) Validate() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return c.errf("timezone", "unknown zone %q (use an IANA name such as Europe/Berlin)", c.Timezone)
	}
	c.location = loc

	for _, name := range sortedKeys(c.Streams) {
		s := c.Streams[name]
		key := "streams." + name
		if s.RecordsPerSecond < 0 {
			return c.errf(key+".records_per_second", "must not be negative")
		}
		if s.BytesPerSecond < 0 {
			return c.errf(key+".bytes_per_second", "must not be negative")
		}
		if s.BufferSizeMB < 0.2 || s.BufferSizeMB > 3 {
			return c.errf(key+".buffer_size_mb", "%v is outside Firehose's processor buffer range 0.2 to 3", s.BufferSizeMB)
		}
		if s.BufferInterval < 0 || s.BufferInterval > 900*time.Second {
			return c.errf(key+".buffer_interval", "%v is outside Firehose's processor buffer range 0s to 900s", s.BufferInterval)
		}
		if s.DeliveryBufferSizeMB < 1 || s.DeliveryBufferSizeMB > 128 {
			return c.errf(key+".delivery_buffer_size_mb", "%v is outside Firehose's S3 buffer range 1 to 128", s.DeliveryBufferSizeMB)
		}
		if s.DeliveryBufferInterval < 0 || s.DeliveryBufferInterval > 900*time.Second {
			return c.errf(key+".delivery_buffer_interval", "%v is outside Firehose's S3 buffer range 0s to 900s", s.DeliveryBufferInterval)
		}
	}

	if c.Transform.Locale != "" {
		if _, err := normalize.ParseLocale(c.Transform.Locale); err != nil {
			return c.errf("transform.locale", "%v", err)
		}
	}
	if err := checkLayouts(c.Transform.DateLayouts); err != "" {
		return c.errf("transform.date_layouts", "%s", err)
	}
	if c.Transform.EpochFrom >= c.Transform.EpochUntil {
		return c.errf("transform.epoch_from", "%d must be before epoch_until (%d)", c.Transform.EpochFrom, c.Transform.EpochUntil)
	}

	rollups := map[string]bool{}
	for i := range c.Routes {
		r := &c.Routes[i]
		key := fmt.Sprintf("routes[%d]", i)
		if r.location, err = time.LoadLocation(r.Timezone); err != nil {
			return c.errf(key+".timezone", "unknown zone %q (use an IANA name such as Europe/Berlin)", r.Timezone)
		}
		if r.Locale != "" {
			if _, err := normalize.ParseLocale(r.Locale); err != nil {
				return c.errf(key+".locale", "%v", err)
			}
		}
		if err := checkLayouts(r.DateLayouts); err != "" {
			return c.errf(key+".date_layouts", "%s", err)
		}
		if r.Key == "" {
			return c.errf(key+".key", "is required (a glob on the object key, e.g. \"listings/*.csv\")")
		}
		for _, g := range []struct{ k, v string }{{"bucket", r.Bucket}, {"key", r.Key}} {
			if _, err := CompileGlob(g.v); err != nil {
				return c.errf(key+"."+g.k, "%v", err)
			}
		}
		if !contains(Formats, r.Format) {
			return c.errf(key+".format", "unknown format %q (want one of %s)", r.Format, strings.Join(Formats, ", "))
		}
		if err := format.CheckOptions(r.Format, format.Options(r.Options)); err != nil {
			return c.errf(key+".options", "%v", strings.TrimPrefix(err.Error(), "format: "))
		}
		if err := c.validateTargets(key, *r); err != nil {
			return err
		}
		rkey := key + ".rollup"
		if r.Rollup != nil && r.Forks() {
			j := r.rollupBranch()
			if j < 0 || r.To[j].Rollup != r.Rollup {
				return c.errf(key+".rollup", "and to: exclude each other (a rollup route sends its aggregates to stream; in a fork, give one branch the rollup: block)")
			}
			rkey = fmt.Sprintf("%s.to[%d].rollup", key, j)
		}
		if r.Rollup != nil {
			if err := r.Rollup.check(c, r.RollupRoute(), rkey); err != nil {
				return err
			}
			if rollups[r.Rollup.Name] {
				return c.errf(rkey+".name", "%q is used by another route's rollup", r.Rollup.Name)
			}
			rollups[r.Rollup.Name] = true
		}
	}

	for i, d := range c.Drop {
		key := fmt.Sprintf("drop[%d]", i)
		if d.Name == "" {
			return c.errf(key+".name", "is required")
		}
		if d.Field == "" {
			return c.errf(key+".field", "is required")
		}
		if _, err := regexp.Compile(d.Match); err != nil || d.Match == "" {
			return c.errf(key+".match", "needs a valid regular expression: %v", err)
		}
	}

	seen := map[string]bool{}
	for i, e := range c.Enrichers {
		key := fmt.Sprintf("enrichers[%d]", i)
		if seen[e.Name] {
			return c.errf(key+".name", "%q is used twice", e.Name)
		}
		seen[e.Name] = true
		if k, problem := e.Check(); problem != "" {
			if k != "" {
				k = "." + k
			}
			return c.errf(key+k, "%s", problem)
		}
	}

	if c.Limits.MaxRecordBytes > MaxFirehoseRecordBytes {
		return c.errf("limits.max_record_bytes", "%d is over Firehose's record limit of %d", c.Limits.MaxRecordBytes, MaxFirehoseRecordBytes)
	}
	if c.Limits.MaxRatio < 1 {
		return c.errf("limits.max_ratio", "must be at least 1")
	}
	if c.Transform.MaxResponseBytes > MaxResponseBytes {
		return c.errf("transform.max_response_bytes", "%d is over the 6 MB Lambda response limit (%d)", c.Transform.MaxResponseBytes, MaxResponseBytes)
	}
	if c.Transform.DeadlineMargin < 0 {
		return c.errf("transform.deadline_margin", "must not be negative")
	}
	return nil
}

// CheckStreams checks that every stream a route sends to is one of
// streams: a typo there would send records to a delivery stream that does
// not exist.
func (c *Config) CheckStreams() error {
	names := sortedKeys(c.Streams)
	for i, r := range c.Routes {
		for j, b := range r.Branches() {
			if _, ok := c.Streams[b.Stream]; ok {
				continue
			}
			key := fmt.Sprintf("routes[%d].stream", i)
			if r.Forks() {
				key = fmt.Sprintf("routes[%d].to[%d].stream", i, j)
			}
			if len(names) == 0 {
				return c.errf(key, "unknown stream %q (streams: has none; add %s: under streams:)", b.Stream, b.Stream)
			}
			return c.errf(key, "unknown stream %q (streams: %s)", b.Stream, strings.Join(names, ", "))
		}
	}
	return nil
}

// validateTargets checks where a route sends records: stream and schema,
// or the branches of to.
func (c *Config) validateTargets(key string, r Route) error {
	if !r.Forks() {
		if r.Stream == "" {
			return c.errf(key+".stream", "is required (or to: with one entry per stream, for a fork)")
		}
		if r.Schema == "" {
			return c.errf(key+".schema", "is required")
		}
		return nil
	}
	if r.Stream != "" {
		return c.errf(key+".stream", "and to: exclude each other (list %q under to:)", r.Stream)
	}
	seen := map[string]bool{}
	for j, b := range r.To {
		bkey := fmt.Sprintf("%s.to[%d]", key, j)
		if b.Stream == "" {
			return c.errf(bkey+".stream", "is required")
		}
		if seen[b.Stream] {
			return c.errf(bkey+".stream", "%q is named twice in this route (record ids name the stream, so they would collide)", b.Stream)
		}
		seen[b.Stream] = true
		if b.Rollup != nil {
			if j != r.rollupBranch() {
				return c.errf(bkey+".rollup", "a route has at most one rollup branch (make another route for a second rollup)")
			}
			if len(b.Where) > 0 {
				return c.errf(bkey+".where", "a rollup branch takes its rules under rollup.where (lines it excludes are counted by rule)")
			}
		}
		if b.Schema == "" {
			return c.errf(bkey+".schema", "is required (here or as the route's schema)")
		}
		for k := range b.Where {
			if err := b.Where[k].check(c, fmt.Sprintf("%s.where[%d]", bkey, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckSchemas checks that every schema the config names exists.
func (c *Config) CheckSchemas(has func(name string) bool) error {
	check := func(key, name string) error {
		if name != "" && !has(name) {
			return c.errf(key, "unknown schema %q", name)
		}
		return nil
	}
	if err := check("default_schema", c.DefaultSchema); err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Streams) {
		if err := check("streams."+name+".schema", c.Streams[name].Schema); err != nil {
			return err
		}
	}
	for i, r := range c.Routes {
		if err := check(fmt.Sprintf("routes[%d].schema", i), r.Schema); err != nil {
			return err
		}
		for j, b := range r.To {
			if err := check(fmt.Sprintf("routes[%d].to[%d].schema", i, j), b.Schema); err != nil {
				return err
			}
		}
	}
	for i, d := range c.Drop {
		if err := check(fmt.Sprintf("drop[%d].schema", i), d.Schema); err != nil {
			return err
		}
	}
	for i, e := range c.Enrichers {
		if err := check(fmt.Sprintf("enrichers[%d].schema", i), e.Schema); err != nil {
			return err
		}
	}
	return nil
}

// Errorf returns a problem with key as an *Error that names the file and
// the key's line and column: for checks made outside this package (the
// topology's).
func (c *Config) Errorf(key, format string, args ...any) error {
	return c.errf(key, format, args...)
}

func (c *Config) errf(key, format string, args ...any) error {
	line, col := position(c.doc, key)
	return &Error{Path: c.Path, Line: line, Column: col, Key: key, Problem: fmt.Sprintf(format, args...)}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkLayouts checks that each date layout reads back a date it writes
// and says the year: a layout without one would give every value year 0.
func checkLayouts(layouts []string) string {
	ref := time.Date(2024, 5, 17, 13, 45, 30, 0, time.UTC)
	for _, l := range layouts {
		back, err := time.Parse(l, ref.Format(l))
		if err != nil || !strings.Contains(l, "06") || back.Year() != 2024 {
			return fmt.Sprintf("%q is not a Go time layout with a year (write the reference time Mon Jan 2 15:04:05 2006 as your dates are written, e.g. \"2006\" or \"02/01/2006\")", l)
		}
	}
	return ""
}
