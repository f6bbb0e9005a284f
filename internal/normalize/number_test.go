package normalize

import (
	"math"
	"strconv"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
)

// parseNumberPlain is parseNumber without exactNumber: every number is
// read by strconv, from the text cleanNumber writes.
func parseNumberPlain(sc *Scratch, f *envelope.Field) (float64, error) {
	if f.Kind == envelope.Raw {
		x, err := strconv.ParseFloat(f.Value, 64)
		if err != nil {
			return 0, errNotNumber
		}
		return x, nil
	}
	if plainDecimal(f.Value) {
		if x, err := strconv.ParseFloat(f.Value, 64); err == nil {
			return x, nil
		}
	}
	s, err := cleanNumber(sc, f)
	if err != nil {
		return 0, err
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errNotNumber
	}
	return x, nil
}

// checkExactNumber fails when exactNumber answers for s and strconv
// does not read s as the very same float64.
func checkExactNumber(t *testing.T, s string) (ok bool) {
	t.Helper()
	x, ok := exactNumber(s)
	if y, okBytes := exactNumber([]byte(s)); okBytes != ok || math.Float64bits(y) != math.Float64bits(x) {
		t.Fatalf("exactNumber(%q) = %v, %v as a string but %v, %v as bytes", s, x, ok, y, okBytes)
	}
	if !ok {
		return false
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("exactNumber(%q) = %v, but strconv does not read it: %v", s, x, err)
	}
	if math.Float64bits(x) != math.Float64bits(want) {
		t.Fatalf("exactNumber(%q) = %v (%#x), strconv reads %v (%#x)", s, x, math.Float64bits(x), want, math.Float64bits(want))
	}
	return true
}

// checkParseNumber fails when parseNumber and parseNumberPlain read f
// differently: another float64 (the sign of zero included) or another
// error.
func checkParseNumber(t *testing.T, sc *Scratch, f envelope.Field) {
	t.Helper()
	x, err := parseNumber(sc, &f)
	want, wantErr := parseNumberPlain(sc, &f)
	if err != wantErr || math.Float64bits(x) != math.Float64bits(want) {
		t.Fatalf("parseNumber(%q, kind %d) = %v (%#x), %v; strconv reads %v (%#x), %v",
			f.Value, f.Kind, x, math.Float64bits(x), err, want, math.Float64bits(want), wantErr)
	}
}

func TestExactNumber(t *testing.T) {
	tests := []struct {
		in   string
		fast bool // exactNumber answers; else strconv reads it
	}{
		{"0", true},
		{"-0", true},
		{"+0", true},
		{"0.000", true},
		{"-0.000", true},
		{"99", true},
		{"12.50", true},
		{"4.5", true},
		{"845", true},
		{"1299.00", true},
		{"-45.10", true},
		{"0.1", true},
		{"0.3", true},
		{".5", true},
		{"5.", true},
		{"007.50", true},
		{"000000000000000000000000000001", true}, // leading zeros are not significant
		{"0.000000000000000000001", true},        // 21 after the point
		{"0.0000000000000000000001", true},       // 22
		{"0.00000000000000000000001", false},     // 23
		{"1.0000000000000000000000", false},      // 22 zeros after the point but 23 digits
		{"123456.789012345", true},
		{"-123456.789012345", true},
		{"999999999999999", true},
		{"0.999999999999999", true},
		{"1000000000000000", false}, // 16 significant digits
		{"9007199254740993", false},
		{"123456.7890123456", false},
		{"100000000.10000001", false}, // 17 digits: m / 10^8 would round twice, to 1 ulp below strconv
		{"1e3", false},
		{"1E-3", false},
		{"", false},
		{"-", false},
		{".", false},
		{"-.", false},
		{"1.2.3", false},
		{"--1", false},
		{"+-1", false},
		{"1-", false},
		{"1,299.00", false},
		{" 1", false},
		{"1 ", false},
		{"Inf", false},
		{"NaN", false},
		{"0x1p3", false},
		{"1_000", false},
	}
	for _, tt := range tests {
		if got := checkExactNumber(t, tt.in); got != tt.fast {
			t.Errorf("exactNumber(%q) answers: %v, want %v", tt.in, got, tt.fast)
		}
	}
}

func TestParseNumberExact(t *testing.T) {
	dot := &Locale{Name: "en", Decimal: '.'}
	comma := &Locale{Name: "de", Decimal: ','}
	tests := []struct {
		in     envelope.Field
		locale *Locale
		want   float64
		err    error
	}{
		{str("x", "12.50"), nil, 12.5, nil},
		{str("x", "4.5"), nil, 4.5, nil},
		{str("x", "£1,299.00"), nil, 1299, nil},
		{str("x", "$ 845"), nil, 845, nil},
		{str("x", "99"), nil, 99, nil},
		{str("x", "007.50"), nil, 7.5, nil},
		{str("x", "1,299.00"), nil, 1299, nil},
		{str("x", "(45.10)"), nil, -45.1, nil},
		{str("x", "-45.10"), nil, -45.1, nil},
		{str("x", "0"), nil, 0, nil},
		{str("x", "-0"), nil, math.Copysign(0, -1), nil},
		{str("x", "(0)"), nil, math.Copysign(0, -1), nil},
		{str("x", "-0.000"), nil, math.Copysign(0, -1), nil},
		{str("x", "0.000"), nil, 0, nil},
		{str("x", "0.1"), nil, 0.1, nil},
		{str("x", "123456.789012345"), nil, 123456.789012345, nil},
		{str("x", "999999999999999"), nil, 999999999999999, nil},
		{str("x", "1000000000000000"), nil, 1e15, nil},
		{str("x", "1,000,000,000,000,000,000"), nil, 1e18, nil}, // 19 digits: strconv
		{str("x", "12 %"), nil, 12, nil},
		{str("x", "€ 1.234,50"), nil, 1234.5, nil},
		{str("x", "1 000"), nil, 1000, nil},
		{str("x", "1e3"), nil, 1000, nil},
		{str("x", "1,050"), nil, 0, errAmbiguous},
		{str("x", "1,050"), dot, 1050, nil},
		{str("x", "1,050"), comma, 1.05, nil},
		{str("x", "1.299"), nil, 0, errAmbiguous},
		{str("x", "1.299"), dot, 1.299, nil},
		{str("x", "1.299"), comma, 1299, nil},
		{str("x", "+-5"), nil, -5, nil},
		{str("x", "twelve"), nil, 0, errNotNumber},
		{str("x", ""), nil, 0, errNotNumber},
		{str("x", "1e999"), nil, 0, errNotNumber},
		{raw("x", "12.5"), nil, 12.5, nil},
		{raw("x", "-0"), nil, math.Copysign(0, -1), nil},
		{raw("x", "1e-5"), nil, 1e-5, nil},
		{raw("x", "12345678901234567"), nil, 12345678901234567, nil},
		{raw("x", "true"), nil, 0, errNotNumber},
		{raw("x", "\"12\""), nil, 0, errNotNumber},
	}
	for _, tt := range tests {
		sc := &Scratch{opts: &Options{Locale: tt.locale}}
		f := tt.in
		x, err := parseNumber(sc, &f)
		if err != tt.err || math.Float64bits(x) != math.Float64bits(tt.want) {
			t.Errorf("parseNumber(%q, kind %d) = %v, %v; want %v, %v", f.Value, f.Kind, x, err, tt.want, tt.err)
		}
		checkParseNumber(t, sc, tt.in)
	}
}

// FuzzParseNumberExact holds the exact reading to strconv: on any text,
// and on the plain form cleanNumber makes of it, exactNumber answers
// only with the float64 strconv.ParseFloat reads, sign of zero included;
// and parseNumber reads any field, raw or text, under no locale or
// either decimal mark, as strconv does, with the same error.
func FuzzParseNumberExact(f *testing.F) {
	for _, s := range []string{"0", "-0", "0.000", "12.50", "4.5", "£1,299.00", "$ 845", "1,050", "99", "(45.10)", "007.50",
		"999999999999999", "1000000000000000", "0.1", "123456.789012345", "0.0000000000000000000001", "100000000.10000001", "1e3", "+.5", "5.", "-"} {
		f.Add(s)
	}
	locales := []*Locale{nil, {Name: "en", Decimal: '.'}, {Name: "de", Decimal: ','}}
	f.Fuzz(func(t *testing.T, s string) {
		checkExactNumber(t, s)
		for _, l := range locales {
			sc := &Scratch{opts: &Options{Locale: l}}
			if buf, err := cleanText(sc, s); err == nil {
				checkExactNumber(t, string(buf))
			}
			checkParseNumber(t, sc, str("x", s))
			checkParseNumber(t, sc, raw("x", s))
		}
	})
}

// BenchmarkParseNumber reads numbers as people and JSON write them, with
// parseNumber and with strconv alone (parseNumberPlain).
func BenchmarkParseNumber(b *testing.B) {
	fields := []envelope.Field{str("x", "12.50"), str("x", "4.5"), str("x", "£1,299.00"), str("x", "$ 845"), str("x", "1,050"),
		str("x", "99"), str("x", "(45.10)"), str("x", "-0.25"), raw("x", "1299.5"), raw("x", "17")}
	sc := &Scratch{opts: &Options{Locale: &Locale{Name: "en", Decimal: '.'}}}
	for _, bench := range []struct {
		name  string
		parse func(*Scratch, *envelope.Field) (float64, error)
	}{{"exact", parseNumber}, {"strconv", parseNumberPlain}} {
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range fields {
					if _, err := bench.parse(sc, &fields[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
