package jsonx

import (
	"encoding/json"
	"strings"
	"testing"
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
