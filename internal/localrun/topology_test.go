package localrun

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// runConfig runs inputs under yaml (with the built-in schemas) into a
// fresh output folder, and checks conservation in total and per stage.
func runConfig(t *testing.T, yaml string, inputs ...string) (Summary, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, reg, err := config.LoadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	now, ids := fixed()
	sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: inputs, Out: out, Now: now, NewID: ids})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Conserved() {
		t.Fatalf("not conserved: %+v", sum)
	}
	var total Counts
	for i, st := range sum.Stages {
		if !st.Conserved() {
			t.Errorf("stage %d: in %d != ok %d + dropped %d + failed %d + dead letters %d", i+1, st.RecordsIn, st.Ok, st.Dropped, st.Failed, st.DeadLettered)
		}
		if i > 0 && sum.Stages[i-1].HandedOn != st.Read {
			t.Errorf("stage %d read %d records, stage %d handed on %d", i+1, st.Read, i, sum.Stages[i-1].HandedOn)
		}
		total = total.plus(st.Counts)
	}
	if total.RecordsIn != sum.RecordsIn || total.Ok != sum.Ok || total.Dropped != sum.Dropped {
		t.Errorf("the stages add up to %+v, the run to %+v", total, sum.Counts)
	}
	return sum, out
}

// docs reads the documents delivered under prefix in out, by object.
func docs(t *testing.T, out, prefix string) []map[string]any {
	t.Helper()
	var all []map[string]any
	_ = filepath.WalkDir(filepath.Join(out, prefix), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var doc map[string]any
			if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			all = append(all, doc)
		}
		return nil
	})
	return all
}

func recordID(d map[string]any) string {
	p, _ := d["provenance"].(map[string]any)
	id, _ := p["record_id"].(string)
	return id
}

const forkYAML = `
streams:
  webhooks: {schema: webhook_event}
  payments: {schema: webhook_event, prefix: payments/, final: true}
routes:
  - key: "webhooks/**"
    format: jsonl
    schema: webhook_event
    to:
      - stream: webhooks
      - stream: payments
        where: [{field: type, match: "^payment\\."}]
`

func TestRunFork(t *testing.T) {
	sum, out := runConfig(t, forkYAML, "../../examples/topology/input")
	if len(sum.Stages) != 1 {
		t.Fatalf("%d stages, want 1", len(sum.Stages))
	}
	st := sum.Stages[0]
	// 3 events, each offered to two branches; the refund is kept out of
	// payments by its where.
	if st.Read != 3 || st.RecordsIn != 6 || st.Ok != 5 || st.Dropped != 1 || st.DroppedByRule["where:payments"] != 1 {
		t.Fatalf("stage %+v: want 3 read, 6 in, 5 ok, 1 dropped by where:payments", st)
	}
	payments := docs(t, out, "payments")
	if len(payments) != 2 {
		t.Fatalf("%d payments delivered, want 2", len(payments))
	}
	all := map[string]bool{}
	for _, d := range docs(t, out, "2024") {
		all[recordID(d)] = true
	}
	for _, d := range payments {
		id := recordID(d)
		if !strings.HasSuffix(id, ":payments") || !all[strings.TrimSuffix(id, ":payments")+":webhooks"] {
			t.Errorf("payment %s: want an id ending :payments whose record also went to webhooks (have %v)", id, all)
		}
	}
}

func TestRunJoin(t *testing.T) {
	in := t.TempDir()
	for _, f := range []struct{ from, to string }{
		{"../../examples/input/listings/2024-05-01/uk-shops.csv", "uk/shops.csv"},
		{"../../examples/input/listings/2024-05-02/eu-shops.csv", "eu/shops.csv"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		_ = os.MkdirAll(filepath.Dir(filepath.Join(in, f.to)), 0o755)
		if err := os.WriteFile(filepath.Join(in, f.to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sum, out := runConfig(t, `
streams:
  listings: {schema: listing}
routes:
  - key: "uk/**"
    format: csv
    schema: listing
    stream: listings
    day_first: true
  - key: "eu/**"
    format: csv
    schema: listing
    stream: listings
`, in)
	if len(sum.Stages) != 1 || sum.Objects != 2 || sum.RecordsIn != 7 || sum.Ok != 7 {
		t.Fatalf("summary %+v: want one stage, 2 objects, 7 records in and ok", sum)
	}
	keys := map[string]int{}
	for _, d := range docs(t, out, "2024") {
		keys[d["provenance"].(map[string]any)["key"].(string)]++
	}
	if keys["uk/shops.csv"] != 4 || keys["eu/shops.csv"] != 3 {
		t.Fatalf("the joined stream holds %v, want 4 from uk and 3 from eu", keys)
	}
}

// TestRunChain runs the example: stage 2 reads what stage 1 delivered
// under clean/listings/, and the run stops when nothing new arrives.
func TestRunChain(t *testing.T) {
	b, err := os.ReadFile("../../examples/topology/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sum, out := runConfig(t, string(b), "../../examples/topology/input")
	if len(sum.Stages) != 2 {
		t.Fatalf("%d stages, want 2", len(sum.Stages))
	}
	one, two := sum.Stages[0], sum.Stages[1]
	if one.Objects != 2 || one.Read != 7 || one.HandedOn != 4 || two.Objects != 1 || two.Read != 4 || two.Ok != 2 || two.DroppedByRule["where:bath_listings"] != 2 {
		t.Fatalf("stages %+v\n%+v", one, two)
	}
	bath := docs(t, out, "bath")
	if len(bath) != 2 {
		t.Fatalf("%d listings in bath/, want 2", len(bath))
	}
	for _, d := range bath {
		p := d["provenance"].(map[string]any)
		if !strings.HasPrefix(p["key"].(string), "clean/listings/") {
			t.Errorf("stage-2 record read from %v, want an object under clean/listings/", p["key"])
		}
		// The stage-1 provenance is kept, not replaced.
		if prev, _ := d["extra"].(map[string]any)["provenance"].(string); !strings.Contains(prev, `"key":"listings/uk-shops.csv"`) {
			t.Errorf("stage-1 provenance lost: extra = %v", d["extra"])
		}
	}
}

func TestRunChainOfThreeStages(t *testing.T) {
	sum, out := runConfig(t, `
streams:
  clean: {schema: listing, prefix: clean/, error_prefix: failed/}
  enriched: {schema: listing, prefix: enriched/, error_prefix: failed/}
  everything: {schema: listing, prefix: final/all/, final: true}
  bath: {schema: listing, prefix: final/bath/, final: true}
routes:
  - key: "listings/**"
    format: csv
    schema: listing
    stream: clean
    day_first: true
  - key: "clean/**"
    format: jsonl
    schema: listing
    stream: enriched
  - key: "enriched/**"
    format: jsonl
    schema: listing
    to:
      - stream: everything
      - stream: bath
        where: [{field: address, match: "Bath$"}]
`, "../../examples/topology/input")
	if len(sum.Stages) != 3 {
		t.Fatalf("%d stages, want 3: %+v", len(sum.Stages), sum.Stages)
	}
	if got := [3]int64{sum.Stages[0].Read, sum.Stages[1].Read, sum.Stages[2].Read}; got != [3]int64{4, 4, 4} {
		t.Errorf("records read per stage %v, want 4 each", got)
	}
	if n, m := len(docs(t, out, "final/all")), len(docs(t, out, "final/bath")); n != 4 || m != 2 {
		t.Errorf("final/all %d, final/bath %d; want 4 and 2", n, m)
	}
	if sum.Unrouted != 1 {
		t.Errorf("%d unrouted, want 1 (the webhooks file has no route here)", sum.Unrouted)
	}
}

func TestRunRefusesACycle(t *testing.T) {
	cfg, err := config.Parse("sluice.yaml", []byte(`
streams:
  clean: {schema: listing, prefix: clean/, error_prefix: failed/}
routes:
  - key: "**"
    format: jsonl
    schema: listing
    stream: clean
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{Config: cfg, Inputs: []string{"../../examples/topology/input"}, Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "cycle: routes[0] (**) -> stream clean") {
		t.Fatalf("Run = %v, want the cycle named", err)
	}
}

// TestRunChainFromARollup: a rollup's partial aggregates, delivered under
// a topic's prefix, are the input of a second stage.
func TestRunChainFromARollup(t *testing.T) {
	in := t.TempDir()
	logs, err := filepath.Glob("../../examples/input/alb-logs/2024/05/01/*.log.gz")
	if err != nil || len(logs) == 0 {
		t.Fatalf("no ALB log in examples/input: %v", err)
	}
	b, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(in, "alb"), 0o755)
	if err := os.WriteFile(filepath.Join(in, "alb", "a.log.gz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, out := runConfig(t, `
streams:
  rollups: {prefix: rollups/beacon/, error_prefix: failed/rollups/}
  archive: {schema: beacon_5m, prefix: archive/, final: true}
routes:
  - key: "alb/**"
    format: alb
    stream: rollups
    rollup:
      name: beacon_5m
      window: 5m
      where: [{field: request_url_path, match: "^/e$"}]
      by: [e]
  - key: "rollups/beacon/**"
    format: jsonl
    schema: beacon_5m
    stream: archive
`, in)
	if len(sum.Stages) != 2 {
		t.Fatalf("%d stages, want 2: %+v", len(sum.Stages), sum.Stages)
	}
	one, two := sum.Stages[0], sum.Stages[1]
	r := sum.Rollups["beacon_5m"]
	if r == nil || r.Records == 0 || one.Ok != r.Records || one.HandedOn != r.Records {
		t.Fatalf("stage 1 %+v, rollup %+v: want every partial aggregate delivered and handed on", one, r)
	}
	if two.Read != r.Records || two.Ok != r.Records {
		t.Fatalf("stage 2 %+v: want the %d partial aggregates read and delivered", two, r.Records)
	}
	archived := docs(t, out, "archive")
	var count float64
	for _, d := range archived {
		count += d["count"].(float64)
	}
	if len(archived) != int(r.Records) || int64(count) != r.Aggregated {
		t.Fatalf("archive holds %d records counting %v lines; want %d records counting %d", len(archived), count, r.Records, r.Aggregated)
	}
}
