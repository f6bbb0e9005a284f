package splitter

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

// A fork whose branches are the records of every request except health
// checks, and the beacon rollup.
const forkRollupYAML = `
streams:
  rollups: {}
  page_views: {schema: page_view}
routes:
  - key: "alb-logs/**"
    format: alb
    schema: page_view
    to:
      - stream: page_views
        where:
          - {field: user_agent, not_match: "^ELB-HealthChecker/"}
      - stream: rollups
        rollup:
          name: beacon_5m
          window: 5m
          where:
            - {field: request_url_path, match: "^/e$"}
          by: [event, utm_source, elb_status_code]
          measures:
            - count
            - {sum: sent_bytes}
            - {distinct: user}
            - {quantiles: target_processing_time}
          max_groups: 50
dead_letter: {bucket: dead}
`

// pageViewIDs returns the ids of the records delivered to page_views.
func pageViewIDs(t *testing.T, fh *fakeFirehose) []string {
	t.Helper()
	var ids []string
	for _, rec := range fh.records("page_views") {
		var env struct{ ID, Schema string }
		if err := json.Unmarshal(rec, &env); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if env.Schema != "page_view" {
			t.Fatalf("page_views record of schema %q: %s", env.Schema, rec)
		}
		ids = append(ids, env.ID)
	}
	return ids
}

// Each branch accounts for every line: the records branch sends every
// parsed line its where admits, the rollup branch aggregates, excludes or
// dead-letters every line, and the counts in the rollup equal the lines.
func TestForkWithRollupBranchConservesEachBranch(t *testing.T) {
	r := newRollupRigFrom(t, NewMemoryStore(), forkRollupYAML)
	res, err := r.h.Split(context.Background(), r.obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := r.kinds()
	lines := int64(len(r.lines))
	parsed := lines - k[beacon.Malformed]

	// The records branch: parsed = sent + kept out by its where.
	views := pageViewIDs(t, r.fh)
	if int64(len(views)) != parsed-k[beacon.Health] || res.Filtered["page_views"] != k[beacon.Health] {
		t.Fatalf("page_views: %d records, %d filtered; want %d and %d (%v)", len(views), res.Filtered["page_views"], parsed-k[beacon.Health], k[beacon.Health], k)
	}
	for i, id := range views {
		if want := ":page_views"; len(id) < len(want) || id[len(id)-len(want):] != want {
			t.Fatalf("record %d id %s does not name its branch", i, id)
		}
	}
	// The rollup branch: lines = aggregated + excluded + dead letters.
	rc := res.Rollup
	if rc == nil || rc.Lines != lines || rc.Aggregated != k[beacon.Event] ||
		rc.Excluded["request_url_path ~ ^/e$"] != k[beacon.Health]+k[beacon.OtherPath] ||
		res.DeadLettered != k[beacon.Malformed]+k[beacon.NoTime] || rc.BranchDeadLetters != 0 {
		t.Fatalf("result %+v rollup %+v; generated %v", res, rc, k)
	}
	ids, count := rollupIDs(t, r.fh)
	if count != k[beacon.Event] || int64(len(ids)) != rc.Records {
		t.Fatalf("%d rollup records with count %d; want %d records, count %d", len(ids), count, rc.Records, k[beacon.Event])
	}
	if res.Sent != rc.Records+int64(len(views)) {
		t.Fatalf("sent %d, want %d rollup records + %d page views", res.Sent, rc.Records, len(views))
	}
	// A line the rollup cannot use (no time) is still a page view: the
	// branches decide apart.
	if r.metric("DeadLetters", ClassRollupValue) != float64(k[beacon.NoTime]) {
		t.Errorf("metrics:\n%s", r.emf)
	}
}

// Over many invocations, the fork with a rollup branch delivers the same
// rollup records and the same page_view ids as in one: the checkpoint moves
// only past a segment whose records of both branches are acknowledged, and
// a segment cut by a deadline is read again, its page views sent again with
// the same ids.
func TestForkWithRollupBranchContinuation(t *testing.T) {
	one := newRollupRigFrom(t, NewMemoryStore(), forkRollupYAML)
	if _, err := one.h.Split(context.Background(), one.obj, nil); err != nil {
		t.Fatal(err)
	}
	wantIDs, wantCount := rollupIDs(t, one.fh)
	wantViews := pageViewIDs(t, one.fh)

	mr := miniredis.RunT(t)
	r := newRollupRigFrom(t, NewRedisStore(redisAt(t, "redis://"+mr.Addr()+patient), 0), forkRollupYAML)
	payload := s3EventFor(r.obj)
	hops := 0
	for ; payload != nil; hops++ {
		if hops > 200 {
			t.Fatal("no end to continuations")
		}
		clock := &stepClock{t: time.Unix(1_800_000_000, 0), step: 100 * time.Millisecond}
		r.h.now = clock.now
		ctx, cancel := context.WithDeadline(context.Background(), clock.t.Add(18*time.Second))
		before := len(r.inv.payloads)
		if _, err := r.h.Handle(ctx, payload); err != nil {
			t.Fatal(err)
		}
		cancel()
		payload = nil
		if len(r.inv.payloads) > before {
			payload = r.inv.payloads[len(r.inv.payloads)-1]
		}
	}
	if hops < 3 {
		t.Fatalf("only %d invocations", hops)
	}
	ids, count := rollupIDs(t, r.fh)
	if count != wantCount || !slices.Equal(ids, wantIDs) {
		t.Fatalf("over %d invocations: %d rollup records, count %d; in one: %d, count %d", hops, len(ids), count, len(wantIDs), wantCount)
	}
	// Every page view arrives, some twice (a cut segment's), never with
	// another id.
	got := map[string]bool{}
	for _, id := range pageViewIDs(t, r.fh) {
		got[id] = true
	}
	for _, id := range wantViews {
		if !got[id] {
			t.Fatalf("page view %s missing after %d invocations", id, hops)
		}
		delete(got, id)
	}
	if len(got) > 0 {
		t.Fatalf("%d page view ids not in the one-invocation run", len(got))
	}
	k := r.kinds()
	if n := len(r.s3.deadLetterLines()); int64(n) != k[beacon.Malformed]+k[beacon.NoTime] {
		t.Errorf("%d dead letters, want %d", n, k[beacon.Malformed]+k[beacon.NoTime])
	}
	t.Logf("%d invocations, %d rollup records, %d page view records", hops, len(ids), len(r.fh.records("page_views")))
}
