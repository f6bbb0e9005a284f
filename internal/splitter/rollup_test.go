package splitter

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

const rollupYAML = `
streams:
  rollups: {}
routes:
  - key: "alb-logs/**"
    format: alb
    stream: rollups
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

type rollupRig struct {
	*rig
	lines []beacon.Line
	obj   Object
}

func newRollupRig(t *testing.T, store CheckpointStore, export ...string) *rollupRig {
	t.Helper()
	yaml := rollupYAML
	if len(export) > 0 {
		yaml = strings.Replace(yaml, "      max_groups: 50\n", "      max_groups: 50\n      export: "+export[0]+"\n", 1)
	}
	return newRollupRigFrom(t, store, yaml)
}

func newRollupRigFrom(t *testing.T, store CheckpointStore, yaml string) *rollupRig {
	t.Helper()
	cfg, err := config.Parse("sluice.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{s3: newFakeS3(), fh: newFakeFirehose(), inv: &fakeInvoker{}, logs: &bytes.Buffer{}, store: store, cfg: cfg, emf: &bytes.Buffer{}}
	r.metrics = metrics.New(r.emf)
	r.sink = NewFirehoseSink(r.fh, WithSinkClock(instantClock{}))
	r.h, err = New(cfg, r.s3, r.sink, WithCheckpoints(store), WithFormats(format.New), WithMetrics(r.metrics),
		WithLogger(slog.New(slog.NewJSONHandler(r.logs, nil))), WithInvoker(r.inv, "splitter-fn"))
	if err != nil {
		t.Fatal(err)
	}
	lines := beacon.Generate(beacon.Options{Seed: 9, Start: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Span: time.Hour, Lines: 20000, Users: 500})
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l.Text + "\n")
	}
	obj := r.s3.add("landing", "alb-logs/2024/05/01/app.log", b.Bytes(), "", "etag1")
	return &rollupRig{rig: r, lines: lines, obj: obj}
}

func (r *rollupRig) kinds() map[beacon.Kind]int64 {
	k := map[beacon.Kind]int64{}
	for _, l := range r.lines {
		k[l.Kind]++
	}
	return k
}

// rollupIDs returns the delivered records' ids and their counts' sum.
func rollupIDs(t *testing.T, fh *fakeFirehose) ([]string, int64) {
	t.Helper()
	var ids []string
	var count int64
	for _, rec := range fh.records("rollups") {
		var env struct {
			ID     string
			Schema string
			Fields struct {
				RollupID string `json:"rollup_id"`
				Count    int64
			}
		}
		if err := json.Unmarshal(rec, &env); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if env.Schema != "beacon_5m" || env.ID != env.Fields.RollupID {
			t.Fatalf("record %s", rec)
		}
		ids = append(ids, env.ID)
		count += env.Fields.Count
	}
	return ids, count
}

func TestRollupRouteConservesLines(t *testing.T) {
	r := newRollupRig(t, NewMemoryStore())
	res, err := r.h.Split(context.Background(), r.obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := r.kinds()
	rc := res.Rollup
	if rc == nil || rc.Lines != int64(len(r.lines)) || rc.Aggregated != k[beacon.Event] ||
		rc.Excluded["request_url_path ~ ^/e$"] != k[beacon.Health]+k[beacon.OtherPath] ||
		res.DeadLettered != k[beacon.Malformed]+k[beacon.NoTime] {
		t.Fatalf("result %+v rollup %+v; generated %v", res, rc, k)
	}
	ids, count := rollupIDs(t, r.fh)
	if count != rc.Aggregated || int64(len(ids)) != rc.Records || res.Sent != rc.Records {
		t.Fatalf("%d records with count %d; result %+v %+v", len(ids), count, res, rc)
	}
	if r.metric("RollupLines", "") != float64(len(r.lines)) || r.metric("RollupAggregated", "") != float64(rc.Aggregated) ||
		r.metric("RollupExcluded", "") != float64(k[beacon.Health]+k[beacon.OtherPath]) ||
		r.metric("DeadLetters", ClassRollupValue) != float64(k[beacon.NoTime]) ||
		r.metric("DeadLetters", ClassParseError) != float64(k[beacon.Malformed]) {
		t.Errorf("metrics:\n%s", r.emf)
	}
	dl := strings.Join(r.s3.deadLetterLines(), "\n")
	if !strings.Contains(dl, `"errorCode":"Splitter.RollupValue"`) || !strings.Contains(dl, "rollup beacon_5m: no request_creation_time") {
		t.Errorf("dead letters lack the rollup's reason:\n%.500s", dl)
	}
}

// An object continued over several invocations emits the same records,
// with the same ids, as one invocation: the segment under way at a
// deadline is read again, never emitted in part.
func TestRollupContinuationSameRecords(t *testing.T) {
	one := newRollupRig(t, NewMemoryStore())
	if _, err := one.h.Split(context.Background(), one.obj, nil); err != nil {
		t.Fatal(err)
	}
	wantIDs, wantCount := rollupIDs(t, one.fh)
	wantRecords := one.fh.records("rollups")

	mr := miniredis.RunT(t)
	store := NewRedisStore(redisAt(t, "redis://"+mr.Addr()+patient), 0)
	r := newRollupRig(t, store)
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
		t.Fatalf("over %d invocations: %d records, count %d; in one: %d records, count %d", hops, len(ids), count, len(wantIDs), wantCount)
	}
	t.Logf("%d invocations, %d records", hops, len(ids))
	got := r.fh.records("rollups")
	for i := range got {
		// ingested_at differs between runs; the rest is the same.
		if a, b := stripIngested(got[i]), stripIngested(wantRecords[i]); a != b {
			t.Fatalf("record %d differs:\n%s\n%s", i, a, b)
		}
	}
	k := r.kinds()
	if n := len(r.s3.deadLetterLines()); int64(n) != k[beacon.Malformed]+k[beacon.NoTime] {
		t.Errorf("%d dead letters, want %d", n, k[beacon.Malformed]+k[beacon.NoTime])
	}
	if r.metric("RollupLines", "") != float64(len(r.lines)) || r.metric("RollupAggregated", "") != float64(k[beacon.Event]) {
		t.Errorf("lines %v aggregated %v over the invocations; want %d, %d", r.metric("RollupLines", ""), r.metric("RollupAggregated", ""), len(r.lines), k[beacon.Event])
	}
}

func stripIngested(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `,"ingested_at":"`); i >= 0 {
		j := strings.IndexByte(s[i+16:], '"')
		s = s[:i] + s[i+16+j+1:]
	}
	return s
}

// A rollup's export writes each segment's totals as CSV, named by object
// and segment; their counts add up to the lines aggregated.
func TestRollupExport(t *testing.T) {
	r := newRollupRig(t, NewMemoryStore(), "s3://reports/daily")
	res, err := r.h.Split(context.Background(), r.obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	files := 0
	for key, body := range r.s3.puts {
		if !strings.HasPrefix(key, "reports/") {
			continue
		}
		want := fmt.Sprintf("reports/daily/beacon_5m/%s-%d.csv", ObjectID(r.obj), files)
		if !strings.HasPrefix(key, "reports/daily/beacon_5m/"+ObjectID(r.obj)+"-") {
			t.Fatalf("export %s, want names like %s", key, want)
		}
		files++
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0][:6], ",") != "event,utm_source,elb_status_code,window_start,count,sum_sent_bytes" {
			t.Fatalf("header %v", rows[0])
		}
		for _, row := range rows[1:] {
			n, _ := strconv.ParseInt(row[4], 10, 64)
			total += n
		}
	}
	if files != res.Progress.Segment || files < 2 || total != res.Rollup.Aggregated {
		t.Errorf("%d export files for %d segments; counts %d, aggregated %d", files, res.Progress.Segment, total, res.Rollup.Aggregated)
	}
}

// A corrupt gzip ends the object with one dead letter for the rest; the
// lines before it are aggregated, and lines are still conserved.
func TestRollupCorruptGzipConserves(t *testing.T) {
	r := newRollupRig(t, NewMemoryStore())
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(r.s3.objects["landing/alb-logs/2024/05/01/app.log"].data)
	zw.Close()
	obj := r.s3.add("landing", "alb-logs/2024/05/01/cut.log.gz", z.Bytes()[:z.Len()*2/3], "", "etag2")
	res, err := r.h.Split(context.Background(), obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc := res.Rollup
	var excluded int64
	for _, n := range rc.Excluded {
		excluded += n
	}
	if rc.Aggregated == 0 || r.metric("DeadLetters", ClassCorruptCompression) != 1 || rc.Lines != rc.Aggregated+excluded+res.DeadLettered {
		t.Fatalf("lines %d, aggregated %d, excluded %d, dead letters %d", rc.Lines, rc.Aggregated, excluded, res.DeadLettered)
	}
}
