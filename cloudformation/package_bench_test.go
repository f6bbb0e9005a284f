package cloudformation

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// benchTargets are the Lambda commands measured, plus the baseline init
// path (config, schemas, AWS config, Firehose client) every Lambda shares.
func benchTargets(b *testing.B) map[string]string {
	targets := map[string]string{"initpath": "./cloudformation/testdata/initpath"}
	for _, cmd := range lambdas {
		if hasGoFiles(filepath.Join("..", cmd)) {
			targets[filepath.Base(cmd)] = "./" + cmd
		} else {
			b.Logf("%s does not exist yet; measuring the others", cmd)
		}
	}
	return targets
}

func sortedTargets(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// buildLambda builds pkg as `make package` does, for goos/goarch.
func buildLambda(b testing.TB, pkg, goos, goarch string) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "bootstrap")
	c := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	c.Dir = ".."
	c.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	if msg, err := c.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// BenchmarkZipSize builds each Lambda for linux/arm64 and zips it with
// sluice.yaml and the schemas, as `make package` does (deflate, best
// compression), reporting the zip's and the binary's size.
func BenchmarkZipSize(b *testing.B) {
	targets := benchTargets(b)
	for _, name := range sortedTargets(targets) {
		b.Run(name, func(b *testing.B) {
			bin := buildLambda(b, targets[name], "linux", "arm64")
			files := zipFiles(bin)
			b.ResetTimer()
			var size int
			for range b.N {
				size = zipSize(b, files)
			}
			st, _ := os.Stat(bin)
			b.ReportMetric(float64(size), "zip-bytes")
			b.ReportMetric(float64(st.Size()), "bootstrap-bytes")
		})
	}
}

// zipFiles are the files of a Lambda's zip, as `make package` puts them:
// the bootstrap binary, sluice.yaml and the schemas.
func zipFiles(bin string) map[string]string {
	files := map[string]string{"bootstrap": bin, "sluice.yaml": "../sluice.yaml"}
	schemas, _ := filepath.Glob("../schema/avsc/*.avsc")
	for _, s := range schemas {
		files["schema/avsc/"+filepath.Base(s)] = s
	}
	return files
}

func zipSize(b testing.TB, files map[string]string) int {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src, err := os.ReadFile(files[n])
		if err != nil {
			b.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(src); err != nil {
			b.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Len()
}

// BenchmarkColdStart measures a Lambda's init: from starting a host build of
// the binary to its first request for an event from a fake Lambda runtime
// API. That covers process start, package initialisation and everything
// main does before lambda.Start (config, schemas, AWS clients). It does not
// cover the Lambda sandbox itself or downloading the zip.
func BenchmarkColdStart(b *testing.B) {
	targets := benchTargets(b)
	config, err := filepath.Abs("../sluice.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range sortedTargets(targets) {
		b.Run(name, func(b *testing.B) {
			bin := buildLambda(b, targets[name], runtime.GOOS, runtime.GOARCH)
			ready := make(chan struct{}, 1)
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
					ready <- struct{}{}
				}
				<-r.Context().Done() // never hand out an event
			}))
			defer api.Close()
			env := []string{
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + b.TempDir(),
				"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://"),
				"AWS_LAMBDA_FUNCTION_NAME=sluice-" + name,
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024",
				"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
				"AWS_REGION=us-east-1",
				"AWS_ACCESS_KEY_ID=benchmark",
				"AWS_SECRET_ACCESS_KEY=benchmark",
				"AWS_EC2_METADATA_DISABLED=true",
				"SLUICE_CONFIG=" + config,
				"DEAD_LETTER_BUCKET=dead-letters",
			}
			var total, worst time.Duration
			b.ResetTimer()
			for range b.N {
				d := startOnce(b, bin, env, ready)
				total += d
				worst = max(worst, d)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "init-ms")
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-init-ms")
		})
	}
}

func startOnce(b *testing.B, bin string, env []string, ready chan struct{}) time.Duration {
	var stderr bytes.Buffer
	c := exec.Command(bin)
	c.Env, c.Stderr = env, &stderr
	exited := make(chan error, 1)
	start := time.Now()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { exited <- c.Wait() }()
	select {
	case <-ready:
		d := time.Since(start)
		_ = c.Process.Kill()
		<-exited
		return d
	case err := <-exited:
		b.Fatalf("%s exited before asking for an event: %v\n%s", bin, err, stderr.String())
	case <-time.After(30 * time.Second):
		_ = c.Process.Kill()
		b.Fatalf("%s did not ask for an event within 30s\n%s", bin, stderr.String())
	}
	return 0
}
