package format

import (
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
)

// encoding is how a text format's bytes become UTF-8.
type encoding uint8

const (
	// encAuto passes valid UTF-8 through and reads anything else as
	// Windows-1252, the usual encoding of old exports, flagging the record
	// "transcoded".
	encAuto encoding = iota
	// encUTF8 replaces invalid bytes with U+FFFD, flagging the record
	// "replaced".
	encUTF8
	// encLatin1 reads every byte as ISO-8859-1.
	encLatin1
	// encWindows1252 reads every byte as Windows-1252.
	encWindows1252
)

var encodings = map[string]encoding{
	"auto":         encAuto,
	"utf-8":        encUTF8,
	"utf8":         encUTF8,
	"latin1":       encLatin1,
	"latin-1":      encLatin1,
	"iso-8859-1":   encLatin1,
	"windows-1252": encWindows1252,
	"cp1252":       encWindows1252,
}

// Flags a record gets when its text was not valid UTF-8.
const (
	flagTranscoded = "transcoded"
	flagReplaced   = envelope.FlagReplaced
)

// plain reports whether b is already UTF-8 text under e, so string(b) is
// its decoding.
func (e encoding) plain(b []byte) bool {
	if e == encLatin1 || e == encWindows1252 {
		for _, c := range b {
			if c >= utf8.RuneSelf {
				return false
			}
		}
		return true
	}
	return utf8.Valid(b)
}

// decode turns b into UTF-8 text, and names the flag its record gets ("" for
// none).
func (e encoding) decode(b []byte) (string, string) {
	switch e {
	case encLatin1:
		return singleByte(b, nil), ""
	case encWindows1252:
		return singleByte(b, &cp1252), ""
	case encUTF8:
		if utf8.Valid(b) {
			return string(b), ""
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), flagReplaced
	default:
		if utf8.Valid(b) {
			return string(b), ""
		}
		return singleByte(b, &cp1252), flagTranscoded
	}
}

// singleByte decodes a single-byte encoding: ISO-8859-1, with high80 (if
// given) for the bytes 0x80 to 0x9F.
func singleByte(b []byte, high80 *[32]rune) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		switch {
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
		case c < 0xA0 && high80 != nil:
			sb.WriteRune(high80[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// cp1252 maps Windows-1252's 0x80 to 0x9F. The five bytes it leaves
// undefined map to the C1 controls of the same value, as in the WHATWG
// Encoding Standard, so no byte is lost.
var cp1252 = [32]rune{
	'\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
	'\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
	'\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
	'\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
}
