package deploy

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

func parse(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLiteralPrefix(t *testing.T) {
	for glob, want := range map[string]string{
		"listings/**":        "listings/",
		"alb-logs/**":        "alb-logs/",
		"events/*.jsonl":     "events/",
		"**":                 "",
		"exact/key.csv":      "exact/key.csv",
		"a/b?/c":             "a/b",
		"stage1/[ab]/x.json": "stage1/",
	} {
		if got := literalPrefix(glob); got != want {
			t.Errorf("literalPrefix(%q) = %q, want %q", glob, got, want)
		}
	}
}

// TestDisjoint checks the property S3 needs: no kept prefix covers
// another, and every input prefix is covered by a kept one.
func TestDisjoint(t *testing.T) {
	for _, in := range [][]string{
		{"a/", "a/b/", "b/"},
		{"", "a/"},
		{"logs/2024/", "logs/", "logs/2023/x"},
		{"x", "xy", "y"},
		{},
	} {
		out := disjoint(append([]string(nil), in...))
		for i, a := range out {
			for j, b := range out {
				if i != j && strings.HasPrefix(b, a) {
					t.Errorf("disjoint(%q) = %q: %q covers %q", in, out, a, b)
				}
			}
		}
		for _, p := range in {
			covered := false
			for _, q := range out {
				covered = covered || strings.HasPrefix(p, q)
			}
			if !covered {
				t.Errorf("disjoint(%q) = %q leaves %q uncovered", in, out, p)
			}
		}
	}
}

func TestNewStack(t *testing.T) {
	st, err := newStack(parse(t, `
streams:
  raw: {schema: listing, prefix: stage1/raw/, error_prefix: errors/raw/, pack: true}
  clean: {schema: listing, partition_keys: true}
  hooks: {schema: webhook_event}
routes:
  - {key: "in/**", format: csv, schema: listing, stream: raw}
  - {key: "in/deep/**", format: csv, schema: listing, stream: raw}
  - {key: "stage1/raw/**", format: jsonl, schema: listing, stream: clean}
  - {bucket: partner, key: "x/*.csv", format: csv, schema: listing, stream: raw}
enrichers:
  - {name: geo, preset: google_geocode, schema: listing, secret: "ssm:/sluice/key"}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(st.InputPrefixes, st.OutputPrefixes, st.ExistingBuckets, st.SSMParameters, st.Enriches)
	if want := "[in/] [stage1/raw/] [partner] [sluice/key] true"; got != want {
		t.Errorf("stack = %s, want %s", got, want)
	}
	byName := map[string]stream{}
	for _, s := range st.Streams {
		byName[s.Name] = s
	}
	for name, want := range map[string]string{
		"raw":   "Raw stage1/raw/ errors/raw/ [s3 redshift] fed=true",
		"clean": "Clean data/clean/ errors/clean/ [s3] fed=true",
		"hooks": "Hooks data/hooks/ errors/hooks/ [s3 opensearch redshift] fed=false",
	} {
		s := byName[name]
		if got := fmt.Sprintf("%s %s %s %v fed=%v", s.Logical, s.Prefix, s.ErrorPrefix, s.Destinations, s.Fed); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestNewStackRefuses(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"streams:\n  a_b: {schema: x}\n  a-b: {schema: x}\n", "would name the same resources (AB)"},
		{"streams:\n  s: {schema: x, pack: true, partition_keys: true}\n", "pack and partition_keys exclude each other"},
		{"streams:\n  s: {schema: x, prefix: \"out\"}\n", "streams.s.prefix \"out\": a deployed prefix's fixed part must end in /"},
		{"streams:\n  9s: {schema: x}\n", "must start with a letter"},
		{"streams:\n  s: {schema: x, prefix: out/data/, error_prefix: out/errors/}\nroutes:\n  - {key: \"out/**\", format: jsonl, schema: x, stream: s}\n", "cycle: routes[0] (out/**)"},
		{"dead_letter: {prefix: \"dl\"}\nstreams:\n  s: {schema: x}\n", "dead_letter.prefix"},
		{"streams:\n  s: {schema: x, prefix: \"p/!{timestamp:yyyy}/\"}\n", "error_prefix: is required when prefix has !{...} expressions"},
		{"streams:\n  s: {schema: x, prefix: \"p/\", error_prefix: \"e/!{timestamp:yyyy}/\"}\n", "must contain !{firehose:error-output-type}"},
		{"streams:\n  s: {schema: x, prefix: \"p/\"}\nroutes:\n  - {key: \"p/**\", format: jsonl, schema: x, stream: s}\n", "set streams.s.error_prefix outside it"},
	} {
		cfg, err := config.Parse("sluice.yaml", []byte(tt.src))
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		var buf bytes.Buffer
		err = Template(&buf, cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "sluice.yaml") {
			t.Errorf("%q: %v, want an error naming sluice.yaml and saying %q", tt.src, err, tt.want)
		}
	}
}

func TestTemplateIsDeterministic(t *testing.T) {
	src := "streams:\n  a: {schema: x}\n  b: {schema: y, pack: true}\n  c: {schema: z}\nroutes:\n  - {key: \"a/**\", format: csv, schema: x, stream: a}\n  - {key: \"b/**\", format: csv, schema: y, stream: b}\n"
	var first bytes.Buffer
	if err := Template(&first, parse(t, src)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		var again bytes.Buffer
		if err := Template(&again, parse(t, src)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), again.Bytes()) {
			t.Fatal("two generations of one config differ")
		}
	}
}

func TestSSMName(t *testing.T) {
	for in, want := range map[string]string{
		"ssm:/sluice/key": "sluice/key",
		"ssm:key":         "key",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/sluice/key": "sluice/key",
		"secretsmanager:x": "",
		"env:KEY":          "",
	} {
		if got, _ := ssmName(in); got != want {
			t.Errorf("ssmName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSourceBackupDefault(t *testing.T) {
	st, err := newStack(parse(t, `
streams:
  fed: {schema: x}
  fed_kept: {schema: x, source_backup: true}
  outside: {schema: x}
  outside_off: {schema: x, source_backup: false}
routes:
  - {key: "a/**", format: csv, schema: x, stream: fed}
  - {key: "b/**", format: csv, schema: x, stream: fed_kept}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range st.Streams {
		got[s.Name] = s.SourceBackup
	}
	if want := "map[fed:false fed_kept:true outside:true outside_off:false]"; fmt.Sprint(got) != want {
		t.Errorf("source backups %v, want %s", got, want)
	}
}
