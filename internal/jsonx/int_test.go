package jsonx

import (
	"strconv"
	"testing"
)

func TestParseIntAsStrconv(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-42", "007", "1714557600123", "999999999999999999", "-999999999999999999",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "99999999999999999999",
		"", "-", "+5", "1.5", "1e3", " 1", "1_000", "0x10", "--1", "12a"} {
		want, werr := strconv.ParseInt(s, 10, 64)
		got, gerr := ParseInt(s)
		if got != want || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, got, gerr, want, werr)
		}
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-42", "1714557600123", "999999999999999999", "9223372036854775808", "+1", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := strconv.ParseInt(s, 10, 64)
		got, gerr := ParseInt(s)
		if got != want || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, got, gerr, want, werr)
		}
	})
}
