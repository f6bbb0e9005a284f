package cloudformation

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestCfnLint runs cfn-lint on every template and on those generated from
// the example topologies (fuller suite only); any error, warning or
// informational finding fails.
func TestCfnLint(t *testing.T) {
	bin := testenv.Tool(t, "cfn-lint")
	files := append([]string(nil), templates...)
	dir := t.TempDir()
	for _, path := range topologies(t) {
		out := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(out, generate(t, path), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, out)
	}
	// One run for all: cfn-lint's start-up costs more than a template.
	out, err := exec.Command(bin, append([]string{"--format", "parseable", "--include-checks", "I", "--"}, files...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("cfn-lint %v: %v\n%s", files, err, out)
	}
}
