package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/schema"
)

// evidenceLine is an envelope of the listing schema from object key.
func evidenceLine(key string, line int, fields ...string) string {
	r := envelope.Record{ID: fmt.Sprintf("%s-%d", key, line), Schema: "listing",
		Source: envelope.Source{Bucket: "in", Key: key, Version: "v1", Format: "csv", Line: int64(line)}}
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields = append(r.Fields, envelope.Field{Name: fields[i], Value: fields[i+1]})
	}
	return string(envelope.Append(nil, &r))
}

// evidenceRun is one way of running a batch: its answer, outcomes, what
// went back into the stream, and the response as Invoke writes it.
type evidenceRun struct {
	Resp       firehose.Response
	Outcomes   []Outcome
	Reingested [][]byte
	Invoked    []byte
	// Observed is what an observer saw, sorted: records are observed
	// once each, not in input order.
	Observed []string
}

// observed writes what an observation says: input fields, record id,
// failure, and the record built.
func observed(o Observation) string {
	var sb strings.Builder
	for _, f := range o.Fields {
		fmt.Fprintf(&sb, "%s=%q(%d) ", f.Name, f.Value, f.Kind)
	}
	fmt.Fprintf(&sb, "id=%s ", o.Meta.RecordID)
	if o.Failure != nil {
		fmt.Fprintf(&sb, "fail=%s/%s/%s", o.Failure.Class, o.Failure.Field, o.Failure.Reason)
	} else {
		sb.Write(schema.AppendJSON(nil, o.Plan.Schema.Type, o.Value))
	}
	return sb.String()
}

var evidenceRegistry *schema.Registry

// runEvidence runs ev through a handler that gathers the column evidence
// along its pass, or ahead of it. Each call builds its own handler, clock
// and re-ingester, so both ways see the same deadline at the same record.
func runEvidence(t *testing.T, cfg *config.Config, ev events.KinesisFirehoseEvent, ahead, reingest, observe bool, lateAfter int) evidenceRun {
	t.Helper()
	if evidenceRegistry == nil {
		_, evidenceRegistry = loadShipped(t)
	}
	reg := evidenceRegistry
	clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	calls := 0
	opts := []Option{WithClock(func() time.Time {
		calls++
		if lateAfter > 0 && calls > lateAfter {
			return clock.Add(time.Hour)
		}
		return clock
	})}
	re := &fakeReingester{}
	if reingest {
		opts = append(opts, WithReingester(re))
	}
	var seen []string
	if observe {
		opts = append(opts, WithObserver(func(o Observation) { seen = append(seen, observed(o)) }))
	}
	h := quietHandler(t, cfg, reg, opts...)
	h.evidenceAhead = ahead
	ctx := context.Background()
	if lateAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, clock.Add(10*time.Second))
		defer cancel()
	}
	var got evidenceRun
	var err error
	got.Resp, got.Outcomes, err = h.Process(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	got.Reingested = re.records
	calls = 0
	payload, _ := json.Marshal(ev)
	if got.Invoked, err = h.Invoke(ctx, payload); err != nil {
		t.Fatal(err)
	}
	sort.Strings(seen)
	got.Observed = seen
	return got
}

func valuesRuleConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, _, err := config.LoadAll("../../testdata/transform/listing/values-rule/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A column's evidence is the whole batch's: a number that needs it reads
// by a record that comes after it, even one that fails itself (here for
// want of its url), and even a later part of the same packed record. The
// pass gathering the evidence along gives what reading the batch ahead
// gives.
func TestColumnEvidenceFromALaterFailedRecord(t *testing.T) {
	cfg := valuesRuleConfig(t)
	ambiguous := evidenceLine("listings/a.csv", 2, "Shop Name", "A", "Price", "1,299", "Listed", "2024-05-01", "URL", "https://example.com/a")
	failedEvidence := evidenceLine("listings/a.csv", 3, "Shop Name", "B", "Price", "12,50", "Listed", "2024-05-01") // no url
	otherObject := evidenceLine("listings/b.csv", 2, "Shop Name", "C", "Price", "1,299", "Listed", "2024-05-01", "URL", "https://example.com/c")
	conflicting := evidenceLine("listings/b.csv", 3, "Shop Name", "D", "Price", "1,299.00", "Listed", "2024-05-01", "URL", "https://example.com/d")
	conflicting2 := evidenceLine("listings/b.csv", 4, "Shop Name", "E", "Price", "1.234,50", "Listed", "nope", "URL", "https://example.com/e")
	cases := []struct {
		name    string
		records []string
		want    []string // each record's result, and the price of an Ok one
	}{
		{"later failed record", []string{ambiguous, failedEvidence}, []string{"Ok 1.299", "ProcessingFailed"}},
		{"no evidence", []string{ambiguous}, []string{"ProcessingFailed"}},
		{"conflicting later records", []string{otherObject, conflicting, conflicting2}, []string{"ProcessingFailed", "Ok 1299", "ProcessingFailed"}},
		{"evidence of another object only", []string{otherObject, failedEvidence}, []string{"ProcessingFailed", "ProcessingFailed"}},
		{"later part of the same packed record", []string{ambiguous + "\n" + failedEvidence}, []string{"ProcessingFailed"}},
		{"packed, evidence after", []string{ambiguous + "\n" + ambiguous, failedEvidence}, []string{"Ok 1.299 1.299", "ProcessingFailed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := eventOf("listings", c.records)
			along := runEvidence(t, cfg, ev, false, false, true, 0)
			ahead := runEvidence(t, cfg, ev, true, false, true, 0)
			if !reflect.DeepEqual(along, ahead) {
				t.Fatalf("gathered along the pass:\n%+v\ngathered ahead:\n%+v", along, ahead)
			}
			if len(along.Observed) != 2*len(along.Resp.Records) && !strings.Contains(c.name, "packed") { // Process, then Invoke
				t.Fatalf("observed %d times for %d records, twice each", len(along.Observed), len(along.Resp.Records))
			}
			for i, r := range along.Resp.Records {
				got := r.Result
				for _, doc := range bytes.Split(bytes.TrimSpace(r.Data), []byte("\n")) {
					if len(doc) == 0 {
						continue
					}
					var v struct{ Price json.Number }
					if err := json.Unmarshal(doc, &v); err != nil {
						t.Fatal(err)
					}
					got += " " + v.Price.String()
				}
				if got != c.want[i] {
					t.Errorf("record %d: %s (%+v), want %s", i, got, along.Outcomes[i], c.want[i])
				}
			}
		})
	}
}

// evidenceRecords is a random batch of listings whose numbers often read
// by their column's evidence: some records packed, some bare, some not
// JSON, some failing.
func evidenceRecords(rng *rand.Rand) []string {
	values := []string{"1,299", "1.299", "€1,299", "12,50", "12.50", "1.234,50", "1,234.50", "845", "1,299.00", "1.234.567", "abc", "(4,10)", "1 000", ""}
	keys := []string{"listings/a.csv", "listings/b.csv", "listings/de/c.csv", "listings/years/d.csv"}
	line := func() string {
		switch rng.Intn(12) {
		case 0:
			return `{"not json`
		case 1: // bare, on the stream's schema
			return fmt.Sprintf(`{"Shop Name":"bare","Price":%q,"Listed":"2024-05-01","URL":"https://example.com/bare"}`, values[rng.Intn(len(values))])
		}
		fields := []string{"Shop Name", "S", "Price", values[rng.Intn(len(values))], "Listed", []string{"2024-05-01", "2024", "soon"}[rng.Intn(3)]}
		if rng.Intn(6) > 0 {
			fields = append(fields, "URL", "https://example.com/x")
		}
		if rng.Intn(2) == 0 {
			fields = append(fields, "Rating", values[rng.Intn(len(values))])
		}
		if rng.Intn(3) == 0 {
			fields = append(fields, "Note", values[rng.Intn(len(values))])
		}
		return evidenceLine(keys[rng.Intn(len(keys))], rng.Intn(1000), fields...)
	}
	var records []string
	for n := 1 + rng.Intn(12); len(records) < n; {
		parts := []string{line()}
		for rng.Intn(4) == 0 { // packed
			parts = append(parts, line())
		}
		records = append(records, strings.Join(parts, "\n"))
	}
	return records
}

// Random batches, read with the evidence gathered along the pass and ahead
// of it, answer alike: results, documents, reasons, what is re-ingested,
// what an observer sees, under a small response limit and a deadline too.
func TestColumnEvidenceAlongMatchesAhead(t *testing.T) {
	base := valuesRuleConfig(t)
	rng := rand.New(rand.NewSource(10))
	differ := 0
	for round := 0; round < 300; round++ {
		records := evidenceRecords(rng)
		ev := eventOf("listings", records)
		cfg := *base
		if rng.Intn(4) == 0 {
			cfg.Transform.MaxResponseBytes = 300 + rng.Intn(3000)
		}
		reingest := cfg.Transform.MaxResponseBytes != base.Transform.MaxResponseBytes || rng.Intn(2) == 0
		lateAfter := 0
		if rng.Intn(5) == 0 {
			lateAfter = 1 + rng.Intn(len(records)+2)
		}
		observe := rng.Intn(2) == 0
		along := runEvidence(t, &cfg, ev, false, reingest, observe, lateAfter)
		ahead := runEvidence(t, &cfg, ev, true, reingest, observe, lateAfter)
		if !reflect.DeepEqual(along, ahead) {
			t.Fatalf("round %d, records %q:\ngathered along the pass:\n%+v\ngathered ahead:\n%+v", round, records, along, ahead)
		}
		ok := 0
		for _, r := range along.Resp.Records {
			if r.Result == firehose.Ok {
				ok++
			}
		}
		if ok > 0 && ok < len(records) {
			differ++
		}
	}
	if differ < 50 {
		t.Fatalf("only %d of 300 batches both delivered and failed records: the batches test little", differ)
	}
}
