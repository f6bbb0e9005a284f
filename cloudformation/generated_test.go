package cloudformation

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deploy"
)

var update = flag.Bool("update", false, "rewrite pipeline.yaml from ../sluice.yaml")

// generate returns the template `sluice deploy template` writes for the
// config at path.
func generate(t testing.TB, path string) []byte {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := deploy.Template(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPipelineIsGenerated checks that pipeline.yaml is what `sluice deploy
// template` writes for the shipped sluice.yaml (go test -update rewrites it).
func TestPipelineIsGenerated(t *testing.T) {
	got := generate(t, "../sluice.yaml")
	if *update {
		if err := os.WriteFile("pipeline.yaml", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("pipeline.yaml differs from `sluice deploy template -config sluice.yaml`: regenerate it (go test ./cloudformation -run TestPipelineIsGenerated -update)")
	}
	if !bytes.Equal(generate(t, "../sluice.yaml"), got) {
		t.Fatal("two generations of the same config differ")
	}
}

// topologies are the example configs under testdata/topologies whose
// generated templates every template test checks too.
func topologies(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob("testdata/topologies/*.yaml")
	if err != nil || len(m) == 0 {
		t.Fatalf("no example topologies: %v", err)
	}
	sort.Strings(m)
	return m
}

// generatedTemplates returns the templates generated from the example
// topologies, named after their configs.
func generatedTemplates(t testing.TB) []*template {
	t.Helper()
	var out []*template
	for _, path := range topologies(t) {
		tm, err := parseTemplate(path, generate(t, path))
		if err != nil {
			t.Fatal(err)
		}
		tm.generated = true
		if tm.cfg, err = config.Load(path); err != nil {
			t.Fatal(err)
		}
		out = append(out, tm)
	}
	return out
}

// loadPipeline returns pipeline.yaml with the shipped config it is
// generated from.
func loadPipeline(t testing.TB) *template {
	t.Helper()
	tm := loadTemplate(t, "pipeline.yaml")
	cfg, err := config.Load("../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tm.cfg = cfg
	return tm
}

// logicalOf is the logical id prefix of a stream's resources.
func logicalOf(stream string) string { return deploy.Logical(stream) }
