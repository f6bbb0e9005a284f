package infer

import (
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/normalize"
)

func TestPickTheNarrowestTypeThatReadsEveryValue(t *testing.T) {
	tests := []struct {
		name     string
		values   []string
		want     string
		nullable bool
	}{
		{"integers", []string{"1", "-20", "1,299,000"}, "long", false},
		{"fractions", []string{"1.5", "2", "0.001"}, "double", false},
		{"money", []string{"£12.50", "£1,299.00", "€3,20"}, "decimal(18,2)", false},
		{"money with whole amounts", []string{"£12.50", "£845"}, "double", false},
		{"booleans", []string{"yes", "no", "Y"}, "boolean", false},
		{"ones and zeros are numbers", []string{"1", "0"}, "long", false},
		{"dates", []string{"2024-05-01", "May 2, 2024"}, "date", false},
		{"times", []string{"2024-05-01", "2024-05-01T09:30:00Z"}, "timestamp-millis", false},
		{"codes keep their zeros", []string{"01234", "02110"}, "string", false},
		{"years are numbers, not dates", []string{"2024", "1999"}, "long", false},
		{"addresses are not numbers", []string{"203.0.113.1", "10.0.0.2"}, "string", false},
		{"empty makes nullable", []string{"4.5", "", "N/A"}, "double", true},
		{"never a value", []string{"", "-"}, "string", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSampler(normalize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := s.beginFile("x.csv")
			for _, v := range tt.values {
				s.add(f, format.Record{Fields: []envelope.Field{{Name: "Col", Value: v}}})
			}
			r := s.Result("x", Options{})
			got := r.Fields[0]
			if typeString(got.Type) != tt.want || got.Nullable != tt.nullable {
				t.Errorf("%q: %s (nullable %v), want %s (nullable %v)", tt.values, typeString(got.Type), got.Nullable, tt.want, tt.nullable)
			}
			if _, err := r.AVSC(); err != nil {
				t.Error(err)
			}
		})
	}
}

func typeString(t any) string {
	if m, ok := t.(map[string]any); ok {
		if m["logicalType"] == "decimal" {
			return fmt.Sprintf("decimal(%v,%v)", m["precision"], m["scale"])
		}
		return fmt.Sprint(m["logicalType"])
	}
	return fmt.Sprint(t)
}

func TestAvroName(t *testing.T) {
	for in, want := range map[string]string{
		"Shop Name": "shop_name", "SHOP-NAME": "shop_name", "shopName": "shop_name", "Catégorie": "categorie",
		"Straße": "strasse", "2nd price": "_2nd_price", "€": "field", "price (USD)": "price_usd",
	} {
		if got := avroName(in); got != want {
			t.Errorf("avroName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAbsentColumnsAreNullable(t *testing.T) {
	s, _ := NewSampler(normalize.Options{})
	a, b := s.beginFile("a.csv"), s.beginFile("b.csv")
	s.add(a, format.Record{Fields: []envelope.Field{{Name: "id", Value: "1"}, {Name: "Only A", Value: "x"}}})
	s.add(b, format.Record{Fields: []envelope.Field{{Name: "ID", Value: "2"}}})
	r := s.Result("x", Options{})
	if len(r.Fields) != 2 || r.Fields[0].Nullable || !r.Fields[1].Nullable {
		t.Fatalf("fields %+v", r.Fields)
	}
	if r.Fields[0].Aliases[0] != "ID" {
		t.Errorf("the spelling ID is not an alias: %v", r.Fields[0].Aliases)
	}
}

func TestEnumsAndArraysOnlyWhenAsked(t *testing.T) {
	statuses := []string{"Paid", "pending", "PAID", "On-Hold", "paid", "pending"}
	tags := []string{"books; cafe", "bikes|repairs", "fruit"}
	addresses := []string{"12 High St, Bristol; back door", "3 Quay Rd"}
	infer := func(values []string, opts Options) any {
		s, _ := NewSampler(normalize.Options{})
		f := s.beginFile("x.csv")
		for _, v := range values {
			s.add(f, format.Record{Fields: []envelope.Field{{Name: "col", Value: v}}})
		}
		r := s.Result("x", opts)
		if _, err := r.AVSC(); err != nil {
			t.Fatal(err)
		}
		return r.Fields[0].Type
	}
	if got := typeString(infer(statuses, Options{})); got != "string" {
		t.Errorf("statuses without -enum: %s", got)
	}
	if got := fmt.Sprint(infer(statuses, Options{Enum: 5})); got != "map[name:col_enum symbols:[on_hold paid pending] type:enum]" {
		t.Errorf("statuses with -enum 5: %s", got)
	}
	if got := typeString(infer(statuses, Options{Enum: 2})); got != "string" {
		t.Errorf("three statuses with -enum 2: %s", got)
	}
	if got := typeString(infer([]string{"a1", "b2", "c3"}, Options{Enum: 10})); got != "string" {
		t.Errorf("ids seen once each became an enum: %s", got)
	}
	if got := typeString(infer(tags, Options{})); got != "string" {
		t.Errorf("lists without -arrays: %s", got)
	}
	if got := fmt.Sprint(infer(tags, Options{Arrays: true})); got != "map[items:string type:array]" {
		t.Errorf("lists with -arrays: %s", got)
	}
	if got := typeString(infer(addresses, Options{Arrays: true})); got != "string" {
		t.Errorf("text with commas (which the transform splits first) became an array: %s", got)
	}
}
