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
	// them. These are the values of the first implementation.
	for _, tc := range []struct {
		bucket, key, version, etag string
		index                      int64
		want                       string
	}{
		{"b", "k", "v1", "e", 0, "8ac38223f301892c45f551a132c3b757"},
		{"b", "k", "", "e", 7, "4b98fad0a1fb3c892005c0886195cebc"},
		{"sluice-landing", "listings/red flower = äö.csv", "", "d41d8cd98f00b204e9800998ecf8427e", 123456789, "a2000bdc3933b0bb0cc71aab35e0ca56"},
	} {
		if got := RecordID(tc.bucket, tc.key, tc.version, tc.etag, tc.index); got != tc.want {
			t.Errorf("RecordID(%q, %q, %q, %q, %d) = %s, want %s", tc.bucket, tc.key, tc.version, tc.etag, tc.index, got, tc.want)
		}
	}
}
