package infer

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/normalize"
)

// avroName always gives a valid Avro name, and for ASCII headers one that
// sluice's name matching takes for the header itself.
func FuzzAvroName(f *testing.F) {
	for _, s := range []string{"Shop Name", "SHOP-NAME", "shopName", "2nd", "€", "", "Catégorie", "a__b", "price (USD)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		name := avroName(header)
		if !validName.MatchString(name) {
			t.Fatalf("avroName(%q) = %q, not an Avro name", header, name)
		}
		ascii := true
		for _, r := range header {
			if r >= 0x80 {
				ascii = false
			}
		}
		if ascii && normalize.Canonical(header) != "" && normalize.Canonical(name) != normalize.Canonical(header) {
			t.Fatalf("avroName(%q) = %q does not match the header (%q vs %q)", header, name, normalize.Canonical(name), normalize.Canonical(header))
		}
	})
}

// numberShape never says a number for text without digits, and a number
// with grouping has groups of three.
func FuzzNumberShape(f *testing.F) {
	for _, s := range []string{"1,299", "0.001", "203.0.113.1", "£1,299.00", "1.234,50 €", "", "..", "1 000 000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		shape := numberShape(s)
		if shape != shapeNone && !strings.ContainsAny(s, "0123456789") {
			t.Fatalf("numberShape(%q) = %d without a digit", s, shape)
		}
	})
}
