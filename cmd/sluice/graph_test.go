package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const topologyExample = "../../examples/topology/"

// TestTopologyExample keeps examples/topology's printed graph and run
// summary what sluice prints (the summary without its timing line).
func TestTopologyExample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sluice-out")
	for _, tt := range []struct {
		file string
		args []string
		code int
	}{
		{"graph.txt", []string{"graph", "-config", topologyExample + "sluice.yaml"}, exitOK},
		{"graph.dot", []string{"graph", "-config", topologyExample + "sluice.yaml", "-dot"}, exitOK},
		{"summary.txt", []string{"run", "-config", topologyExample + "sluice.yaml", "-progress", "never", "-out", out, topologyExample + "input"}, exitOK},
	} {
		t.Run(tt.file, func(t *testing.T) {
			code, stdout, stderr := sluice(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			var lines []string
			for _, l := range strings.SplitAfter(stdout, "\n") {
				if !strings.HasPrefix(l, "throughput ") {
					lines = append(lines, l)
				}
			}
			got := strings.NewReplacer(topologyExample, "", out, "sluice-out").Replace(strings.Join(lines, ""))
			path := topologyExample + tt.file
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test ./cmd/sluice -run TopologyExample -update, after checking):\n%s", path, got)
			}
		})
	}
}

func TestGraphRefusesACycle(t *testing.T) {
	dir := writeFiles(t, map[string]string{"sluice.yaml": `
streams:
  clean: {schema: listing, prefix: clean/, error_prefix: failed/}
routes:
  - key: "**"
    format: jsonl
    schema: listing
    stream: clean
`})
	cfg := filepath.Join(dir, "sluice.yaml")
	for _, cmd := range [][]string{{"graph", "-config", cfg}, {"schema", "check", "-config", cfg}, {"run", "-config", cfg, "-out", t.TempDir(), dir}} {
		code, _, stderr := sluice(t, cmd...)
		if code != exitUsage || !strings.Contains(stderr, "routes[0].key: cycle: routes[0] (**) -> stream clean -> clean/YYYY/MM/DD/HH/ -> routes[0] (**)") {
			t.Errorf("%s: exit %d, stderr %s; want 2 and the cycle named", cmd[0], code, stderr)
		}
	}
}
