package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestFlushWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf, Dim{"Function", "transform"})
	s.now = func() time.Time { return time.UnixMilli(1700000000000) }
	s.Add("RecordsIn", Count, 2, Dim{"Schema", "listing"})
	s.Add("RecordsIn", Count, 3, Dim{"Schema", "listing"})
	s.Add("BytesIn", Bytes, 10)
	if got := s.Get("RecordsIn", Dim{"Schema", "listing"}); got != 5 {
		t.Fatalf("Get = %v, want 5", got)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function  string
		Schema    string
		RecordsIn float64
	}
	if err := json.Unmarshal(lines[1], &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.AWS.CloudWatchMetrics[0]
	if doc.AWS.Timestamp != 1700000000000 || m.Namespace != "sluice" || doc.RecordsIn != 5 || doc.Schema != "listing" ||
		len(m.Dimensions[0]) != 2 || m.Metrics[0].Name != "RecordsIn" || m.Metrics[0].Unit != "Count" {
		t.Fatalf("unexpected EMF line: %s", lines[1])
	}
	buf.Reset()
	_ = s.Flush()
	if buf.Len() != 0 {
		t.Fatalf("second flush wrote %q; Flush must clear", buf.String())
	}
}
