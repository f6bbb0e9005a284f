package schema

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
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

func TestTimeFormatsMatchTheLayouts(t *testing.T) {
	date := &Type{Kind: Int, Logical: Date}
	millis := &Type{Kind: Long, Logical: TimestampMillis}
	micros := &Type{Kind: Long, Logical: TimestampMicros}
	for _, tm := range []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 123456000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC), time.Date(2038, 1, 19, 3, 14, 8, 42000, time.UTC),
	} {
		v := Value{Kind: Int, Int: DaysOf(tm)}
		if got, want := string(AppendJSON(nil, date, &v)), `"`+tm.Format(time.DateOnly)+`"`; got != want {
			t.Errorf("date %v: %s, want %s", tm, got, want)
		}
		v = Value{Kind: Long, Int: tm.UnixMilli()}
		if got, want := string(AppendJSON(nil, millis, &v)), `"`+time.UnixMilli(tm.UnixMilli()).UTC().Format("2006-01-02T15:04:05.000Z07:00")+`"`; got != want {
			t.Errorf("millis %v: %s, want %s", tm, got, want)
		}
		v = Value{Kind: Long, Int: tm.UnixMicro()}
		if got, want := string(AppendJSON(nil, micros, &v)), `"`+time.UnixMicro(tm.UnixMicro()).UTC().Format("2006-01-02T15:04:05.000000Z07:00")+`"`; got != want {
			t.Errorf("micros %v: %s, want %s", tm, got, want)
		}
	}
}
