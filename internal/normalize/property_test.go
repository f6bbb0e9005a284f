package normalize

import (
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// The value rule as a property: for generated values of every coercion,
// written as people write them, the normaliser delivers what the
// generator meant, or keeps the original beside its reading, or fails —
// never another value.

// One scratch and encoder for every case (a Scratch allocates its value
// slab on first use).
var (
	propertyEncoder = schema.NewEncoder()
	propertyScratch Scratch
)

// outcome is what became of one generated value.
type outcome struct {
	v    schema.Value // the field's value when delivered
	kept string       // the extra entry under the field's input name, if any
	fail *Failure
}

func normalizeOne(t *testing.T, p *Plan, meta *Meta, f envelope.Field) outcome {
	t.Helper()
	sc := &propertyScratch
	sc.Rewind()
	var v schema.Value
	fields := []envelope.Field{{Name: "shop_name", Value: "s"}, f}
	if fail := p.Normalize(sc, fields, meta, &v); fail != nil {
		return outcome{fail: fail}
	}
	if _, err := propertyEncoder.Encode(p.Schema, &v); err != nil {
		t.Fatalf("%q: normalised record does not encode: %v", f.Value, err)
	}
	o := outcome{v: v.Items[p.Lookup(f.Name)]}
	var extra schema.Value
	for i, sf := range p.Schema.Fields {
		if sf.Name == ExtraField {
			extra = v.Items[i]
		}
	}
	for i, k := range extra.Keys {
		if k == f.Name {
			o.kept = extra.Items[i].Str
		}
	}
	return o
}

// numberStyle is one way of writing numbers.
type numberStyle struct {
	name     string
	decimal  string
	groups   []string // grouping separators the style uses
	locale   string   // a locale whose decimal mark is the style's
	currency []string
}

var numberStyles = []numberStyle{
	{"en", ".", []string{","}, "en", []string{"$", "£", "US$", "USD "}},
	{"de", ",", []string{"."}, "de", []string{"€", " €", "EUR "}},
	{"fr", ",", []string{" ", "\u00a0", "\u202f"}, "fr", []string{" €", "€"}},
	{"ch", ".", []string{"'", "’"}, "de-CH", []string{"CHF ", "Fr. "}},
	{"plain", ".", nil, "en", nil},
}

// writeNumber writes the unscaled integer n with scale fraction digits in
// style s, grouping the integer part when group is set.
func writeNumber(rng *rand.Rand, s numberStyle, n int64, scale int, group bool) string {
	neg := n < 0
	if neg {
		n = -n
	}
	digits := strconv.FormatInt(n, 10)
	for len(digits) <= scale {
		digits = "0" + digits
	}
	intPart, frac := digits[:len(digits)-scale], digits[len(digits)-scale:]
	if group && len(s.groups) > 0 {
		sep := s.groups[rng.Intn(len(s.groups))]
		var b strings.Builder
		for i, c := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteString(sep)
			}
			b.WriteRune(c)
		}
		intPart = b.String()
	}
	out := intPart
	if scale > 0 {
		out += s.decimal + frac
	}
	if len(s.currency) > 0 && rng.Intn(2) == 0 {
		c := s.currency[rng.Intn(len(s.currency))]
		if strings.HasPrefix(c, " ") {
			out += c
		} else {
			out = c + out
		}
	}
	if neg {
		if rng.Intn(2) == 0 {
			out = "(" + out + ")"
		} else {
			out = "-" + out
		}
	}
	return out
}

func TestPropertyNumbers(t *testing.T) {
	p := compile(t, Options{})
	rng := rand.New(rand.NewSource(10))
	delivered, failed := 0, 0
	for i := 0; i < 4000; i++ {
		s := numberStyles[rng.Intn(len(numberStyles))]
		scale := rng.Intn(4)
		n := rng.Int63n(int64(1) << uint(rng.Intn(40)+1))
		if rng.Intn(4) == 0 {
			n = -n
		}
		text := writeNumber(rng, s, n, scale, rng.Intn(2) == 0)
		meant, _ := strconv.ParseFloat(strconv.FormatInt(n, 10)+"e-"+strconv.Itoa(scale), 64)
		locale, err := ParseLocale(s.locale)
		if err != nil {
			t.Fatal(err)
		}
		contexts := []struct {
			name string
			meta *Meta
			sure bool // the context settles the convention: the value must be delivered
		}{
			{"no locale, no evidence", &Meta{}, false},
			{"locale " + s.locale, &Meta{Options: &Options{Locale: locale}}, true},
			{"column evidence", &Meta{Columns: marks{"d": s.decimal[0], "money": s.decimal[0], "n": s.decimal[0]}}, true},
		}
		for _, c := range contexts {
			// double
			o := normalizeOne(t, p, c.meta, str("d", text))
			switch {
			case o.fail != nil && c.sure:
				t.Fatalf("%s: %q (%s style) failed: %v", c.name, text, s.name, o.fail)
			case o.fail != nil:
				failed++
			case o.v.Float != meant:
				t.Fatalf("%s: %q (%s style) delivered %v, meant %v", c.name, text, s.name, o.v.Float, meant)
			default:
				delivered++
			}
			// decimal(9,2): exact, or failed when it needs more digits
			o = normalizeOne(t, p, c.meta, str("money", text))
			if o.fail == nil {
				want := n
				for k := scale; k < 2; k++ {
					want *= 10
				}
				if scale > 2 {
					want = n / pow10(scale-2) // exact only when the digits past the scale are zeros
				}
				if (scale > 2 && n%pow10(scale-2) != 0) || o.v.Int != want || o.v.Big != nil {
					t.Fatalf("%s: money %q delivered %d (scale 2), meant %d scale %d", c.name, text, o.v.Int, n, scale)
				}
			} else if c.sure && scale <= 2 && len(strconv.FormatInt(abs(n), 10)) <= 9-(2-scale) {
				t.Fatalf("%s: money %q failed: %v", c.name, text, o.fail)
			}
			// int: whole numbers only
			o = normalizeOne(t, p, c.meta, str("n", text))
			if o.fail == nil && (scale > 0 && n%pow10(scale) != 0 || o.v.Int*pow10(scale) != n) {
				t.Fatalf("%s: int %q delivered %d, meant %d scale %d", c.name, text, o.v.Int, n, scale)
			}
		}
	}
	t.Logf("doubles without context or with it: %d delivered as meant, %d failed, none otherwise", delivered, failed)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func pow10(k int) int64 {
	p := int64(1)
	for ; k > 0; k-- {
		p *= 10
	}
	return p
}

// dateLayouts are written with Go layouts, day first or month first.
var dateLayouts = []struct {
	layout   string
	dayFirst bool // only unambiguous when read with this day_first
	any      bool // read the same whatever day_first says
}{
	{"2006-01-02", false, true},
	{"2006/01/02", false, true},
	{"02.01.2006", false, true},
	{"2 January 2006", false, true},
	{"Jan 2, 2006", false, true},
	{"January 2, 2006", false, true},
	{"20060102", false, true},
	{"Mon, 02 Jan 2006 15:04:05 MST", false, true},
	{"2006-01-02T15:04:05Z07:00", false, true},
	{"01/02/2006", false, false},
	{"1/2/2006", false, false},
	{"02/01/2006", true, false},
	{"2/1/2006", true, false},
	{"02-01-2006", true, false},
}

func TestPropertyDates(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	plans := map[bool]*Plan{false: compile(t, Options{}), true: compile(t, Options{DayFirst: true})}
	from := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	until := time.Date(2100, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for i := 0; i < 3000; i++ {
		tm := time.Unix(from+rng.Int63n(until-from), 0).UTC()
		meantDay := schema.DaysOf(tm)
		dayFirst := rng.Intn(2) == 0
		p := plans[dayFirst]
		l := dateLayouts[rng.Intn(len(dateLayouts))]
		if !l.any && l.dayFirst != dayFirst {
			continue
		}
		text := tm.Format(l.layout)
		o := normalizeOne(t, p, &Meta{}, str("day", text))
		if o.fail != nil {
			t.Fatalf("day %q (%s, day_first %v) failed: %v", text, l.layout, dayFirst, o.fail)
		}
		if o.v.Int != meantDay {
			t.Fatalf("day %q (%s, day_first %v) delivered day %d, meant %d (%s)", text, l.layout, dayFirst, o.v.Int, meantDay, tm.Format(time.DateOnly))
		}
		// The same instant as epoch seconds, milliseconds and microseconds,
		// as text and as JSON numbers, into a timestamp.
		ms := tm.UnixMilli() + rng.Int63n(1000)
		for _, e := range []string{strconv.FormatInt(tm.Unix(), 10), strconv.FormatInt(ms, 10), strconv.FormatInt(ms*1000, 10)} {
			for _, f := range []envelope.Field{str("ts", e), raw("ts", e)} {
				o := normalizeOne(t, p, &Meta{}, f)
				want := ms
				if len(e) == len(strconv.FormatInt(tm.Unix(), 10)) {
					want = tm.UnixMilli()
				}
				if o.fail != nil || o.v.Int != want {
					t.Fatalf("ts %q delivered %d (%v), meant %d", e, o.v.Int, o.fail, want)
				}
			}
		}
	}
	// Numbers that mean no date: never delivered as one.
	p := plans[false]
	for i := 0; i < 3000; i++ {
		var text string
		switch rng.Intn(4) {
		case 0:
			text = strconv.Itoa(rng.Intn(10000)) // years, days, small counts
		case 1:
			text = fmt.Sprintf("%d.%02d", rng.Intn(100000), rng.Intn(100)) // prices
		case 2:
			text = strconv.FormatInt(rng.Int63n(from), 10) // before the window
		default:
			text = strconv.FormatInt(until*1e6+1e6+rng.Int63n(1e12), 10) // after every window
		}
		for _, field := range []string{"day", "ts", "us"} {
			if o := normalizeOne(t, p, &Meta{}, str(field, text)); o.fail == nil {
				if len(text) == 8 && !strings.Contains(text, ".") {
					continue // a compact date, 20240131
				}
				t.Fatalf("%s %q delivered as %d", field, text, o.v.Int)
			}
		}
	}
}

func TestPropertyBooleans(t *testing.T) {
	p := compile(t, Options{})
	rng := rand.New(rand.NewSource(12))
	english := map[bool][]string{true: {"true", "yes", "y", "1", "t"}, false: {"false", "no", "n", "0", "f"}}
	for i := 0; i < 3000; i++ {
		name := Locales()[rng.Intn(len(Locales()))]
		l, _ := ParseLocale(name)
		meant := rng.Intn(2) == 0
		words := append([]string(nil), english[meant]...)
		if meant {
			words = append(words, l.True...)
		} else {
			words = append(words, l.False...)
		}
		w := words[rng.Intn(len(words))]
		switch rng.Intn(3) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			w = " " + w + " "
		}
		o := normalizeOne(t, p, &Meta{Options: &Options{Locale: l}}, str("b", w))
		if o.fail != nil || (o.v.Int == 1) != meant {
			t.Fatalf("locale %s: %q delivered %v (%v), meant %v", name, w, o.v.Int == 1, o.fail, meant)
		}
		// Without the locale: English, or failed.
		o = normalizeOne(t, p, &Meta{}, str("b", w))
		if o.fail == nil && (o.v.Int == 1) != meant {
			t.Fatalf("no locale: %q delivered %v, meant %v", w, o.v.Int == 1, meant)
		}
	}
	for _, w := range []string{"maybe", "2", "oui non", "si no", "-1", "yess"} {
		if o := normalizeOne(t, p, &Meta{}, str("b", w)); o.fail == nil {
			t.Errorf("%q delivered as %v", w, o.v.Int == 1)
		}
	}
}

func TestPropertyEnums(t *testing.T) {
	p := compile(t, Options{})
	rng := rand.New(rand.NewSource(13))
	symbols := []string{"RED", "DARK_BLUE", "OTHER"}
	spell := func(s string) string {
		switch rng.Intn(4) {
		case 0:
			return strings.ToLower(s)
		case 1:
			return strings.ReplaceAll(strings.ToLower(s), "_", " ")
		case 2:
			return strings.ReplaceAll(s, "_", "-")
		}
		return s
	}
	for i := 0; i < 2000; i++ {
		if rng.Intn(2) == 0 {
			k := rng.Intn(len(symbols))
			text := spell(symbols[k])
			o := normalizeOne(t, p, &Meta{}, str("e", text))
			if o.fail != nil || o.v.Int != int64(k) || o.kept != "" {
				t.Fatalf("%q delivered symbol %d (kept %q, %v), meant %d", text, o.v.Int, o.kept, o.fail, k)
			}
			continue
		}
		text := fmt.Sprintf("status-%d", rng.Intn(1000))
		o := normalizeOne(t, p, &Meta{}, str("e", text))
		if o.fail != nil || symbols[o.v.Int] != "OTHER" || o.kept != text {
			t.Fatalf("unknown %q: symbol %d kept %q (%v): want the default with the original kept", text, o.v.Int, o.kept, o.fail)
		}
	}
}

// FuzzReadNumber: text that reads as a number by itself reads the same
// whatever decimal mark the locale or the column would say, and always as
// a number strconv reads; text that needs a decimal mark reads as two
// different numbers under the two marks, or fails under both.
func FuzzReadNumber(f *testing.F) {
	for _, s := range []string{"1,299.00", "1.299", "1,299", "12,5", "1 234,50", "1’299.5", "0,299", "1,2,3", "1e3", ".5", "1.234.567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain, _, st := readNumber(nil, s, 0)
		dot, _, stDot := readNumber(nil, s, '.')
		comma, _, stComma := readNumber(nil, s, ',')
		switch st {
		case numOK:
			if _, err := strconv.ParseFloat(string(plain), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				t.Fatalf("%q read as %q, which is not a number", s, plain)
			}
			if stDot != numOK || stComma != numOK || string(dot) != string(plain) || string(comma) != string(plain) {
				t.Fatalf("%q reads by itself as %q, but %q / %q under a locale", s, plain, dot, comma)
			}
		case numAmbiguous:
			if stDot != numOK || stComma != numOK || string(dot) == string(comma) {
				t.Fatalf("ambiguous %q: %q (%d) / %q (%d) under the two marks", s, dot, stDot, comma, stComma)
			}
		}
	})
}
