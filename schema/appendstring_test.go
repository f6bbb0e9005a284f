package schema

import (
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
	})
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
