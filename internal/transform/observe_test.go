package transform

import (
	"context"
	"sync"
	"testing"

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
