package cloudformation

import (
	"os/exec"
	"testing"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestCfnLint runs cfn-lint on every template (fuller suite only); any
// error, warning or informational finding fails.
func TestCfnLint(t *testing.T) {
	bin := testenv.Tool(t, "cfn-lint")
	for _, name := range templates {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(bin, "--format", "parseable", "--include-checks", "I", "--", name).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("cfn-lint %s: %v\n%s", name, err, out)
			}
		})
	}
}
