package schema

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"testing"
	"unicode/utf8"
)

// appendStringByRune is AppendString written the obvious way, rune by
// rune: the reference the word-at-a-time version must match byte for byte.
func appendStringByRune(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

func TestAppendStringMatchesByRune(t *testing.T) {
	pieces := []string{"a", "plain ascii text", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "—", "£", "\u2028", "\u2029",
		"\xff", "\xe2\x80", "\xe2\x80\xa8", "€1.299,00", "😀", "\xf0\x9f\x98", "\xed\xa0\x80"}
	check := func(s string) {
		t.Helper()
		if got, want := string(AppendString(nil, s)), string(appendStringByRune(nil, s)); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		checkPlain(t, s)
	}
	for _, a := range pieces {
		for _, b := range pieces {
			// Every alignment of the pair against the eight-byte words.
			for pad := range 17 {
				check(strings.Repeat("x", pad) + a + b)
				check(a + strings.Repeat("y", pad) + b + strings.Repeat("z", 16-pad))
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abcdefgh\"ijklmnop", "café — £3\n\u2028", "\xff\xfe\x00plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), string(appendStringByRune(nil, s)); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		checkPlain(t, s)
	})
}

// checkPlain holds PlainASCII to its byte-by-byte meaning, and a Plain
// value's writing to AppendString's: what PlainASCII passes, JSON writes
// as it is.
func checkPlain(t *testing.T, s string) {
	t.Helper()
	want := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			want = false
		}
	}
	if got := PlainASCII(s); got != want {
		t.Fatalf("PlainASCII(%q) = %v, want %v", s, got, want)
	}
	if want {
		str := &Type{Kind: String}
		plain := Value{Kind: String, Str: s, Plain: true}
		if got := string(AppendJSON(nil, str, &plain)); got != string(AppendString(nil, s)) || got != `"`+s+`"` {
			t.Fatalf("a plain %q is written %s", s, got)
		}
		if got, err := AppendRecord(nil, &Schema{Type: str}, &plain); err != nil || string(got) != `"`+s+`"` {
			t.Fatalf("a plain %q is written %s (%v)", s, got, err)
		}
	}
}

// BenchmarkAppendString writes the string values of scraped listings.
func BenchmarkAppendString(b *testing.B) {
	values := []string{"Shop number 98081", "87 High Street, Bristol BS1 2AA", "£1,299.00", "01/05/2024", "https://example.com/shops/0",
		"books; cafe; gifts", "Independent shop on the high street, open since 1987. Friendly staff, \"best scones in town\".",
		"+44 117 496 0456", "Mon-Sat 9:00-17:30", "Vinyl, cassettes and turntables bought and sold — ask about trade-ins.",
		"Family-run: repairs while you wait.\nClosed on Sundays and bank holidays.", "café", "4.0", "jsonl", "listings/part-006.jsonl"}
	n := 0
	for _, v := range values {
		n += len(v)
	}
	b.SetBytes(int64(n))
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = buf[:0]
		for _, v := range values {
			buf = AppendString(buf, v)
		}
	}
}

// TestStringLen: StringLen is AppendString's length less the quotes, for
// plain strings and for each byte that is not plain at every place.
func TestStringLen(t *testing.T) {
	plain := "abcdefghijklmnopqrstuvwxyz0123456789"
	for c := 0; c < 256; c++ {
		for at := 0; at <= 17; at++ {
			s := plain[:at] + string([]byte{byte(c)}) + plain[at:]
			for _, s := range []string{s, s[:at+1], plain[:at]} {
				if got, want := StringLen(s), len(AppendString(nil, s))-2; got != want {
					t.Fatalf("StringLen(%q) = %d, AppendString writes %d", s, got, want)
				}
			}
		}
	}
	for _, s := range []string{"", "é", "\u2028", "\xff\xfe", "line\nbreak", `q"uote`, "49546986683135544286507457936321625675700192471156785154"} {
		if got, want := StringLen(s), len(AppendString(nil, s))-2; got != want {
			t.Fatalf("StringLen(%q) = %d, AppendString writes %d", s, got, want)
		}
	}
}

// TestValidUTF8: ValidUTF8 agrees with utf8.ValidString wherever a broken
// or multi-byte sequence falls in ASCII runs of every length around the
// word boundaries.
func TestValidUTF8(t *testing.T) {
	plain := strings.Repeat("abcdefgh", 10)
	for _, odd := range []string{"é", "\xff", "\xe2\x82", "€", "\xed\xa0\x80", "\U0001F600", "\xf0\x9f\x98"} {
		for at := 0; at <= 70; at++ {
			for _, s := range []string{plain[:at] + odd + plain[at:], plain[:at] + odd, odd + plain[:at], plain[:at]} {
				if got, want := ValidUTF8(s), utf8.ValidString(s); got != want {
					t.Fatalf("ValidUTF8(%q) = %v, utf8.ValidString says %v", s, got, want)
				}
			}
		}
	}
}

func FuzzValidUTF8(f *testing.F) {
	for _, s := range []string{"", "plain", "é", "\xff", strings.Repeat("a", 40) + "\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidUTF8(s), utf8.ValidString(s); got != want {
			t.Fatalf("ValidUTF8(%q) = %v, utf8.ValidString says %v", s, got, want)
		}
	})
}

// TestSpecialMaskFirst: specialMask's lowest mark is the first byte that
// is not plain ASCII, whatever the bytes around it.
func TestSpecialMaskFirst(t *testing.T) {
	first := func(w [8]byte) int {
		for i, c := range w {
			if !plainASCII[c] {
				return i
			}
		}
		return 8
	}
	check := func(w [8]byte) {
		m := specialMask(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if want := first(w); got != want {
			t.Fatalf("word %q: first mark at %d, first special byte at %d", w[:], got, want)
		}
	}
	fills := []byte{'a', ' ', '~', 0x7f, '!', '#', '[', ']'}
	for _, fill := range fills {
		for p1 := 0; p1 < 8; p1++ {
			for c1 := 0; c1 < 256; c1++ {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[p1] = byte(c1)
				check(w)
				for p2 := p1 + 1; p2 < 8; p2++ {
					for c2 := 0; c2 < 256; c2 += 3 {
						w2 := w
						w2[p2] = byte(c2)
						check(w2)
					}
				}
			}
		}
	}
}
