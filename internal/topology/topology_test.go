package topology

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden draws each testdata/<case>/sluice.yaml: a valid graph must
// print as graph.txt and graph.dot, a refused one fail with error.txt.
// Add a case by adding a folder; -update writes what it prints.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/sluice.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Build(cfg)
			if err != nil {
				golden(t, filepath.Join(dir, "error.txt"), []byte(err.Error()+"\n"))
				return
			}
			if _, err := os.Stat(filepath.Join(dir, "error.txt")); err == nil {
				t.Fatal("the graph was accepted, but the case has error.txt")
			}
			var text, dot bytes.Buffer
			if err := g.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := g.WriteDOT(&dot); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "graph.txt"), text.Bytes())
			golden(t, filepath.Join(dir, "graph.dot"), dot.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update after checking):\n got: %s\nwant: %s", path, got, want)
	}
}

// The shipped sluice.yaml is one stage: three streams, each final.
func TestShippedConfig(t *testing.T) {
	cfg, err := config.Load("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g.Stages() != 1 || len(g.Routes) != len(cfg.Routes) {
		t.Fatalf("%d stages, %d routes; want 1 stage and every route", g.Stages(), len(g.Routes))
	}
	for _, s := range g.Streams {
		if s.Topic || len(s.ReadBy) > 0 || len(s.From) == 0 {
			t.Errorf("stream %s: topic %v, read by %v, from %v; want a final stream fed by a route", s.Name, s.Topic, s.ReadBy, s.From)
		}
	}
}

// Match routes only what lands under a topic's prefix, first match first,
// and never for a route limited to a named bucket.
func TestMatch(t *testing.T) {
	cfg, err := config.Parse("cfg.yaml", []byte(`
streams:
  clean: {schema: listing, prefix: clean/, error_prefix: failed/}
  out: {schema: listing}
routes:
  - key: "clean/a/**"
    bucket: "input"
    format: jsonl
    schema: listing
    stream: out
  - key: "clean/**"
    format: jsonl
    schema: listing
    stream: out
  - key: "raw/**"
    format: csv
    schema: listing
    stream: clean
  - key: "**"
    format: jsonl
    schema: listing
    stream: out
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{
		"clean/a/x":                     1, // routes[0] is for the input bucket only
		"clean/2024/01/02/03/clean-1-x": 1,
		"raw/x.csv":                     -1, // not under a topic: input, not routed again
		"2024/01/02/03/out-1-x":         -1,
		"failed/processing-failed/x":    -1,
	} {
		got, ok := g.Match(key)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("Match(%q) = %d, want %d", key, got, want)
		}
	}
	if s, _ := g.Stream("clean"); !s.Topic || s.StaticPrefix != "clean/" || len(s.ReadBy) != 1 || s.ReadBy[0] != 1 {
		t.Errorf("stream clean: %+v", s)
	}
}
