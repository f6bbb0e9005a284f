package report

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// Every column of every record is counted, with more column layouts in an
// object than it remembers, layouts of one length and layouts that differ
// in one column only.
func TestColumnsCountedAcrossLayouts(t *testing.T) {
	plan := listingPlan(t)
	names := []string{"Shop Name", "shop_name", "SHOP-NAME", "Price", "Cost", "Note", "Notes", "Phone", "URL"}
	var layouts [][]string
	rng := rand.New(rand.NewSource(3))
	for len(layouts) < 3*maxLayouts {
		l := []string{names[rng.Intn(3)]}
		for n := rng.Intn(4); n > 0; n-- {
			l = append(l, names[3+rng.Intn(len(names)-3)])
		}
		layouts = append(layouts, l)
	}
	c := NewCollector()
	want := map[string]int64{}
	var sc normalize.Scratch
	for i := 0; i < 2000; i++ {
		var fields []envelope.Field
		for _, name := range layouts[rng.Intn(len(layouts))] {
			fields = append(fields, envelope.Field{Name: name, Value: "1"})
			want[name]++
		}
		meta := &normalize.Meta{RecordID: "r", Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: int64(i + 2)}}
		var v schema.Value
		f := plan.Normalize(&sc, fields, meta, &v)
		c.Observe(transform.Observation{Plan: plan, Fields: fields, Matched: sc.Matched(), Meta: meta, Value: &v, Failure: f})
		sc.Rewind()
	}
	got := map[string]int64{}
	for _, col := range c.Report().Schemas[0].Objects[0].Columns {
		got[col.Column] = col.Records
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("columns counted %v, want %v", got, want)
	}
}

// observation is a listing with fields, normalised without failing.
func observation(t *testing.T, plan *normalize.Plan, fields ...envelope.Field) transform.Observation {
	t.Helper()
	meta := &normalize.Meta{RecordID: "r", Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: 2}}
	sc, v := new(normalize.Scratch), new(schema.Value)
	if f := plan.Normalize(sc, fields, meta, v); f != nil {
		t.Fatal(f)
	}
	return transform.Observation{Plan: plan, Fields: fields, Matched: sc.Matched(), Meta: meta, Value: v}
}

// Observe classifies a record in memory of its own stack.
func TestObserveAllocatesNothing(t *testing.T) {
	o := observation(t, listingPlan(t), envelope.Field{Name: "Shop Name", Value: "A"}, envelope.Field{Name: "Price", Value: "1.5"},
		envelope.Field{Name: "Listed", Value: "2024-05-01"}, envelope.Field{Name: "URL", Value: "u"}, envelope.Field{Name: "Phone", Value: "p"})
	c := NewCollector()
	c.Observe(o)
	if n := testing.AllocsPerRun(100, func() { c.Observe(o) }); n != 0 {
		t.Fatalf("Observe allocates %v times a record", n)
	}
}

// A tally counts a record, and holds one and counts it, without
// allocating: a held record of one of the last layouts' columns and of
// the last one's object shares their copies, and a tally reuses the
// memory of the records it held before its last flush. (A batch
// allocates its tally's tables once.)
func TestTallyAllocatesNothingPerRecord(t *testing.T) {
	plan := listingPlan(t)
	tally := NewCollector().NewTally()
	o := observation(t, plan, envelope.Field{Name: "Shop Name", Value: "A"}, envelope.Field{Name: "Price", Value: "1.5"},
		envelope.Field{Name: "Listed", Value: "2024-05-01"}, envelope.Field{Name: "URL", Value: "u"}, envelope.Field{Name: "Phone", Value: "p"})
	// Records of three scrapers' layouts, interleaved.
	o2 := observation(t, plan, envelope.Field{Name: "shop_name", Value: "B"}, envelope.Field{Name: "price", Value: "2"},
		envelope.Field{Name: "listed_on", Value: "2024-05-01"}, envelope.Field{Name: "link", Value: "u"})
	o3 := o2
	o3.Fields, o3.Matched = o2.Fields[:3], nil
	batch := func(n int) float64 {
		return testing.AllocsPerRun(20, func() {
			for i := range n {
				o := []transform.Observation{o, o2, o3}[i%3]
				tally.Observe(o)
				tally.Count(tally.Hold(o))
			}
			tally.Reset()
		})
	}
	batch(2000)
	if small, large := batch(10), batch(2000); large != small {
		t.Fatalf("a batch of 10 records observed and 10 held allocates %v times, of 2,000 and 2,000 %v times", small, large)
	}
}

// TestColumnsOrderedByLowestLineOfEachLayout: a column's place is where it
// was first seen in its object, however late the record that shows it is
// observed (the transform observes records that waited for a column's
// evidence after the rest of their batch), also when that record's layout
// was seen before.
func TestColumnsOrderedByLowestLineOfEachLayout(t *testing.T) {
	plan := listingPlan(t)
	c := NewCollector()
	var sc normalize.Scratch
	observe := func(line int64, names ...string) {
		var fields []envelope.Field
		for _, n := range names {
			fields = append(fields, envelope.Field{Name: n, Value: "1"})
		}
		meta := &normalize.Meta{RecordID: "r", Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Line: line}}
		var v schema.Value
		f := plan.Normalize(&sc, fields, meta, &v)
		c.Observe(transform.Observation{Plan: plan, Fields: fields, Matched: sc.Matched(), Meta: meta, Value: &v, Failure: f})
		sc.Rewind()
	}
	observe(50, "Shop Name", "Price")
	observe(40, "Price", "Shop Name")
	observe(45, "Shop Name", "Price")
	observe(5, "Shop Name", "Price") // the first layout again, seen first
	observe(60, "Price", "Shop Name")
	var got []string
	for _, col := range c.Report().Schemas[0].Objects[0].Columns {
		got = append(got, fmt.Sprintf("%s:%d", col.Column, col.Records))
	}
	if want := []string{"Shop Name:5", "Price:5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
}

// listingPlan is the plan of the shipped listing schema, default options.
func listingPlan(t testing.TB) *normalize.Plan {
	t.Helper()
	reg, err := schema.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := reg.Latest("listing")
	plan, err := normalize.Compile(s, normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
