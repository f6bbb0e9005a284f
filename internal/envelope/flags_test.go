package envelope

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestAppendFlags(t *testing.T) {
	r := Record{ID: "x", Schema: "listing", Source: Source{
		Bucket: "b", Key: "k", Format: "csv", Line: 3, Offset: 40,
		IngestedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		Flags:      []string{"ragged", `odd "quote"`},
	}, Fields: []Field{{Name: "a", Value: "1"}}}
	var doc struct {
		Source Source `json:"source"`
	}
	if err := json.Unmarshal(Append(nil, &r), &doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Source.Flags, r.Source.Flags) {
		t.Fatalf("flags = %q, want %q", doc.Source.Flags, r.Source.Flags)
	}
	if doc.Source.Line != 3 || doc.Source.Key != "k" || !doc.Source.IngestedAt.Equal(r.Source.IngestedAt) {
		t.Fatalf("source = %+v", doc.Source)
	}

	r.Source.Flags = nil
	var raw map[string]json.RawMessage
	var src map[string]any
	if err := json.Unmarshal(Append(nil, &r), &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw["source"], &src); err != nil {
		t.Fatal(err)
	}
	if _, ok := src["flags"]; ok {
		t.Fatal(`"flags" written for a record without flags`)
	}
}
