package transform

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/envelope"
)

func TestObserverSeesEveryNormalisedRecord(t *testing.T) {
	_, reg := loadShipped(t)
	cfg := configWith(t, "")
	type seen struct {
		id, failedField string
		fields          []string
		price           float64
	}
	var mu sync.Mutex
	var got []seen
	h := quietHandler(t, cfg, reg, WithObserver(func(o Observation) {
		mu.Lock()
		defer mu.Unlock()
		s := seen{id: o.Meta.RecordID}
		for _, f := range o.Fields {
			s.fields = append(s.fields, f.Name)
		}
		if o.Failure != nil {
			s.failedField = o.Failure.Field
		} else {
			s.price = o.Value.Items[o.Plan.Lookup("price")].Float
		}
		got = append(got, s)
	}))
	bad := envelope.Record{ID: "bad", Schema: "listing", Fields: []envelope.Field{
		{Name: "shop", Value: "A"}, {Name: "price", Value: "cheap"}, {Name: "listed", Value: "2024-05-01"}, {Name: "url", Value: "u"},
	}}
	records := append(listingRecords(2), string(envelope.Append(nil, &bad)))
	if _, err := h.Handle(context.Background(), eventOf("listings", records)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("observed %d records, want 3: %+v", len(got), got)
	}
	byID := map[string]seen{}
	for _, s := range got {
		byID[s.id] = s
	}
	if s := byID["id-1"]; s.price != 1.5 || len(s.fields) != 4 || s.fields[0] != "Shop Name" || s.failedField != "" {
		t.Errorf("id-1 observed as %+v", s)
	}
	if s := byID["bad"]; s.failedField != "price" {
		t.Errorf("the failed record observed as %+v", s)
	}
}

// holdingRecorder writes down what it sees, in order; held observations
// when they are counted, and only once flushed.
type holdingRecorder struct {
	seen, counting []string
	held           []string
	nheld, counted int
}

func (r *holdingRecorder) NewTally() Tally { return r }

func (r *holdingRecorder) Observe(o Observation) {
	r.counting = append(r.counting, observed(o)+fmt.Sprint(o.Matched))
}

func (r *holdingRecorder) Hold(o Observation) int {
	r.nheld++
	r.held = append(r.held, observed(o)+fmt.Sprint(o.Matched))
	return len(r.held) - 1
}

func (r *holdingRecorder) Count(ticket int) {
	r.counted++
	r.counting = append(r.counting, r.held[ticket])
}

func (r *holdingRecorder) Flush() {
	r.seen = append(r.seen, r.counting...)
	r.Reset()
}

func (r *holdingRecorder) Reset() { r.counting, r.held = r.counting[:0], r.held[:0] }

// A tally sees what a plain observer sees, in the same order: a part
// that asked for a column's evidence is held in the pass and counted when
// the batch's evidence leaves its answers standing, as if normalised
// again; when they change, it is normalised again and observed. Under a
// small response limit, re-ingestion and a deadline too.
func TestHeldObservationsAreThoseObservedAgain(t *testing.T) {
	base := valuesRuleConfig(t)
	_, reg := loadShipped(t)
	rng := rand.New(rand.NewSource(11))
	var held, counted int
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
		run := func(o Option) {
			clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
			calls := 0
			opts := []Option{o, WithClock(func() time.Time {
				calls++
				if lateAfter > 0 && calls > lateAfter {
					return clock.Add(time.Hour)
				}
				return clock
			})}
			if reingest {
				opts = append(opts, WithReingester(&fakeReingester{}))
			}
			ctx, cancel := context.WithDeadline(context.Background(), clock.Add(10*time.Second))
			defer cancel()
			if _, _, err := quietHandler(t, &cfg, reg, opts...).Process(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		var plain []string
		run(WithObserver(func(o Observation) { plain = append(plain, observed(o)+fmt.Sprint(o.Matched)) }))
		holding := &holdingRecorder{}
		run(WithTallier(holding))
		if !reflect.DeepEqual(holding.seen, plain) {
			t.Fatalf("round %d, records %q:\nholding observer:\n%q\nplain observer:\n%q", round, records, holding.seen, plain)
		}
		held, counted = held+holding.nheld, counted+holding.counted
	}
	if counted < 100 || held-counted < 20 {
		t.Fatalf("of %d observations held, %d counted: the batches test little", held, counted)
	}
}
