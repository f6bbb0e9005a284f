package report

import (
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// BenchmarkObserve is the report's cost per record in sluice run: one
// listing (eight columns, one kept in extra) observed from every core at
// once, with the normaliser's matches as the transform passes them.
func BenchmarkObserve(b *testing.B) {
	plan := listingPlan(b)
	fields := []envelope.Field{
		{Name: "Shop Name", Value: "Corner Books"}, {Name: "Address", Value: "12 High St, Bristol"},
		{Name: "Price", Value: "£1,299.00"}, {Name: "Listed", Value: "2024-05-01"},
		{Name: "URL", Value: "https://example.com/shops/1"}, {Name: "Rating", Value: "4.5"},
		{Name: "Tags", Value: "books; cafe"}, {Name: "Opening Hours", Value: "9-17"},
	}
	meta := &normalize.Meta{RecordID: "r", Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: 2}}
	var sc normalize.Scratch
	var v schema.Value
	if f := plan.Normalize(&sc, fields, meta, &v); f != nil {
		b.Fatal(f)
	}
	c := NewCollector()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		o := transform.Observation{Plan: plan, Fields: fields, Matched: sc.Matched(), Meta: meta, Value: &v}
		for pb.Next() {
			c.Observe(o)
		}
	})
	if got := c.Report().Schemas[0].Records; got != int64(b.N) {
		b.Fatalf("observed %d of %d", got, b.N)
	}
}
