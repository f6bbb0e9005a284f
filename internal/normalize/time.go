package normalize

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

var errNotTime = errors.New("is not a date or time (want ISO 8601 / RFC 3339, a common date layout, or epoch seconds or milliseconds)")

func coerceDate(sc *Scratch, f *envelope.Field) (schema.Value, error) {
	tm, err := parseTime(sc, f)
	if err != nil {
		return schema.Value{}, err
	}
	days := schema.DaysOf(tm) // the calendar date as written, in its own zone
	if days < math.MinInt32 || days > math.MaxInt32 {
		return schema.Value{}, errors.New("is out of range for a date")
	}
	if h, m, sec := tm.Clock(); (h != 0 || m != 0 || sec != 0 || tm.Nanosecond() != 0) && !sc.keep() {
		return schema.Value{}, errors.New("has a time of day that a date cannot hold, and the schema has no extra map to keep the original")
	}
	return schema.Value{Kind: schema.Int, Int: days}, nil
}

func coerceTimestamp(sc *Scratch, f *envelope.Field, l schema.Logical) (schema.Value, error) {
	tm, err := parseTime(sc, f)
	if err != nil {
		return schema.Value{}, err
	}
	if y := tm.Year(); y < 1 || y > 9999 {
		return schema.Value{}, errors.New("is out of range for a timestamp (years 1 to 9999)")
	}
	unit, name := int(time.Millisecond), "timestamp-millis"
	if l == schema.TimestampMicros {
		unit, name = int(time.Microsecond), "timestamp-micros"
	}
	if tm.Nanosecond()%unit != 0 && !sc.keep() {
		return schema.Value{}, fmt.Errorf("has digits finer than %s holds, and the schema has no extra map to keep the original", name)
	}
	if l == schema.TimestampMicros {
		return schema.Value{Kind: schema.Long, Int: tm.UnixMicro()}, nil
	}
	return schema.Value{Kind: schema.Long, Int: tm.UnixMilli()}, nil
}

// parseTime reads a date or time. Naive values are read in the configured
// zone. A number is an epoch time only when it lands in the plausible
// window as seconds, milliseconds or microseconds; any other number fails
// (2024, 12, 0, 1.5, 299.00), except a compact date (20240131).
func parseTime(sc *Scratch, f *envelope.Field) (time.Time, error) {
	o := sc.opts
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	s := trimSpace(f.Value)
	for _, layout := range o.DateLayouts {
		if tm, err := time.ParseInLocation(layout, s, loc); err == nil {
			return tm, nil
		}
	}
	if tm, ok := parseISO(s, loc); ok {
		return tm, nil
	}
	if isNumeric(s) {
		if tm, ok := parseEpoch(s, o); ok {
			return tm.In(loc), nil
		}
		if len(s) != 8 || strings.IndexByte(s, '.') >= 0 || s[0] == '-' {
			from, until := o.epochYears()
			return time.Time{}, fmt.Errorf("is a number but not an epoch time between %d and %d (seconds, milliseconds or microseconds), and a number alone is no date (unless date_layouts say so)", from, until)
		}
	}
	if tm, ok := parseNumericDate(s, o.DayFirst, loc); ok {
		return tm, nil
	}
	if tm, ok := parseWordDate(s, loc); ok {
		return tm, nil
	}
	if f.Kind == envelope.Raw {
		return time.Time{}, errNotTime
	}
	layouts := monthFirst
	if o.DayFirst {
		layouts = dayFirst
	}
	for _, group := range [][]string{layouts, otherLayouts} {
		for _, layout := range group {
			if tm, err := time.ParseInLocation(layout, s, loc); err == nil {
				return tm, nil
			}
		}
	}
	return time.Time{}, errNotTime
}

// isNumeric reports an optionally negative number of digits with at most
// one decimal point.
func isNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && !dot:
			dot = true
		case c < '0' || c > '9':
			return false
		}
	}
	return s != "" && s != "."
}

// parseEpoch reads an epoch time in the plausible window: seconds (a
// fraction allowed), or whole milliseconds or microseconds. The windows do
// not overlap, so the reading is never in doubt.
func parseEpoch(s string, o *Options) (time.Time, bool) {
	neg := strings.HasPrefix(s, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(intPart) == 0 || len(intPart) > 17 || len(frac) > 9 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if neg {
		n = -n
	}
	from, until := o.epochWindow()
	switch {
	case n >= from && n <= until:
		nsec, _ := digits(frac)
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
		if neg {
			nsec = -nsec
		}
		return time.Unix(n, int64(nsec)), true
	case frac != "":
		return time.Time{}, false
	case n >= from*1e3 && n <= until*1e3+999:
		return time.UnixMilli(n), true
	case n >= from*1e6 && n <= until*1e6+999999:
		return time.UnixMicro(n), true
	}
	return time.Time{}, false
}

var monthFirst = []string{
	"01/02/2006", "1/2/2006", "01/02/2006 15:04:05", "1/2/2006 15:04:05", "01/02/2006 15:04", "1/2/2006 15:04",
	"1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "01-02-2006", "1/2/06",
}

var dayFirst = []string{
	"02/01/2006", "2/1/2006", "02/01/2006 15:04:05", "2/1/2006 15:04:05", "02/01/2006 15:04", "2/1/2006 15:04",
	"02-01-2006", "2/1/06",
}

var otherLayouts = []string{
	time.RFC1123Z, time.RFC1123, time.RFC850, time.ANSIC, time.UnixDate, time.RubyDate, time.RFC822, time.RFC822Z,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"2006/01/02", "2006/1/2", "2006/01/02 15:04:05", "2006/01/02 15:04", "2006.01.02",
	"02.01.2006", "2.1.2006", "02.01.2006 15:04:05", "02.01.2006 15:04",
	"Jan 2, 2006", "January 2, 2006", "Jan 2 2006", "January 2 2006", "Mon, Jan 2, 2006", "Monday, January 2, 2006",
	"2 Jan 2006", "2 January 2006", "02-Jan-2006", "2-Jan-2006", "02 Jan 2006 15:04", "2 Jan 2006 15:04:05",
	"Jan 2, 2006 3:04 PM", "Jan 2, 2006 15:04:05", "January 2, 2006 at 3:04 PM",
	"2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -0700 MST", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05-0700",
	"02/Jan/2006:15:04:05 -0700", "20060102", "20060102T150405Z", "20060102150405",
}

// parseISO reads ISO 8601 / RFC 3339 dates and times quickly:
// YYYY-MM-DD, then optionally [T ]hh:mm[:ss[.frac]] and Z or ±hh[:mm].
func parseISO(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, false
	}
	rest := s[10:]
	var hour, minute, sec, nsec int
	zone := loc
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
			return time.Time{}, false
		}
		rest = rest[1:]
		if len(rest) < 5 || rest[2] != ':' {
			return time.Time{}, false
		}
		var ok1, ok2 bool
		hour, ok1 = digits(rest[0:2])
		minute, ok2 = digits(rest[3:5])
		if !ok1 || !ok2 || hour > 23 || minute > 59 {
			return time.Time{}, false
		}
		rest = rest[5:]
		if len(rest) >= 3 && rest[0] == ':' {
			var ok bool
			if sec, ok = digits(rest[1:3]); !ok || sec > 60 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if sec == 60 { // a leap second is read as the next second
				sec = 59
				nsec = 999999999
			}
			if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
				n := 1
				for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
					n++
				}
				if n == 1 {
					return time.Time{}, false
				}
				frac := rest[1:n]
				if len(frac) > 9 {
					frac = frac[:9]
				}
				f, _ := digits(frac)
				for i := len(frac); i < 9; i++ {
					f *= 10
				}
				if nsec == 0 {
					nsec = f
				}
				rest = rest[n:]
			}
		}
		rest = strings.TrimPrefix(rest, " ")
		switch {
		case rest == "":
		case rest == "Z" || rest == "z" || rest == "UTC" || rest == "GMT":
			zone = time.UTC
		case rest[0] == '+' || rest[0] == '-':
			off := rest[1:]
			var oh, om int
			var ok bool
			switch len(off) {
			case 2:
				oh, ok = digits(off)
			case 4:
				oh, ok = digits(off[:2])
				if ok {
					om, ok = digits(off[2:])
				}
			case 5:
				if off[2] != ':' {
					return time.Time{}, false
				}
				oh, ok = digits(off[:2])
				if ok {
					om, ok = digits(off[3:])
				}
			}
			if !ok || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			secs := oh*3600 + om*60
			if rest[0] == '-' {
				secs = -secs
			}
			zone = fixedZone(secs)
		default:
			return time.Time{}, false
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, zone), true
}

func fixedZone(secs int) *time.Location {
	if secs == 0 {
		return time.UTC
	}
	return time.FixedZone("", secs)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseNumericDate reads the common numeric dates quickly: 1/5/2024,
// 01-05-2024 (day or month first, as configured), 31.01.2024 (always day
// first) and 2024/05/01. Anything with a time of day goes to the layouts.
func parseNumericDate(s string, dayFirst bool, loc *time.Location) (time.Time, bool) {
	if len(s) < 8 || len(s) > 10 {
		return time.Time{}, false
	}
	sep := byte(0)
	var parts [3]string
	n := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			continue
		}
		if i < len(s) {
			if sep == 0 {
				sep = s[i]
			}
			if s[i] != sep || (sep != '/' && sep != '-' && sep != '.') {
				return time.Time{}, false
			}
		}
		if n == 3 || i == start {
			return time.Time{}, false
		}
		parts[n] = s[start:i]
		n++
		start = i + 1
	}
	if n != 3 {
		return time.Time{}, false
	}
	a, _ := digits(parts[0])
	b, _ := digits(parts[1])
	c, _ := digits(parts[2])
	var y, m, d int
	switch {
	case len(parts[0]) == 4 && len(parts[2]) <= 2:
		y, m, d = a, b, c
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		y = c
		if dayFirst || sep == '.' {
			d, m = a, b
		} else {
			m, d = a, b
		}
	default:
		return time.Time{}, false
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc), true
}

var monthNames = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
	"jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
	"oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// parseWordDate reads "28 April 2024", "28 Apr 2024", "April 28, 2024" and
// "Apr 28 2024" quickly, in any letter case. Its words are those of
// strings.Fields once commas are spaces, cut without allocating.
func parseWordDate(s string, loc *time.Location) (time.Time, bool) {
	var f [3]string
	n := 0
	for i := 0; i < len(s); {
		if sep, size := wordSep(s, i); sep {
			i += size
			continue
		}
		if n == len(f) {
			return time.Time{}, false // more than three words
		}
		start := i
		for i < len(s) {
			sep, size := wordSep(s, i)
			if sep {
				break
			}
			i += size
		}
		f[n] = s[start:i]
		n++
	}
	if n != 3 {
		return time.Time{}, false
	}
	var day, year int
	var month time.Month
	var ok1, ok2, ok3 bool
	if month, ok1 = monthNamed(f[1]); ok1 {
		day, ok2 = digits(f[0])
	} else if month, ok1 = monthNamed(f[0]); ok1 {
		day, ok2 = digits(f[1])
	}
	year, ok3 = digits(f[2])
	if !ok1 || !ok2 || !ok3 || len(f[2]) != 4 || day < 1 || day > daysIn(year, int(month)) {
		return time.Time{}, false
	}
	return time.Date(year, month, day, 0, 0, 0, 0, loc), true
}

// wordSep reports whether the rune at s[i] parts words (a comma or what
// unicode.IsSpace calls a space, as strings.Fields does), and its size.
func wordSep(s string, i int) (bool, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return c == ',' || asciiSpace[c] != 0, 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r), size
}

// asciiSpace marks the ASCII bytes unicode.IsSpace holds spaces.
var asciiSpace = [utf8.RuneSelf]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}

// monthNamed looks word up in monthNames as strings.ToLower(word): an
// ASCII word lowered on the stack, any other (rare; "APR\u0130L" lowers to
// "april") by strings.ToLower.
func monthNamed(word string) (time.Month, bool) {
	var buf [len("september")]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= utf8.RuneSelf {
			m, ok := monthNames[strings.ToLower(word)]
			return m, ok
		}
		if i >= len(buf) {
			return 0, false // an ASCII word longer than every name
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	m, ok := monthNames[string(buf[:len(word)])]
	return m, ok
}
