package rollup

import (
	"strconv"
	"time"
)

// parseTime reads a record's time as Unix milliseconds: RFC 3339 (the load
// balancers' "2024-05-01T10:00:00.123456Z" read without time.Parse), or
// epoch seconds or milliseconds (11 digits and more).
func parseTime(s string) (int64, bool) {
	if ms, ok := parseUTC(s); ok {
		return ms, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e11 || n < -1e11 {
			return n, true
		}
		return n * 1000, true
	}
	return 0, false
}

// parseUTC reads YYYY-MM-DDTHH:MM:SS[.fraction]Z.
func parseUTC(s string) (int64, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	ms := 0
	if rest := s[19 : len(s)-1]; rest != "" {
		if rest[0] != '.' || len(rest) < 2 {
			return 0, false
		}
		frac := rest[1:]
		for i, c := range []byte(frac) {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i < 3 {
				ms = ms*10 + int(c-'0')
			}
		}
		for i := len(frac); i < 3; i++ {
			ms *= 10
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d {
		return 0, false // 31 April
	}
	return t.UnixMilli() + int64(ms), true
}
