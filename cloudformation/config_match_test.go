package cloudformation

import (
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// TestTemplatesMatchConfig checks the template defaults against the bundled
// sluice.yaml, which `make package` ships with the Lambdas.
func TestTemplatesMatchConfig(t *testing.T) {
	cfg, err := config.Load("../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pipe := loadTemplate(t, "pipeline.yaml")

	// The splitter may write dead letters only under DeadLetterPrefix.
	if p, _ := pipe.parameterDefault("DeadLetterPrefix"); p != cfg.DeadLetter.Prefix {
		t.Errorf("DeadLetterPrefix defaults to %q but sluice.yaml writes dead letters under %q", p, cfg.DeadLetter.Prefix)
	}

	// The splitter may put into DeliveryStreamName only.
	stream, _ := pipe.parameterDefault("DeliveryStreamName")
	if _, ok := cfg.Streams[stream]; !ok {
		t.Errorf("DeliveryStreamName defaults to %q, which sluice.yaml does not configure", stream)
	}

	// ALB access logs land under <AlbLogsPrefix>/AWSLogs/...; a route must
	// send them to the alb format and page_view schema.
	prefix, _ := pipe.parameterDefault("AlbLogsPrefix")
	found := false
	for _, r := range cfg.Routes {
		if r.Key == prefix+"/**" {
			found = true
			if r.Format != "alb" || r.Schema != "page_view" {
				t.Errorf("route %s is format %s, schema %s; want alb, page_view", r.Key, r.Format, r.Schema)
			}
		}
	}
	if !found {
		t.Errorf("no route in sluice.yaml for %s/**, where the collector's load balancer writes", prefix)
	}
}

// TestBuildFlags checks that the Makefile and the benchmark build the
// Lambdas as provided.al2023 on arm64 expects.
func TestBuildFlags(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	bench, err := os.ReadFile("package_bench_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GOOS=linux GOARCH=arm64 CGO_ENABLED=0", "-tags lambda.norpc -trimpath", `-ldflags="-s -w"`, "/bootstrap"} {
		if !strings.Contains(string(mk), want) {
			t.Errorf("Makefile does not build with %s", want)
		}
	}
	for _, want := range []string{`"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"`, `"CGO_ENABLED=0"`} {
		if !strings.Contains(string(bench), want) {
			t.Errorf("the benchmark does not build with %s", want)
		}
	}
}
