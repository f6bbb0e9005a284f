package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestShippedExampleLoads(t *testing.T) {
	c, err := Load("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SchemaForStream("arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings"); got != "listing" {
		t.Errorf("stream listings maps to schema %q, want listing", got)
	}
	if l := c.Streams["listings"]; l.BufferInterval != 60*time.Second || l.BufferSizeMB != 1 || l.DeliveryBufferSizeMB != 5 || l.DeliveryBufferInterval != 300*time.Second {
		t.Errorf("buffer defaults not applied: %+v", c.Streams["listings"])
	}
}

func TestErrorsNameFileKeyAndProblem(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "timezon: UTC\n", `cfg.yaml:1:1: timezon: unknown key "timezon" (known keys here: dead_letter, default_schema,`},
		{"unknown nested key", "streams:\n  s:\n    bufer_size_mb: 1\n", `cfg.yaml:3:5: streams.s.bufer_size_mb: unknown key "bufer_size_mb" (known keys here: buffer_interval, buffer_size_mb,`},
		{"bad zone", "timezone: Mars/Olympus\n", `cfg.yaml:1:1: timezone: unknown zone "Mars/Olympus"`},
		{"bad format", "routes:\n  - key: a/*\n    format: xml\n    schema: s\n    stream: t\n", `cfg.yaml:3:5: routes[0].format: unknown format "xml"`},
		{"route without key", "routes:\n  - format: csv\n", `cfg.yaml: routes[0].key: is required`},
		{"bad drop regexp", "drop:\n  - name: d\n    field: f\n    match: \"(\"\n", `cfg.yaml:4:5: drop[0].match: needs a valid regular expression`},
		{"host placeholder", "enrichers:\n  - name: g\n    schema: s\n    url: \"https://{host}/x\"\n", `cfg.yaml:4:5: enrichers[0].url: placeholders may appear only in the path and query`},
		{"on_error", "enrichers:\n  - name: g\n    schema: s\n    on_error: retry\n", `cfg.yaml:4:5: enrichers[0].on_error: must be fail or pass`},
		{"buffer", "streams:\n  s:\n    buffer_size_mb: 5\n", `cfg.yaml:3:5: streams.s.buffer_size_mb: 5 is outside`},
		{"delivery buffer", "streams:\n  s:\n    delivery_buffer_size_mb: 200\n", `cfg.yaml:3:5: streams.s.delivery_buffer_size_mb: 200 is outside Firehose's S3 buffer range 1 to 128`},
		{"delivery interval", "streams:\n  s:\n    delivery_buffer_interval: 20m\n", `cfg.yaml:3:5: streams.s.delivery_buffer_interval: 20m0s is outside Firehose's S3 buffer range 0s to 900s`},
		{"delivery size fraction", "streams:\n  s:\n    delivery_buffer_size_mb: 2.5\n", `cfg.yaml:3:30: streams.s.delivery_buffer_size_mb: want a whole number, got the number 2.5`},
		{"whole number with a fraction", "limits:\n  max_record_bytes: 1000.5\n", `cfg.yaml:2:21: limits.max_record_bytes: want a whole number, got the number 1000.5`},
		{"duration word", "transform:\n  deadline_margin: soon\n", `cfg.yaml:2:20: transform.deadline_margin: want a duration with a unit, such as 30s, 500ms or 2m, got "soon"`},
		{"duration number", "streams:\n  s:\n    buffer_interval: 3\n", `cfg.yaml:3:22: streams.s.buffer_interval: want a duration with a unit, such as 30s, 500ms or 2m, got the number 3`},
		{"list for a string", "routes:\n  - key: [a, b]\n", `cfg.yaml:2:10: routes[0].key: want a string, got a list`},
		{"string for a list", "enrichers:\n  - key: address\n", `cfg.yaml:2:10: enrichers[0].key: want a list of strings, such as [a, b], got "address"`},
		{"number for routes", "routes: 3\n", `cfg.yaml:1:9: routes: want a list of entries (- key: value ...), got the number 3`},
		{"word for a bool", "transform:\n  day_first: maybe\n", `cfg.yaml:2:14: transform.day_first: want true or false, got "maybe"`},
		{"syntax", "routes: [\n", `cfg.yaml:1:1: YAML syntax: did not find expected node content`},
		{"record limit", "limits:\n  max_record_bytes: 2000000\n", `cfg.yaml:2:3: limits.max_record_bytes: 2000000 is over`},
		{"no stream", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n", `routes[0].stream: is required (or to:`},
		{"stream and to", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    stream: t\n    to: [{stream: u}]\n", `routes[0].stream: and to: exclude each other`},
		{"branch without schema", "routes:\n  - key: a/*\n    format: csv\n    to: [{stream: u}]\n", `routes[0].to[0].schema: is required (here or as the route's schema)`},
		{"branch twice", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    to: [{stream: u}, {stream: u}]\n", `routes[0].to[1].stream: "u" is named twice`},
		{"where without field", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    to: [{stream: u, where: [{match: x}]}]\n", `routes[0].to[0].where[0].field: is required`},
		{"bad where", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    to: [{stream: u, where: [{field: f, match: \"(\"}]}]\n", `routes[0].to[0].where[0].match: not a valid regular expression`},
		{"where match and not_match", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    to: [{stream: u, where: [{field: f, match: x, not_match: y}]}]\n", `routes[0].to[0].where[0]: set exactly one of match and not_match`},
		{"bad glob", "routes:\n  - key: \"a[b\"\n    format: csv\n    schema: s\n    stream: t\n", `routes[0].key: bad glob "a[b": unclosed [`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "!!") {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestForkBranchesTakeTheRouteSchema(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte(`
routes:
  - key: "events/**"
    format: jsonl
    schema: event
    to:
      - stream: clicks
        schema: click
        where: [{field: type, match: "^click$"}]
      - stream: all_events
  - key: "listings/**"
    format: csv
    schema: listing
    stream: listings
`))
	if err != nil {
		t.Fatal(err)
	}
	fork, single := c.Routes[0], c.Routes[1]
	if !fork.Forks() || single.Forks() {
		t.Fatalf("Forks() = %v, %v; want true, false", fork.Forks(), single.Forks())
	}
	got := fork.Branches()
	if len(got) != 2 || got[0].Schema != "click" || got[1].Schema != "event" || len(got[0].Where) != 1 {
		t.Fatalf("fork branches %+v: want click with one condition, then the route's event", got)
	}
	if b := single.Branches(); len(b) != 1 || b[0].Stream != "listings" || b[0].Schema != "listing" || b[0].Where != nil {
		t.Fatalf("single-stream route's branches %+v", b)
	}
	err = c.CheckSchemas(func(name string) bool { return name != "click" })
	if err == nil || err.Error() != `cfg.yaml:8:9: routes[0].to[0].schema: unknown schema "click"` {
		t.Fatalf("CheckSchemas = %v", err)
	}
}

func TestCheckSchemasNamesTheKey(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte("streams:\n  s:\n    schema: nope\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckSchemas(func(string) bool { return false })
	if err == nil || err.Error() != `cfg.yaml:3:5: streams.s.schema: unknown schema "nope"` {
		t.Fatalf("got %v", err)
	}
}

func TestCheckStreamsNamesTheRoute(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"typo", "streams:\n  page_views: {}\n  listings: {}\nroutes:\n  - key: a/*\n    format: csv\n    schema: s\n    stream: listings\n  - key: b/*\n    format: csv\n    schema: s\n    stream: pageviews\n",
			`cfg.yaml:12:5: routes[1].stream: unknown stream "pageviews" (streams: listings, page_views)`},
		{"no streams", "routes:\n  - key: a/*\n    format: csv\n    schema: s\n    stream: listings\n",
			`cfg.yaml:5:5: routes[0].stream: unknown stream "listings" (streams: has none; add listings: under streams:)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("cfg.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CheckStreams(); err == nil || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
		})
	}
	c, err := Load("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckStreams(); err != nil {
		t.Errorf("the shipped config: %v", err)
	}
}

func TestPathFromEnv(t *testing.T) {
	t.Setenv(EnvPath, "")
	os.Unsetenv(EnvPath)
	if PathFromEnv() != "sluice.yaml" {
		t.Errorf("default path = %q", PathFromEnv())
	}
	t.Setenv(EnvPath, "/etc/sluice.yaml")
	if PathFromEnv() != "/etc/sluice.yaml" {
		t.Errorf("env path = %q", PathFromEnv())
	}
}

func TestValueSettingsAreChecked(t *testing.T) {
	route := "routes:\n  - key: \"a/**\"\n    format: csv\n    schema: s\n    stream: x\n"
	for _, tt := range []struct{ yaml, want string }{
		{route + "    locale: xx\n", `routes[0].locale: unknown locale "xx"`},
		{route + "    timezone: Mars/Olympus\n", `routes[0].timezone: unknown zone "Mars/Olympus"`},
		{route + "    date_layouts: [\"01/02\"]\n", `routes[0].date_layouts: "01/02" is not a Go time layout with a year`},
		{"transform:\n  locale: klingon\n", `transform.locale: unknown locale "klingon"`},
		{"transform:\n  epoch_from: 2100\n  epoch_until: 1990\n", `transform.epoch_from: 2100 must be before epoch_until`},
	} {
		_, err := Parse("sluice.yaml", []byte("streams:\n  x:\n    schema: s\n"+tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
	c, err := Parse("sluice.yaml", []byte("timezone: Europe/Paris\nstreams:\n  x:\n    schema: s\ntransform:\n  day_first: true\n  locale: fr\n  trim: false\n"+route+
		"  - key: \"b/**\"\n    format: csv\n    schema: s\n    stream: x\n    day_first: false\n    locale: en\n    timezone: UTC\n    trim: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	inherit, own := c.Routes[0], c.Routes[1]
	if !*inherit.DayFirst || inherit.Locale != "fr" || inherit.Timezone != "Europe/Paris" || *inherit.Trim || inherit.Location().String() != "Europe/Paris" {
		t.Errorf("route without settings does not inherit: %+v", inherit)
	}
	if *own.DayFirst || own.Locale != "en" || own.Timezone != "UTC" || !*own.Trim {
		t.Errorf("route settings not kept: %+v", own)
	}
}

// TestWholeNumbersWrittenAsFloats: 1e5 is a whole number, read
// as such; 1000.5 is refused above rather than cut to 1000.
func TestWholeNumbersWrittenAsFloats(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte("limits:\n  max_record_bytes: 1e5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.MaxRecordBytes != 100_000 {
		t.Fatalf("read %d", c.Limits.MaxRecordBytes)
	}
}
