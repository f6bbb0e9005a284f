package schema

import (
	"testing"
	"time"
)

// The dates and timestamps AppendJSON writes without time.Time are what
// the time package writes: every day of years 0 to 9999, the edges around
// them, and any epoch milli- or microsecond.

func TestAppendDaysMatchesTime(t *testing.T) {
	for days := int64(firstDay - 800); days <= lastDay+800; days++ {
		want := append(appendDate([]byte{'"'}, time.Unix(days*86400, 0).UTC()), '"')
		if got := appendDays(nil, days); string(got) != string(want) {
			t.Fatalf("day %d: %s, time writes %s", days, got, want)
		}
	}
	if y, m, d := time.Unix(firstDay*86400, 0).UTC().Date(); y != 0 || m != 1 || d != 1 {
		t.Errorf("firstDay is %d-%d-%d", y, m, d)
	}
	if y, m, d := time.Unix(lastDay*86400, 0).UTC().Date(); y != 9999 || m != 12 || d != 31 {
		t.Errorf("lastDay is %d-%d-%d", y, m, d)
	}
}

func FuzzAppendEpoch(f *testing.F) {
	for _, n := range []int64{0, -1, 1, 1714557600123, -62167219200000, -62167219200001, 253402300799999, 253402300800000,
		1 << 62, -1 << 63, 1<<63 - 1, 86400e6 - 1} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if got, want := appendEpoch(nil, n, 1e3), appendTimestamp(nil, time.UnixMilli(n).UTC(), 3); string(got) != string(want) {
			t.Fatalf("%d ms: %s, time writes %s", n, got, want)
		}
		if got, want := appendEpoch(nil, n, 1e6), appendTimestamp(nil, time.UnixMicro(n).UTC(), 6); string(got) != string(want) {
			t.Fatalf("%d µs: %s, time writes %s", n, got, want)
		}
		days := n % 5e6
		want := append(appendDate([]byte{'"'}, time.Unix(days*86400, 0).UTC()), '"')
		if got := appendDays(nil, days); string(got) != string(want) {
			t.Fatalf("day %d: %s, time writes %s", days, got, want)
		}
	})
}
