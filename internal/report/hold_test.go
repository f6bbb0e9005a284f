package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"reflect"
	"strings"
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

// Hold(o), counted later, is Observe(o): the report is the same, although
// the memory o's fields and record were in is written over in between, as
// the transform's is, and whether or not the observation says which field
// each column matched.
func TestHoldCountsAsObserve(t *testing.T) {
	plan := listingPlan(t)
	rng := rand.New(rand.NewSource(1))
	observed, held := NewCollector(), NewCollector()
	var (
		sc      normalize.Scratch
		buf     = make([]byte, 0, 1<<16) // the fields' text, written over
		pending []func()
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
		pending = append(pending, held.Hold(o))
		if rng.Intn(8) == 0 {
			for j := range buf {
				buf[j] = '#'
			}
			buf = buf[:0]
			sc.Rewind()
			for _, count := range pending {
				count()
			}
			pending = pending[:0]
		}
	}
	for _, count := range pending {
		count()
	}
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

func (c *countingHolder) Hold(o transform.Observation) func() {
	c.held++
	count := c.Collector.Hold(o)
	return func() {
		c.counted++
		count()
	}
}

// The report of random batches whose numbers read by their column's
// evidence is the same whether the transform normalises the parts that
// asked for it a second time to observe them, or holds their first
// observation until the batch's evidence is settled: where the answers
// stand and where they change.
func TestReportSameWithHeldObservations(t *testing.T) {
	cfg, _, err := config.LoadAll("../../testdata/transform/listing/values-rule/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schema.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	handler := func(o transform.Option) *transform.Handler {
		h, err := transform.New(cfg, reg, o, transform.WithMetrics(metrics.New(io.Discard)),
			transform.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
			transform.WithClock(func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	again := NewCollector()
	holder := &countingHolder{Collector: NewCollector()}
	renormalising, holding := handler(transform.WithObserver(again.Observe)), handler(transform.WithHoldingObserver(holder))

	rng := rand.New(rand.NewSource(2))
	prices := []string{"1,299", "1.299", "12,50", "1.234,50", "1,234.50", "845", "1,299.00", "abc", ""}
	keys := []string{"listings/a.csv", "listings/b.csv", "listings/de/c.csv"}
	line := func() string {
		r := envelope.Record{ID: fmt.Sprint(rng.Int()), Schema: "listing",
			Source: envelope.Source{Bucket: "in", Key: keys[rng.Intn(len(keys))], Version: "v1", Format: "csv", Line: int64(rng.Intn(100))}}
		r.Fields = []envelope.Field{{Name: "Shop Name", Value: "S"}, {Name: "Price", Value: prices[rng.Intn(len(prices))]},
			{Name: "Listed", Value: []string{"2024-05-01", "soon"}[rng.Intn(2)]}}
		if rng.Intn(6) > 0 {
			r.Fields = append(r.Fields, envelope.Field{Name: "URL", Value: "https://example.com/x"})
		}
		if rng.Intn(2) == 0 {
			r.Fields = append(r.Fields, envelope.Field{Name: "Rating", Value: prices[rng.Intn(len(prices))]})
		}
		return string(envelope.Append(nil, &r))
	}
	for round := 0; round < 300; round++ {
		var ev events.KinesisFirehoseEvent
		ev.DeliveryStreamArn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings"
		for n := 1 + rng.Intn(12); len(ev.Records) < n; {
			parts := []string{line()}
			for rng.Intn(4) == 0 {
				parts = append(parts, line())
			}
			ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(len(ev.Records)),
				Data: []byte(strings.Join(parts, "\n"))})
		}
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
	if holder.counted < 100 || holder.held-holder.counted < 20 {
		t.Fatalf("of %d observations held, %d counted: the batches test little", holder.held, holder.counted)
	}
}
