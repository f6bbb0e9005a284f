package normalize

import "testing"

// FuzzDecimalMark checks the quick refusal changes no answer: DecimalMark
// (with it) and decimalMark (the full reading) agree on any text.
func FuzzDecimalMark(f *testing.F) {
	for _, s := range []string{"1,299.00", "1.234,50", "12,5", "1.234.567", "£1,299.00", "(4.10)", "USD 1,234.5", "1\u00a0234,5",
		"1\u202f234,56", "1’234.5", "-12.5%", "12.50 €", "Independent shop, open since 1987. Friendly", "", "1e3", ",5", "kr 12,50"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := DecimalMark(s), decimalMark(s); got != want {
			t.Fatalf("DecimalMark(%q) = %q, the full reading says %q", s, got, want)
		}
	})
}
