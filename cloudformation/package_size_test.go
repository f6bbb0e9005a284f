package cloudformation

import (
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/testenv"
)

// maxZipBytes is the most a Lambda's zip may weigh: 5 MB. A larger zip
// takes longer to fetch at a cold start.
const maxZipBytes = 5_000_000

// TestZipSize builds each Lambda as `make package` does (linux/arm64) and
// fails when its zip is over maxZipBytes (fuller suite only: it builds both
// binaries). A dependency that links protobuf or reflects on methods can
// double a binary; see docs/deploy.md, Measurements.
func TestZipSize(t *testing.T) {
	if !testenv.Full() {
		t.Skipf("builds the Lambdas; run the fuller suite with %s=1", testenv.EnvFull)
	}
	for _, cmd := range sortedTargets(lambdas) {
		pkg := lambdas[cmd]
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			size := zipSize(t, zipFiles(buildLambda(t, "./"+pkg, "linux", "arm64")))
			t.Logf("%s.zip: %d bytes", filepath.Base(pkg), size)
			if size > maxZipBytes {
				t.Errorf("%s.zip is %d bytes, over %d", filepath.Base(pkg), size, maxZipBytes)
			}
		})
	}
}
