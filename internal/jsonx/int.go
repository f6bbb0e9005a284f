package jsonx

import "strconv"

// ParseInt is strconv.ParseInt(s, 10, 64): the same value and the same
// error. A short integer ("1714557600123", "-42", up to 18 digits, the
// ids, lines and epoch times events carry) is read in a plain loop; any
// other text is left to strconv.
func ParseInt(s string) (int64, error) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return strconv.ParseInt(s, 10, 64)
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			return strconv.ParseInt(s, 10, 64)
		}
		n = n*10 + int64(d)
	}
	if len(digits) < len(s) {
		n = -n
	}
	return n, nil
}
