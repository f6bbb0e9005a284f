package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

var (
	holdNames = []string{"Shop Name", "shop", "Price", "cost", "Listed", "URL", "link", "Rating", "Tags", "Phone", "Note", "price", "Ünïcödé", ""}
	holdVals  = []string{"A", "1,299", "12,50", "1.234,50", "845", "2024-05-01", "soon", "https://example.com/x", "4.5", "a; b", "", "x"}
)

// A tally's Hold(o), counted later, is Observe(o): the report is the
// same, although the memory o's fields and record were in is written over
// in between, as the transform's is, and whether or not the observation
// says which field each column matched.
func TestHoldCountsAsObserve(t *testing.T) {
	plan := listingPlan(t)
	rng := rand.New(rand.NewSource(1))
	observed, held := NewCollector(), NewCollector()
	tally := held.NewTally()
	var (
		sc      normalize.Scratch
		buf     = make([]byte, 0, 1<<16) // the fields' text, written over
		pending []int
		fields  []envelope.Field
	)
	text := func(s string) string {
		if s == "" {
			return ""
		}
		buf = append(buf, s...)
		return unsafe.String(&buf[len(buf)-len(s)], len(s))
	}
	for i := 0; i < 3000; i++ {
		fields = fields[:0]
		for n := rng.Intn(9); len(fields) < n; {
			fields = append(fields, envelope.Field{Name: text(holdNames[rng.Intn(len(holdNames))]), Value: text(holdVals[rng.Intn(len(holdVals))])})
		}
		meta := &normalize.Meta{RecordID: "r"}
		if rng.Intn(5) > 0 {
			meta.Source = &envelope.Source{Bucket: text("in"), Key: text(fmt.Sprintf("listings/%d.csv", rng.Intn(3))), Line: int64(rng.Intn(50))}
		}
		var v schema.Value
		fail := plan.Normalize(&sc, fields, meta, &v)
		o := transform.Observation{Plan: plan, Fields: fields, Meta: meta, Value: &v, Failure: fail}
		observed.Observe(o)
		o.Matched = sc.Matched()
		pending = append(pending, tally.Hold(o))
		if rng.Intn(8) == 0 {
			for j := range buf {
				buf[j] = '#'
			}
			buf = buf[:0]
			sc.Rewind()
			for _, ticket := range pending {
				tally.Count(ticket)
			}
			pending = pending[:0]
			if rng.Intn(2) == 0 {
				tally.Flush()
			}
		}
	}
	for _, ticket := range pending {
		tally.Count(ticket)
	}
	tally.Flush()
	want, got := observed.Report(), held.Report()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("held:\n%+v\nobserved:\n%+v", got, want)
	}
	if len(want.Failures) < 3 || len(want.Schemas[0].Objects) != 4 {
		t.Fatalf("%d failure groups, %d objects: the records test little", len(want.Failures), len(want.Schemas[0].Objects))
	}
}

// countingHolder counts the observations the transform held and how many
// of them it counted.
type countingHolder struct {
	*Collector
	held, counted int
}

func (c *countingHolder) NewTally() transform.Tally {
	return &countingTally{Tally: c.Collector.NewTally(), c: c}
}

type countingTally struct {
	transform.Tally
	c *countingHolder
}

func (t *countingTally) Hold(o transform.Observation) int {
	t.c.held++
	return t.Tally.Hold(o)
}

func (t *countingTally) Count(ticket int) {
	t.c.counted++
	t.Tally.Count(ticket)
}

// The report of random batches whose numbers read by their column's
// evidence is the same whether the transform normalises the parts that
// asked for it a second time to observe them, or holds their first
// observation until the batch's evidence is settled: where the answers
// stand and where they change.
func TestReportSameWithHeldObservations(t *testing.T) {
	evs := evidenceEvents(rand.New(rand.NewSource(2)), 300)
	again := NewCollector()
	holder := &countingHolder{Collector: NewCollector()}
	renormalising, holding := evidenceHandler(t, transform.WithObserver(again.Observe)), evidenceHandler(t, transform.WithTallier(holder))
	for _, ev := range evs {
		for _, h := range []*transform.Handler{renormalising, holding} {
			if _, err := h.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, got := again.Report(), holder.Report()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("observations held:\n%+v\nparts normalised again:\n%+v", got, want)
	}
	if holder.held < 100 || holder.held-holder.counted < 20 {
		t.Fatalf("of %d observations held, %d counted: the batches test little", holder.held, holder.counted)
	}
}

// The report is the same whatever order the batches come in and however
// many transform workers count them at once, each on its own tally: the
// same counts, the same columns mapped the same way, the same samples
// (the first by object and line), as one collector observing every batch
// in order.
func TestReportSameWhateverTheOrderAndWorkers(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	evs := evidenceEvents(rng, 200)
	inOrder := NewCollector()
	h := evidenceHandler(t, transform.WithObserver(inOrder.Observe))
	for _, ev := range evs {
		if _, err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	want := inOrder.Report()
	samples := 0
	for _, f := range want.Schemas[0].Fields {
		samples += len(f.Samples)
	}
	if len(want.Failures) < 5 || samples < 10 {
		t.Fatalf("%d failure groups, %d samples: the batches test little", len(want.Failures), samples)
	}
	for round, workers := range []int{1, 2, 4, 8} {
		c := NewCollector()
		h := evidenceHandler(t, transform.WithTallier(c))
		order := rng.Perm(len(evs))
		next := make(chan int)
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for i := range next {
					if _, err := h.Handle(context.Background(), evs[i]); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for _, i := range order {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := c.Report(); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d, %d workers, batches in order %v:\n%+v\nin order, one observer:\n%+v", round, workers, order[:10], got, want)
		}
	}
}

// evidenceHandler is a transform whose numbers read by their column's
// evidence (values-rule), with option o.
func evidenceHandler(t *testing.T, o transform.Option) *transform.Handler {
	t.Helper()
	cfg, _, err := config.LoadAll("../../testdata/transform/listing/values-rule/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schema.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	h, err := transform.New(cfg, reg, o, transform.WithMetrics(metrics.New(io.Discard)),
		transform.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
		transform.WithClock(func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// evidenceEvents are n random batches of listings from three objects,
// some packed, with prices and ratings whose mark the batch's other
// values decide, or fail to.
func evidenceEvents(rng *rand.Rand, n int) []events.KinesisFirehoseEvent {
	prices := []string{"1,299", "1.299", "12,50", "1.234,50", "1,234.50", "845", "1,299.00", "abc", ""}
	keys := []string{"listings/a.csv", "listings/b.csv", "listings/de/c.csv"}
	line := func() string {
		r := envelope.Record{ID: fmt.Sprint(rng.Int()), Schema: "listing",
			Source: envelope.Source{Bucket: "in", Key: keys[rng.Intn(len(keys))], Version: "v1", Format: "csv", Line: 1 + int64(rng.Intn(100))}}
		r.Fields = []envelope.Field{{Name: "Shop Name", Value: "S"}, {Name: "Price", Value: prices[rng.Intn(len(prices))]},
			{Name: "Listed", Value: []string{"2024-05-01", "soon"}[rng.Intn(2)]}}
		if rng.Intn(6) > 0 {
			r.Fields = append(r.Fields, envelope.Field{Name: "URL", Value: "https://example.com/x"})
		}
		if rng.Intn(2) == 0 {
			r.Fields = append(r.Fields, envelope.Field{Name: "Rating", Value: prices[rng.Intn(len(prices))]})
		}
		switch rng.Intn(8) {
		case 0: // a second price column: whichever comes first is the price, the other goes to extra
			r.Fields = append(r.Fields, envelope.Field{Name: "cost", Value: "845"})
		case 1:
			r.Fields = append([]envelope.Field{{Name: "cost", Value: "845"}}, r.Fields...)
		}
		return string(envelope.Append(nil, &r))
	}
	evs := make([]events.KinesisFirehoseEvent, n)
	for k := range evs {
		ev := &evs[k]
		ev.DeliveryStreamArn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings"
		for n := 1 + rng.Intn(12); len(ev.Records) < n; {
			parts := []string{line()}
			for rng.Intn(4) == 0 {
				parts = append(parts, line())
			}
			ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(len(ev.Records)),
				Data: []byte(strings.Join(parts, "\n"))})
		}
	}
	return evs
}
