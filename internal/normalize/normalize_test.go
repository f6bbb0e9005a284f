package normalize

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

const testSchema = `{"type":"record","name":"t","fields":[
 {"name":"shop_name","type":"string","aliases":["store"]},
 {"name":"n","type":["null","int"],"default":null},
 {"name":"l","type":["null","long"],"default":null},
 {"name":"d","type":["null","double"],"default":null},
 {"name":"f","type":["null","float"],"default":null},
 {"name":"b","type":["null","boolean"],"default":null},
 {"name":"e","type":["null",{"type":"enum","name":"color","symbols":["RED","DARK_BLUE","OTHER"],"default":"OTHER"}],"default":null},
 {"name":"day","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
 {"name":"us","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
 {"name":"money","type":["null",{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}],"default":null},
 {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
 {"name":"nums","type":["null",{"type":"array","items":"int"}],"default":null},
 {"name":"req","type":["null","string"],"default":null},
 {"name":"flag","type":"boolean","default":false},
 {"name":"extra","type":{"type":"map","values":"string"},"default":{}}
]}`

func compile(t *testing.T, opts Options) *Plan { return planOf(t, "t", testSchema, opts) }

// planOf parses the schema text as name and compiles its plan.
func planOf(t testing.TB, name, text string, opts Options) *Plan {
	t.Helper()
	s, err := schema.Parse(name, 1, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func doc(t *testing.T, p *Plan, fields ...envelope.Field) (string, *Failure) {
	t.Helper()
	var sc Scratch
	var v schema.Value
	fields = append([]envelope.Field{{Name: "Shop Name", Value: "S"}}, fields...)
	if f := p.Normalize(&sc, fields, &Meta{}, &v); f != nil {
		return "", f
	}
	if _, err := schema.NewEncoder().Encode(p.Schema, &v); err != nil {
		t.Fatalf("normalised record does not encode: %v", err)
	}
	return string(schema.AppendJSON(nil, p.Schema.Type, &v)), nil
}

func str(name, v string) envelope.Field { return envelope.Field{Name: name, Value: v} }
func raw(name, v string) envelope.Field {
	return envelope.Field{Name: name, Value: v, Kind: envelope.Raw}
}

func TestCoercion(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	p := compile(t, Options{Location: berlin})
	tests := []struct {
		in   envelope.Field
		want string // a fragment of the output document
	}{
		{str("N", " 1,234,567 "), `"n":1234567`},
		{str("n", "1 234"), `"n":1234`},
		{str("n", "12.0"), `"n":12`},
		{str("n", "45%"), `"n":45`},
		{raw("n", "7"), `"n":7`},
		{str("L", "9007199254740993"), `"l":9007199254740993`},
		{str("d", "$1,299.50"), `"d":1299.5`},
		{str("d", "€ 1.234,50"), `"d":1234.5`},
		{str("d", "12,5"), `"d":12.5`},
		{str("d", "1.234.567"), `"d":1234567`},
		{str("d", "(45.10)"), `"d":-45.1`},
		{str("d", "-3.5 USD"), `"d":-3.5`},
		{str("d", "1 000,25 €"), `"d":1000.25`},
		{str("d", "12.5 %"), `"d":12.5`},
		{str("d", "1e3"), `"d":1000`},
		{str("d", "N/A"), `"d":null`},
		{str("d", "-"), `"d":null`},
		{str("d", ""), `"d":null`},
		{str("d", "null"), `"d":null`},
		{envelope.Field{Name: "d", Kind: envelope.Null}, `"d":null`},
		{str("f", "0.5"), `"f":0.5`},
		{str("B", "Yes"), `"b":true`},
		{str("b", "n"), `"b":false`},
		{str("b", "1"), `"b":true`},
		{raw("b", "false"), `"b":false`},
		{str("E", "dark blue"), `"e":"DARK_BLUE"`},
		{str("e", "red"), `"e":"RED"`},
		{str("e", "green"), `"e":"OTHER"`},
		{str("e", "green"), `"extra":{"e":"green"}`}, // the default's original is kept
		{str("day", "2024-02-29"), `"day":"2024-02-29"`},
		{str("day", "03/04/2024"), `"day":"2024-03-04"`},
		{str("day", "Jan 5, 2024"), `"day":"2024-01-05"`},
		{str("day", "5 January 2024"), `"day":"2024-01-05"`},
		{str("day", "2024-03-01T23:30:00-05:00"), `"day":"2024-03-01"`},
		{str("day", "20240131"), `"day":"2024-01-31"`},
		{str("day", "31.01.2024"), `"day":"2024-01-31"`},
		{str("ts", "2024-01-02T03:04:05Z"), `"ts":"2024-01-02T03:04:05.000Z"`},
		{str("ts", "2024-01-02T03:04:05.123456+02:00"), `"ts":"2024-01-02T01:04:05.123Z"`},
		{str("ts", "2024-07-01 12:00"), `"ts":"2024-07-01T10:00:00.000Z"`}, // naive: Berlin summer time
		{str("ts", "1700000000"), `"ts":"2023-11-14T22:13:20.000Z"`},
		{raw("ts", "1700000000123"), `"ts":"2023-11-14T22:13:20.123Z"`},
		{str("ts", "Tue, 14 Nov 2023 22:13:20 GMT"), `"ts":"2023-11-14T22:13:20.000Z"`},
		{str("us", "2024-01-02T03:04:05.123456Z"), `"us":"2024-01-02T03:04:05.123456Z"`},
		{str("money", "$1,234.5"), `"money":"1234.50"`},
		{str("money", "-0.07"), `"money":"-0.07"`},
		{raw("money", "19.99"), `"money":"19.99"`},
		{str("tags", "a, b ,c"), `"tags":["a","b","c"]`},
		{str("tags", "x|y"), `"tags":["x","y"]`},
		{str("tags", "solo"), `"tags":["solo"]`},
		{raw("tags", `["p", 1, true]`), `"tags":["p","1","true"]`},
		{str("nums", "1; 2; 3"), `"nums":[1,2,3]`},
		{str("Store", "other-name"), `"extra":{"Store":"other-name"}`}, // shop_name already set: kept in extra
		{str("unknown col", "v"), `"extra":{"unknown col":"v"}`},
		{str("flag", ""), `"flag":false`}, // empty means absent: the default applies
	}
	for _, tt := range tests {
		t.Run(tt.in.Name+"="+tt.in.Value, func(t *testing.T) {
			got, fail := doc(t, p, tt.in)
			if fail != nil {
				t.Fatalf("failed: %v", fail)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("document %s\nlacks %s", got, tt.want)
			}
		})
	}
}

func TestDayFirst(t *testing.T) {
	p := compile(t, Options{DayFirst: true})
	got, fail := doc(t, p, str("day", "03/04/2024"))
	if fail != nil || !strings.Contains(got, `"day":"2024-04-03"`) {
		t.Fatalf("got %s %v", got, fail)
	}
}

func TestFailures(t *testing.T) {
	p := compile(t, Options{})
	tests := []struct {
		fields []envelope.Field
		field  string
		class  Class
	}{
		{[]envelope.Field{str("n", "abc")}, "n", ClassCoerce},
		{[]envelope.Field{str("n", "1.5")}, "n", ClassCoerce},
		{[]envelope.Field{str("n", "3000000000")}, "n", ClassCoerce},
		{[]envelope.Field{str("b", "maybe")}, "b", ClassCoerce},
		{[]envelope.Field{str("day", "2024-02-30")}, "day", ClassCoerce},
		{[]envelope.Field{str("ts", "yesterday")}, "ts", ClassCoerce},
		{[]envelope.Field{str("money", "1.234")}, "money", ClassCoerce},
		{[]envelope.Field{str("money", "12345678.00")}, "money", ClassCoerce},
		{[]envelope.Field{str("d", "Inf")}, "d", ClassCoerce},
		{[]envelope.Field{str("d", "NaN")}, "d", ClassCoerce},
		{[]envelope.Field{str("nums", "1,x")}, "nums", ClassCoerce},
		{[]envelope.Field{str("n", "1,234")}, "n", ClassCoerce},    // ambiguous, no evidence
		{[]envelope.Field{str("d", "1.299")}, "d", ClassCoerce},    // ambiguous, no evidence
		{[]envelope.Field{str("d", "1,2,3")}, "d", ClassCoerce},    // not groups of three
		{[]envelope.Field{str("day", "2024")}, "day", ClassCoerce}, // a year alone
		{[]envelope.Field{str("day", "12")}, "day", ClassCoerce},
		{[]envelope.Field{str("ts", "299.00")}, "ts", ClassCoerce},
		{[]envelope.Field{{Name: "flag", Kind: envelope.Null}}, "flag", ClassCoerce},
	}
	for _, tt := range tests {
		t.Run(tt.fields[0].Name+"="+tt.fields[0].Value, func(t *testing.T) {
			_, fail := doc(t, p, tt.fields...)
			if fail == nil || fail.Field != tt.field || fail.Class != tt.class {
				t.Fatalf("failure = %+v, want field %s class %s", fail, tt.field, tt.class)
			}
			if strings.Contains(fail.Reason, tt.fields[0].Value) && tt.fields[0].Value != "" {
				t.Fatalf("reason %q leaks the value", fail.Reason)
			}
		})
	}
	var sc Scratch
	var v schema.Value
	fail := p.Normalize(&sc, []envelope.Field{str("n", "1")}, &Meta{}, &v)
	if fail == nil || fail.Field != "shop_name" || fail.Class != ClassRequired {
		t.Fatalf("missing required field: %+v", fail)
	}
}

func TestCanonical(t *testing.T) {
	for _, s := range []string{"Shop Name", "shop_name", "SHOP-NAME", " shop.name ", "ShopName"} {
		if Canonical(s) != "shopname" {
			t.Errorf("Canonical(%q) = %q", s, Canonical(s))
		}
	}
	if Canonical("Größe") != "grosse" {
		t.Errorf("Canonical(Größe) = %q", Canonical("Größe"))
	}
}

// FuzzNormalize: any field name and value, string or raw JSON, either
// normalises into a record that encodes against the schema or fails with a
// field and a reason.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []struct{ name, value string }{
		{"d", "€ 1.234,50"}, {"ts", "2024-01-02T03:04:05.123+02:00"}, {"day", "31.01.2024"}, {"money", "(12.5)"},
		{"tags", "a;b|c"}, {"nums", "[1, 2]"}, {"e", "dark-blue"}, {"b", "Y"}, {"n", "1e3"}, {"us", "1714557600123456"},
	} {
		f.Add(seed.name, seed.value, false)
		f.Add(seed.name, seed.value, true)
	}
	p := planOf(f, "t", testSchema, Options{})
	s := p.Schema
	enc := schema.NewEncoder()
	f.Fuzz(func(t *testing.T, name, value string, raw bool) {
		field := envelope.Field{Name: name, Value: value}
		if raw {
			field.Kind = envelope.Raw
			if !json.Valid([]byte(value)) {
				return // the envelope decoder only produces valid raw JSON
			}
		}
		var sc Scratch
		var v schema.Value
		fail := p.Normalize(&sc, []envelope.Field{{Name: "shop_name", Value: "s"}, field}, &Meta{}, &v)
		if fail != nil {
			if fail.Reason == "" || fail.Class == "" {
				t.Fatalf("failure without reason or class: %+v", fail)
			}
			return
		}
		if _, err := enc.Encode(s, &v); err != nil {
			t.Fatalf("normalised record does not encode: %v", err)
		}
		doc := schema.AppendJSON(nil, s.Type, &v)
		if !json.Valid(doc) {
			t.Fatalf("invalid JSON document: %s", doc)
		}
	})
}

func TestDiscardedFieldsAreCounted(t *testing.T) {
	p := planOf(t, "bare", `{"type":"record","name":"bare","fields":[{"name":"a","type":"string"}]}`, Options{})
	var sc Scratch
	var v schema.Value
	fields := []envelope.Field{str("a", "x"), str("zzz", "lost"), {Name: "c", Kind: envelope.Null}, str("A", "repeat")}
	if f := p.Normalize(&sc, fields, &Meta{}, &v); f != nil {
		t.Fatal(f)
	}
	if sc.Discarded != 2 {
		t.Fatalf("Discarded = %d, want 2 (zzz and the repeated a; a null carries nothing)", sc.Discarded)
	}
	// With an extra map nothing is discarded.
	sc.Discarded = 0
	if f := compile(t, Options{}).Normalize(&sc, append([]envelope.Field{str("shop_name", "s")}, fields...), &Meta{}, &v); f != nil {
		t.Fatal(f)
	}
	if sc.Discarded != 0 {
		t.Fatalf("Discarded = %d with an extra field, want 0", sc.Discarded)
	}
}

// TestRepeatedKeysAreNeverDroppedUnseen: a nested object that repeats a
// key used to keep its last value and drop the others unseen. A map field
// now fails the record with a reason; a nested record places the first
// value and counts the other as discarded, as for a top-level record.
func TestRepeatedKeysAreNeverDroppedUnseen(t *testing.T) {
	p := planOf(t, "r", `{"type":"record","name":"r","fields":[
 {"name":"attrs","type":["null",{"type":"map","values":"string"}],"default":null},
 {"name":"addr","type":["null",{"type":"record","name":"addr","fields":[{"name":"city","type":"string"}]}],"default":null}
]}`, Options{})
	s := p.Schema
	var sc Scratch
	var v schema.Value
	fail := p.Normalize(&sc, []envelope.Field{raw("attrs", `{"colour":"red","size":"L","colour":"blue"}`)}, &Meta{}, &v)
	if fail == nil || fail.Field != "attrs" || !strings.Contains(fail.Reason, "more than once") || strings.Contains(fail.Reason, "red") {
		t.Fatalf("a map with a repeated key: failure %+v", fail)
	}
	if fail := p.Normalize(&sc, []envelope.Field{raw("attrs", `{"b":"2","a":"1"}`)}, &Meta{}, &v); fail != nil {
		t.Fatal(fail)
	}
	if got := string(schema.AppendJSON(nil, s.Type, &v)); got != `{"attrs":{"a":"1","b":"2"},"addr":null}` {
		t.Fatalf("map: %s", got)
	}
	sc.Discarded = 0
	if fail := p.Normalize(&sc, []envelope.Field{raw("addr", `{"city":"Bristol","city":"Leeds"}`)}, &Meta{}, &v); fail != nil {
		t.Fatal(fail)
	}
	if got := string(schema.AppendJSON(nil, s.Type, &v)); got != `{"attrs":null,"addr":{"city":"Bristol"}}` || sc.Discarded != 1 {
		t.Fatalf("record: %s, %d discarded", got, sc.Discarded)
	}
}

// TestReplacedTextIsFlagged: text that is not UTF-8 (a bare record's
// Latin-1 bytes) is replaced with U+FFFD, wherever it is, and the record
// says so in extra's _flags, after the flags it came with.
func TestReplacedTextIsFlagged(t *testing.T) {
	p := compile(t, Options{})
	for _, tt := range []struct {
		field envelope.Field
		want  string
	}{
		{str("req", "caf\xe9"), "\"req\":\"caf\ufffd\""},
		{raw("tags", "[\"caf\xe9\",\"ok\"]"), "\"tags\":[\"caf\ufffd\",\"ok\"]"},
		{str("unknown", "\xff"), "\"unknown\":\"\ufffd\""},
		{str("caf\xe9", "x"), "\"caf\ufffd\":\"x\""},
	} {
		for _, given := range [][]string{nil, {"ragged"}} {
			var sc Scratch
			var v schema.Value
			flags := make([]string, len(given), len(given)+1)
			copy(flags, given)
			fields := []envelope.Field{{Name: "Shop Name", Value: "S"}, tt.field}
			if f := p.Normalize(&sc, fields, &Meta{Flags: flags}, &v); f != nil {
				t.Fatal(f)
			}
			got := string(schema.AppendJSON(nil, p.Schema.Type, &v))
			wantFlags := `"_flags":"` + strings.Join(append(given, "replaced"), ",") + `"`
			if !strings.Contains(got, tt.want) || !strings.Contains(got, wantFlags) {
				t.Errorf("%q given %q: %s; want %s and %s", tt.field.Value, given, got, tt.want, wantFlags)
			}
			if !slices.Equal(flags, given) || cap(flags) > len(flags) && flags[:cap(flags)][len(flags)] != "" {
				t.Errorf("the caller's flags were written: %q", flags[:cap(flags)])
			}
			// The next record, valid, is not flagged.
			if f := p.Normalize(&sc, fields[:1], &Meta{}, &v); f != nil || strings.Contains(string(schema.AppendJSON(nil, p.Schema.Type, &v)), "_flags") {
				t.Errorf("the next record: %v, %s", f, schema.AppendJSON(nil, p.Schema.Type, &v))
			}
		}
	}
}

// TestPlainOnlyWhereJSONWritesAsIs: a string value is marked Plain (the
// writer copies it without looking) only when JSON writes it as it is, at
// any depth; others (a quote, a newline, é, text that is not UTF-8) are
// written by the escaping path, and the document is the same either way.
func TestPlainOnlyWhereJSONWritesAsIs(t *testing.T) {
	p := compile(t, Options{})
	fields := []envelope.Field{
		str("Shop Name", "Corner Books"), str("req", `say "hi"`), raw("tags", `["plain","caf\u00e9","two\nlines"]`),
		str("unknown", "x\xff"), str("other", "fine and plain"), str("more", "naïve"),
	}
	var sc Scratch
	var v schema.Value
	if f := p.Normalize(&sc, fields, &Meta{}, &v); f != nil {
		t.Fatal(f)
	}
	plain, escaped := 0, 0
	var walk func(x *schema.Value)
	walk = func(x *schema.Value) {
		if x.Kind == schema.String {
			if x.Plain {
				plain++
				if !schema.PlainASCII(x.Str) {
					t.Errorf("%q is marked plain", x.Str)
				}
			} else {
				escaped++
			}
		}
		for i := range x.Items {
			walk(&x.Items[i])
		}
	}
	walk(&v)
	if plain < 3 || escaped < 3 {
		t.Fatalf("%d plain and %d other strings; want some of each", plain, escaped)
	}
	// Cleared marks write the same document.
	got := string(schema.AppendJSON(nil, p.Schema.Type, &v))
	var clear func(x *schema.Value)
	clear = func(x *schema.Value) {
		x.Plain = false
		for i := range x.Items {
			clear(&x.Items[i])
		}
	}
	clear(&v)
	if want := string(schema.AppendJSON(nil, p.Schema.Type, &v)); got != want {
		t.Fatalf("with the marks %s\nwithout %s", got, want)
	}
}

// TestCoerceIntoIsCoerce holds the record fields' shortcut for strings to
// coerce itself: the same value, Plain mark included, or the same error,
// for every kind of field and the values that take each path.
func TestCoerceIntoIsCoerce(t *testing.T) {
	p := planOf(t, "c", `{"type":"record","name":"c","fields":[
		{"name":"s","type":"string"},
		{"name":"ns","type":["null","string"]},
		{"name":"sn","type":["string","null"]},
		{"name":"nsi","type":["null","string","int"]},
		{"name":"i","type":"int"},
		{"name":"ni","type":["null","long"]},
		{"name":"tags","type":{"type":"array","items":"string"}}]}`, Options{})
	values := []envelope.Field{
		{Value: "plain"}, {Value: "  padded  "}, {Value: ""}, {Value: " "}, {Value: "-"}, {Value: "n/a"}, {Value: "NULL"},
		{Value: `say "hi"`}, {Value: "café"}, {Value: "x\xff"}, {Value: "12"}, {Value: "1,299"},
		{Value: "12", Kind: envelope.Raw}, {Value: `["a"]`, Kind: envelope.Raw}, {Kind: envelope.Null},
	}
	for _, keep := range []bool{false, true} {
		for i := range p.rec.fields {
			fp := &p.rec.fields[i]
			for _, f := range values {
				var a, b Scratch
				a.opts, b.opts = &Options{KeepSpaces: keep}, &Options{KeepSpaces: keep}
				want, wantErr := p.coerce(&a, fp, fp.t, &f)
				got := schema.Value{Kind: schema.Long, Int: 7} // left as it was on an error
				err := p.coerceInto(&got, &b, fp, &f)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || a.replaced != b.replaced {
					t.Fatalf("%s %q (keep spaces %v): error %v, replaced %v; coerce: %v, %v", fp.name, f.Value, keep, err, b.replaced, wantErr, a.replaced)
				}
				if wantErr == nil && !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %q (keep spaces %v): %+v; coerce: %+v", fp.name, f.Value, keep, got, want)
				}
				if wantErr != nil && (got.Kind != schema.Long || got.Int != 7) {
					t.Fatalf("%s %q: the field was written on an error: %+v", fp.name, f.Value, got)
				}
			}
		}
	}
}
