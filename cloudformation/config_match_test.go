package cloudformation

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// TestTemplatesMatchConfig checks each generated template against the
// config it was generated from: every stream exists under its name and
// delivers under its prefix, every route's objects notify the splitter
// from the right bucket, and the splitter may read them and put into the
// streams it routes to.
func TestTemplatesMatchConfig(t *testing.T) {
	eachGenerated(t, func(t *testing.T, tm *template) {
		cfg := tm.cfg
		if p, _ := tm.parameterDefault("DeadLetterPrefix"); p != cfg.DeadLetter.Prefix {
			t.Errorf("DeadLetterPrefix defaults to %q but the config writes dead letters under %q", p, cfg.DeadLetter.Prefix)
		}
		streams := map[string]resource{}
		for _, r := range tm.resources("AWS::KinesisFirehose::DeliveryStream") {
			streams[fmt.Sprint(r.props["DeliveryStreamName"])] = r
		}
		if len(streams) != len(cfg.Streams) {
			t.Errorf("%d delivery streams for %d streams in the config", len(streams), len(cfg.Streams))
		}
		for name, s := range cfg.Streams {
			r, ok := streams[name]
			if !ok {
				t.Errorf("no delivery stream named %s", name)
				continue
			}
			want := s.Prefix
			if want == "" {
				want = "data/" + name + "/"
			}
			if got := fmt.Sprint(dig(r.props, "ExtendedS3DestinationConfiguration", "Prefix")); !strings.HasPrefix(got, want) {
				t.Errorf("%s delivers under %s, want %s", name, got, want)
			}
			if part := dig(r.props, "ExtendedS3DestinationConfiguration", "DynamicPartitioningConfiguration", "Enabled"); (part == true) != s.PartitionKeys {
				t.Errorf("%s: dynamic partitioning %v, partition_keys %v", name, part, s.PartitionKeys)
			}
		}

		notified := map[string][]string{"InputBucket": notificationPrefixes(tm, "InputBucket"), "OutputBucket": notificationPrefixes(tm, "OutputBucket")}
		for bucket, ps := range notified {
			for i, a := range ps {
				for _, b := range ps[i+1:] {
					if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
						t.Errorf("%s: notifications on %q and %q overlap, which S3 refuses", bucket, a, b)
					}
				}
			}
		}
		splitter := fmt.Sprint(tm.roleActions("SplitterRole"), policiesOf(tm, "SplitterRole"))
		for i, r := range cfg.Routes {
			for _, b := range r.Branches() {
				if !strings.Contains(splitter, "deliverystream/${Stream} map[Stream:"+b.Stream+"]") {
					t.Errorf("routes[%d] sends to %s, which the splitter may not put into", i, b.Stream)
				}
			}
			if !strings.ContainsAny(r.Bucket, "*?[") {
				if !strings.Contains(splitter, "Bucket:"+r.Bucket) {
					t.Errorf("routes[%d] reads bucket %s, which the splitter may not read", i, r.Bucket)
				}
				continue
			}
			prefix := r.Key[:len(r.Key)-len(strings.TrimLeft(r.Key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!_.'()/=-"))]
			bucket := "InputBucket"
			if chained(cfg, prefix) {
				bucket = "OutputBucket"
				if !strings.Contains(splitter, "sluice-output-${Id}/"+coveringPrefix(notified[bucket], prefix)+"*") {
					t.Errorf("routes[%d] reads %s in the output bucket, which the splitter may not read", i, prefix)
				}
			}
			if coveringPrefix(notified[bucket], prefix) == "\x00" {
				t.Errorf("routes[%d] (%s): no notification of %s covers %q (has %q)", i, r.Key, bucket, prefix, notified[bucket])
			}
		}
	})

	// ALB access logs land under <AlbLogsPrefix>/AWSLogs/...; the first
	// route matching them (the splitter's choice) must read format alb and
	// send every request to a stream as a page_view record, as the
	// collector's template promises (a fork may also roll them up).
	cfg, err := config.Load("../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prefix, _ := loadTemplate(t, "pipeline.yaml").parameterDefault("AlbLogsPrefix")
	key := prefix + "/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/123456789012_elasticloadbalancing_eu-west-1_app.collector.50dc6c495c0c9188_20240501T1005Z_198.51.100.7_0001.log.gz"
	var route *config.Route
	for i, r := range cfg.Routes {
		g, err := config.CompileGlob(r.Key)
		if err != nil {
			t.Fatal(err)
		}
		if g.MatchString(key) {
			route = &cfg.Routes[i]
			break
		}
	}
	if route == nil {
		t.Fatalf("no route in sluice.yaml for %s, where the collector's load balancer writes", key)
	}
	if route.Format != "alb" {
		t.Errorf("route %s is format %s; want alb", route.Key, route.Format)
	}
	records := false
	for _, b := range route.Branches() {
		records = records || (b.Rollup == nil && b.Schema == "page_view" && len(b.Where) == 0)
	}
	if !records || (route.Rollup != nil && !route.Forks()) {
		t.Errorf("route %s does not send every request as a page_view record (branches %+v)", route.Key, route.Branches())
	}
}

// chained reports whether a key prefix reads a stream's delivered objects.
func chained(cfg *config.Config, prefix string) bool {
	for name, s := range cfg.Streams {
		p := s.Prefix
		if p == "" {
			p = "data/" + name + "/"
		}
		if prefix != "" && (strings.HasPrefix(prefix, p) || strings.HasPrefix(p, prefix)) {
			return true
		}
	}
	return false
}

// coveringPrefix returns the notification prefix that covers prefix, or
// "\x00".
func coveringPrefix(ps []string, prefix string) string {
	for _, p := range ps {
		if strings.HasPrefix(prefix, p) {
			return p
		}
	}
	return "\x00"
}

// notificationPrefixes returns the key prefixes of a bucket's queue
// notifications ("" for the whole bucket).
func notificationPrefixes(tm *template, bucket string) []string {
	b, ok := tm.resource(bucket)
	if !ok {
		return nil
	}
	var out []string
	for _, q := range maps(dig(b.props, "NotificationConfiguration", "QueueConfigurations")) {
		p := ""
		for _, r := range maps(dig(q, "Filter", "S3Key", "Rules")) {
			if r["Name"] == "prefix" {
				p = fmt.Sprint(r["Value"])
			}
		}
		out = append(out, p)
	}
	return out
}

// policiesOf returns the policy documents granted to role, printed.
func policiesOf(tm *template, role string) string {
	var b strings.Builder
	for _, p := range tm.identityPolicies() {
		if p.role == role {
			fmt.Fprint(&b, p.doc)
		}
	}
	return b.String()
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
