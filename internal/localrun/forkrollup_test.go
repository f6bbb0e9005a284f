package localrun

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/rollup"
	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

// One route forks a day of collector logs: every request except health
// checks becomes a page_view record, and every beacon is rolled up. Each
// branch conserves its lines, and the merged rollup counts the raw events.
func TestRunForkWithRollupBranch(t *testing.T) {
	in := t.TempDir()
	lines, err := beacon.Day(in, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[beacon.Kind]int64{}
	type key struct{ event, source string }
	want := map[key]int64{}
	for _, l := range lines {
		kinds[l.Kind]++
		if l.Kind == beacon.Event {
			want[key{l.Event, l.UTMSource}]++
		}
	}
	yaml := `
streams:
  page_views: {schema: page_view, prefix: views/, error_prefix: failed/views/, final: true}
  rollups: {prefix: rollups/, final: true}
routes:
  - key: "alb-logs/AWSLogs/**"
    format: alb
    schema: page_view
    to:
      - stream: page_views
        where: [{field: user_agent, not_match: "^ELB-HealthChecker/"}]
      - stream: rollups
        rollup:
          name: beacon_5m
          window: 5m
          where: [{field: request_url_path, match: "^/e$"}]
          by: [event, utm_source]
          measures: [count, {sum: sent_bytes}]
`
	sum, out := runConfig(t, yaml, in)
	n := int64(len(lines))
	parsed := n - kinds[beacon.Malformed]

	// The rollup branch: lines in = aggregated + excluded + dead letters.
	r := sum.Rollups["beacon_5m"]
	if r == nil || r.Lines != n || r.Aggregated != kinds[beacon.Event] ||
		r.Excluded["request_url_path ~ ^/e$"] != kinds[beacon.Health]+kinds[beacon.OtherPath] ||
		r.DeadLettered != kinds[beacon.Malformed]+kinds[beacon.NoTime] || !r.Conserved() {
		t.Fatalf("rollup %+v; generated %v", r, kinds)
	}
	// The records branch: every parsed line is delivered, failed by the
	// transform or kept out by the branch's where.
	views := docs(t, out, "views")
	if sum.DroppedByRule["where:page_views"] != kinds[beacon.Health] {
		t.Fatalf("where:page_views dropped %d, want the %d health checks (%+v)", sum.DroppedByRule["where:page_views"], kinds[beacon.Health], sum.Counts)
	}
	if got := int64(len(views)) + sum.Failed + kinds[beacon.Health]; got != parsed || len(views) == 0 {
		t.Fatalf("page_views: %d delivered + %d failed + %d kept out = %d, want the %d parsed lines", len(views), sum.Failed, kinds[beacon.Health], got, parsed)
	}
	for _, d := range views[:3] {
		if id := recordID(d); len(id) < 11 || id[len(id)-11:] != ":page_views" {
			t.Fatalf("page view id %q does not name its branch", id)
		}
	}

	// The rollup's partial aggregates merge into the raw counts, as
	// sluice rollup query merges them.
	cfg, err := config.Parse("sluice.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	m, err := rollup.NewMerger(cfg.Routes[0].RollupRoute(), rollup.Query{By: []string{"event", "utm_source"}})
	if err != nil {
		t.Fatal(err)
	}
	var partials int64
	add := func(d map[string]any) error { partials++; return m.Add(d) }
	if err := rollup.ReadDocuments(context.Background(), filepath.Join(out, "rollups"), nil, add); err != nil {
		t.Fatal(err)
	}
	if partials != r.Records || m.Duplicates != 0 {
		t.Fatalf("%d partial aggregates delivered (%d duplicates), %d emitted", partials, m.Duplicates, r.Records)
	}
	rows := m.Rows()
	if len(rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(rows), len(want))
	}
	var total int64
	for _, row := range rows {
		str := func(v any) string { // a missing dimension merges as null
			if v == nil {
				return ""
			}
			return fmt.Sprint(v)
		}
		k := key{str(row[0]), str(row[1])}
		count, _ := row[2].(int64)
		if count != want[k] {
			t.Errorf("%v: count %v (%T), raw events %d", k, row[2], row[2], want[k])
		}
		total += count
	}
	if total != kinds[beacon.Event] {
		t.Errorf("merged count %d, want %d events", total, kinds[beacon.Event])
	}
}
