package report

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// An object's columns are listed in its own order (line, then place in
// the line), whatever order its records were observed in: the transform
// observes a record whose number reads by its column's evidence after the
// rest of its batch, and batches run at once.
func TestColumnsInTheObjectsOrder(t *testing.T) {
	plan := listingPlan(t)
	records := [][]envelope.Field{
		{{Name: "Shop Name", Value: "A"}, {Name: "Price", Value: "1"}, {Name: "Listed", Value: "2024-05-01"}, {Name: "URL", Value: "u"}},
		{{Name: "Shop Name", Value: "B"}, {Name: "Price", Value: "2"}, {Name: "Listed", Value: "2024-05-01"}, {Name: "URL", Value: "u"}, {Name: "Note", Value: "n"}},
		{{Name: "Phone", Value: "p"}, {Name: "Shop Name", Value: "C"}, {Name: "Price", Value: "3"}, {Name: "Listed", Value: "2024-05-01"}, {Name: "URL", Value: "u"}},
	}
	want := []string{"Shop Name", "Price", "Listed", "URL", "Note", "Phone"}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}} {
		c := NewCollector()
		for _, i := range order {
			meta := &normalize.Meta{RecordID: "r", Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: int64(i + 2)}}
			var sc normalize.Scratch
			var v schema.Value
			f := plan.Normalize(&sc, records[i], meta, &v)
			c.Observe(transform.Observation{Plan: plan, Fields: records[i], Meta: meta, Value: &v, Failure: f})
		}
		var got []string
		for _, col := range c.Report().Schemas[0].Objects[0].Columns {
			got = append(got, col.Column)
			if col.Records == 0 {
				t.Fatalf("column %s counted no record", col.Column)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("observed in order %v: columns %q, want %q", order, got, want)
		}
	}
}
