package normalize

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// Scratch.Matched is what Plan.Lookup answers for each input field,
// whether the record is normalised or fails, and whatever a nested
// record's own fields match.
func TestMatchedIsLookup(t *testing.T) {
	p := planOf(t, "m", `{"type":"record","name":"m","fields":[
 {"name":"shop_name","type":"string","aliases":["store"]},
 {"name":"n","type":["null","int"],"default":null},
 {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
 {"name":"addr","type":["null",{"type":"record","name":"addr","fields":[
   {"name":"city","type":"string"},{"name":"n","type":["null","int"],"default":null}]}],"default":null},
 {"name":"extra","type":{"type":"map","values":"string"},"default":{}}
]}`, Options{})
	names := []string{"shop_name", "Shop Name", "STORE", "n", "N", "tags", "Tags!", "addr", "city", "extra", "note", "", "é"}
	values := []envelope.Field{
		{Value: "x"}, {Value: "12"}, {Value: "twelve"}, {Value: ""}, {Kind: envelope.Null},
		{Value: `{"city":"Bristol","n":3}`, Kind: envelope.Raw}, {Value: `{"n":"x"}`, Kind: envelope.Raw},
		{Value: `["a","b"]`, Kind: envelope.Raw}, {Value: "7", Kind: envelope.Raw},
	}
	rng := rand.New(rand.NewSource(1))
	var sc Scratch
	failed := 0
	for round := 0; round < 2000; round++ {
		fields := make([]envelope.Field, rng.Intn(8))
		for i := range fields {
			fields[i] = values[rng.Intn(len(values))]
			fields[i].Name = names[rng.Intn(len(names))]
		}
		var v schema.Value
		if p.Normalize(&sc, fields, &Meta{}, &v) != nil {
			failed++
		}
		want := []int{}
		for _, f := range fields {
			want = append(want, p.Lookup(f.Name))
		}
		if got := append([]int{}, sc.Matched()...); !reflect.DeepEqual(got, want) {
			t.Fatalf("fields %+v: Matched %v, Lookup %v", fields, got, want)
		}
		sc.Rewind()
	}
	if failed < 200 || failed > 1800 {
		t.Fatalf("%d of 2000 records failed: the records test little", failed)
	}
}
