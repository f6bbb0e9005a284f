package normalize

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// The cases of the rule "delivered right, kept as it came, or failed":
// each was delivered as a different value before.

// marks is a fixed Columns answer.
type marks map[string]byte

func (m marks) Decimal(column string) byte { return m[column] }

func docWith(t *testing.T, p *Plan, meta *Meta, fields ...envelope.Field) (string, *Failure) {
	t.Helper()
	var sc Scratch
	var v schema.Value
	fields = append([]envelope.Field{{Name: "Shop Name", Value: "S"}}, fields...)
	if f := p.Normalize(&sc, fields, meta, &v); f != nil {
		return "", f
	}
	if _, err := schema.NewEncoder().Encode(p.Schema, &v); err != nil {
		t.Fatalf("normalised record does not encode: %v", err)
	}
	return string(schema.AppendJSON(nil, p.Schema.Type, &v)), nil
}

func TestNumbersInDateFieldsAreNotEpochs(t *testing.T) {
	p := compile(t, Options{})
	for _, v := range []string{"2024", "12", "0", "1.5", "299.00", "-5", "99999999999999999"} {
		for _, field := range []string{"day", "ts", "us"} {
			for _, f := range []envelope.Field{str(field, v), raw(field, v)} {
				got, fail := doc(t, p, f)
				if fail == nil || fail.Field != field || fail.Class != ClassCoerce {
					t.Errorf("%s=%q (kind %d): got %s, %+v; want a coerce failure", field, v, f.Kind, got, fail)
				}
			}
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"1714521600", `"day":"2024-05-01"`},
		{"1714521600000", `"day":"2024-05-01"`},
		{"1714521600000000", `"day":"2024-05-01"`},
		{"20240501", `"day":"2024-05-01"`}, // a compact date, not an epoch
	} {
		if got, fail := doc(t, p, str("day", tt.in)); fail != nil || !strings.Contains(got, tt.want) {
			t.Errorf("day=%s: got %s %v, want %s", tt.in, got, fail, tt.want)
		}
	}
	if got, fail := doc(t, p, raw("ts", "1714557600.25")); fail != nil || !strings.Contains(got, `"ts":"2024-05-01T10:00:00.250Z"`) {
		t.Errorf("fractional epoch seconds: %s %v", got, fail)
	}
	// A narrower window refuses what the default accepts.
	narrow := compile(t, Options{EpochFrom: 2030, EpochUntil: 2040})
	if _, fail := doc(t, narrow, str("day", "1714521600")); fail == nil {
		t.Error("an epoch outside epoch_from..epoch_until was accepted")
	}
}

func TestNumberConventionIsTheColumns(t *testing.T) {
	p := compile(t, Options{})
	// One euro-format file: "€1.299" and "1,299" in one column.
	for _, v := range []string{"€1.299", "1,299", "1.299", "1,299 €"} {
		if got, fail := docWith(t, p, &Meta{}, str("d", v)); fail == nil {
			t.Errorf("d=%q with no evidence and no locale was delivered: %s", v, got)
		}
	}
	comma := &Meta{Columns: marks{"d": ','}}
	dot := &Meta{Columns: marks{"d": '.'}}
	de, _ := ParseLocale("de")
	tests := []struct {
		meta *Meta
		in   string
		want string
	}{
		{comma, "€1.299", `"d":1299,`},
		{comma, "1,299", `"d":1.299,`},
		{dot, "€1.299", `"d":1.299,`},
		{dot, "1,299", `"d":1299,`},
		{&Meta{Options: &Options{Locale: de}}, "€1.299", `"d":1299,`},
		{&Meta{Options: &Options{Locale: de}}, "1,299", `"d":1.299,`},
		{&Meta{Options: &Options{Locale: de}}, "1,299.00", `"d":1299,`}, // the value shows its own mark
		{&Meta{}, "€1.299,00", `"d":1299,`},
		{&Meta{}, "1,299.00", `"d":1299,`},
		{&Meta{}, "1.299.000", `"d":1299000,`},
		{&Meta{}, "0,299", `"d":0.299,`},
		{&Meta{}, "1299,5", `"d":1299.5,`},
		{&Meta{}, "CHF 1’299.50", `"d":1299.5,`},
		{comma, "1.299", `"d":1299,`},
	}
	for _, tt := range tests {
		got, fail := docWith(t, p, tt.meta, str("d", tt.in))
		if fail != nil || !strings.Contains(got, tt.want) {
			t.Errorf("d=%q: got %s %v, want %s", tt.in, got, fail, tt.want)
		}
	}
	for _, bad := range []string{"1,2,3", "1.23.45", "12,34.5,6", "1,299.00.5", "1 2345"} {
		if got, fail := docWith(t, p, comma, str("d", bad)); fail == nil {
			t.Errorf("d=%q was read as %s", bad, got)
		}
	}
}

func TestDecimalMark(t *testing.T) {
	for in, want := range map[string]byte{
		"1,299.00": '.', "12.5": '.', "1,234,567": '.', "$0.99": '.',
		"1.234,50 €": ',', "12,5": ',', "1.234.567": ',', "4,7": ',',
		"1,299": 0, "1.299": 0, "845": 0, "1 000": 0, "abc": 0, "": 0,
	} {
		if got := DecimalMark(in); got != want {
			t.Errorf("DecimalMark(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownEnumKeepsItsOriginal(t *testing.T) {
	p := compile(t, Options{})
	got, fail := doc(t, p, str("e", "on-hold"))
	if fail != nil || !strings.Contains(got, `"e":"OTHER"`) || !strings.Contains(got, `"extra":{"e":"on-hold"}`) {
		t.Fatalf("got %s %v: want the default with the original in extra", got, fail)
	}
	noDefault, _ := schema.Parse("n", 1, []byte(`{"type":"record","name":"n","fields":[
	 {"name":"e","type":{"type":"enum","name":"c","symbols":["A"]}},
	 {"name":"extra","type":{"type":"map","values":"string"},"default":{}}]}`))
	noExtra, _ := schema.Parse("x", 1, []byte(`{"type":"record","name":"x","fields":[
	 {"name":"e","type":{"type":"enum","name":"c","symbols":["A","OTHER"],"default":"OTHER"}}]}`))
	for _, s := range []*schema.Schema{noDefault, noExtra} {
		p, err := Compile(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var sc Scratch
		var v schema.Value
		if fail := p.Normalize(&sc, []envelope.Field{str("e", "on-hold")}, &Meta{}, &v); fail == nil || fail.Field != "e" {
			t.Errorf("%s: an unknown symbol with nowhere to keep it: %+v, want a failure", s.Name, fail)
		}
	}
}

func TestFoldedNames(t *testing.T) {
	s, err := schema.Parse("c", 1, []byte(`{"type":"record","name":"c","fields":[
	 {"name":"categorie","type":"string"},
	 {"name":"price","type":["null","double"],"default":null,"sluice.aliases":["Цена","Prix (€)"]},
	 {"name":"extra","type":{"type":"map","values":"string"},"default":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Catégorie", "CATEGORIE", "categorie", "CATÉGORIE"} {
		if p.Lookup(name) != 0 {
			t.Errorf("%q does not match categorie", name)
		}
	}
	for _, name := range []string{"Цена", "цена", "prix (€)", "PRIX"} {
		if p.Lookup(name) != 1 {
			t.Errorf("%q does not match price through sluice.aliases", name)
		}
	}
	if _, err := schema.Parse("c", 1, []byte(`{"type":"record","name":"c","fields":[{"name":"a","type":"string","sluice.aliases":"x"}]}`)); err == nil {
		t.Error("sluice.aliases that is not an array of strings was accepted")
	}
}

func TestTrimAndLocaleBooleans(t *testing.T) {
	p := compile(t, Options{})
	if got, _ := doc(t, p, str("req", "  padded\t")); !strings.Contains(got, `"req":"padded"`) {
		t.Errorf("text not trimmed: %s", got)
	}
	keep := compile(t, Options{KeepSpaces: true})
	if got, _ := doc(t, keep, str("req", "  padded\t")); !strings.Contains(got, `"req":"  padded\t"`) {
		t.Errorf("trim off still trimmed: %s", got)
	}
	if got, fail := doc(t, p, str("b", "oui")); fail == nil {
		t.Errorf("oui read without a locale: %s", got)
	}
	for _, tt := range []struct{ locale, yes, no string }{
		{"fr", "oui", "Non"}, {"de", "JA", "nein"}, {"es", "sí", "no"}, {"it", "sì", "no"}, {"pt-BR", "sim", "não"}, {"nl", "ja", "nee"},
	} {
		l, err := ParseLocale(tt.locale)
		if err != nil {
			t.Fatal(err)
		}
		m := &Meta{Options: &Options{Locale: l}}
		if got, fail := docWith(t, p, m, str("b", tt.yes)); fail != nil || !strings.Contains(got, `"b":true`) {
			t.Errorf("%s %q: %s %v", tt.locale, tt.yes, got, fail)
		}
		if got, fail := docWith(t, p, m, str("b", tt.no)); fail != nil || !strings.Contains(got, `"b":false`) {
			t.Errorf("%s %q: %s %v", tt.locale, tt.no, got, fail)
		}
	}
	if _, err := ParseLocale("xx"); err == nil {
		t.Error("unknown locale accepted")
	}
}

// A reading that drops part of the value (a time of day into a date,
// microseconds into milliseconds) keeps the original beside it, or fails
// where there is no extra map to keep it in.
func TestPrecisionLostIsKept(t *testing.T) {
	p := compile(t, Options{})
	for _, tt := range []struct{ field, in, want string }{
		{"day", "2024-05-01T09:30:00+02:00", `"day":"2024-05-01"`},
		{"ts", "2024-05-01T10:00:01.123456Z", `"ts":"2024-05-01T10:00:01.123Z"`},
		{"us", "2024-05-01T10:00:01.123456789Z", `"us":"2024-05-01T10:00:01.123456Z"`},
	} {
		got, fail := doc(t, p, str(tt.field, tt.in))
		if fail != nil || !strings.Contains(got, tt.want) || !strings.Contains(got, `"extra":{"`+tt.field+`":"`+tt.in+`"}`) {
			t.Errorf("%s=%q: got %s %v; want %s with the original in extra", tt.field, tt.in, got, fail, tt.want)
		}
	}
	for _, tt := range []struct{ field, in string }{{"day", "2024-05-01"}, {"ts", "2024-05-01T10:00:01.123Z"}} {
		if got, _ := doc(t, p, str(tt.field, tt.in)); !strings.Contains(got, `"extra":{}`) {
			t.Errorf("%s=%q lost nothing but was kept: %s", tt.field, tt.in, got)
		}
	}
	s, _ := schema.Parse("x", 1, []byte(`{"type":"record","name":"x","fields":[{"name":"day","type":{"type":"int","logicalType":"date"}}]}`))
	noExtra, err := Compile(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sc Scratch
	var v schema.Value
	if fail := noExtra.Normalize(&sc, []envelope.Field{str("day", "2024-05-01T09:30:00Z")}, &Meta{}, &v); fail == nil {
		t.Error("a time of day dropped with nowhere to keep it")
	}
}

// A bare year is a date only when a layout says so.
func TestDateLayoutsReadWhatTheySay(t *testing.T) {
	p := compile(t, Options{DateLayouts: []string{"2006", "02/01/06"}})
	for in, want := range map[string]string{"2024": `"day":"2024-01-01"`, "17/05/24": `"day":"2024-05-17"`, "2024-05-17": `"day":"2024-05-17"`} {
		if got, fail := doc(t, p, str("day", in)); fail != nil || !strings.Contains(got, want) {
			t.Errorf("%q: %s %v, want %s", in, got, fail, want)
		}
	}
	if _, fail := doc(t, p, str("day", "12")); fail == nil {
		t.Error("12 read as a date by the layout 2006")
	}
}
