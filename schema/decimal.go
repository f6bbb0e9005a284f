package schema

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// ParseDecimal parses a plain decimal string ("-1234.50") into a decimal
// Value with the given precision and scale. Digits past the scale must be
// zeros: sluice never rounds a value away silently.
func ParseDecimal(s string, precision, scale int) (Value, error) {
	return parseDecimal(s, precision, scale, true)
}

// parseDecimal is ParseDecimal; with inPlace false it reads even a value of
// at most 18 digits the general way (tests hold smallDecimal to it).
func parseDecimal(s string, precision, scale int, inPlace bool) (Value, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Value{}, fmt.Errorf("empty decimal")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return Value{}, fmt.Errorf("%q is not a decimal", s)
	}
	if len(frac) > scale {
		if strings.Trim(frac[scale:], "0") != "" {
			return Value{}, fmt.Errorf("%s has more than %d decimal places", s, scale)
		}
		frac = frac[:scale]
	}
	if len(intPart)+scale <= 18 && inPlace {
		return smallDecimal(s, intPart, frac, neg, precision, scale)
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return Value{}, fmt.Errorf("%q is not a decimal", s)
		}
	}
	digits = strings.TrimLeft(digits, "0")
	if len(digits) > precision {
		return Value{}, fmt.Errorf("%s needs more than %d digits of precision", s, precision)
	}
	if digits == "" {
		return Value{Kind: Bytes}, nil
	}
	if len(digits) <= 18 {
		var n int64
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return Value{Kind: Bytes, Int: n}, nil
	}
	b, _ := new(big.Int).SetString(digits, 10)
	if neg {
		b.Neg(b)
	}
	return Value{Kind: Bytes, Big: b}, nil
}

// smallDecimal is the rest of ParseDecimal for a value of at most 18
// digits, which fits an int64: it reads the digits intPart + frac +
// (scale - len(frac)) zeros where they are, without joining them.
func smallDecimal(s, intPart, frac string, neg bool, precision, scale int) (Value, error) {
	var n int64
	significant := 0
	for i := range len(intPart) + scale {
		c := byte('0')
		if i < len(intPart) {
			c = intPart[i]
		} else if j := i - len(intPart); j < len(frac) {
			c = frac[j]
		}
		if c < '0' || c > '9' {
			return Value{}, fmt.Errorf("%q is not a decimal", s)
		}
		if significant > 0 || c != '0' {
			significant++
		}
		n = n*10 + int64(c-'0')
	}
	if significant > precision {
		return Value{}, fmt.Errorf("%s needs more than %d digits of precision", s, precision)
	}
	if n == 0 {
		return Value{Kind: Bytes}, nil
	}
	if neg {
		n = -n
	}
	return Value{Kind: Bytes, Int: n}, nil
}

// appendDecimal appends an unscaled decimal with scale digits after the
// point as a JSON string ("-12.50"), without allocating for a value that
// fits an int64.
func appendDecimal(dst []byte, v *Value, scale int) []byte {
	var buf [24]byte
	var digits []byte
	if v.Big != nil {
		digits = v.Big.Append(buf[:0], 10)
	} else {
		digits = strconv.AppendInt(buf[:0], v.Int, 10)
	}
	dst = append(dst, '"')
	if digits[0] == '-' {
		dst = append(dst, '-')
		digits = digits[1:]
	}
	switch {
	case scale <= 0:
		dst = append(dst, digits...)
	case len(digits) <= scale:
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[:len(digits)-scale]...)
		dst = append(dst, '.')
		dst = append(dst, digits[len(digits)-scale:]...)
	}
	return append(dst, '"')
}

// decimalBytes is the unscaled value as a minimal big-endian two's
// complement, as Avro's decimal logical type requires.
func decimalBytes(v *Value) []byte {
	n := v.Big
	if n == nil {
		n = big.NewInt(v.Int)
	}
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Two's complement of a negative number: 2^(8k) + n for the smallest k.
	k := (n.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
	b := mod.Add(mod, n).Bytes()
	for len(b) < k {
		b = append([]byte{0xff}, b...)
	}
	return b
}

type bigAbs struct{ big.Int }

func (a *bigAbs) of(v *Value) *big.Int { return a.Abs(v.Big) }
