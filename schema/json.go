package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/hamba/avro/v2"
)

// AppendJSON appends v, of type t, as a sluice JSON document value.
//
// The mapping from Avro to JSON is plain JSON, for destinations rather than
// Avro's own JSON encoding: a union is its bare value (or null); a date is
// "YYYY-MM-DD"; timestamps are RFC 3339 in UTC with milli- or microsecond
// digits; a decimal is a string with exactly scale digits after the point;
// bytes and fixed are base64; an enum is its symbol. FromNative reads the
// same forms back, so a document decodes into its schema with nothing lost.
func AppendJSON(dst []byte, t *Type, v *Value) []byte {
	if t.Kind == Union {
		for _, b := range t.Branches {
			if b.Kind == v.Kind || (b.Kind == Fixed && v.Kind == Bytes) {
				return AppendJSON(dst, b, v)
			}
		}
		return append(dst, "null"...)
	}
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Boolean:
		return strconv.AppendBool(dst, v.Int != 0)
	case Int, Long:
		switch t.Logical {
		case Date:
			return appendDays(dst, v.Int)
		case TimestampMillis:
			return appendEpoch(dst, v.Int, 1e3)
		case TimestampMicros:
			return appendEpoch(dst, v.Int, 1e6)
		}
		return strconv.AppendInt(dst, v.Int, 10)
	case Float, Double:
		return appendFloat(dst, v.Float, t.Kind)
	case String:
		if v.Plain {
			return appendPlain(dst, v.Str)
		}
		return AppendString(dst, v.Str)
	case Bytes, Fixed:
		if t.Logical == Decimal {
			return appendDecimal(dst, v, t.Scale)
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, []byte(v.Str))
		return append(dst, '"')
	case Enum:
		return AppendString(dst, t.Symbols[v.Int])
	case Array:
		dst = append(dst, '[')
		for i := range v.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, t.Items, &v.Items[i])
		}
		return append(dst, ']')
	case Map:
		dst = append(dst, '{')
		for i := range v.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, v.Keys[i])
			dst = append(dst, ':')
			dst = AppendJSON(dst, t.Values, &v.Items[i])
		}
		return append(dst, '}')
	case Record:
		dst = append(dst, '{')
		out := t.out[:len(t.Fields)]
		for i := range out {
			dst = append(dst, out[i].key...)
			dst = AppendJSON(dst, out[i].t, &v.Items[i])
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// appendFloat writes a float as JSON. NaN and infinities have no JSON form;
// the normaliser never produces them, and they are written as null here so
// the document stays parseable. Doubles as people type them take
// appendShortDouble's quicker way to the same bytes.
func appendFloat(dst []byte, f float64, k Kind) []byte {
	if k != Float {
		if out, ok := appendShortDouble(dst, f); ok {
			return out
		}
	}
	return appendFloatStrconv(dst, f, k)
}

// appendFloatStrconv is appendFloat with strconv alone: shortest digits,
// in exponent form below 1e-6 and from 1e21.
func appendFloatStrconv(dst []byte, f float64, k Kind) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	bits := 64
	if k == Float {
		bits = 32
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(dst, f, 'e', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// appendShortDouble writes f as strconv.AppendFloat(dst, f, 'f', -1, 64)
// does, without its search for the shortest digits, when f is the double
// nearest a decimal of at most 15 significant digits with
// 1e-6 <= |f| < 1e15: prices, ratings and most other values as people
// type them. Otherwise it reports false and leaves dst as it was.
//
// It takes the largest k for which p = |f|·10^k, as computed, is below
// 10^15, and m, the integer nearest p, so m <= 10^15 and m·10^-k has at
// most 15 significant digits. float64(m) and 10^k are exact (m < 2^53,
// k <= 22) and the division is rounded correctly, so when
// float64(m)/10^k == |f| the decimal m·10^-k reads back as f. No two
// decimals of at most 15 significant digits read back as the same double
// (DBL_DIG is 15), so m·10^-k, without its trailing zeros, is the only
// decimal of that many digits or fewer that does: the shortest, which
// strconv writes.
//
// Conversely, let f be the double nearest d·10^-j, d < 10^15 an integer.
// Were k < j, |f|·10^(k+1) would be at most (10^15-1)(1+2^-53), and its
// product, p at k+1, below 10^15: so k >= j, p is within 0.23 of the
// integer d·10^(k-j) (two roundings of at most 2^-53 each), m is that
// integer and the check holds. No such f is left to strconv.
func appendShortDouble(dst []byte, f float64) ([]byte, bool) {
	abs := math.Abs(f)
	if !(abs >= 1e-6 && abs < 1e15) { // false for NaN too
		return dst, false
	}
	// With e the binary exponent of f and q = floor(e·log10(2)) (78913/2^18
	// is log10(2) to six digits, enough for the floor at every e here),
	// 10^q <= 2^e <= |f| < 2^(e+1) < 10^(q+2): k is 14-q or 13-q, between
	// 0 and 20 as 1e-6 <= |f| < 1e15.
	e := int(math.Float64bits(abs)>>52) - 1023
	k := 14 - (e*78913)>>18
	p := abs * exactPow10[k]
	if p >= 1e15 {
		k--
		p = abs * exactPow10[k]
	}
	n := int64(p + 0.5)
	if float64(n)/exactPow10[k] != abs {
		return dst, false
	}
	// The trailing zeros of the fraction go: at most 15, stripped as
	// 8+4+2+1.
	m := uint64(n)
	if k >= 8 && m%1e8 == 0 {
		m /= 1e8
		k -= 8
	}
	if k >= 4 && m%1e4 == 0 {
		m /= 1e4
		k -= 4
	}
	if k >= 2 && m%100 == 0 {
		m /= 100
		k -= 2
	}
	if k >= 1 && m%10 == 0 {
		m /= 10
		k--
	}
	// At most 16 digits of m, or k <= 20 of fraction after "0.", and a
	// sign.
	var buf [24]byte
	i := len(buf)
	for ; k > 0; k-- {
		i--
		buf[i] = byte('0' + m%10)
		m /= 10
	}
	if i < len(buf) {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + m%10)
		m /= 10
		if m == 0 {
			break
		}
	}
	if f < 0 {
		i--
		buf[i] = '-'
	}
	return append(dst, buf[i:]...), true
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the bytes a JSON string holds as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// specialMask has the high bit set of the first byte of x (in string
// order, the lowest) that is not plain ASCII (see plainASCII): a quote, a
// backslash, a control character or a byte of a multi-byte UTF-8
// sequence. Bytes after it may be marked too, so only its lowest mark is
// to be read. A byte below 0x20 borrows in x-0x20, a quote or backslash is
// a zero byte that borrows in its XOR less one, and bytes of 0x80 and up
// mark themselves; no other byte is marked unless a lower byte borrowed,
// and that byte is special.
func specialMask(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return ((x - ones*0x20) | ((x ^ ones*'"') - ones) | ((x ^ ones*'\\') - ones) | x) & highs
}

// PlainASCII reports whether JSON writes s as it is: printable ASCII with
// no quote or backslash (see plainASCII), looked at eight bytes at a time.
func PlainASCII(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read, never written
	if len(b) < 8 {
		for _, c := range b {
			if !plainASCII[c] {
				return false
			}
		}
		return true
	}
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if specialMask(binary.LittleEndian.Uint64(b[i:])) != 0 {
			return false
		}
	}
	// The last eight bytes, some of them seen already.
	return i == len(b) || specialMask(binary.LittleEndian.Uint64(b[len(b)-8:])) == 0
}

// appendPlain appends s, which PlainASCII holds, as a JSON string.
func appendPlain(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst, _ = appendString(dst, s, false)
	return dst
}

// appendString is AppendString; when strict, it stops at invalid UTF-8 and
// reports false instead.
func appendString(dst []byte, s string, strict bool) ([]byte, bool) {
	dst = append(dst, '"')
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read, never written
	start := 0
	for i := 0; i < len(b); {
		// Runs of plain ASCII, the common case, are passed over eight
		// bytes at a time, to the first byte that is not.
		for i+8 <= len(b) {
			if m := specialMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if j := len(b) - 8; i > j && j >= 0 && i < len(b) {
			// Fewer than eight bytes left: the last eight, less those
			// already seen.
			if m := specialMask(binary.LittleEndian.Uint64(b[j:])) >> (uint(i-j) * 8); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
			} else {
				i = len(b)
			}
		}
		for i < len(b) && plainASCII[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if strict {
				return dst, false
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// StringLen is the length of what AppendString writes for s, less the
// quotes, found without writing it when s is plain ASCII.
func StringLen(s string) int {
	if PlainASCII(s) {
		return len(s)
	}
	return escapedLen(s)
}

func escapedLen(s string) int {
	var buf [256]byte
	return len(AppendString(buf[:0], s)) - 2
}

// ValidUTF8 is utf8.ValidString, passing over runs of ASCII 32 bytes at a
// time: most strings sluice checks are ASCII.
func ValidUTF8(s string) bool {
	const highs = 0x8080808080808080
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read, never written
	le := binary.LittleEndian
	i := 0
	for ; i+32 <= len(b); i += 32 {
		if (le.Uint64(b[i:])|le.Uint64(b[i+8:])|le.Uint64(b[i+16:])|le.Uint64(b[i+24:]))&highs != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if le.Uint64(b[i:])&highs != 0 {
			return utf8.ValidString(s[i:])
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// DecodeDocument reads a JSON document written by AppendJSON back into a
// record Value of s. It is strict: unknown keys are an error.
func (s *Schema) DecodeDocument(doc []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Value{}, fmt.Errorf("schema: %s: %w", s.Name, err)
	}
	for k := range m {
		if _, ok := s.Field(k); !ok {
			return Value{}, fmt.Errorf("schema: %s: document has key %q that is not a field", s.Name, k)
		}
	}
	v, err := FromNative(s.Type, m)
	if err != nil {
		return Value{}, fmt.Errorf("schema: %s: %w", s.Name, err)
	}
	return v, nil
}

// DecodeAvro decodes Avro binary written with s into Go values with
// hamba/avro's generic decoder (records become map[string]any).
func (s *Schema) DecodeAvro(b []byte) (any, error) {
	var out any
	if err := avro.Unmarshal(s.avro, b, &out); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", s.Name, err)
	}
	return out, nil
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DecodeAvroValue decodes Avro binary written with s using hamba/avro's
// generic decoder and converts the result to a Value, so callers can check
// that what hamba/avro reads is what sluice wrote.
func (s *Schema) DecodeAvroValue(b []byte) (Value, error) {
	native, err := s.DecodeAvro(b)
	if err != nil {
		return Value{}, err
	}
	v, err := FromNative(s.Type, native)
	if err != nil {
		return Value{}, fmt.Errorf("schema: %s: %w", s.Name, err)
	}
	return v, nil
}

// appendDate writes YYYY-MM-DD; years outside 0-9999 use time's layout.
func appendDate(dst []byte, tm time.Time) []byte {
	y, m, d := tm.Date()
	if y < 0 || y > 9999 {
		return tm.AppendFormat(dst, time.DateOnly)
	}
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(m), 2)
	dst = append(dst, '-')
	return appendDigits(dst, d, 2)
}

// appendTimestamp writes "YYYY-MM-DDTHH:MM:SS.fffZ" with frac digits of
// fraction (3 or 6), quoted: what time.AppendFormat writes, without parsing
// a layout on every call.
func appendTimestamp(dst []byte, tm time.Time, frac int) []byte {
	if y := tm.Year(); y < 0 || y > 9999 {
		layout := "2006-01-02T15:04:05.000Z07:00"
		if frac == 6 {
			layout = "2006-01-02T15:04:05.000000Z07:00"
		}
		dst = append(dst, '"')
		return append(tm.AppendFormat(dst, layout), '"')
	}
	dst = append(dst, '"')
	dst = appendDate(dst, tm)
	h, mi, sec := tm.Clock()
	dst = append(dst, 'T')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, sec, 2)
	dst = append(dst, '.')
	ns := tm.Nanosecond()
	if frac == 3 {
		dst = appendDigits(dst, ns/1e6, 3)
	} else {
		dst = appendDigits(dst, ns/1e3, 6)
	}
	return append(dst, 'Z', '"')
}

// firstDay and lastDay are 0000-01-01 and 9999-12-31 in days from
// 1970-01-01: the dates appendCivil writes. The others go through time.
const (
	firstDay = -719528
	lastDay  = 2932896
)

// appendDays writes the date days after 1970-01-01, quoted, as appendDate
// writes time.Unix(days*86400, 0).UTC().
func appendDays(dst []byte, days int64) []byte {
	dst = append(dst, '"')
	if days < firstDay || days > lastDay {
		dst = appendDate(dst, time.Unix(days*86400, 0).UTC())
	} else {
		dst = appendCivil(dst, days)
	}
	return append(dst, '"')
}

// appendEpoch writes the time n units after the epoch, perSec of them to
// the second (1e3 or 1e6), as appendTimestamp writes it with three or six
// digits of fraction: the timestamps of a year from 0 to 9999 without
// time.Time's arithmetic.
func appendEpoch(dst []byte, n, perSec int64) []byte {
	perDay := 86400 * perSec
	days, rem := n/perDay, n%perDay
	if rem < 0 {
		days, rem = days-1, rem+perDay
	}
	if days < firstDay || days > lastDay {
		if perSec == 1e3 {
			return appendTimestamp(dst, time.UnixMilli(n).UTC(), 3)
		}
		return appendTimestamp(dst, time.UnixMicro(n).UTC(), 6)
	}
	sec, frac := int(rem/perSec), int(rem%perSec)
	h, m, s := sec/3600, sec/60%60, sec%60
	dst = append(dst, '"')
	dst = appendCivil(dst, days)
	dst = append(dst, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	if perSec == 1e3 {
		dst = append(dst, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	} else {
		dst = append(dst, byte('0'+frac/100000), byte('0'+frac/10000%10), byte('0'+frac/1000%10),
			byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return append(dst, 'Z', '"')
}

// appendCivil writes YYYY-MM-DD for days after 1970-01-01, between
// firstDay and lastDay: the proleptic Gregorian date by Howard Hinnant's
// civil_from_days, in whole 400-year eras counted from 0000-03-01.
func appendCivil(dst []byte, days int64) []byte {
	z := days + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097                                  // day of the era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1st, [0, 365]
	mp := (5*doy + 2) / 153                                // month from March, [0, 11]
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y := int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendDigits writes n (>= 0) with at least width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || width > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	return append(dst, buf[i:]...)
}
