package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sluice run, sluice test and sluice schema check work at once in a
// project sluice init wrote.
func TestInitWritesAProjectThatRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shops")
	code, stdout, stderr := sluice(t, "init", dir)
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	for _, f := range []string{"sluice.yaml", "schemas/shop.v1.avsc", "input/shops/2024-05-01/shops.csv", "tests/basic/expected.jsonl", "tests/basic/failures.jsonl", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil || !strings.Contains(stdout, f) {
			t.Errorf("%s: not written or not listed (%v)", f, err)
		}
	}
	if !strings.Contains(stdout, "Try next:") || !strings.Contains(stdout, "sluice test") {
		t.Errorf("no next commands:\n%s", stdout)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "sluice.yaml"))
	if strings.Count(string(cfg), "\n#") < 10 {
		t.Errorf("sluice.yaml is hardly commented:\n%s", cfg)
	}

	t.Setenv("SLUICE_CONFIG", "")
	os.Unsetenv("SLUICE_CONFIG")
	t.Chdir(dir)
	code, stdout, stderr = sluice(t, "run", "-progress", "never")
	if code != exitOK || !strings.Contains(stdout, "records in     3\n  ok           3\n") {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join("sluice-out", "report.html")); err != nil {
		t.Error(err)
	}
	code, stdout, stderr = sluice(t, "test", "-v")
	if code != exitOK || !strings.Contains(stdout, "ok     basic (3 delivered, 1 failed as expected)") {
		t.Fatalf("test: exit %d\n%s%s", code, stdout, stderr)
	}
	failures, _ := os.ReadFile(filepath.Join("tests", "basic", "failures.jsonl"))
	if !strings.Contains(string(failures), `"field":"price","value":"call us"`) {
		t.Errorf("failures.jsonl:\n%s", failures)
	}
	if code, stdout, stderr := sluice(t, "schema", "check"); code != exitOK || !strings.Contains(stdout, "OK") {
		t.Fatalf("schema check: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := sluice(t, "init"); code != exitUsage || !strings.Contains(stderr, "sluice.yaml") || !strings.Contains(stderr, "not overwritten") {
		t.Fatalf("init over a project: exit %d: %s", code, stderr)
	}
}
