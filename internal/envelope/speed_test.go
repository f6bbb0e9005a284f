package envelope

import (
	"testing"
	"time"
)

// The fast paths write exactly what the obvious code wrote.
func TestAppendMillisUTC(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 20, 9, 14, 3, 512_999_999, time.UTC),
		time.Date(2026, 1, 2, 0, 0, 0, 0, berlin),
		time.Date(1999, 12, 31, 23, 59, 59, 1_000_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := tm.UTC().AppendFormat(nil, "2006-01-02T15:04:05.000Z07:00")
		if got := appendMillisUTC(nil, tm); string(got) != string(want) {
			t.Errorf("%v: got %s, want %s", tm, got, want)
		}
	}
}

func TestRecordIDStable(t *testing.T) {
	// Ids must never change between releases: redelivered objects rely on
	// them. These are the values of the first released format.
	for _, tc := range []struct {
		bucket, key, version, etag string
		index                      int64
		want                       string
	}{
		{"b", "k", "v1", "e", 0, "a2395afadda4fb284562-0"},
		{"b", "k", "", "e", 7, "65bfebcd5a0444f6e09f-7"},
		{"sluice-landing", "listings/red flower = äö.csv", "", "d41d8cd98f00b204e9800998ecf8427e", 123456789, "436edbd1d6aca75651aa-123456789"},
	} {
		if got := RecordID(tc.bucket, tc.key, tc.version, tc.etag, tc.index); got != tc.want {
			t.Errorf("RecordID(%q, %q, %q, %q, %d) = %s, want %s", tc.bucket, tc.key, tc.version, tc.etag, tc.index, got, tc.want)
		}
	}
}
