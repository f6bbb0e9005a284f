package jsonx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Kind is what a JSON value is, as far as sluice cares.
type Kind uint8

const (
	// String values are unescaped.
	String Kind = iota
	// Raw values are JSON text: numbers, booleans, objects and arrays.
	Raw
	// Null is JSON null.
	Null
)

// Error is a syntax error at a byte offset.
type Error struct {
	Offset int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("byte %d: %s", e.Offset, e.Reason)
}

// Scanner reads JSON from Data starting at I. Strings without escapes
// alias Data (no copy): Data must not change while they are in use.
type Scanner struct {
	Data []byte
	I    int
	// Buf, when set, holds the strings with escapes that Str, Value and
	// the rest unescape: each is appended to *Buf and aliases it, so it
	// is valid until the owner of *Buf writes over it (as a decoder
	// reusing it for its next record does). Without Buf each such string
	// has memory of its own.
	Buf *[]byte
	// Replaced is set once a string read had a \u escape of half a
	// UTF-16 surrogate pair with no other half: UTF-8 cannot hold it, and
	// it was read as U+FFFD, as encoding/json reads it. Callers flag the
	// record "replaced", so that the change leaves a trace.
	Replaced bool
	depth    int // objects and arrays open
}

// MaxDepth is how deeply objects and arrays may nest, as in encoding/json:
// deeper text is an error rather than a deep recursion.
const MaxDepth = 10000

// enter opens an object or array; the caller defers p.depth--.
func (p *Scanner) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.Fail("exceeded max depth")
	}
	return nil
}

// Enter counts an object opened by a caller that reads its members itself
// (their values with Value), so that nesting is limited as by Members;
// Leave closes it.
func (p *Scanner) Enter() error { return p.enter() }

// Leave closes what Enter opened.
func (p *Scanner) Leave() { p.depth-- }

func (p *Scanner) Fail(reason string) error { return &Error{Offset: p.I, Reason: reason} }

func (p *Scanner) WS() {
	for p.I < len(p.Data) {
		switch p.Data[p.I] {
		case ' ', '\t', '\n', '\r':
			p.I++
		default:
			return
		}
	}
}

func (p *Scanner) Peek() byte {
	p.WS()
	if p.I < len(p.Data) {
		return p.Data[p.I]
	}
	return 0
}

// members parses an object at p.I, calling fn with each key; fn must consume
// the member's value.
func (p *Scanner) Members(fn func(key string) error) error {
	p.WS()
	if p.I >= len(p.Data) || p.Data[p.I] != '{' {
		return p.Fail("expected an object")
	}
	defer func() { p.depth-- }()
	if err := p.enter(); err != nil {
		return err
	}
	p.I++
	p.WS()
	if p.I < len(p.Data) && p.Data[p.I] == '}' {
		p.I++
		return nil
	}
	return p.members(fn)
}

// MoreMembers reads the rest of an object whose first members were read
// elsewhere: p.I is at the ',' after a member, or at the closing '}'. fn
// is called as by Members.
func (p *Scanner) MoreMembers(fn func(key string) error) error {
	defer func() { p.depth-- }()
	if err := p.enter(); err != nil {
		return err
	}
	p.WS()
	if p.I >= len(p.Data) {
		return p.Fail("unterminated object")
	}
	switch p.Data[p.I] {
	case '}':
		p.I++
		return nil
	case ',':
		p.I++
		return p.members(fn)
	}
	return p.Fail("expected ',' or '}' in an object")
}

// members reads members from a key on, to the object's closing '}'.
func (p *Scanner) members(fn func(key string) error) error {
	for {
		p.WS()
		if p.I >= len(p.Data) || p.Data[p.I] != '"' {
			return p.Fail("expected a string key")
		}
		key, err := p.Str()
		if err != nil {
			return err
		}
		p.WS()
		if p.I >= len(p.Data) || p.Data[p.I] != ':' {
			return p.Fail("expected ':' after a key")
		}
		p.I++
		if err := fn(key); err != nil {
			var de *Error
			if errors.As(err, &de) && de.Offset == 0 {
				de.Offset = p.I
			}
			return err
		}
		p.WS()
		if p.I >= len(p.Data) {
			return p.Fail("unterminated object")
		}
		switch p.Data[p.I] {
		case ',':
			p.I++
		case '}':
			p.I++
			return nil
		default:
			return p.Fail("expected ',' or '}' in an object")
		}
	}
}

// object parses an object at p.I, calling fn for each member: strings are
// unescaped (kind String), null is Null, anything else is Raw with its JSON
// text as val.
func (p *Scanner) Object(fn func(key string, kind Kind, val string) error) error {
	return p.Members(func(key string) error {
		kind, val, _, err := p.Value()
		if err != nil {
			return err
		}
		return fn(key, kind, val)
	})
}

// Array parses an array at p.I, calling fn for each element.
func (p *Scanner) Array(fn func(kind Kind, val string)) error {
	return p.Elements(func() error {
		kind, val, _, err := p.Value()
		if err == nil {
			fn(kind, val)
		}
		return err
	})
}

func (p *Scanner) Value() (Kind, string, []byte, error) {
	p.WS()
	if p.I >= len(p.Data) {
		return 0, "", nil, p.Fail("expected a value")
	}
	start := p.I
	switch c := p.Data[p.I]; {
	case c == '"':
		s, err := p.Str()
		return String, s, p.Data[start:p.I], err
	case c == '{' || c == '[':
		if err := p.skipNested(); err != nil {
			return 0, "", nil, err
		}
	case c == 't':
		if err := p.lit("true"); err != nil {
			return 0, "", nil, err
		}
	case c == 'f':
		if err := p.lit("false"); err != nil {
			return 0, "", nil, err
		}
	case c == 'n':
		if err := p.lit("null"); err != nil {
			return 0, "", nil, err
		}
		return Null, "", p.Data[start:p.I], nil
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return 0, "", nil, err
		}
	default:
		return 0, "", nil, p.Fail(fmt.Sprintf("unexpected character %q", c))
	}
	raw := p.Data[start:p.I]
	return Raw, Alias(raw), raw, nil
}

func (p *Scanner) lit(word string) error {
	if len(p.Data)-p.I < len(word) || string(p.Data[p.I:p.I+len(word)]) != word {
		return p.Fail("invalid literal")
	}
	p.I += len(word)
	return nil
}

func (p *Scanner) number() error {
	start := p.I
	if p.Data[p.I] == '-' {
		p.I++
	}
	digits := func() int {
		n := 0
		for p.I < len(p.Data) && p.Data[p.I] >= '0' && p.Data[p.I] <= '9' {
			p.I++
			n++
		}
		return n
	}
	if p.I < len(p.Data) && p.Data[p.I] == '0' {
		p.I++
	} else if digits() == 0 {
		return p.Fail("invalid number")
	}
	if p.I < len(p.Data) && p.Data[p.I] == '.' {
		p.I++
		if digits() == 0 {
			return p.Fail("invalid number")
		}
	}
	if p.I < len(p.Data) && (p.Data[p.I] == 'e' || p.Data[p.I] == 'E') {
		p.I++
		if p.I < len(p.Data) && (p.Data[p.I] == '+' || p.Data[p.I] == '-') {
			p.I++
		}
		if digits() == 0 {
			return p.Fail("invalid number")
		}
	}
	if p.I == start {
		return p.Fail("invalid number")
	}
	return nil
}

// skipNested skips an object or array, validating its JSON.
func (p *Scanner) skipNested() error {
	if p.Data[p.I] == '{' {
		return p.Members(func(string) error { return p.Skip() })
	}
	return p.Elements(p.Skip)
}

// Skip reads the value at p.I, checking it is JSON exactly as Value does
// (the same errors), without unescaping its strings.
func (p *Scanner) Skip() error {
	p.WS()
	if p.I >= len(p.Data) {
		return p.Fail("expected a value")
	}
	switch c := p.Data[p.I]; {
	case c == '"':
		_, err := p.skipStr()
		return err
	case c == '{' || c == '[':
		return p.skipNested()
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return p.Fail(fmt.Sprintf("unexpected character %q", c))
	}
}

// Canonical reads the object at p.I and reports whether it is JSON written
// exactly as schema.AppendString and the envelope's encoder write an
// object of fields: no whitespace between its braces outside its members'
// values, every name and string value escaped as AppendString escapes its
// unescaped text, and at most maxMembers members. Such text is what the
// encoder would write for the fields Object reads from it, so it can be
// copied as it is. p.I is then past the object; when the object is not
// canonical (or not JSON), the reading stops there and p.I means nothing.
//
// The text must be valid UTF-8: AppendString replaces invalid bytes.
func (p *Scanner) Canonical(maxMembers int) bool {
	d := p.Data
	if p.I >= len(d) || d[p.I] != '{' {
		return false
	}
	defer func() { p.depth-- }()
	if p.enter() != nil {
		return false
	}
	p.I++
	if p.I < len(d) && d[p.I] == '}' {
		p.I++
		return true
	}
	for n := 1; n <= maxMembers; n++ {
		if p.I >= len(d) || d[p.I] != '"' {
			return false
		}
		if canon, err := p.skipStr(); err != nil || !canon {
			return false
		}
		if p.I >= len(d) || d[p.I] != ':' {
			return false
		}
		p.I++
		if p.I >= len(d) {
			return false
		}
		switch d[p.I] {
		case '"':
			if canon, err := p.skipStr(); err != nil || !canon {
				return false
			}
		case ' ', '\t', '\n', '\r':
			return false
		default:
			// Anything else is copied as it is by the encoder: the same
			// text, whitespace inside it included.
			if p.Skip() != nil {
				return false
			}
		}
		if p.I >= len(d) {
			return false
		}
		switch d[p.I] {
		case ',':
			p.I++
		case '}':
			p.I++
			return true
		default:
			return false
		}
	}
	return false
}

// skipStr reads the string at p.I, checking it as Str does (the same
// errors), without unescaping it. canonical reports whether its text is
// the one schema.AppendString writes for its unescaped value, given that
// the text is valid UTF-8: every escape is one AppendString writes for the
// character it stands for (\" \\ \n \r \t, \u00xx in lower case for
// the other control characters, \u2028 and \u2029), and U+2028 and U+2029
// never appear unescaped.
func (p *Scanner) skipStr() (canonical bool, err error) {
	d := p.Data
	i := p.I + 1 // past the opening quote
	// Most strings end before any byte that needs a look: this loop is
	// kept small, and the rest is skipStrFrom's.
	for i+8 <= len(d) {
		m := skipMask(binary.LittleEndian.Uint64(d[i:]))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) / 8
		if d[i] == '"' {
			p.I = i + 1
			return true, nil
		}
		break
	}
	return p.skipStrFrom(i)
}

// skipStrFrom is skipStr from i, where nothing before needed a look.
func (p *Scanner) skipStrFrom(i int) (canonical bool, err error) {
	d := p.Data
	canonical = true
	for {
		// Eight bytes at a time to the next quote, backslash, control
		// character or 0xE2 (the first byte of U+2028 and U+2029).
		if i+8 <= len(d) {
			m := skipMask(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		} else {
			for i < len(d) && !skipByte(d[i]) {
				i++
			}
			if i == len(d) {
				p.I = i
				return false, p.Fail("unterminated string")
			}
		}
		switch c := d[i]; {
		case c == '"':
			p.I = i + 1
			return canonical, nil
		case c == 0xE2:
			if i+2 < len(d) && d[i+1] == 0x80 && (d[i+2] == 0xA8 || d[i+2] == 0xA9) {
				canonical = false
			}
			i++
			continue
		case c < 0x20:
			p.I = i
			return false, p.Fail("control character in a string")
		}
		// A backslash.
		if i+1 >= len(d) {
			p.I = i
			return false, p.Fail("unterminated string")
		}
		e := d[i+1]
		i += 2
		switch e {
		case '"', '\\', 'n', 'r', 't':
		case '/', 'b', 'f':
			canonical = false
		case 'u':
			p.I = i
			r, ok := p.hex4()
			if !ok {
				return false, p.Fail("invalid \\u escape")
			}
			canonical = canonical && canonicalEscape(r, d[i:i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				// As Str reads it (canonical is false: AppendString
				// escapes no surrogate).
				p.I = i
				p.surrogate(r)
				i = p.I
			}
		default:
			p.I = i
			return false, p.Fail(fmt.Sprintf("invalid escape \\%c", e))
		}
	}
}

// canonicalEscape reports whether hex, the four digits of a \u escape of
// r, is how schema.AppendString escapes r.
func canonicalEscape(r rune, hex []byte) bool {
	const digits = "0123456789abcdef"
	switch {
	case r == '\n' || r == '\r' || r == '\t':
		return false // written \n, \r, \t
	case r < 0x20:
		return hex[0] == '0' && hex[1] == '0' && hex[2] == digits[r>>4] && hex[3] == digits[r&0xf]
	case r == '\u2028' || r == '\u2029':
		return true // digits only: no case to differ
	}
	return false
}

// skipByte reports whether skipMask marks c.
func skipByte(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c == 0xE2 }

// skipMask has the high bit set of the first byte of x (in memory order)
// that is a quote, a backslash, a control character or 0xE2, and of no
// byte before it; 0 when x has none. Bytes after the first may be marked
// wrongly (a borrow runs up from a marked byte): only the first counts,
// which makes it cheaper than specialMask's exact mask.
func skipMask(x uint64) uint64 {
	q, b, e := x^(ones*'"'), x^(ones*'\\'), x^(ones*0xE2)
	return ((q-ones)&^q | (b-ones)&^b | (e-ones)&^e | (x-ones*0x20)&^x) & highs
}

// str parses a string at p.I and returns it unescaped. Without escapes the
// result aliases p.Data.
func (p *Scanner) Str() (string, error) {
	p.I++ // opening quote
	start := p.I
	i := start
	// Eight bytes at a time: the first quote, backslash or control
	// character is found without looking at bytes one by one.
	for ; i+8 <= len(p.Data); i += 8 {
		if m := specialMask(binary.LittleEndian.Uint64(p.Data[i:])); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			return p.strAt(start, i)
		}
	}
	for ; i < len(p.Data); i++ {
		if c := p.Data[i]; c == '"' || c == '\\' || c < 0x20 {
			return p.strAt(start, i)
		}
	}
	p.I = len(p.Data)
	return "", p.Fail("unterminated string")
}

// strAt finishes a string whose first special byte is at i.
func (p *Scanner) strAt(start, i int) (string, error) {
	switch c := p.Data[i]; {
	case c == '"':
		p.I = i + 1
		return Alias(p.Data[start:i]), nil
	case c == '\\':
		p.I = i
		return p.strEscaped(start)
	default:
		p.I = i
		return "", p.Fail("control character in a string")
	}
}

// specialMask has the high bit of each byte of x that is a quote, a
// backslash or below 0x20 set, and no other bit.
func specialMask(x uint64) uint64 {
	return zeroBytes(x^(ones*'"')) | zeroBytes(x^(ones*'\\')) | zeroBytes(x&(ones*0xe0))
}

// zeroBytes has the high bit of each zero byte of x set, exactly.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

func (p *Scanner) strEscaped(start int) (string, error) {
	var buf []byte
	at := 0 // where this string starts in buf
	if p.Buf != nil {
		buf, at = *p.Buf, len(*p.Buf)
		defer func() { *p.Buf = buf }()
	} else {
		buf = make([]byte, 0, p.I-start+16)
	}
	buf = append(buf, p.Data[start:p.I]...)
	for p.I < len(p.Data) {
		c := p.Data[p.I]
		switch {
		case c == '"':
			p.I++
			// buf[at:] is this string's alone: later strings are
			// appended after it (or, grown, into new memory).
			return Alias(buf[at:len(buf):len(buf)]), nil
		case c < 0x20:
			return "", p.Fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			p.I++
			continue
		}
		if p.I+1 >= len(p.Data) {
			break
		}
		e := p.Data[p.I+1]
		p.I += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.Fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r = p.surrogate(r)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.Fail(fmt.Sprintf("invalid escape \\%c", e))
		}
	}
	return "", p.Fail("unterminated string")
}

// surrogate reads what follows the \u escape of half a UTF-16 surrogate
// pair, r, at p.I, as encoding/json does: the escape of its other half is
// read, and the pair's rune returned; anything else is left to be read
// next, and r is U+FFFD, which sets Replaced.
func (p *Scanner) surrogate(r rune) rune {
	if p.I+1 < len(p.Data) && p.Data[p.I] == '\\' && p.Data[p.I+1] == 'u' {
		save := p.I
		p.I += 2
		if lo, ok := p.hex4(); ok {
			if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
				return d
			}
		}
		p.I = save
	}
	p.Replaced = true
	return utf8.RuneError
}

func (p *Scanner) hex4() (rune, bool) {
	if len(p.Data)-p.I < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.Data[p.I : p.I+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.I += 4
	return r, true
}

// alias returns b as a string without copying. The caller guarantees b is
// not modified while the string is in use (see Decode).
func Alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Elements parses an array at p.I, calling fn for each element; fn must
// consume the element.
func (p *Scanner) Elements(fn func() error) error {
	p.WS()
	if p.I >= len(p.Data) || p.Data[p.I] != '[' {
		return p.Fail("expected an array")
	}
	defer func() { p.depth-- }()
	if err := p.enter(); err != nil {
		return err
	}
	p.I++
	p.WS()
	if p.I < len(p.Data) && p.Data[p.I] == ']' {
		p.I++
		return nil
	}
	for {
		p.WS()
		if err := fn(); err != nil {
			return err
		}
		p.WS()
		if p.I >= len(p.Data) {
			return p.Fail("unterminated array")
		}
		switch p.Data[p.I] {
		case ',':
			p.I++
		case ']':
			p.I++
			return nil
		default:
			return p.Fail("expected ',' or ']' in an array")
		}
	}
}

// SWAR: test eight bytes at once in a uint64.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasLess reports whether some byte of x is below n (n <= 128).
func hasLess(x uint64, n byte) bool { return (x-ones*uint64(n))&^x&highs != 0 }

// hasByte reports whether some byte of x is b.
func hasByte(x uint64, b byte) bool { return hasLess(x^(ones*uint64(b)), 1) }

// plainPrefix is the length of the longest prefix of b, in whole words of
// eight bytes, with no control character and no backslash.
func plainPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if hasLess(x, 0x20) || hasByte(x, '\\') {
			break
		}
	}
	return i
}

// PlainString reads the string whose opening quote is at i, as Str does
// when it has no escape, without a Scanner: its text (aliasing data) and
// the index after its closing quote. ok is false at an escape, a control
// character or the end of data; next is then where it stopped.
func PlainString(data []byte, i int) (s string, next int, ok bool) {
	i++
	start := i
	for ; i+8 <= len(data); i += 8 {
		if m := stringStop(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			if data[i] != '"' {
				return "", i, false
			}
			return Alias(data[start:i]), i + 1, true
		}
	}
	for ; i < len(data); i++ {
		if c := data[i]; c == '"' {
			return Alias(data[start:i]), i + 1, true
		} else if c == '\\' || c < 0x20 {
			return "", i, false
		}
	}
	return "", i, false
}

// stringStop has the high bit set of the first byte of x (in string order)
// that is a quote, a backslash or a control character; bytes after it may
// be marked too, as a borrow carries into them: cheaper than specialMask,
// which marks exactly, when only the first counts.
func stringStop(x uint64) uint64 {
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return ((x - ones*0x20) | (q - ones) | (b - ones)) &^ x & highs
}
