package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rollup makes a route aggregate its records instead of emitting each one
// (see docs/rollups.md). The splitter emits, per source object, one record
// per group and window: partial aggregates that merge downstream.
type Rollup struct {
	// Name names the rollup, its generated schema and its records. It must
	// be a lower-case identifier. Required.
	Name string `yaml:"name"`
	// Window is the length of a time window: 1m, 5m, 15m or 1h. Required.
	Window time.Duration `yaml:"window"`
	// Time is the field holding the request time the window is taken from.
	// Default: request_creation_time for alb, timestamp for elb; required
	// for other formats.
	Time string `yaml:"time"`
	// Where lists rules that must all match for a record to be aggregated;
	// the others are counted as excluded by the first rule they fail.
	// Default: none (every record is aggregated).
	Where []WhereRule `yaml:"where"`
	// By lists the dimensions; the window start always is one. Default: none.
	By []string `yaml:"by"`
	// Measures lists what is computed per group; count is always computed.
	// Default: count only.
	Measures []Measure `yaml:"measures"`
	// MaxGroups bounds the groups held in memory for one object: when one
	// more would be needed, the groups so far are emitted as a segment and
	// aggregation starts over. Default: 10000.
	MaxGroups int `yaml:"max_groups"`
	// SegmentLines ends a segment after this many input lines, so one
	// segment always fits in one invocation. Default: 1000000.
	SegmentLines int64 `yaml:"segment_lines"`
	// Export, an s3://bucket/prefix/, also writes each segment's totals as
	// plain CSV to <prefix><name>/<object id>-<segment>.csv. Default: none.
	Export string `yaml:"export"`
}

// ExportLocation splits Export into bucket and key prefix (ending in "/").
func (r *Rollup) ExportLocation() (bucket, prefix string) {
	rest, _ := strings.CutPrefix(r.Export, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix
}

// WhereRule keeps a record only when its field matches (or, with NotMatch,
// does not match) a regular expression. A missing or null field is "".
type WhereRule struct {
	// Name identifies the rule in counts and metrics. Default: "<field> ~
	// <match>" (or "!~" for not_match).
	Name string `yaml:"name"`
	// Field is the record field, after query-string decoding. Required.
	Field string `yaml:"field"`
	// Match and NotMatch are Go regular expressions; exactly one is set.
	Match    string `yaml:"match"`
	NotMatch string `yaml:"not_match"`

	re *regexp.Regexp
	// exact is set when the expression is ^literal$: a string comparison.
	exact   string
	isExact bool
}

// Matches reports whether value passes the rule (valid after Validate).
func (w *WhereRule) Matches(value string) bool {
	if w.isExact {
		return (value == w.exact) == (w.NotMatch == "")
	}
	return w.re.MatchString(value) == (w.NotMatch == "")
}

// Compile compiles the rule's expression (Validate does it for a loaded
// config); Matches needs it.
func (w *WhereRule) Compile() error {
	expr := w.Match
	if w.NotMatch != "" {
		expr = w.NotMatch
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return err
	}
	w.re = re
	if lit, ok := strings.CutPrefix(expr, "^"); ok && strings.HasSuffix(lit, "$") {
		lit = lit[:len(lit)-1]
		if regexp.QuoteMeta(lit) == lit {
			w.exact, w.isExact = lit, true
		}
	}
	return nil
}

// check validates the rule at key ("...where[i]") and compiles it.
func (w *WhereRule) check(c *Config, key string) error {
	if w.Field == "" {
		return c.errf(key+".field", "is required")
	}
	if (w.Match == "") == (w.NotMatch == "") {
		return c.errf(key, "set exactly one of match and not_match")
	}
	if err := w.Compile(); err != nil {
		sub := ".match"
		if w.NotMatch != "" {
			sub = ".not_match"
		}
		return c.errf(key+sub, "not a valid regular expression: %v", err)
	}
	return nil
}

// applyDefaults names the rule after its test when it has no name.
func (w *WhereRule) applyDefaults() {
	switch {
	case w.Name != "":
	case w.NotMatch != "":
		w.Name = w.Field + " !~ " + w.NotMatch
	default:
		w.Name = w.Field + " ~ " + w.Match
	}
}

// The measure kinds.
const (
	MeasureCount     = "count"
	MeasureSum       = "sum"
	MeasureMin       = "min"
	MeasureMax       = "max"
	MeasureDistinct  = "distinct"
	MeasureQuantiles = "quantiles"
)

// DefaultQuantiles are a quantiles measure's q when it names none.
var DefaultQuantiles = []float64{0.5, 0.95, 0.99}

// Measure is one aggregate. In YAML it is "count" or a one-key map naming
// the field: {sum: sent_bytes}, {distinct: user}, {quantiles: f, q: [0.5]}.
type Measure struct {
	Kind  string
	Field string
	// Q are the quantiles reported for a quantiles measure.
	Q []float64
}

// UnmarshalYAML reads the scalar and map forms.
func (m *Measure) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		m.Kind = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a measure is count or a map such as {sum: FIELD}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if k == "q" {
			if err := v.Decode(&m.Q); err != nil {
				return fmt.Errorf("line %d: q must be a list of numbers between 0 and 1", v.Line)
			}
			continue
		}
		if m.Kind != "" {
			return fmt.Errorf("line %d: a measure has one kind; %s and %s given (write two measures)", n.Line, m.Kind, k)
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s: name one field", v.Line, k)
		}
		m.Kind, m.Field = k, v.Value
	}
	return nil
}

// Column is the output column of a field or dimension name: characters
// other than letters, digits and "_" become "_".
func Column(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || '0' <= b[0] && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// QuantileColumn names a quantile's output column: p50_f, p99_9_f.
func QuantileColumn(q float64, field string) string {
	p := strconv.FormatFloat(q*100, 'f', -1, 64)
	return "p" + strings.ReplaceAll(p, ".", "_") + "_" + Column(field)
}

// Column is the measure's column in the partial records: count, sum_f,
// min_f, max_f, hll_f (a HyperLogLog) or sketch_f (a DDSketch).
func (m Measure) Column() string {
	switch m.Kind {
	case MeasureCount:
		return "count"
	case MeasureDistinct:
		return "hll_" + Column(m.Field)
	case MeasureQuantiles:
		return "sketch_" + Column(m.Field)
	}
	return m.Kind + "_" + Column(m.Field)
}

// Columns reserved in rollup records.
const (
	ColumnRollup      = "rollup"
	ColumnID          = "rollup_id"
	ColumnWindowStart = "window_start"
)

// WindowName writes a window length as in sluice.yaml: 5m, 1h.
func WindowName(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// Windows are the window lengths a rollup may use.
var Windows = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}

var rollupName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// logIntegers and logDecimals are the load balancers' numeric fields.
var (
	logIntegers = map[string]bool{
		"elb_status_code": true, "target_status_code": true, "backend_status_code": true,
		"received_bytes": true, "sent_bytes": true, "matched_rule_priority": true,
		"client_port": true, "target_port": true, "backend_port": true,
	}
	logDecimals = map[string]bool{
		"request_processing_time": true, "target_processing_time": true,
		"response_processing_time": true, "backend_processing_time": true,
	}
)

// FieldType is how a rollup reads a field of the route's format: "long",
// "double" or "string" (query parameters and other formats' fields).
func (r *Route) FieldType(field string) string {
	if r.Format == "alb" || r.Format == "elb" {
		switch {
		case logIntegers[field]:
			return "long"
		case logDecimals[field]:
			return "double"
		}
	}
	return "string"
}

// TimeField is the field a rollup's windows are taken from.
func (r *Route) TimeField() string {
	switch {
	case r.Rollup.Time != "":
		return r.Rollup.Time
	case r.Format == "alb":
		return "request_creation_time"
	case r.Format == "elb":
		return "timestamp"
	}
	return ""
}

func (r *Rollup) applyDefaults(route *Route) {
	if route.Schema == "" {
		route.Schema = r.Name
	}
	if r.MaxGroups == 0 {
		r.MaxGroups = 10000
	}
	if r.SegmentLines == 0 {
		r.SegmentLines = 1_000_000
	}
	hasCount := false
	for i := range r.Measures {
		m := &r.Measures[i]
		if m.Kind == MeasureQuantiles && len(m.Q) == 0 {
			m.Q = DefaultQuantiles
		}
		hasCount = hasCount || m.Kind == MeasureCount
	}
	if !hasCount {
		r.Measures = append([]Measure{{Kind: MeasureCount}}, r.Measures...)
	}
	for i := range r.Where {
		r.Where[i].applyDefaults()
	}
}

// check validates a route's rollup; key is "routes[i].rollup".
func (r *Rollup) check(c *Config, route *Route, key string) error {
	if !rollupName.MatchString(r.Name) {
		return c.errf(key+".name", "%q must be a lower-case identifier such as beacon_5m (it names the rollup's schema and table)", r.Name)
	}
	if route.Schema != r.Name {
		return c.errf(key[:len(key)-len(".rollup")]+".schema", "a rollup route's records have the generated schema %q; leave schema out", r.Name)
	}
	ok := false
	for _, w := range Windows {
		ok = ok || r.Window == w
	}
	if !ok {
		return c.errf(key+".window", "%v is not a window length (want 1m, 5m, 15m or 1h)", r.Window)
	}
	if route.TimeField() == "" {
		return c.errf(key+".time", "is required for format %s (the field holding each record's time)", route.Format)
	}
	if r.MaxGroups < 1 {
		return c.errf(key+".max_groups", "must be at least 1")
	}
	if r.SegmentLines < 1 {
		return c.errf(key+".segment_lines", "must be at least 1")
	}
	if b, _ := r.ExportLocation(); r.Export != "" && (!strings.HasPrefix(r.Export, "s3://") || b == "") {
		return c.errf(key+".export", "%q is not an s3://bucket/prefix/ location", r.Export)
	}
	for i := range r.Where {
		if err := r.Where[i].check(c, fmt.Sprintf("%s.where[%d]", key, i)); err != nil {
			return err
		}
	}
	columns := map[string]string{ColumnRollup: "reserved", ColumnID: "reserved", ColumnWindowStart: "reserved", "extra": "reserved", "provenance": "reserved"}
	claim := func(col, k string) error {
		if prev, ok := columns[col]; ok {
			return c.errf(k, "its column %q is also %s (rename or drop one)", col, prev)
		}
		columns[col] = k
		return nil
	}
	for i, d := range r.By {
		k := fmt.Sprintf("%s.by[%d]", key, i)
		if d == "" {
			return c.errf(k, "is empty")
		}
		if err := claim(Column(d), k); err != nil {
			return err
		}
	}
	for i, m := range r.Measures {
		k := fmt.Sprintf("%s.measures[%d]", key, i)
		switch m.Kind {
		case MeasureCount:
			if m.Field != "" || len(m.Q) > 0 {
				return c.errf(k, "count takes no field")
			}
		case MeasureSum, MeasureMin, MeasureMax, MeasureQuantiles:
			if route.FieldType(m.Field) == "string" && (route.Format == "alb" || route.Format == "elb") && isLogField(route.Format, m.Field) {
				return c.errf(k, "%s of %s: the field is not numeric", m.Kind, m.Field)
			}
			fallthrough
		case MeasureDistinct:
			if m.Field == "" {
				return c.errf(k, "%s needs a field, e.g. {%s: FIELD}", m.Kind, m.Kind)
			}
		default:
			return c.errf(k, "unknown measure %q (want count, sum, min, max, distinct or quantiles)", m.Kind)
		}
		if len(m.Q) > 0 && m.Kind != MeasureQuantiles {
			return c.errf(k+".q", "only a quantiles measure takes q")
		}
		for _, q := range m.Q {
			if !(q > 0 && q < 1) {
				return c.errf(k+".q", "%v is not a quantile between 0 and 1 (exclusive)", q)
			}
		}
		if err := claim(m.Column(), k); err != nil {
			return err
		}
	}
	return nil
}

// isLogField reports whether field is one of the load balancer's own
// fields (not a query parameter).
func isLogField(format, field string) bool {
	fields := albFieldNames
	if format == "elb" {
		fields = elbFieldNames
	}
	return fields[field]
}

var (
	albFieldNames = fieldSet("type time elb client_ip client_port target_ip target_port request_processing_time target_processing_time response_processing_time elb_status_code target_status_code received_bytes sent_bytes request_method request_url request_url_path request_url_host request_protocol user_agent ssl_cipher ssl_protocol target_group_arn trace_id domain_name chosen_cert_arn matched_rule_priority request_creation_time actions_executed redirect_url error_reason classification classification_reason conn_trace_id transformed_host transformed_uri request_transform_status")
	elbFieldNames = fieldSet("timestamp elb client_ip client_port backend_ip backend_port request_processing_time backend_processing_time response_processing_time elb_status_code backend_status_code received_bytes sent_bytes request_method request_url request_url_path request_url_host request_protocol user_agent ssl_cipher ssl_protocol")
)

func fieldSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// RollupSchema returns the Avro schema (.avsc text) generated for a rollup
// route: the rollup's name and record id, typed group keys, the window
// start, the measures, and the extra map and provenance every sluice
// schema has.
func (r *Route) RollupSchema() []byte {
	type field struct {
		Name    string `json:"name"`
		Type    any    `json:"type"`
		Doc     string `json:"doc,omitempty"`
		Default any    `json:"default,omitempty"`
	}
	nullable := func(t any) any { return []any{"null", t} }
	ro := r.Rollup
	fields := []field{
		{Name: ColumnRollup, Type: "string", Doc: "the rollup's name"},
		{Name: ColumnID, Type: "string", Doc: "object, rollup, segment and group: the same on redelivery"},
	}
	for _, d := range ro.By {
		fields = append(fields, field{Name: Column(d), Type: nullable(r.FieldType(d)), Doc: "dimension " + d + "; null when the record has no value"})
	}
	fields = append(fields, field{Name: ColumnWindowStart, Type: map[string]string{"type": "long", "logicalType": "timestamp-millis"},
		Doc: fmt.Sprintf("start of the %s window of %s", WindowName(ro.Window), r.TimeField())})
	for _, m := range ro.Measures {
		f := field{Name: m.Column()}
		switch m.Kind {
		case MeasureCount:
			f.Type, f.Doc = "long", "records aggregated"
		case MeasureSum:
			t := "double"
			if r.FieldType(m.Field) == "long" {
				t = "long"
			}
			f.Type, f.Doc = t, "sum of "+m.Field+" (nulls skipped)"
		case MeasureMin, MeasureMax:
			f.Type, f.Doc = nullable("double"), m.Kind+" of "+m.Field+"; null when no record has a value"
		case MeasureDistinct:
			f.Type, f.Doc = "string", "HyperLogLog of "+m.Field+" (base64, github.com/axiomhq/hyperloglog, precision 14)"
		case MeasureQuantiles:
			f.Type, f.Doc = "string", "DDSketch of "+m.Field+" (base64, github.com/DataDog/sketches-go, 1% relative accuracy)"
		}
		fields = append(fields, f)
	}
	prov := map[string]any{"type": "record", "name": "provenance", "fields": []field{
		{Name: "record_id", Type: "string"},
		{Name: "bucket", Type: nullable("string"), Default: json.RawMessage("null")},
		{Name: "key", Type: nullable("string"), Default: json.RawMessage("null")},
		{Name: "version", Type: nullable("string"), Default: json.RawMessage("null")},
		{Name: "format", Type: nullable("string"), Default: json.RawMessage("null")},
		{Name: "ingested_at", Type: nullable(map[string]string{"type": "long", "logicalType": "timestamp-millis"}), Default: json.RawMessage("null")},
	}}
	fields = append(fields,
		field{Name: "extra", Type: map[string]string{"type": "map", "values": "string"}, Doc: "input fields that match no column (none from the splitter)", Default: json.RawMessage("{}")},
		field{Name: "provenance", Type: nullable(prov), Default: json.RawMessage("null")})
	doc := map[string]any{
		"type": "record", "name": ro.Name, "namespace": "sluice.rollup",
		"doc":    fmt.Sprintf("Rollup %s of %s records: partial aggregates per source object, group and %s window (generated from sluice.yaml).", ro.Name, r.Format, WindowName(ro.Window)),
		"fields": fields,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(doc) // only maps, slices and strings: cannot fail
	return b.Bytes()
}
