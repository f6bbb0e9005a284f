package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

var update = flag.Bool("update", false, "rewrite golden files")

const beaconConfig = "../../examples/beacon/sluice.yaml"

// A local run over a day of log files, then rollup query, gives the totals
// of counting the generator's events; running the same files again into
// the same output counts nothing twice. The example's totals table is the
// same output.
func TestRollupRunAndQueryMatchRawEvents(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "input"), filepath.Join(dir, "out")
	lines, err := beacon.Day(in, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[beacon.Kind]int{}
	type key struct{ event, source string }
	want := map[key][2]int64{} // count, sent bytes
	for _, l := range lines {
		kinds[l.Kind]++
		if l.Kind == beacon.Event {
			w := want[key{l.Event, l.UTMSource}]
			want[key{l.Event, l.UTMSource}] = [2]int64{w[0] + 1, w[1] + l.SentBytes}
		}
	}

	var stdout, stderr bytes.Buffer
	run := func() {
		stdout.Reset()
		stderr.Reset()
		code := realMain([]string{"run", "-config", beaconConfig, "-progress", "never", "-out", out, in}, &stdout, &stderr)
		if code != exitDeadLetter { // the logs hold malformed lines
			t.Fatalf("run: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	}
	run()
	summary := fmt.Sprintf("rollup beacon_5m: lines in %d = aggregated %d + excluded %d (request_url_path ~ ^/e$ %d) + dead letters %d: every line is accounted for",
		len(lines), kinds[beacon.Event], kinds[beacon.Health]+kinds[beacon.OtherPath], kinds[beacon.Health]+kinds[beacon.OtherPath], kinds[beacon.Malformed]+kinds[beacon.NoTime])
	if !strings.Contains(stdout.String(), summary) {
		t.Fatalf("summary lacks\n%s\n%s", summary, stdout.String())
	}
	run() // the same objects again: the same ids

	stdout.Reset()
	stderr.Reset()
	if code := realMain([]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m", "-by", "event,utm_source", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("query: exit %d\n%s", code, stderr.String())
	}
	rows, err := csv.NewReader(strings.NewReader(stdout.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "event,utm_source,count,sum_sent_bytes,min_target_processing_time,max_target_processing_time,distinct_user,p50_target_processing_time,p95_target_processing_time,p99_target_processing_time" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(want))
	}
	for _, r := range rows[1:] {
		w := want[key{r[0], r[1]}]
		count, _ := strconv.ParseInt(r[2], 10, 64)
		sent, _ := strconv.ParseInt(r[3], 10, 64)
		if count != w[0] || sent != w[1] {
			t.Errorf("%v: count %d, sent %d; raw events: %d, %d", r[:2], count, sent, w[0], w[1])
		}
	}
	if !strings.Contains(stderr.String(), "duplicates dropped") || strings.Contains(stderr.String(), " 0 duplicates") {
		t.Errorf("the second run's partials were not dropped as duplicates: %s", stderr.String())
	}

	golden := "../../examples/beacon/totals.csv"
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if g, err := os.ReadFile(golden); err != nil || !bytes.Equal(g, stdout.Bytes()) {
		t.Errorf("%s differs from the query's output (go test ./cmd/sluice -run Rollup -update to rewrite it): %v", golden, err)
	}
}

func TestRollupQueryErrors(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"rollup"}, "want the subcommand query"},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "nope", "."}, `-name: no rollup "nope" in ../../examples/beacon/sluice.yaml (rollups: beacon_5m)`},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m", "-by", "country", "."}, "beacon_5m has no dimension country"},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m", "-since", "soon", "."}, `-since: "soon" is not`},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m", "-format", "xml", "."}, "-format must be csv or json"},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m"}, "name one SRC"},
		{[]string{"rollup", "query", "-config", beaconConfig, "-name", "beacon_5m", "no/such/dir"}, "no such file"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := realMain(tt.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tt.stderr) {
			t.Errorf("%v: exit %d, stderr %s; want 2 and %q", tt.args, code, errb.String(), tt.stderr)
		}
	}
}

// The shipped sluice.yaml forks the collector's logs: each request becomes
// a page_view record, and rollup query over the same output gives the raw
// beacon counts.
func TestShippedConfigForksCollectorLogs(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "input"), filepath.Join(dir, "out")
	lines, err := beacon.Day(in, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), 6, 2)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[beacon.Kind]int{}
	type key struct{ event, source string }
	want := map[key]int64{}
	for _, l := range lines {
		kinds[l.Kind]++
		if l.Kind == beacon.Event {
			want[key{l.Event, l.UTMSource}]++
		}
	}
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"run", "-config", "../../sluice.yaml", "-progress", "never", "-out", out, in}, &stdout, &stderr); code != exitDeadLetter {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	summary := fmt.Sprintf("rollup beacon_5m: lines in %d = aggregated %d + excluded %d", len(lines), kinds[beacon.Event], kinds[beacon.Health]+kinds[beacon.OtherPath])
	if !strings.Contains(stdout.String(), summary) || !strings.Contains(stdout.String(), "every record is accounted for") {
		t.Fatalf("summary lacks %q or conservation:\n%s", summary, stdout.String())
	}
	views := 0
	_ = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(d.Name(), "page_views-") || strings.Contains(path, "processing-failed") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.Contains(doc, `:page_views"`) || !strings.Contains(doc, `"key":"alb-logs/AWSLogs/`) {
				t.Fatalf("page view not from the collector's fork: %.300s", doc)
			}
			views++
		}
		return nil
	})
	t.Logf("%d page views, kinds %v", views, kinds)
	if views < kinds[beacon.Event]/2 {
		t.Fatalf("%d page_view records from %d lines (%d beacon events)", views, len(lines), kinds[beacon.Event])
	}

	stdout.Reset()
	stderr.Reset()
	if code := realMain([]string{"rollup", "query", "-config", "../../sluice.yaml", "-name", "beacon_5m", "-by", "event,utm_source", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("query: exit %d\n%s", code, stderr.String())
	}
	rows, err := csv.NewReader(strings.NewReader(stdout.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows)-1, len(want), stdout.String())
	}
	for _, r := range rows[1:] {
		count, _ := strconv.ParseInt(r[2], 10, 64)
		if count != want[key{r[0], r[1]}] {
			t.Errorf("%v: count %d; raw events %d", r[:2], count, want[key{r[0], r[1]}])
		}
	}
}
