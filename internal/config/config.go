package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPath names the environment variable that points at the config file.
const EnvPath = "SLUICE_CONFIG"

// DefaultPath is used when EnvPath is unset.
const DefaultPath = "sluice.yaml"

// Config is the whole of sluice.yaml. Every field documents its default.
type Config struct {
	// Path is the file the config was read from; it prefixes every
	// validation error. It is not read from YAML.
	Path string `yaml:"-"`

	// Dir is the directory of Path; relative paths inside the file
	// (schemas.dir) are resolved against it. It is not read from YAML.
	Dir string `yaml:"-"`

	// Timezone is the IANA zone in which naive dates and times are read.
	// Default: UTC.
	Timezone string `yaml:"timezone"`

	// DefaultSchema is used for a record whose envelope names no schema and
	// whose delivery stream has none configured. Default: none, and such a
	// record is ProcessingFailed.
	DefaultSchema string `yaml:"default_schema"`

	// Schemas says where the Avro schemas live.
	Schemas Schemas `yaml:"schemas"`

	// Streams maps a Firehose delivery stream name to its settings.
	Streams map[string]Stream `yaml:"streams"`

	// Routes is the splitter's routing table; the first match wins.
	Routes []Route `yaml:"routes"`

	// Drop lists rules whose matching records are Dropped (and counted).
	Drop []DropRule `yaml:"drop"`

	// Enrichers are external lookups applied by the transform.
	Enrichers []Enricher `yaml:"enrichers"`

	// DeadLetter is where the splitter writes lines it cannot parse.
	DeadLetter DeadLetter `yaml:"dead_letter"`

	// Limits bound what the splitter will read.
	Limits Limits `yaml:"limits"`

	// Transform tunes the transform Lambda.
	Transform Transform `yaml:"transform"`

	location *time.Location
	doc      *yaml.Node // the file's YAML tree, for error positions
}

// Schemas locates the .avsc files.
type Schemas struct {
	// Dir holds <name>.v<N>.avsc files, relative to the config file.
	// Default: the schemas shipped inside the binary.
	Dir string `yaml:"dir"`
}

// Stream configures one Firehose delivery stream.
type Stream struct {
	// Schema is the schema for bare records arriving on this stream.
	Schema string `yaml:"schema"`

	// RecordsPerSecond and BytesPerSecond cap what the splitter sends to the
	// stream from one Lambda instance. Default: 0, meaning unlimited.
	RecordsPerSecond float64 `yaml:"records_per_second"`
	BytesPerSecond   float64 `yaml:"bytes_per_second"`

	// Pack joins several small records, newline-separated, into one Firehose
	// record of at most 1,000 KiB. Only for S3 and Redshift destinations.
	// Default: false.
	Pack bool `yaml:"pack"`

	// PartitionKeys makes the transform return each Ok record's schema as
	// the partition key "schema" (metadata.partitionKeys), for a stream with
	// dynamic partitioning. Default: false.
	PartitionKeys bool `yaml:"partition_keys"`

	// BufferSizeMB and BufferInterval mirror the processor buffer hints of
	// the real stream for the local emulator. Defaults: 1 MB and 60s.
	BufferSizeMB   float64       `yaml:"buffer_size_mb"`
	BufferInterval time.Duration `yaml:"buffer_interval"`

	// DeliveryBufferSizeMB and DeliveryBufferInterval mirror the S3
	// destination's buffering hints (SizeInMBs, IntervalInSeconds) for the
	// local emulator: Ok records of several batches are delivered as one
	// object when either is reached. Defaults: Firehose's, 5 MiB and 300s.
	DeliveryBufferSizeMB   int           `yaml:"delivery_buffer_size_mb"`
	DeliveryBufferInterval time.Duration `yaml:"delivery_buffer_interval"`

	// Prefix and ErrorPrefix are the S3 destination prefixes used by the
	// local emulator. Defaults: Firehose's own (YYYY/MM/DD/HH/ and
	// <ErrorPrefix>processing-failed/YYYY/MM/DD/HH/).
	Prefix      string `yaml:"prefix"`
	ErrorPrefix string `yaml:"error_prefix"`

	// Final marks a stream whose delivered objects leave the pipeline (read
	// by people or other systems). A stream with a Prefix of its own must
	// be read by a route (a chain) or be Final; one without delivers under
	// the date and is final. Default: false.
	Final bool `yaml:"final"`

	// SourceBackup makes the deployed stream keep every record as it
	// arrived, before the transform, under source/<stream>/ in the output
	// bucket: for a stream fed from outside the pipeline (webhooks), where
	// the stream holds the only copy. It is the default of the generated
	// stack's <Stream>SourceBackup parameter. Default: true for a stream
	// no route sends to, else false.
	SourceBackup *bool `yaml:"source_backup"`
}

// Route sends matching S3 objects to a format and to one stream (stream
// and schema) or several (to: a fork).
type Route struct {
	// Bucket is a glob on the bucket name. Default: "*".
	Bucket string `yaml:"bucket"`
	// Key is a glob on the URL-decoded object key ("*" does not cross "/",
	// "**" does). Required.
	Key string `yaml:"key"`
	// Format is one of csv, jsonl, elb, alb, lines. Required.
	Format string `yaml:"format"`
	// Schema names the schema records are normalised against. Required
	// with Stream; with To, the schema of a branch that names none.
	Schema string `yaml:"schema"`
	// Stream is the delivery stream records are put into. Required unless
	// To is set; the two exclude each other.
	Stream string `yaml:"stream"`
	// To forks the route: every record is offered to each branch, and put
	// into the branch's stream when it passes the branch's Where. Default:
	// none (the route sends every record to Stream).
	To []Branch `yaml:"to"`
	// Options are format options, e.g. delimiter or encoding for csv.
	Options map[string]string `yaml:"options"`

	// DayFirst, Locale, Timezone, Trim and DateLayouts say how the
	// transform reads the values of records that came through this route
	// (found from their provenance). Unset, they take transform.day_first,
	// transform.locale, timezone, transform.trim and transform.date_layouts.
	DayFirst    *bool    `yaml:"day_first"`
	Locale      string   `yaml:"locale"`
	Timezone    string   `yaml:"timezone"`
	Trim        *bool    `yaml:"trim"`
	DateLayouts []string `yaml:"date_layouts"`

	location *time.Location

	// Rollup, when set, aggregates the records instead of emitting each
	// one; Schema then defaults to the rollup's generated schema. Default:
	// none.
	Rollup *Rollup `yaml:"rollup"`
}

// Branch is one destination of a forked route.
type Branch struct {
	// Stream is the delivery stream. Required, and distinct within a route.
	Stream string `yaml:"stream"`
	// Schema is the schema of the branch's records. Default: the route's.
	Schema string `yaml:"schema"`
	// Where keeps the records that pass every rule; the others are not
	// sent to this branch and are counted as dropped by the rule
	// "where:<stream>". The rules read as a rollup's where does, but a
	// field is found by its name as schema fields are (case, spaces and
	// punctuation ignored). Default: none, every record.
	Where []WhereRule `yaml:"where"`
	// Rollup makes the branch a rollup: every record is aggregated as a
	// rollup route's lines are (its own where rules, not the branch's),
	// and the partial aggregates are put into Stream with the rollup's
	// generated schema. At most one branch of a route. Default: none.
	Rollup *Rollup `yaml:"rollup"`
}

// Forks reports whether the route is written with to: (record ids then
// name the branch's stream).
func (r Route) Forks() bool { return len(r.To) > 0 }

// Branches returns where the route sends records: To, or the one branch
// of Stream and Schema.
func (r Route) Branches() []Branch {
	if r.Forks() {
		return r.To
	}
	return []Branch{{Stream: r.Stream, Schema: r.Schema}}
}

// rollupBranch returns the index of the fork's branch that is a rollup, or
// -1.
func (r Route) rollupBranch() int {
	for j := range r.To {
		if r.To[j].Rollup != nil {
			return j
		}
	}
	return -1
}

// RollupRoute returns the route as its rollup sees it: the route itself
// for a rollup route, and for a fork with a rollup branch the route with
// that branch's stream, schema and rollup and no to:. Nil when the route
// has no rollup.
func (r Route) RollupRoute() *Route {
	if r.Rollup == nil {
		return nil
	}
	if j := r.rollupBranch(); j >= 0 {
		b := r.To[j]
		r.Stream, r.Schema, r.Rollup, r.To = b.Stream, b.Schema, b.Rollup, nil
	}
	return &r
}

// Location is the zone for the route's naive times (valid after Validate).
func (r Route) Location() *time.Location { return r.location }

// DropRule drops a record when its field matches.
type DropRule struct {
	// Name identifies the rule in metrics. Required.
	Name string `yaml:"name"`
	// Schema limits the rule to one schema. Default: every schema.
	Schema string `yaml:"schema"`
	// Field is the input field to test, matched like schema fields
	// (case, spaces and punctuation ignored). Required.
	Field string `yaml:"field"`
	// Match is a Go regular expression tested against the field's value.
	// Required.
	Match string `yaml:"match"`
}

// Enricher configures one external lookup (see docs/enrich.md).
type Enricher struct {
	// Name identifies the enricher in cache keys and metrics. Required.
	Name string `yaml:"name"`
	// Preset fills in defaults for a known API. "google_geocode" sets url,
	// key, map and status_field for the Google Geocoding API (see
	// PresetGoogleGeocode) and interprets its "status" values. Default: none.
	Preset string `yaml:"preset"`
	// Schema limits the enricher to records of one schema. Required.
	Schema string `yaml:"schema"`
	// Key lists the schema fields whose values form the lookup key; a record
	// missing any of them is not looked up. Required (or from the preset).
	Key []string `yaml:"key"`
	// URL is the request template. Its scheme and host are fixed; {field}
	// placeholders (fields of Key, or {secret}) may appear only in the path
	// and query and are escaped. Required (or from the preset).
	URL string `yaml:"url"`
	// Headers are sent with every request; {secret} is replaced by the
	// secret. No other placeholder is allowed. Default: none.
	Headers map[string]string `yaml:"headers"`
	// Secret is a Secrets Manager or SSM Parameter Store name or ARN
	// ("secretsmanager:NAME", "ssm:/path", or an ARN of either), or
	// "env:VAR" for local runs only (refused inside Lambda). Default: none;
	// required when the URL or a header uses {secret}.
	Secret string `yaml:"secret"`
	// Map maps a schema field name to a dot path in the JSON response
	// ("results.0.geometry.location.lat"). Required (or from the preset).
	Map map[string]string `yaml:"map"`
	// Rate is lookups per second per instance; Burst its bucket size.
	// Defaults: 10 and 1.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// Concurrency bounds lookups in flight per instance. Default: 8.
	Concurrency int `yaml:"concurrency"`
	// Timeout bounds one request attempt. Default: 2s.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a 429, 5xx or timeout is retried. Default: 2.
	Retries *int `yaml:"retries"`
	// CacheTTL and NegativeTTL are how long hits and negative results
	// (404, ZERO_RESULTS) are cached. Defaults: 24h and 1h.
	CacheTTL    time.Duration `yaml:"cache_ttl"`
	NegativeTTL time.Duration `yaml:"negative_ttl"`
	// OnError is "fail" (ProcessingFailed) or "pass" (deliver without the
	// enrichment, StatusField set). Default: fail.
	OnError string `yaml:"on_error"`
	// StatusField is the schema field set to the lookup's outcome (OK,
	// ZERO_RESULTS, NO_KEY, ERROR...). Default: none, or the preset's.
	StatusField string `yaml:"status_field"`
	// SharedRate, when set, also limits lookups across every instance with a
	// Redis-backed limiter (calls per second for the whole fleet, with
	// Burst). Default: 0, meaning only the per-instance Rate applies.
	SharedRate float64 `yaml:"shared_rate"`
}

// PresetGoogleGeocode is the preset for the Google Geocoding API (and any
// API answering with its response shape). It fills these defaults:
//
//	url:          https://maps.googleapis.com/maps/api/geocode/json?address={address}&key={secret}
//	key:          [address]
//	map:          latitude: results.0.geometry.location.lat
//	              longitude: results.0.geometry.location.lng
//	status_field: geocode_status
const PresetGoogleGeocode = "google_geocode"

// Presets are the known enricher presets.
var Presets = []string{PresetGoogleGeocode}

// ApplyDefaults fills unset fields from the preset and the documented
// defaults. It is idempotent.
func (e *Enricher) ApplyDefaults() {
	if e.Preset == PresetGoogleGeocode {
		if e.URL == "" {
			e.URL = "https://maps.googleapis.com/maps/api/geocode/json?address={address}&key={secret}"
		}
		if len(e.Key) == 0 {
			e.Key = []string{"address"}
		}
		if len(e.Map) == 0 {
			e.Map = map[string]string{
				"latitude":  "results.0.geometry.location.lat",
				"longitude": "results.0.geometry.location.lng",
			}
		}
		if e.StatusField == "" {
			e.StatusField = "geocode_status"
		}
	}
	if e.Rate == 0 {
		e.Rate = 10
	}
	if e.Burst == 0 {
		e.Burst = 1
	}
	if e.Concurrency == 0 {
		e.Concurrency = 8
	}
	if e.Timeout == 0 {
		e.Timeout = 2 * time.Second
	}
	if e.Retries == nil {
		two := 2
		e.Retries = &two
	}
	if e.CacheTTL == 0 {
		e.CacheTTL = 24 * time.Hour
	}
	if e.NegativeTTL == 0 {
		e.NegativeTTL = time.Hour
	}
	if e.OnError == "" {
		e.OnError = "fail"
	}
}

// DeadLetter is the splitter's dead-letter location.
type DeadLetter struct {
	// Bucket is the S3 bucket. Default: the DEAD_LETTER_BUCKET environment
	// variable; locally, a folder.
	Bucket string `yaml:"bucket"`
	// Prefix is the key prefix. Default: "splitter-failed/".
	Prefix string `yaml:"prefix"`
}

// Limits guard the splitter against hostile or broken input.
type Limits struct {
	// MaxDecompressedBytes caps the decompressed size of one object.
	// Default: 10 GiB.
	MaxDecompressedBytes int64 `yaml:"max_decompressed_bytes"`
	// MaxRatio caps decompressed/compressed size. Default: 100.
	MaxRatio float64 `yaml:"max_ratio"`
	// MaxRecordBytes caps one record; larger ones are dead-lettered.
	// Default and maximum: 1,024,000 (Firehose's 1,000 KiB).
	MaxRecordBytes int `yaml:"max_record_bytes"`
}

// Transform tunes the transform Lambda.
type Transform struct {
	// DeadlineMargin is kept free before the invocation deadline; records
	// not finished by then are ProcessingFailed. Default: 3s.
	DeadlineMargin time.Duration `yaml:"deadline_margin"`
	// MaxResponseBytes caps the response; overflow is re-ingested.
	// Default and maximum: 6,000,000.
	MaxResponseBytes int `yaml:"max_response_bytes"`
	// LogPayloads adds record payloads to failure logs. Default: false.
	LogPayloads bool `yaml:"log_payloads"`
	// DayFirst reads ambiguous dates such as 03/04/2024 as day/month
	// (3 April). Default: false: month first (March 4).
	DayFirst bool `yaml:"day_first"`
	// Locale ("fr", "de-CH") says which separator is the decimal mark in a
	// number that does not show it itself (1.299, 1,299) and adds its
	// language's booleans (oui/non). Default: none: such a number is read
	// by the other values of its column, else the record fails.
	Locale string `yaml:"locale"`
	// Trim removes whitespace around text values. Default: true.
	Trim *bool `yaml:"trim"`
	// DateLayouts are Go time layouts ("2006", "02/01/06") tried first
	// for dates and timestamps; the only way a number such as a bare year
	// is read as a date. Default: none.
	DateLayouts []string `yaml:"date_layouts"`
	// EpochFrom and EpochUntil are the years within which a number in a
	// date or timestamp field is read as epoch seconds, milliseconds or
	// microseconds. Defaults: 1990 and 2100.
	EpochFrom  int `yaml:"epoch_from"`
	EpochUntil int `yaml:"epoch_until"`
}

// Error is a configuration problem: the file, the key and what is wrong,
// with the key's line and column when the file has it
// (sluice.yaml:12:3: routes[1].stream: ...).
type Error struct {
	Path         string
	Line, Column int
	Key          string
	Problem      string
}

func (e *Error) Error() string {
	at := e.Path
	if e.Line > 0 {
		at = fmt.Sprintf("%s:%d:%d", e.Path, e.Line, e.Column)
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", at, e.Problem)
	}
	return fmt.Sprintf("%s: %s: %s", at, e.Key, e.Problem)
}

// Location is the zone for naive times (valid after Validate).
func (c *Config) Location() *time.Location {
	if c.location == nil {
		return time.UTC
	}
	return c.location
}

// Resolve returns path resolved against the config file's directory.
func (c *Config) Resolve(path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.Dir, path)
}

// PathFromEnv returns the config path: SLUICE_CONFIG, else ./sluice.yaml.
func PathFromEnv() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return DefaultPath
}

// Load reads, decodes, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w (set %s to the config file's path)", err, EnvPath)
	}
	return Parse(path, b)
}

// Parse decodes and validates src, reporting errors against path.
func Parse(path string, src []byte) (*Config, error) {
	c := &Config{Path: path, Dir: filepath.Dir(path)}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, syntaxError(path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var errs []error
			for _, e := range typeProblems(path, &doc, te.Errors) {
				errs = append(errs, e)
			}
			return nil, errors.Join(errs...)
		}
		return nil, syntaxError(path, err)
	}
	if err := fractionalInts(path, &doc); err != nil {
		return nil, err
	}
	c.Path, c.Dir, c.doc = path, filepath.Dir(path), &doc
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError reports a YAML syntax error as file:line: problem.
func syntaxError(path string, err error) error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Path: path, Line: line, Column: 1, Problem: "YAML syntax: " + msg[len(m[0]):]}
	}
	return &Error{Path: path, Problem: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

func (c *Config) applyDefaults() {
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	for name, s := range c.Streams {
		if s.BufferSizeMB == 0 {
			s.BufferSizeMB = 1
		}
		if s.BufferInterval == 0 {
			s.BufferInterval = 60 * time.Second
		}
		if s.DeliveryBufferSizeMB == 0 {
			s.DeliveryBufferSizeMB = 5
		}
		if s.DeliveryBufferInterval == 0 {
			s.DeliveryBufferInterval = 300 * time.Second
		}
		c.Streams[name] = s
	}
	if c.Transform.Trim == nil {
		yes := true
		c.Transform.Trim = &yes
	}
	if c.Transform.EpochFrom == 0 {
		c.Transform.EpochFrom = 1990
	}
	if c.Transform.EpochUntil == 0 {
		c.Transform.EpochUntil = 2100
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Bucket == "" {
			r.Bucket = "*"
		}
		for j := range r.To {
			if ro := r.To[j].Rollup; ro != nil && r.Rollup == nil {
				// The rollup branch: the route's rollup from here on, its
				// records of the rollup's generated schema.
				r.Rollup = ro
				if r.To[j].Schema == "" {
					r.To[j].Schema = ro.Name
				}
			}
			if r.To[j].Schema == "" {
				r.To[j].Schema = r.Schema
			}
			for k := range r.To[j].Where {
				r.To[j].Where[k].applyDefaults()
			}
		}
		if r.DayFirst == nil {
			r.DayFirst = &c.Transform.DayFirst
		}
		if r.Locale == "" {
			r.Locale = c.Transform.Locale
		}
		if r.Timezone == "" {
			r.Timezone = c.Timezone
		}
		if r.Trim == nil {
			r.Trim = c.Transform.Trim
		}
		if r.DateLayouts == nil {
			r.DateLayouts = c.Transform.DateLayouts
		}
		if c.Routes[i].Rollup != nil && !r.Forks() {
			c.Routes[i].Rollup.applyDefaults(&c.Routes[i])
		}
		for j := range r.To {
			if ro := r.To[j].Rollup; ro != nil {
				view := Route{Schema: r.To[j].Schema}
				ro.applyDefaults(&view)
			}
		}
	}
	for i := range c.Enrichers {
		c.Enrichers[i].ApplyDefaults()
	}
	if c.DeadLetter.Prefix == "" {
		c.DeadLetter.Prefix = "splitter-failed/"
	}
	if c.Limits.MaxDecompressedBytes == 0 {
		c.Limits.MaxDecompressedBytes = 10 << 30
	}
	if c.Limits.MaxRatio == 0 {
		c.Limits.MaxRatio = 100
	}
	if c.Limits.MaxRecordBytes == 0 {
		c.Limits.MaxRecordBytes = MaxFirehoseRecordBytes
	}
	if c.Transform.DeadlineMargin == 0 {
		c.Transform.DeadlineMargin = 3 * time.Second
	}
	if c.Transform.MaxResponseBytes == 0 {
		c.Transform.MaxResponseBytes = MaxResponseBytes
	}
}

// Firehose limits (Firehose developer guide).
const (
	// MaxFirehoseRecordBytes is the largest record, before base64: 1,000 KiB.
	MaxFirehoseRecordBytes = 1000 * 1024
	// MaxResponseBytes keeps a transform response under the 6 MB
	// synchronous Lambda payload cap.
	MaxResponseBytes = 6_000_000
)

// StreamFor returns the stream named by a delivery stream ARN or name.
func (c *Config) StreamFor(arnOrName string) (string, Stream, bool) {
	name := arnOrName
	if i := strings.LastIndex(name, "/"); i >= 0 && strings.HasPrefix(name, "arn:") {
		name = name[i+1:]
	}
	s, ok := c.Streams[name]
	return name, s, ok
}

// SchemaForStream picks the schema for a bare record on a stream: the
// stream's configured schema, else DefaultSchema, else "".
func (c *Config) SchemaForStream(arnOrName string) string {
	if _, s, ok := c.StreamFor(arnOrName); ok && s.Schema != "" {
		return s.Schema
	}
	return c.DefaultSchema
}
