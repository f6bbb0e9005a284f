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
	if c.Streams["listings"].BufferInterval != 60*time.Second || c.Streams["listings"].BufferSizeMB != 1 {
		t.Errorf("buffer defaults not applied: %+v", c.Streams["listings"])
	}
}

func TestErrorsNameFileKeyAndProblem(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "timezon: UTC\n", `cfg.yaml: line 1: field timezon not found`},
		{"bad zone", "timezone: Mars/Olympus\n", `cfg.yaml: timezone: unknown zone "Mars/Olympus"`},
		{"bad format", "routes:\n  - key: a/*\n    format: xml\n    schema: s\n    stream: t\n", `cfg.yaml: routes[0].format: unknown format "xml"`},
		{"route without key", "routes:\n  - format: csv\n", `cfg.yaml: routes[0].key: is required`},
		{"bad drop regexp", "drop:\n  - name: d\n    field: f\n    match: \"(\"\n", `cfg.yaml: drop[0].match: needs a valid regular expression`},
		{"host placeholder", "enrichers:\n  - name: g\n    schema: s\n    url: \"https://{host}/x\"\n", `cfg.yaml: enrichers[0].url: placeholders may appear only in the path and query`},
		{"on_error", "enrichers:\n  - name: g\n    schema: s\n    on_error: retry\n", `cfg.yaml: enrichers[0].on_error: must be fail or pass`},
		{"buffer", "streams:\n  s:\n    buffer_size_mb: 5\n", `cfg.yaml: streams.s.buffer_size_mb: 5 is outside`},
		{"duration", "transform:\n  deadline_margin: soon\n", `cfg.yaml: line 2: cannot unmarshal`},
		{"record limit", "limits:\n  max_record_bytes: 2000000\n", `cfg.yaml: limits.max_record_bytes: 2000000 is over`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckSchemasNamesTheKey(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte("streams:\n  s:\n    schema: nope\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckSchemas(func(string) bool { return false })
	if err == nil || err.Error() != `cfg.yaml: streams.s.schema: unknown schema "nope"` {
		t.Fatalf("got %v", err)
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
