package deadletter

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/envelope"
)

const fixtures = "../../testdata/deadletter"

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:sluice-transform:$LATEST"

// readAll returns every record and every line error of r.
func readAll(t testing.TB, r io.Reader) ([]*Record, []*LineError) {
	t.Helper()
	dr := NewReader(r)
	var recs []*Record
	var bad []*LineError
	for {
		rec, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return recs, bad
		}
		var le *LineError
		if errors.As(err, &le) {
			bad = append(bad, le)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

func readFixture(t *testing.T, name string) ([]*Record, []*LineError) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readAll(t, f)
}

func TestReadFixtures(t *testing.T) {
	listing := `{"v":1,"id":"3f1c","schema":"listing","source":{"bucket":"in","key":"listings/a.csv","format":"csv","line":2,"offset":41},"fields":{"price":"12,5x"}}`
	webhook := `{"id":"w-77","type":"order.created","amount":"abc"}`
	firehose := []*Record{
		{AttemptsMade: 1, ArrivalTimestamp: 1732270200123, ErrorCode: "Lambda.ProcessingFailedStatus",
			ErrorMessage: "ProcessingFailed status set for record", AttemptEndingTimestamp: 1732270262456,
			RawData: []byte(listing), LambdaArn: testARN},
		{AttemptsMade: 4, ArrivalTimestamp: 1732270201000, ErrorCode: "Lambda.FunctionError",
			ErrorMessage:           "The Lambda function was successfully invoked but it returned an error result.",
			AttemptEndingTimestamp: 1732270405479, RawData: []byte(webhook), LambdaArn: testARN},
	}
	tests := []struct {
		file string
		want []*Record
	}{
		{"firehose-processing-failed.jsonl", firehose},
		{"firehose-processing-failed.jsonl.gz", firehose},
		{"firehose-lambdaARN-concatenated.json", []*Record{
			{AttemptsMade: 1, ArrivalTimestamp: 1732270200123, ErrorCode: "Lambda.MissingRecordId",
				ErrorMessage:           "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.",
				AttemptEndingTimestamp: 1732270262456, RawData: []byte(listing), LambdaArn: testARN},
			{AttemptsMade: 1, ArrivalTimestamp: 1732270200124, ErrorCode: "Lambda.ProcessingFailedStatus",
				ErrorMessage: "ProcessingFailed status set for record", AttemptEndingTimestamp: 1732270262456,
				RawData: []byte("not json at all"), LambdaArn: testARN},
		}},
		{"string-numbers.jsonl", []*Record{
			{AttemptsMade: 4, ArrivalTimestamp: 1732270201000, ErrorCode: "Lambda.FunctionError",
				ErrorMessage:           "The Lambda function was successfully invoked but it returned an error result.",
				AttemptEndingTimestamp: 1732270205479, RawData: []byte(webhook), LambdaArn: testARN},
		}},
		{"splitter.jsonl", []*Record{
			{ArrivalTimestamp: 1732270200000, ErrorCode: "Splitter.Parse", ErrorMessage: "csv: wrong number of fields",
				AttemptEndingTimestamp: 1732270200000, RawData: []byte(`a,b,"c`), Reason: "line 7: unterminated quoted field",
				Source: &envelope.Source{Bucket: "in", Key: "listings/a.csv", Format: "csv", Line: 7, Offset: 312,
					IngestedAt: time.Date(2024, 11, 22, 10, 10, 0, 0, time.UTC)}},
			{ArrivalTimestamp: 1732270200000, ErrorCode: "Splitter.TooLarge", ErrorMessage: "record over 1,024,000 bytes",
				AttemptEndingTimestamp: 1732270200000, RawData: []byte("xxxx"),
				Reason: "record of 2048000 bytes exceeds limits.max_record_bytes",
				Source: &envelope.Source{Bucket: "in", Key: "logs/big.jsonl", Format: "jsonl", Line: 9, Offset: 4096,
					IngestedAt: time.Date(2024, 11, 22, 10, 10, 0, 0, time.UTC)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, bad := readFixture(t, tt.file)
			if len(bad) > 0 {
				t.Fatalf("unexpected line errors: %v", bad)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("records differ\n got: %+v\nwant: %+v", deref(got), deref(tt.want))
			}
		})
	}
}

func deref(rs []*Record) []Record {
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = *r
	}
	return out
}

func TestReadReportsBadLinesAndContinues(t *testing.T) {
	got, bad := readFixture(t, "with-bad-lines.jsonl")
	if len(got) != 2 || string(got[0].RawData) != "not json at all" || got[1].AttemptsMade != 2 {
		t.Fatalf("records: %+v", deref(got))
	}
	wantLines := []int64{2, 3, 5, 6, 7}
	var lines []int64
	for _, le := range bad {
		lines = append(lines, le.Line)
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Fatalf("bad lines = %v, want %v (%v)", lines, wantLines, bad)
	}
	for _, want := range []string{"invalid JSON", "no rawData", "not base64", "attemptsMade", "not an object"} {
		found := false
		for _, le := range bad {
			if strings.Contains(le.Error(), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line error mentions %q: %v", want, bad)
		}
	}
}

func TestReadLenientValues(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Record
		problem string
	}{
		{"numbers", `{"attemptsMade":3,"arrivalTimestamp":1700000000000,"errorCode":"E","rawData":"eA=="}`,
			Record{AttemptsMade: 3, ArrivalTimestamp: 1700000000000, ErrorCode: "E", RawData: []byte("x")}, ""},
		{"strings", `{"attemptsMade":"3","arrivalTimestamp":" 1700000000000 ","rawData":"eA=="}`,
			Record{AttemptsMade: 3, ArrivalTimestamp: 1700000000000, RawData: []byte("x")}, ""},
		{"float and exponent", `{"attemptsMade":3.0,"arrivalTimestamp":1.7e12,"rawData":"eA=="}`,
			Record{AttemptsMade: 3, ArrivalTimestamp: 1700000000000, RawData: []byte("x")}, ""},
		{"rfc3339 timestamp", `{"arrivalTimestamp":"2023-11-14T22:13:20.5Z","rawData":"eA=="}`,
			Record{ArrivalTimestamp: 1700000000500, RawData: []byte("x")}, ""},
		{"null and empty", `{"attemptsMade":null,"arrivalTimestamp":"","rawData":""}`,
			Record{RawData: []byte{}}, ""},
		{"lambdaARN", `{"rawData":"eA==","lambdaARN":"arn:x"}`, Record{RawData: []byte("x"), LambdaArn: "arn:x"}, ""},
		{"LambdaArn capitalised", `{"rawData":"eA==","LambdaArn":"arn:y"}`, Record{RawData: []byte("x"), LambdaArn: "arn:y"}, ""},
		{"format conversion keys", `{"rawData":"eA==","lastErrorCode":"C","lastErrorMessage":"M"}`,
			Record{RawData: []byte("x"), ErrorCode: "C", ErrorMessage: "M"}, ""},
		{"unpadded base64", `{"rawData":"eA"}`, Record{RawData: []byte("x")}, ""},
		{"unknown keys kept out", `{"rawData":"eA==","sequenceNumber":"1","dataCatalogTable":{}}`, Record{RawData: []byte("x")}, ""},
		{"no rawData", `{"errorCode":"E"}`, Record{}, "no rawData"},
		{"rawData number", `{"rawData":12}`, Record{}, "rawData is not a string"},
		{"word for number", `{"attemptsMade":"three","rawData":"eA=="}`, Record{}, "attemptsMade"},
		{"timestamp not a time", `{"arrivalTimestamp":"yesterday","rawData":"eA=="}`, Record{}, "arrivalTimestamp"},
		{"bad source", `{"rawData":"eA==","source":{"line":"x"}}`, Record{}, "source: line"},
		{"string", `"just a string"`, Record{}, "not an object"},
		{"truncated", `{"rawData":"eA==`, Record{}, "not a dead-letter record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := readAll(t, strings.NewReader(tt.line+"\n"))
			if tt.problem != "" {
				if len(got) != 0 || len(bad) != 1 || !strings.Contains(bad[0].Problem, tt.problem) || bad[0].Line != 1 {
					t.Fatalf("got %v, %v; want one line error with %q", deref(got), bad, tt.problem)
				}
				return
			}
			if len(bad) != 0 || len(got) != 1 {
				t.Fatalf("got %v, %v", deref(got), bad)
			}
			if !reflect.DeepEqual(*got[0], tt.want) {
				t.Fatalf("got %+v, want %+v", *got[0], tt.want)
			}
		})
	}
}

func TestReadLineNumbers(t *testing.T) {
	in := "\n" + `{"rawData":"eA=="}` + "\n\n" + `{"rawData":"eQ=="}{"rawData":"eg=="}`
	dr := NewReader(strings.NewReader(in))
	var lines []int64
	for {
		_, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, dr.Line())
	}
	if want := []int64{2, 4, 4}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("lines %v, want %v", lines, want)
	}
}

func TestReadCorruptGzipIsFatal(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"rawData":"eA=="}` + "\n"))
	zw.Close()
	b := buf.Bytes()
	b = b[:len(b)-6] // cut the trailer
	dr := NewReader(bytes.NewReader(b))
	var err error
	for err == nil {
		_, err = dr.Next()
	}
	var le *LineError
	if errors.Is(err, io.EOF) || errors.As(err, &le) {
		t.Fatalf("want a fatal read error, got %v", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	in := &Record{AttemptsMade: 2, ArrivalTimestamp: 1, ErrorCode: "Splitter.Parse", ErrorMessage: "m",
		AttemptEndingTimestamp: 3, RawData: []byte("a\x00b\n"), LambdaArn: "arn", Reason: "why",
		Source: &envelope.Source{Bucket: "b", Key: "k", Line: 4, Offset: 5, IngestedAt: time.UnixMilli(1700000000123).UTC()}}
	line, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, bad := readAll(t, bytes.NewReader(line))
	if len(bad) != 0 || len(got) != 1 || !reflect.DeepEqual(got[0], in) {
		t.Fatalf("round trip: got %+v %v, want %+v", deref(got), bad, *in)
	}
}

func FuzzReader(f *testing.F) {
	entries, _ := os.ReadDir(fixtures)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixtures, e.Name()))
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"rawData":"eA==","attemptsMade":"1e400"}`))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, in []byte) {
		dr := NewReader(bytes.NewReader(in))
		for i := 0; ; i++ {
			rec, err := dr.Next()
			if err != nil {
				var le *LineError
				if errors.As(err, &le) {
					if le.Line < 1 {
						t.Fatalf("line error without a line: %v", le)
					}
					continue
				}
				return // EOF or a fatal read error ends the input
			}
			// Whatever was read must survive a write and a second read.
			line, err := Marshal(rec)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			again, bad := readAll(t, bytes.NewReader(line))
			if len(bad) != 0 || len(again) != 1 {
				t.Fatalf("re-read of %q: %v %v", line, again, bad)
			}
			if !bytes.Equal(again[0].RawData, rec.RawData) || again[0].AttemptsMade != rec.AttemptsMade ||
				again[0].ErrorCode != rec.ErrorCode {
				t.Fatalf("re-read differs: %+v vs %+v", *again[0], *rec)
			}
		}
	})
}
