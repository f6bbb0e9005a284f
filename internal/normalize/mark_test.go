package normalize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

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

// FuzzStripNumber checks stripNumber against its plain form, which tries
// every currency symbol at both ends until none is left.
func FuzzStripNumber(f *testing.F) {
	for _, s := range []string{"£1,299.00", "(USD 12)", "-+$ 5 €", "12 kr", "Fr. 3", "US$4", "plain text", "", "%", "( -R$ 1 )%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body, neg := stripNumber(s)
		wantBody, wantNeg := stripNumberPlain(s)
		if body != wantBody || neg != wantNeg {
			t.Fatalf("stripNumber(%q) = %q, %v; plainly %q, %v", s, body, neg, wantBody, wantNeg)
		}
	})
}

func stripNumberPlain(s string) (body string, neg bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	for changed := true; changed; {
		changed = false
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			neg = neg != (s[0] == '-')
			s = s[1:]
			changed = true
			continue
		}
		for _, c := range currencySymbols {
			if strings.HasPrefix(s, c) {
				s, changed = s[len(c):], true
			}
			if strings.HasSuffix(s, c) {
				s, changed = s[:len(s)-len(c)], true
			}
		}
	}
	return s, neg
}

func FuzzTrimSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", " a ", "\u00a0a", "a\u00a0", "\u2003x\u3000", "\x85", "é", "1,299 ", "\t£5\n", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Fatalf("trimSpace(%q) = %q, strings.TrimSpace says %q", s, got, want)
		}
	})
}

// TestSpaceEdges checks that spaceFirst and spaceLast mark the first and
// last bytes of every rune unicode.IsSpace holds a space, which trimSpace
// relies on to answer at once.
func TestSpaceEdges(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.IsSpace(r) {
			continue
		}
		b := utf8.AppendRune(nil, r)
		if !spaceFirst[b[0]] || !spaceLast[b[len(b)-1]] {
			t.Errorf("%U (% x): first byte marked %v, last %v", r, b, spaceFirst[b[0]], spaceLast[b[len(b)-1]])
		}
	}
}
