package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/splitter/splittertest"
)

func init() { openFormat = splittertest.OpenFormat }

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := realMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSplitWithFormat(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.log", "one\nBAD two\nthree\n")
	t.Setenv("SLUICE_CONFIG", filepath.Join(dir, "absent.yaml")) // defaults apply with -format
	code, out, errs := run("split", in, "-format", "lines", "-schema", "page_view")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a line dead-lettered); stderr %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout = %q", out)
	}
	var env struct {
		Schema string            `json:"schema"`
		Fields map[string]string `json:"fields"`
		Source struct {
			Key  string `json:"key"`
			Line int    `json:"line"`
		} `json:"source"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &env); err != nil {
		t.Fatal(err)
	}
	if env.Schema != "page_view" || env.Fields["line"] != "three" || env.Source.Line != 3 || env.Source.Key != in {
		t.Fatalf("envelope = %+v", env)
	}
	var dl deadletter.Record
	if err := json.Unmarshal([]byte(strings.TrimSpace(errs)), &dl); err != nil {
		t.Fatalf("stderr %q: %v", errs, err)
	}
	if dl.Reason == "" || string(dl.RawData) != "BAD two" || dl.ErrorCode != "Splitter.ParseError" {
		t.Fatalf("dead letter = %+v", dl)
	}
}

func TestSplitRoutedByConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "sluice.yaml", `
routes:
  - key: "**/*.txt"
    format: lines
    schema: listing
    stream: listings
`)
	in := writeFile(t, dir, "good.txt", "a\nb\n")
	code, out, errs := run("split", "-config", cfg, in)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"schema":"listing"`) || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	other := writeFile(t, dir, "other.csv", "x\n")
	if code, _, errs := run("split", "-config", cfg, other); code != 2 || !strings.Contains(errs, "no route") {
		t.Fatalf("unrouted: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := run("split", "-config", cfg, filepath.Join(dir, "missing.txt")); code != 2 || !strings.Contains(errs, "does not exist") {
		t.Fatalf("missing: exit %d, stderr %q", code, errs)
	}
}

func TestSplitUsage(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.log", "x\n")
	t.Setenv("SLUICE_CONFIG", filepath.Join(dir, "absent.yaml"))
	for name, args := range map[string][]string{
		"no argument":            {"split"},
		"two arguments":          {"split", in, in},
		"unknown format":         {"split", "-format", "xml", in},
		"schema without format":  {"split", "-schema", "listing", in},
		"no config and no route": {"split", in},
		"unknown flag":           {"split", "-nope", in},
	} {
		if code, _, errs := run(args...); code != 2 || errs == "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message", name, code, errs)
		}
	}
}

func TestReplayUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no argument":  {"replay"},
		"not s3":       {"replay", "/tmp/x"},
		"bad since":    {"replay", "s3://b/p", "-since", "yesterday"},
		"bad until":    {"replay", "-until", "2026-13-01", "s3://b/p"},
		"no config":    {"replay", "-config", "/nonexistent/sluice.yaml", "s3://b/p"},
		"unknown flag": {"replay", "-x", "s3://b/p"},
	} {
		if code, _, errs := run(args...); code != 2 || errs == "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message", name, code, errs)
		}
	}
}
