package envelope

import (
	"encoding/json"
	"reflect"
	"slices"
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

// TestDecodeFlagsLoneSurrogates: a record with a string holding half a
// UTF-16 surrogate pair, at the top or nested, is flagged replaced (it is
// read as U+FFFD), once, whether bare or an envelope; a whole pair is not.
func TestDecodeFlagsLoneSurrogates(t *testing.T) {
	for in, want := range map[string][]string{
		`{"name":"cut \ud83d"}`:                              {FlagReplaced},
		`{"name":"ok","tags":["\udc00","\ud800"]}`:           {FlagReplaced},
		`{"name":"pair \ud83d\ude00"}`:                       nil,
		`{"v":1,"fields":{"a":"\ud800"},"flags":["ragged"]}`: {"ragged", FlagReplaced},
		`{"v":1,"fields":{"a":"\ud83d\ude00"}}`:              nil,
	} {
		var d Decoded
		if err := Decode([]byte(in), &d); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !slices.Equal(d.Flags, want) {
			t.Errorf("%s: flags %q, want %q", in, d.Flags, want)
		}
		// The next record, decoded into the same Decoded, starts clean.
		if err := Decode([]byte(`{"a":"b"}`), &d); err != nil || len(d.Flags) != 0 {
			t.Errorf("after %s: flags %q, %v", in, d.Flags, err)
		}
	}
}
