package config

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// Parse never panics, and an error that points at a line points inside the
// file and never shows the YAML library's internals.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"timezone: UTC\n", "routes:\n  - key: [a, b]\n", "streams:\n  s:\n    buffer_interval: 3\n", "routes: 3\n",
		"enrichers:\n  - key: abc\n", "a: [\n", "timezon: UTC\n", "streams:\n  s:\n    bufer: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Parse("f.yaml", src)
		if err == nil {
			return
		}
		src = asUTF8(src)
		// yaml.v3 ends a line at \n, \r\n, a lone \r, and (as YAML 1.1
		// does) at NEL U+0085, LS U+2028 and PS U+2029.
		lines := bytes.Count(src, []byte("\n")) + bytes.Count(src, []byte("\r")) + 1
		for _, brk := range []string{"\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(src, []byte(brk))
		}
		var ce *Error
		if errors.As(err, &ce) && ce.Line > lines {
			t.Fatalf("error at line %d of a %d-line file: %v", ce.Line, lines, err)
		}
		if msg := err.Error(); strings.Contains(msg, "unmarshal !!") || strings.Contains(msg, "in type config.") {
			t.Fatalf("a library's words: %v", err)
		}
	})
}

// asUTF8 gives src as yaml.v3 reads it: a file that starts with a UTF-16
// byte order mark is UTF-16, any other UTF-8.
func asUTF8(src []byte) []byte {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(src, []byte{0xFE, 0xFF}):
		order = binary.BigEndian
	case bytes.HasPrefix(src, []byte{0xFF, 0xFE}):
		order = binary.LittleEndian
	default:
		return src
	}
	units := make([]uint16, 0, len(src)/2)
	for i := 2; i+1 < len(src); i += 2 {
		units = append(units, order.Uint16(src[i:]))
	}
	return []byte(string(utf16.Decode(units)))
}
