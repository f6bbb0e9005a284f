package jsonx

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStrMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`""`, `"plain ascii long enough for words"`, `"tab\tinside"`, `"esc\\u00e9 and \n"`,
		`"ünïcödé text, long enough to span words"`, `"12345678\\"`, `"1234567\u0001"`, "\"" + strings.Repeat("x", 20) + "\x1f\""} {
		p := Scanner{Data: []byte(in)}
		got, err := p.Str()
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		if (err == nil) != (werr == nil) || (err == nil && got != want) {
			t.Errorf("Str(%q) = %q, %v; encoding/json: %q, %v", in, got, err, want, werr)
		}
	}
}

func TestSWAR(t *testing.T) {
	for c := 0; c < 256; c++ {
		word := []byte("abcdefgh")
		word[5] = byte(c)
		want := 8
		if c < 0x20 || c == '\\' {
			want = 0
		}
		if got := plainPrefix(word); got != want {
			t.Errorf("byte %#x: plainPrefix = %d, want %d", c, got, want)
		}
	}
}

func TestSpecialMaskIsExact(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			m := specialMask(binary.LittleEndian.Uint64(w))
			special := c == '"' || c == '\\' || c < 0x20
			if want := uint64(0); special {
				want = 0x80 << (8 * pos)
				if m != want {
					t.Fatalf("byte %#x at %d: mask %#x, want %#x", c, pos, m, want)
				}
			} else if m != 0 {
				t.Fatalf("byte %#x at %d: mask %#x, want 0", c, pos, m)
			}
		}
	}
}

func FuzzStr(f *testing.F) {
	f.Add([]byte(`"plain"`))
	f.Add([]byte(`"esc\"aped and \u00e9, long enough to cross words"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p := Scanner{Data: in}
		if len(in) == 0 || in[0] != '"' {
			return
		}
		got, err := p.Str()
		var want string
		werr := json.Unmarshal(in[:max(p.I, 0)], &want)
		// Invalid UTF-8 passes through here (the normaliser replaces it);
		// encoding/json replaces it at once, so compare valid text only.
		if err == nil && (werr != nil || (utf8.ValidString(got) && got != want)) {
			t.Fatalf("Str(%q) = %q; encoding/json: %q, %v", in, got, want, werr)
		}
	})
}
