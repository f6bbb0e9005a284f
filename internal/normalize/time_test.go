package normalize

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

// parseWordDateByFields is parseWordDate as it was written first, with
// strings.Fields and strings.ToLower: the reference the allocation-free
// one is held to.
func parseWordDateByFields(s string, loc *time.Location) (time.Time, bool) {
	f := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(f) != 3 {
		return time.Time{}, false
	}
	var day, year int
	var month time.Month
	var ok1, ok2, ok3 bool
	if month, ok1 = monthNames[strings.ToLower(f[1])]; ok1 {
		day, ok2 = digits(f[0])
	} else if month, ok1 = monthNames[strings.ToLower(f[0])]; ok1 {
		day, ok2 = digits(f[1])
	}
	year, ok3 = digits(f[2])
	if !ok1 || !ok2 || !ok3 || len(f[2]) != 4 || day < 1 || day > daysIn(year, int(month)) {
		return time.Time{}, false
	}
	return time.Date(year, month, day, 0, 0, 0, 0, loc), true
}

// wordDatePieces are words and separators that word dates are made of,
// and some that only look alike: Unicode spaces, a Turkish dotted capital
// I (which lowers to an ASCII i), the Kelvin sign, long words.
var wordDatePieces = []string{"28", "1", "31", "30", "29", "0", "2024", "2023", "1999", "20245", "", "April", "APR", "apr", "Apr.",
	"APR\u0130L", "May", "MAY", "sept", "September", "SEPTEMBERS", "septemberx", "December", "feb", "Feb", "\u212Aan", "Ju\u0130y",
	" ", "  ", ",", ", ", "\t", "\n", "\u00a0", "\u2003", "\u0085", "\u200b", "\v\f\r", "-", "/", "x", "é", "\xff", "aprilaprilapril\u0130"}

// parseWordDate reads what its first form read, and nothing else.
func TestParseWordDateAsByFields(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	check := func(s string) {
		t.Helper()
		got, ok := parseWordDate(s, loc)
		want, wantOK := parseWordDateByFields(s, loc)
		if ok != wantOK || !got.Equal(want) || got.Location() != want.Location() && ok {
			t.Fatalf("parseWordDate(%q) = %v, %v; by fields %v, %v", s, got, ok, want, wantOK)
		}
	}
	for _, s := range []string{"28 April 2024", "28 Apr 2024", "April 28, 2024", "Apr 28 2024", "  28\u00a0APR\u0130L,2024 ",
		"29 Feb 2023", "29 feb 2024", "1 2 3 4", "April 28", "", ",,,", "28 September 2024", "28 septemberx 2024"} {
		check(s)
	}
	rng := rand.New(rand.NewSource(9))
	matched := 0
	days, months, years := wordDatePieces[:6], wordDatePieces[11:27], wordDatePieces[6:10]
	seps := wordDatePieces[27:39]
	pick := func(from []string) string { return from[rng.Intn(len(from))] }
	for range 200_000 {
		var b strings.Builder
		if rng.Intn(2) == 0 {
			// Shaped as a date: day month year or month day year, with
			// separators of every kind and, now and then, a piece of
			// anything anywhere.
			parts := []string{pick(days), pick(months), pick(years)}
			if rng.Intn(2) == 0 {
				parts[0], parts[1] = parts[1], parts[0]
			}
			for i, p := range parts {
				if rng.Intn(8) == 0 {
					b.WriteString(pick(wordDatePieces))
				}
				if i > 0 || rng.Intn(3) == 0 {
					b.WriteString(pick(seps))
				}
				b.WriteString(p)
			}
		} else {
			for n := rng.Intn(7); n > 0; n-- {
				b.WriteString(pick(wordDatePieces))
			}
		}
		s := b.String()
		check(s)
		if _, ok := parseWordDate(s, loc); ok {
			matched++
		}
	}
	if matched < 10_000 {
		t.Fatalf("only %d of the random strings were dates: the pieces test little", matched)
	}
}

func FuzzParseWordDate(f *testing.F) {
	for _, s := range []string{"28 April 2024", "April 28, 2024", "28\u00a0APR\u0130L 2024"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseWordDate(s, time.UTC)
		want, wantOK := parseWordDateByFields(s, time.UTC)
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("parseWordDate(%q) = %v, %v; by fields %v, %v", s, got, ok, want, wantOK)
		}
	})
}

// A word date is read without allocating.
func TestParseWordDateAllocatesNothing(t *testing.T) {
	for _, s := range []string{"28 April 2024", "April 28, 2024", "SEPT 1 1999"} {
		if n := testing.AllocsPerRun(100, func() {
			if _, ok := parseWordDate(s, time.UTC); !ok {
				t.Fatalf("%q not read", s)
			}
		}); n != 0 {
			t.Errorf("parseWordDate(%q) allocates %v times", s, n)
		}
	}
}
