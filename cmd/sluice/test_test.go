package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDir copies a folder tree (small test fixtures).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The shipped examples' cases pass.
func TestShippedTestCasesPass(t *testing.T) {
	code, stdout, stderr := sluice(t, "test", "-config", exampleConfig, "-v", "../../tests")
	if code != exitOK || !strings.Contains(stdout, "ok     broken (2 delivered, 5 failed as expected)") || !strings.Contains(stdout, "ok: 2 cases") {
		t.Fatalf("exit %d\n%s%s\n(if the pipeline's output changed on purpose: go run ./cmd/sluice test -update)", code, stdout, stderr)
	}
}

func TestTestReportsDifferencesFieldByField(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../tests/broken", filepath.Join(dir, "broken"))
	copyDir(t, "../../tests/example", filepath.Join(dir, "example"))
	expected := filepath.Join(dir, "example", "expected.jsonl")
	b, _ := os.ReadFile(expected)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var kept []string
	for _, l := range lines {
		switch {
		case strings.Contains(l, `"shop_name":"Corner Books"`):
			l = strings.Replace(l, `"price":1299`, `"price":1300`, 1)
		case strings.Contains(l, `"shop_name":"Blue Bicycle"`):
			continue // expected no more: now "delivered, but not expected"
		}
		kept = append(kept, l)
	}
	os.WriteFile(expected, []byte(strings.Join(kept, "\n")+"\n"), 0o644)
	failures := filepath.Join(dir, "broken", "failures.jsonl")
	b, _ = os.ReadFile(failures)
	os.WriteFile(failures, []byte(strings.Replace(string(b), `"value":"call us"`, `"value":"ask us"`, 1)), 0o644)

	code, stdout, _ := sluice(t, "test", "-config", exampleConfig, dir)
	if code != exitDeadLetter {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	for _, want := range []string{
		"FAIL   broken: 1 differences",
		`input/listings/2024-05-03/mixed.csv:3: ProcessingFailed value: got "call us", want "ask us"`,
		"FAIL   example: 2 differences",
		"input/listings/2024-05-01/uk-shops.csv:2: price: got 1299, want 1300",
		"input/listings/2024-05-01/uk-shops.csv:3: delivered, but not expected",
		"FAIL: 2 of 2 cases",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if code, stdout, _ := sluice(t, "test", "-config", exampleConfig, "-update", dir); code != exitOK || !strings.Contains(stdout, "wrote  example (13 delivered, 0 failed)") {
		t.Fatalf("-update: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := sluice(t, "test", "-config", exampleConfig, dir); code != exitOK {
		t.Fatalf("after -update: exit %d\n%s", code, stdout)
	}
}

// A case may bring its own config; with none and no project config, it is
// a usage error naming the case.
func TestTestCaseWithItsOwnConfig(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "own")
	os.MkdirAll(filepath.Join(c, "input"), 0o755)
	os.WriteFile(filepath.Join(c, "input", "a.csv"), []byte("store,cost,listed_on,link\nA,£3,2024-05-01,https://a.example/\n"), 0o644)
	os.WriteFile(filepath.Join(c, "sluice.yaml"), []byte("streams:\n  s:\n    schema: listing\nroutes:\n  - key: \"**\"\n    format: csv\n    schema: listing\n    stream: s\n"), 0o644)
	if code, stdout, stderr := sluice(t, "test", "-config", filepath.Join(dir, "none.yaml"), "-update", dir); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(c, "expected.jsonl"))
	if !strings.Contains(string(b), `"price":3`) || !strings.Contains(string(b), `"shop_name":"A"`) {
		t.Fatalf("expected.jsonl:\n%s", b)
	}
	os.Remove(filepath.Join(c, "sluice.yaml"))
	if code, _, stderr := sluice(t, "test", "-config", filepath.Join(dir, "none.yaml"), dir); code != exitUsage || !strings.Contains(stderr, "own: no sluice.yaml in the case and no project config") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := sluice(t, "test", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "no cases") {
		t.Fatalf("empty: exit %d: %s", code, stderr)
	}
}
