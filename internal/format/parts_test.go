package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSplitAddress(t *testing.T) {
	tests := []struct{ in, ip, port string }{
		{"192.168.131.39:2817", "192.168.131.39", "2817"},
		{"-", "-", "-"},
		{"2001:db8::1:443", "2001:db8::1", "443"},
		{"[2001:db8::10]:8080", "2001:db8::10", "8080"},
		{"[2001:db8::10]", "[2001:db8::10]", "-"},
		{"10.0.0.1", "10.0.0.1", "-"},
	}
	for _, tt := range tests {
		if ip, port := splitAddress(tt.in); ip != tt.ip || port != tt.port {
			t.Errorf("splitAddress(%q) = %q, %q; want %q, %q", tt.in, ip, port, tt.ip, tt.port)
		}
	}
}

func TestSplitRequest(t *testing.T) {
	tests := []struct{ in, method, url, proto string }{
		{"GET http://www.example.com:80/ HTTP/1.1", "GET", "http://www.example.com:80/", "HTTP/1.1"},
		{"- - - ", "-", "-", "-"},
		{"- https://shop.example.com:443- -", "-", "https://shop.example.com:443-", "-"},
		{"GET http://a:80/a b?x=1 HTTP/1.1", "GET", "http://a:80/a b?x=1", "HTTP/1.1"},
		{"GET http://a:80/", "GET", "http://a:80/", "-"},
		{"GET", "GET", "-", "-"},
		{"", "-", "-", "-"},
	}
	for _, tt := range tests {
		m, u, p := splitRequest(tt.in)
		if m != tt.method || u != tt.url || p != tt.proto {
			t.Errorf("splitRequest(%q) = %q, %q, %q; want %q, %q, %q", tt.in, m, u, p, tt.method, tt.url, tt.proto)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		enc        encoding
		in         string
		want, flag string
	}{
		{encAuto, "Zürich", "Zürich", ""},
		{encAuto, "M\xfcnchen \x80 \x9f \x81", "München € Ÿ \u0081", flagTranscoded},
		{encUTF8, "M\xfcnchen", "M\ufffdnchen", flagReplaced},
		{encLatin1, "\x80uro \xe9", "\u0080uro é", ""},
		{encWindows1252, "\x80uro \x93q\x94", "€uro “q”", ""},
		{encWindows1252, "plain", "plain", ""},
	}
	for _, tt := range tests {
		got, flag := tt.enc.decode([]byte(tt.in))
		if got != tt.want || flag != tt.flag {
			t.Errorf("decode(%d, %q) = %q, %q; want %q, %q", tt.enc, tt.in, got, flag, tt.want, tt.flag)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	tests := []struct {
		line string
		want byte
	}{
		{"a,b,c", ','},
		{"a;b;c", ';'},
		{"a\tb\tc", '\t'},
		{"a|b|c", '|'},
		{`"a;b;c",d`, ','}, // delimiters inside quotes do not count
		{"a,b;c", ','},     // a tie goes to the first candidate
		{"single", ','},
		{"a;b,c;d", ';'},
	}
	for _, tt := range tests {
		if got := detectDelimiter([]byte(tt.line)); got != tt.want {
			t.Errorf("detectDelimiter(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestQueryParameters(t *testing.T) {
	line := func(url string) string {
		return `http 2026-03-14T09:26:53.589812Z app/x/1 1.2.3.4:5 - 0 0 0 200 - 1 2 "GET ` + url + ` HTTP/1.1"` + "\n"
	}
	tests := []struct{ url, want string }{
		{"http://a:80/", ""},
		{"http://a:80/?", ""},
		{"http://a:80/?a=1&b=two+words&c=%2F%3F", "a=1 b=two words c=/?"},
		{"http://a:80/?k=1&k=2&k=", "k=1,2,"},
		{"http://a:80/?type=x&request_url=y&_field99=z", "qs_type=x qs_request_url=y qs__field99=z"},
		{"http://a:80/?%74ype=x", "qs_type=x"}, // decoded before the check
		{"http://a:80/?bad=%G1%&pct=%25", "bad=%G1% pct=%"},
		{"http://a:80/?utf=%E2%82%AC&latin=%E9", "utf=€ latin=é"},
		{"http://a:80/?a=1#b=2", "a=1"},
		{"http://a:80/?&&=v&x", "qs_=v x="},
	}
	for _, tt := range tests {
		s, _ := New("alb", strings.NewReader(line(tt.url)), nil)
		rec, err := s.Next()
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		var got []string
		for _, f := range rec.Fields[17:] { // after the 17 fields up to request_protocol
			got = append(got, f.Name+"="+f.Value)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s: parameters %q, want %q", tt.url, g, tt.want)
		}
	}
}

// Past the few parameters that are scanned, repeats are found through a
// map (comparing each of 60,000 names with all before it would take
// seconds): a repeat of an early and of the last name still joins.
func TestManyQueryParameters(t *testing.T) {
	var q strings.Builder
	const n = 60_000
	for i := range n {
		fmt.Fprintf(&q, "p%d=%d&", i, i)
	}
	q.WriteString("p7=again&p59999=again")
	line := `http 2026-03-14T09:26:53.589812Z app/x/1 1.2.3.4:5 - 0 0 0 200 - 1 2 "GET http://a:80/?` + q.String() + ` HTTP/1.1"` + "\n"
	s, _ := New("alb", strings.NewReader(line+line), Options{"max_record_bytes": "10000000"})
	for range 2 {
		rec, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		params := rec.Fields[17:]
		if len(params) != n || params[7].Value != "7,again" || params[n-1].Value != "59999,again" {
			t.Fatalf("%d parameters, p7=%q, last=%q", len(params), params[7].Value, params[n-1].Value)
		}
	}
}

// A record of more than maxFields fields is a record error holding the
// whole record; one of exactly maxFields is a record.
func TestTooManyFields(t *testing.T) {
	albLine := func(extra string) string {
		return `http 2026-03-14T09:26:53.589812Z app/x/1 1.2.3.4:5 - 0 0 0 200 - 1 2 "GET http://a:80/` + extra + ` HTTP/1.1"`
	}
	query := func(n int) string {
		var b strings.Builder
		b.WriteString("?")
		for i := range n {
			fmt.Fprintf(&b, "p%d&", i)
		}
		return b.String()
	}
	keys := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":%d`, i, i)
		}
		return b.String() + "}"
	}
	tests := []struct {
		format, header, ok, bad string
	}{
		{"csv", "a\n", strings.Repeat(",", maxFields-1), strings.Repeat(",", maxFields)},
		{"csv", "a\n", `"q"` + strings.Repeat(",", maxFields-1), `"q"` + strings.Repeat(",", maxFields)},
		{"jsonl", "", keys(maxFields), keys(maxFields + 1)},
		{"jsonl", "", "[" + keys(maxFields) + "]", "[" + keys(maxFields+1) + "]"},
		{"alb", "", albLine(query(maxFields - 17)), albLine(query(maxFields - 16))},
		{"alb", "", albLine("") + strings.Repeat(" -", maxFields-17), albLine("") + strings.Repeat(" -", maxFields-16)},
		{"alb", "", albLine("") + strings.Repeat(" -", maxFields-17), albLine("") + strings.Repeat(" -", maxFields)},
	}
	for _, tt := range tests {
		for _, size := range []int{bufferSize, 16} {
			input := tt.header + tt.bad + "\n" + tt.ok + "\n"
			s := openSized(t, tt.format, strings.NewReader(input), Options{"max_record_bytes": "10000000"}, size)
			checkTooManyFields(t, s, tt.format, tt.header, tt.bad)
		}
	}
}

func checkTooManyFields(t *testing.T, s Scanner, format, header, bad string) {
	t.Helper()
	_, err := s.Next()
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != "record has more than 65536 fields" || re.Line != int64(1+strings.Count(header, "\n")) {
		t.Fatalf("%s: Next = %v, want a record error for too many fields", format, err)
	}
	if bad[0] != '[' && string(re.Raw) != bad {
		t.Errorf("%s: raw is %d bytes, want the %d-byte record", format, len(re.Raw), len(bad))
	}
	rec, err := s.Next()
	if err != nil || len(rec.Fields) != maxFields {
		t.Errorf("%s: Next = %d fields, %v; want a record of %d fields", format, len(rec.Fields), err, maxFields)
	}
}

// Example reads a csv export whose second row has a cell too many.
func Example() {
	input := "id;city\r\n1;Zürich\r\n2;\"Lyon; FR\";extra\r\n"
	s, err := New("csv", strings.NewReader(input), nil)
	if err != nil {
		panic(err)
	}
	for {
		rec, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(rec.Line, rec.Offset, rec.Fields, rec.Flags)
	}
	// Output:
	// 2 9 [{id 1 0} {city Zürich 0}] []
	// 3 20 [{id 2 0} {city Lyon; FR 0} {_col3 extra 0}] [ragged]
}

// TestByteMaskIsExact checks that byteMask marks every byte equal to the
// one sought and no other, whatever the bytes around it (a borrow must not
// mark a neighbour), and that indexByteOf finds the first.
func TestByteMaskIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, delim := range []byte{',', ';', '\t', '|', 0, 0x7f, 0x80, 0xff} {
		rep := ones * uint64(delim)
		for n := 0; n < 20000; n++ {
			var b [8]byte
			for i := range b {
				switch r.IntN(4) {
				case 0:
					b[i] = delim
				case 1:
					b[i] = delim ^ 0x80
				case 2:
					b[i] = delim + byte(r.IntN(3)) - 1
				default:
					b[i] = byte(r.IntN(256))
				}
			}
			m := byteMask(binary.LittleEndian.Uint64(b[:]), rep)
			for i, c := range b {
				if marked := m>>(8*i+7)&1 == 1; marked != (c == delim) {
					t.Fatalf("delimiter %q, bytes %q: byte %d marked %v", delim, b, i, marked)
				}
			}
			row := append(b[:], b[:r.IntN(8)]...)
			from := r.IntN(len(row))
			want := bytes.IndexByte(row[from:], delim)
			if want < 0 {
				want = len(row)
			} else {
				want += from
			}
			if got := indexByteOf(row, from, len(row), rep); got != want {
				t.Fatalf("indexByteOf(%q, %d) = %d, want %d", row, from, got, want)
			}
		}
	}
}
