package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEncoderNamesTheFailingField(t *testing.T) {
	s, err := Parse("r", 1, []byte(`{"type":"record","name":"r","fields":[
		{"name":"a","type":"int"},
		{"name":"list","type":{"type":"array","items":"string"}},
		{"name":"m","type":{"type":"map","values":{"type":"record","name":"inner","fields":[{"name":"x","type":"long"}]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ok := func() Value {
		return Value{Kind: Record, Items: []Value{
			{Kind: Int, Int: 1},
			{Kind: Array, Items: []Value{{Kind: String, Str: "a"}, {Kind: String, Str: "b"}}},
			{Kind: Map, Keys: []string{"k"}, Items: []Value{{Kind: Record, Items: []Value{{Kind: Long, Int: 2}}}}},
		}}
	}
	v := ok()
	if _, err := NewEncoder().Encode(s, &v); err != nil {
		t.Fatalf("valid record: %v", err)
	}
	tests := []struct {
		name   string
		break_ func(v *Value)
		field  string
	}{
		{"int range", func(v *Value) { v.Items[0].Int = 1 << 40 }, "a"},
		{"null", func(v *Value) { v.Items[0] = NullValue }, "a"},
		{"array item", func(v *Value) { v.Items[1].Items[1] = Value{Kind: Long} }, "list[1]"},
		{"bad utf8", func(v *Value) { v.Items[1].Items[0].Str = "\xff" }, "list[0]"},
		{"map record field", func(v *Value) { v.Items[2].Items[0].Items[0] = Value{Kind: String} }, "m.k.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ok()
			tt.break_(&v)
			_, err := NewEncoder().Encode(s, &v)
			ve, isVE := err.(*ValidationError)
			if !isVE || ve.Field != tt.field {
				t.Fatalf("error %v, want a ValidationError on %q", err, tt.field)
			}
		})
	}
}

func TestAppendStringEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "abcdefg" + string([]byte{byte(c)}) + "ijklmnop"} {
			got := AppendString(nil, s)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("byte %#x: %s is not a JSON string: %v", c, got, err)
			}
			want := strings.ToValidUTF8(s, "\uFFFD")
			if back != want {
				t.Fatalf("byte %#x: round trip %q, want %q", c, back, want)
			}
		}
	}
}
