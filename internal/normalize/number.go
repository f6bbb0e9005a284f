package normalize

import (
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/internal/envelope"
)

var (
	errNotNumber = errors.New("is not a number")
	// errAmbiguous is rule 3 for a number whose separator may be either.
	errAmbiguous = errors.New("is ambiguous: a single '.' or ',' with three digits after it may be a decimal mark or a thousands separator, " +
		"and neither the other values of this column in the batch nor the route's locale say which (set locale on the route)")
)

// numberStatus says how a number's text reads.
type numberStatus uint8

const (
	numOK numberStatus = iota
	numAmbiguous
	numBad
)

// currency symbols and codes stripped from either side of numbers.
var currencySymbols = []string{"$", "€", "£", "¥", "₹", "₩", "₽", "₺", "฿", "₫", "₪", "₦", "¢", "kr", "zł", "Fr.", "CHF", "USD", "EUR", "GBP", "JPY", "CAD", "AUD", "US$", "C$", "A$", "R$"}

// stripNumber removes what surrounds a number written by people: spaces,
// accounting parentheses ("(45.10)" is negative), signs, a trailing
// percent sign, and currency symbols and codes on either side.
func stripNumber(s string) (body string, neg bool) {
	s = trimSpace(s)
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	s = trimSpace(strings.TrimSuffix(trimSpace(s), "%"))
	for changed := true; changed; {
		changed = false
		s = trimSpace(s)
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			neg = neg != (s[0] == '-')
			s = s[1:]
			changed = true
			continue
		}
		// Every symbol is tried in turn, at both ends, as the text is after
		// the ones before it; only those whose first byte starts the text
		// or whose last byte ends it can match, and only they are compared.
		for next := 0; s != ""; {
			m := (symbolsFirst[s[0]] | symbolsLast[s[len(s)-1]]) >> next << next
			if m == 0 {
				break
			}
			k := bits.TrailingZeros32(m)
			c := currencySymbols[k]
			if len(s) >= len(c) && s[:len(c)] == c {
				s, changed = s[len(c):], true
			}
			if len(s) >= len(c) && s[len(s)-len(c):] == c {
				s, changed = s[:len(s)-len(c)], true
			}
			next = k + 1
		}
	}
	return s, neg
}

// separatorAt returns the separator at s[i] ('.', ',', ' ' for every kind
// of space, '\” for apostrophes, '_') and its length in bytes, or 0.
func separatorAt(s string, i int) (byte, int) {
	switch c := s[i]; {
	case c == '.' || c == ',' || c == ' ' || c == '\'' || c == '_':
		return c, 1
	case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // no-break space
		return ' ', 2
	case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80:
		switch s[i+2] {
		case 0xaf, 0x89: // narrow no-break space, thin space
			return ' ', 3
		case 0x99: // right single quotation mark, the Swiss grouping
			return '\'', 3
		}
	}
	return 0, 0
}

// readNumber appends body's plain form (digits, '.' as the decimal mark)
// to dst. The body decides its decimal mark itself when it can: two kinds
// of separator ("1.234,50"), a repeated one ("1,234,567"), or one not
// followed by exactly three digits ("12,5"). A single '.' or ',' followed
// by three digits ("1.299") is read with decimal when set ('.' or ','),
// else reported numAmbiguous. Groups must be of three digits.
// mark is the decimal mark the body shows by itself ('.', ',' or 0).
func readNumber(dst []byte, body string, decimal byte) (_ []byte, mark byte, st numberStatus) {
	if body == "" {
		return dst, 0, numBad
	}
	if hasExponent(body) {
		if _, err := strconv.ParseFloat(body, 64); err != nil || !isPlainNumber(body) {
			return dst, 0, numBad
		}
		return append(dst, body...), 0, numOK
	}
	// First pass: which separators, how many, and the groups around them.
	var kinds [4]byte // distinct separator kinds in order of appearance
	nk, dots, commas := 0, 0, 0
	var last byte
	firstLen, lastLen, firstZero := -1, 0, true
	for i := 0; i < len(body); {
		c := body[i]
		if c >= '0' && c <= '9' {
			lastLen++
			if firstLen < 0 && c != '0' {
				firstZero = false
			}
			i++
			continue
		}
		k, n := separatorAt(body, i)
		if n == 0 {
			return dst, 0, numBad
		}
		if i+n >= len(body) || body[i+n] < '0' || body[i+n] > '9' {
			return dst, 0, numBad // a separator must be followed by a digit
		}
		if firstLen < 0 {
			firstLen = lastLen
		}
		known := false
		for _, x := range kinds[:nk] {
			known = known || x == k
		}
		if !known {
			if nk == len(kinds) {
				return dst, 0, numBad
			}
			kinds[nk] = k
			nk++
		}
		switch k {
		case '.':
			dots++
		case ',':
			commas++
		}
		last, lastLen = k, 0
		i += n
	}
	count := func(k byte) int {
		switch k {
		case '.':
			return dots
		case ',':
			return commas
		}
		return 2 // other kinds only group
	}
	var dec, group byte
	resolved := false // the separator's role came from decimal, not the body
	switch {
	case nk == 0:
	case nk == 1 && (count(last) > 1 || (last != '.' && last != ',')):
		group = last
	case nk == 1: // a single '.' or ','
		if lastLen != 3 || firstLen == 0 || firstLen > 3 || firstZero {
			dec = last
			break
		}
		resolved = true
		switch decimal {
		case 0:
			return dst, 0, numAmbiguous
		case last:
			dec = last
		default:
			group = last
		}
	case nk == 2 && (last == '.' || last == ',') && count(last) == 1:
		dec = last
		group = kinds[0]
		if group == last {
			group = kinds[1]
		}
	default:
		return dst, 0, numBad
	}
	// What the body shows by itself: its decimal mark, or the one a
	// '.' or ',' grouping implies.
	switch {
	case resolved:
	case dec != 0:
		mark = dec
	case group == '.':
		mark = ','
	case group == ',':
		mark = '.'
	}
	// Second pass: write the digits, checking the groups.
	run, groups, afterDec := 0, 0, false
	for i := 0; i < len(body); {
		c := body[i]
		if c >= '0' && c <= '9' {
			dst = append(dst, c)
			run++
			i++
			continue
		}
		k, n := separatorAt(body, i)
		switch {
		case k == dec:
			if (groups > 0 && run != 3) || afterDec {
				return dst, 0, numBad
			}
			dst = append(dst, '.')
			afterDec = true
		case afterDec:
			return dst, 0, numBad // grouping in the fraction
		case groups == 0 && (run == 0 || run > 3), groups > 0 && run != 3:
			return dst, 0, numBad
		default:
			groups++
		}
		run = 0
		i += n
	}
	if groups > 0 && !afterDec && run != 3 {
		return dst, 0, numBad
	}
	return dst, mark, numOK
}

// DecimalMark returns the decimal mark a number's text shows by itself:
// '.' for "1,299.00", "12.5" or "1,234,567"; ',' for "1.234,50", "12,5" or
// "1.234.567"; 0 for text that does not say ("1,299", "845", "1 000") or
// is not a number. The transform gathers it over a column's values.
func DecimalMark(s string) byte {
	// The transform asks this of every text value of a batch, addresses
	// and descriptions included: most are plainly not numbers.
	if !mayShowMark(s) {
		return 0
	}
	return decimalMark(s)
}

func decimalMark(s string) byte {
	body, _ := stripNumber(s)
	if strings.IndexByte(body, '.') < 0 && strings.IndexByte(body, ',') < 0 {
		return 0
	}
	var buf [64]byte
	_, mark, st := readNumber(buf[:0], body, 0)
	if st != numOK {
		return 0
	}
	return mark
}

// plainDecimal reports a plain number ("12.50", "-3", "1e3") whose point,
// if any, cannot be a thousands separator: its reading is not in doubt.
func plainDecimal(s string) bool {
	if !isPlainNumber(s) {
		return false
	}
	dot := strings.IndexByte(s, '.')
	if dot < 0 || hasExponent(s) {
		return true
	}
	intPart := strings.TrimLeft(s[:dot], "+-")
	return len(s)-dot-1 != 3 || intPart == "" || len(intPart) > 3 || strings.Trim(intPart, "0") == "" || strings.IndexByte(s[dot+1:], '.') >= 0
}

// cleanNumber turns a number written by people into one strconv reads.
// The result may alias sc's memory: it is valid until the next number is
// cleaned, and must be copied to be kept.
func cleanNumber(sc *Scratch, f *envelope.Field) (string, error) {
	if f.Kind == envelope.Raw {
		s := trimSpace(f.Value)
		if isPlainNumber(s) {
			return s, nil
		}
		return "", errNotNumber
	}
	buf, err := cleanText(sc, f.Value)
	if err != nil || len(buf) == 0 {
		return "", err
	}
	return unsafe.String(&buf[0], len(buf)), nil
}

// cleanText writes the plain form of a number written by people to
// sc.num and returns it: '-' if negative, the digits and '.' as the
// decimal mark.
func cleanText(sc *Scratch, s string) ([]byte, error) {
	body, neg := stripNumber(s)
	buf := sc.num[:0]
	if neg {
		buf = append(buf, '-')
	}
	start := len(buf)
	buf, _, st := readNumber(buf, body, 0)
	if st == numAmbiguous {
		// Only now ask the locale or the column: asking may read the batch.
		if dec := sc.decimalFor(); dec != 0 {
			buf, _, st = readNumber(buf[:start], body, dec)
		}
	}
	sc.num = buf
	switch st {
	case numAmbiguous:
		return nil, errAmbiguous
	case numBad:
		return nil, errNotNumber
	}
	return buf, nil
}

// parseNumber reads a number written by people: "$1,299.00", "12 %",
// "€ 1.234,50", "(45.10)", "1 000".
func parseNumber(sc *Scratch, f *envelope.Field) (float64, error) {
	if f.Kind == envelope.Raw {
		if x, ok := exactNumber(f.Value); ok {
			return x, nil
		}
		x, err := strconv.ParseFloat(f.Value, 64)
		if err != nil {
			return 0, errNotNumber
		}
		return x, nil
	}
	if plainDecimal(f.Value) {
		if x, ok := exactNumber(f.Value); ok {
			return x, nil
		}
		if x, err := strconv.ParseFloat(f.Value, 64); err == nil {
			return x, nil
		}
	}
	buf, err := cleanText(sc, f.Value)
	if err != nil {
		return 0, err
	}
	if x, ok := exactNumber(buf); ok {
		return x, nil
	}
	x, err := strconv.ParseFloat(string(buf), 64)
	if err != nil {
		return 0, errNotNumber
	}
	return x, nil
}

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactNumber reads the common numbers, an optional sign, digits and an
// optional '.' with digits after it ("12.50", "-3", "007.5"), where
// strconv.ParseFloat's answer is one division: with at most 15
// significant digits and 22 after the point, the digits m and 10^k are
// both exact in a float64, so m / 10^k, which IEEE arithmetic rounds
// correctly, is the float64 nearest the text, as strconv's own first
// attempt computes it. ok is false for any other text (exponents, more
// digits, no digit), which strconv reads.
func exactNumber[T string | []byte](s T) (x float64, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var m uint64
	sig, frac, digits := 0, -1, false // significant digits; digits after the point, -1 before it
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = true
			if m != 0 || c != '0' {
				if sig++; sig > 15 {
					return 0, false
				}
				m = m*10 + uint64(c-'0')
			}
			if frac >= 0 {
				if frac++; frac >= len(exactPow10) {
					return 0, false
				}
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if !digits {
		return 0, false
	}
	x = float64(m)
	if frac > 0 {
		x /= exactPow10[frac]
	}
	if neg {
		x = -x
	}
	return x, true
}

// Byte classes for mayShowMark: bytes a number's body may hold (digits and
// separators, the multi-byte spaces and apostrophe included), and bytes
// stripNumber may take off around it (spaces, signs, parentheses, '%' and
// currency symbols), in one table with digits and '.' or ',' marked too.
const (
	classBody   = 1 << iota // a byte a number's body may hold
	classAround             // a byte stripNumber may take off around it
	classDigit              // '0' to '9'
	classMark               // '.' or ','
)

var byteClass = func() (t [256]uint8) {
	mark := func(s string, class uint8) {
		for i := 0; i < len(s); i++ {
			t[s[i]] |= class
		}
	}
	mark("0123456789.,' _\xc2\xa0\xe2\x80\xaf\x89\x99", classBody)
	mark(" \t\n\v\f\r()%+-\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"+
		strings.Join(currencySymbols, ""), classAround)
	mark("0123456789", classDigit)
	mark(".,", classMark)
	return t
}()

// symbolsFirst and symbolsLast have bit k set, at a byte, when the k-th
// currency symbol starts or ends with that byte.
var symbolsFirst, symbolsLast = func() (first, last [256]uint32) {
	for k, c := range currencySymbols {
		first[c[0]] |= 1 << k
		last[c[len(c)-1]] |= 1 << k
	}
	return first, last
}()

// mayShowMark is false for text DecimalMark surely answers 0 for: text
// with no digit, or no '.' or ',' (the body is part of the text, and
// shows no mark without one), a byte that is neither a number's nor what
// may surround one, or a byte other than a digit or separator between its
// first and last digit (the body keeps every digit and what lies between).
func mayShowMark(s string) bool {
	first, last := -1, -1
	var seen uint8
	for i := 0; i < len(s); i++ {
		c := byteClass[s[i]]
		if c == 0 {
			return false // neither a number's nor what may surround one
		}
		if c&classDigit != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
		seen |= c
	}
	if first < 0 || seen&classMark == 0 {
		return false
	}
	for i := first; i < last; i++ {
		if byteClass[s[i]]&classBody == 0 {
			return false
		}
	}
	return true
}

// trimSpace is strings.TrimSpace, answered at once when the text neither
// starts nor ends with a space: only a byte a space can start or end with
// ("£" starts like U+00A0) is read as a rune to tell.
func trimSpace(s string) string {
	if len(s) == 0 {
		return s
	}
	if spaceFirst[s[0]] {
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
			return strings.TrimSpace(s)
		}
	}
	if spaceLast[s[len(s)-1]] {
		if r, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(r) {
			return strings.TrimSpace(s)
		}
	}
	return s
}

// hasExponent reports whether s holds an 'e' or 'E' (strings.ContainsAny
// builds a set for each call).
func hasExponent(s string) bool {
	return strings.IndexByte(s, 'e') >= 0 || strings.IndexByte(s, 'E') >= 0
}

// spaceFirst and spaceLast mark the bytes a space (unicode.IsSpace) can
// start and end with in UTF-8: the ASCII spaces, and the first and last
// bytes of U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028, U+2029,
// U+202F, U+205F and U+3000. Text with other bytes at its ends, "£5" or
// "12 €", has no space to trim there.
var spaceFirst, spaceLast = func() (first, last [256]bool) {
	mark := func(r rune) {
		var b [utf8.UTFMax]byte
		n := utf8.EncodeRune(b[:], r)
		first[b[0]], last[b[n-1]] = true, true
	}
	for _, rg := range unicode.White_Space.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			mark(r)
		}
	}
	for _, rg := range unicode.White_Space.R32 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			mark(r)
		}
	}
	return first, last
}()
