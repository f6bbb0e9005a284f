package format

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNewRejectsUnknownFormatsAndOptions(t *testing.T) {
	tests := []struct {
		format string
		opts   Options
		want   string
	}{
		{"xml", nil, `format: unknown format "xml"`},
		{"csv", Options{"delimter": ";"}, `format: csv: unknown option "delimter" (known: delimiter, encoding, max_record_bytes)`},
		{"jsonl", Options{"delimiter": ";"}, `format: jsonl: unknown option "delimiter"`},
		{"csv", Options{"delimiter": ";;"}, `format: csv: option delimiter: want one ASCII character`},
		{"csv", Options{"delimiter": `"`}, `format: csv: option delimiter: want one ASCII character`},
		{"lines", Options{"encoding": "ebcdic"}, `format: lines: option encoding: want auto, utf-8, latin1 or windows-1252, got "ebcdic"`},
		{"alb", Options{"max_record_bytes": "0"}, `format: alb: option max_record_bytes: want a positive number of bytes, got "0"`},
		{"elb", Options{"max_record_bytes": "lots"}, `format: elb: option max_record_bytes: want a positive number`},
	}
	for _, tt := range tests {
		_, err := New(tt.format, strings.NewReader(""), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q, %v) = %v, want an error containing %q", tt.format, tt.opts, err, tt.want)
		}
		if err := CheckOptions(tt.format, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckOptions(%q, %v) = %v, want an error containing %q", tt.format, tt.opts, err, tt.want)
		}
	}
}

func TestOptionsAccepted(t *testing.T) {
	for _, opts := range []Options{
		{"delimiter": "tab"}, {"delimiter": `\t`}, {"delimiter": "|"}, {"delimiter": "semicolon"},
		{"encoding": "Windows-1252"}, {"encoding": "ISO-8859-1"}, {"encoding": "utf8"},
		{"max_record_bytes": "1_024_000"},
	} {
		if _, err := New("csv", strings.NewReader(""), opts); err != nil {
			t.Errorf("New(csv, %v): %v", opts, err)
		}
		if err := CheckOptions("csv", opts); err != nil {
			t.Errorf("CheckOptions(csv, %v): %v", opts, err)
		}
	}
}

// A read error is not a record: Next returns it, wrapped, and keeps
// returning it, and the partial line before it is not a record.
func TestReadErrorEndsTheScan(t *testing.T) {
	boom := errors.New("connection reset")
	for format, input := range map[string]string{
		"csv":   "a,b\n1,2\n3,",
		"jsonl": "{\"a\":1}\n{\"a\":",
		"alb":   strings.SplitAfter(readCase(t, "alb", "real-lines"), "\n")[0] + "http 2026",
		"elb":   strings.SplitAfter(readCase(t, "elb", "real-lines"), "\n")[0] + "2015-05",
		"lines": "one\ntwo",
	} {
		r := io.MultiReader(strings.NewReader(input), iotest.ErrReader(boom))
		s, err := New(format, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(); err != nil {
			t.Fatalf("%s: first record: %v", format, err)
		}
		for range 2 {
			_, err := s.Next()
			if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "format: reading input at offset") {
				t.Errorf("%s: Next = %v, want the read error wrapped", format, err)
			}
		}
	}
}

func readCase(t *testing.T, format, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/formats/" + format + "/" + name + "/input")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// repeat is an endless stream of one byte.
type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// A record far over the limit is read to its end in constant memory, comes
// back as a record error holding its first max_record_bytes bytes, and the
// records after it are read as usual.
func TestHugeRecordInConstantMemory(t *testing.T) {
	huge := int64(64 << 20)
	if testing.Short() {
		huge = 8 << 20
	}
	alb := strings.SplitAfter(readCase(t, "alb", "real-lines"), "\n")[0]
	tests := []struct {
		format        string
		before, after string
		fill          byte
		raw           string // how the record error's raw text starts
		want          string // a field value of the record after
	}{
		{"lines", "", "\nnext\n", 'x', "xxx", "next"},
		{"jsonl", `{"a":"`, "\"}\n{\"b\":\"next\"}\n", 'x', `{"a":"xxx`, "next"},
		{"csv", "id,blob\n1,\"", "\"\n2,next\n", '\n', "1,\"\n\n", "next"}, // a quoted cell of newlines
		{"csv", "id,blob\n1,", "\n2,next\n", 'x', "1,xxx", "next"},
		{"alb", "http x", "\n" + alb, ' ', "http x   ", "http"},
		{"elb", "", "\n2015-05-13T23:39:43.945958Z next 1.2.3.4:5 - 0 0 0 200 200 0 29 \"GET http://a/ HTTP/1.1\"\n", 'x', "xxx", "2015-05-13T23:39:43.945958Z"},
	}
	for _, tt := range tests {
		r := io.MultiReader(strings.NewReader(tt.before), io.LimitReader(repeat(tt.fill), huge), strings.NewReader(tt.after))
		s, err := New(tt.format, r, Options{"max_record_bytes": "1000"})
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = s.Next()
		runtime.ReadMemStats(&after)
		var re *RecordError
		if !errors.As(err, &re) || !strings.Contains(re.Reason, "over the 1000-byte limit") || len(re.Raw) != 1000 {
			t.Fatalf("%s: Next = %v, want a record error for the huge record with 1000 raw bytes", tt.format, err)
		}
		if !bytes.HasPrefix(re.Raw, []byte(tt.raw)) {
			t.Errorf("%s: raw starts %q, want %q", tt.format, re.Raw[:20], tt.raw)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("%s: reading a %d MiB record allocated %d bytes", tt.format, huge>>20, alloc)
		}
		rec, err := s.Next()
		if err != nil {
			t.Fatalf("%s: record after the huge one: %v", tt.format, err)
		}
		if !hasValue(rec, tt.want) {
			t.Errorf("%s: record after the huge one is %v, want a field %q", tt.format, rec.Fields, tt.want)
		}
	}
}

func hasValue(rec Record, v string) bool {
	for _, f := range rec.Fields {
		if f.Value == v {
			return true
		}
	}
	return false
}

// Records' strings outlive the next call; only the slices are reused.
func TestRecordStringsOutliveNext(t *testing.T) {
	s, err := New("csv", strings.NewReader("a,b\n1,2\n3,4\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := s.Next()
	v := first.Fields[0].Value
	second, _ := s.Next()
	if v != "1" || second.Fields[0].Value != "3" {
		t.Errorf("values %q then %q, want 1 then 3", v, second.Fields[0].Value)
	}
}
