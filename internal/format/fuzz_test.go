package format

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
)

func FuzzCSV(f *testing.F)   { fuzzFormat(f, "csv") }
func FuzzJSONL(f *testing.F) { fuzzFormat(f, "jsonl") }
func FuzzALB(f *testing.F)   { fuzzFormat(f, "alb") }
func FuzzELB(f *testing.F)   { fuzzFormat(f, "elb") }
func FuzzLines(f *testing.F) { fuzzFormat(f, "lines") }

// FuzzJSONLRaw checks, for any JSON lines, that every envelope the
// splitter writes from NextRaw's text (Encoder.AppendRaw) is byte for
// byte the envelope of Next's fields (Encoder.Append), so it decodes to
// the same fields, and that every other outcome is Next's.
func FuzzJSONLRaw(f *testing.F) {
	for _, s := range []string{
		`{"a":"b","n":1.5,"o":{"x" : [1, "\/"]},"t":true,"z":null}`,
		`{"name":"Caf\u00e9 \"q\"\n\t\r\u001f\u2028 — \\","":""}`,
		"{\"ls\":\"\u2028\",\"ctl\":\"\\u001F\\b\\f\\/\"}",
		`{"a":1, "b":2}`,
		`[{"a":1},{"b":"\ud800"}]`,
		"{\"dup\":1,\"dup\":\"2\"}\r\n {}\t\n\n\"s\"\n{\"a\":\"\xff\"}",
		`{"a":"\/"}`,
		`{"a":"\b","b":"\f"}`,
		`{"a":"\u000a","b":"\u0041"}`,
		`{"Shop Name":"Shop 7","Price":"£4.10","Blurb":"say \"hi\".\nBye — café \u0001\u001f"}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, enc uint8) {
		opts := Options{"encoding": fuzzEncodings[int(enc)%len(fuzzEncodings)]}
		want := drain(t, openSized(t, "jsonl", bytes.NewReader(data), opts, bufferSize), len(data)+4)
		s := openSized(t, "jsonl", bytes.NewReader(data), opts, bufferSize).(RawScanner)
		e := envelope.NewEncoder("s", envelope.Source{Bucket: "b", Key: "k", Format: "jsonl", IngestedAt: time.Unix(1, 0)})
		var fromRaw, fromFields []byte
		var a, b envelope.Decoded
		for i := 0; ; i++ {
			rec, err := s.NextRaw()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("NextRaw: %d outcomes, Next %d", i, len(want))
				}
				return
			}
			if i >= len(want) {
				t.Fatalf("NextRaw: more outcomes than Next's %d", len(want))
			}
			w := want[i]
			var re *RecordError
			if errors.As(err, &re) || w.err != nil {
				if re == nil || w.err == nil || !reflect.DeepEqual(*re, *w.err) {
					t.Fatalf("outcome %d: NextRaw %v, Next %v", i, err, w.err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Line != w.rec.Line || rec.Offset != w.rec.Offset || !slices.Equal(rec.Flags, w.rec.Flags) {
				t.Fatalf("outcome %d: NextRaw %+v, Next %+v", i, rec, w.rec)
			}
			if rec.Raw == nil {
				if !slices.Equal(rec.Fields, w.rec.Fields) {
					t.Fatalf("outcome %d: NextRaw fields %q, Next %q", i, rec.Fields, w.rec.Fields)
				}
				continue
			}
			fromRaw = e.AppendRaw(fromRaw[:0], int64(i), rec.Line, rec.Offset, rec.Flags, rec.Raw)
			fromFields = e.Append(fromFields[:0], int64(i), w.rec.Line, w.rec.Offset, w.rec.Flags, w.rec.Fields)
			if err := envelope.Decode(fromRaw, &a); err != nil {
				t.Fatalf("outcome %d: the envelope of Raw %q does not decode: %v", i, rec.Raw, err)
			}
			if err := envelope.Decode(fromFields, &b); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Fields, b.Fields) || !slices.Equal(a.Fields, w.rec.Fields) {
				t.Fatalf("outcome %d: the envelope of Raw %q decodes to %q, of Next's fields to %q; Next read %q", i, rec.Raw, a.Fields, b.Fields, w.rec.Fields)
			}
			if !bytes.Equal(fromRaw, fromFields) {
				t.Fatalf("outcome %d: envelopes differ:\nRaw:    %s\nfields: %s", i, fromRaw, fromFields)
			}
		}
	})
}

var fuzzEncodings = []string{"auto", "utf-8", "latin1", "windows-1252"}

// fuzzFormat checks, for any input, record limit and encoding, that the
// scanner never panics and always ends; that a one-byte reader with a
// 16-byte buffer gives exactly what a whole reader gives; and that every
// input byte is accounted for by a record or a record error, except blank
// lines, a byte order mark and a csv header.
func fuzzFormat(f *testing.F, format string) {
	inputs, _ := filepath.Glob(filepath.Join("../../testdata/formats", format, "*", "input"))
	for _, p := range inputs {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 4096 {
			continue // long-line cases make slow seeds
		}
		f.Add(b, uint16(1000), uint8(0))
		f.Add(b, uint16(40), uint8(2))
	}
	f.Add([]byte("a,b\n\"x\r\n\"\"\r\ny\",\"\"\"\"\r\n"), uint16(8), uint8(1))
	f.Add([]byte("id;q\n1;\"a \"\"b\"\" c\"\n\n2;\"x;\ny\";\n3\n"), uint16(2000), uint8(0))
	// Rows quotedLine reads, and rows it leaves to quoted.
	f.Add([]byte("a,b,c\n\"x, y\",\"£1,299.00\",z\r\n\"\",\"\"\"\"\",\"\r\n\"q\"z\n,\"\",\n"), uint16(30), uint8(0))
	f.Add([]byte("a,b\n\"x\"y,\"a\"\rb,c\"\r\n\"\"\"\n1,\"12345678901234\"\n"), uint16(12), uint8(0))
	// Quoted cells whose unquoted text joins into one valid rune.
	f.Add([]byte("0\n000\xc3,\"\"\n\"000\xc3\",\"\xbc0000000000\"\n"), uint16(1000), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, enc uint8) {
		opts := Options{
			"max_record_bytes": strconv.Itoa(1 + int(limit)%2048),
			"encoding":         fuzzEncodings[int(enc)%len(fuzzEncodings)],
		}
		calls := len(data) + 4
		whole := openSized(t, format, bytes.NewReader(data), opts, bufferSize)
		got := drain(t, whole, calls)
		small := openSized(t, format, iotest.OneByteReader(bytes.NewReader(data)), opts, 16)
		if a, b := encodeAll(got), encodeAll(drain(t, small, calls)); a != b {
			t.Fatalf("a one-byte reader with a small buffer reads differently:\nwhole:\n%s\nsmall:\n%s", a, b)
		}
		if format != "jsonl" {
			borrowed := borrowing(openSized(t, format, iotest.OneByteReader(bytes.NewReader(data)), opts, 16))
			if a, b := encodeAll(got), encodeAll(drain(t, borrowed, calls)); a != b {
				t.Fatalf("borrowed records read differently:\ncopied:\n%s\nborrowed:\n%s", a, b)
			}
		}
		checkAccounting(t, format, data, whole, got)
		checkText(t, got)
		switch format {
		case "csv":
			compareWithEncodingCSV(t, data, whole.(*csvScanner), got)
			general := openSized(t, format, bytes.NewReader(data), opts, bufferSize).(*csvScanner)
			general.general = true
			if a, b := encodeAll(got), encodeAll(drain(t, general, calls)); a != b {
				t.Fatalf("quotedLine reads differently from quoted:\nquotedLine:\n%s\nquoted:\n%s", a, b)
			}
		case "jsonl":
			raw := &viaRaw{RawScanner: openSized(t, format, iotest.OneByteReader(bytes.NewReader(data)), opts, 16).(RawScanner)}
			if a, b := encodeAll(got), encodeAll(drain(t, raw, calls)); a != b {
				t.Fatalf("NextRaw reads differently:\nNext:\n%s\nNextRaw:\n%s", a, b)
			}
			if whole.(*jsonlScanner).set.encoding <= encUTF8 {
				compareWithEncodingJSON(t, data, got)
			}
		}
	})
}

// compareWithEncodingCSV checks the cells of data against encoding/csv's
// whenever that strict parser accepts data: on well-formed CSV the two
// must agree. (encoding/csv turns "\r\n" in quoted cells into "\n" and
// keeps a byte order mark, so such inputs are left out.)
func compareWithEncodingCSV(t *testing.T, data []byte, s *csvScanner, got []result) {
	if bytes.IndexByte(data, '\r') >= 0 || bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) ||
		!utf8.Valid(data) || s.set.encoding != encAuto || s.delim == 0 || s.headerless {
		return
	}
	for _, r := range got {
		if r.err != nil {
			return
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = rune(s.delim)
	cr.FieldsPerRecord = -1
	want, err := cr.ReadAll()
	if err != nil || len(want) == 0 {
		return
	}
	want = want[1:] // the header
	if len(want) != len(got) {
		t.Fatalf("%d records, encoding/csv reads %d: %q", len(got), len(want), want)
	}
	for i, r := range got {
		cells := make([]string, len(r.rec.Fields))
		for k, f := range r.rec.Fields {
			cells[k] = f.Value
		}
		if !slices.Equal(cells, want[i]) {
			t.Fatalf("record %d: cells %q, encoding/csv reads %q", i, cells, want[i])
		}
	}
}

// checkText checks that every name and value read is valid UTF-8: any
// other bytes must have been decoded, and the record flagged, because the
// envelope would otherwise replace them unseen.
func checkText(t *testing.T, rs []result) {
	t.Helper()
	for i, r := range rs {
		for _, f := range r.rec.Fields {
			if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
				t.Fatalf("record %d: field %q = %q is not UTF-8 (flags %q)", i, f.Name, f.Value, r.rec.Flags)
			}
		}
	}
}

func encodeAll(rs []result) string {
	var b []byte
	for _, r := range rs {
		b = strconv.AppendInt(b, r.start, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, r.end, 10)
		b = append(b, ' ')
		b = appendResult(b, r)
	}
	return string(b)
}

// checkAccounting checks that the records and record errors of data
// account for all of it.
func checkAccounting(t *testing.T, format string, data []byte, s Scanner, rs []result) {
	t.Helper()
	limit := 0
	type span struct{ start, end int64 }
	var covered []span
	if cs, ok := s.(*csvScanner); ok && cs.headerEnd > cs.headerStart {
		covered = append(covered, span{cs.headerStart, cs.headerEnd})
	}
	switch s := s.(type) {
	case *csvScanner:
		limit = s.set.maxRecord
	case *jsonlScanner:
		limit = s.set.maxRecord
	case *logScanner:
		limit = s.set.maxRecord
	case *linesScanner:
		limit = s.set.maxRecord
	}
	var prev span
	lines, counted := int64(1), int64(0) // lines before offset counted
	for i, r := range rs {
		sp := span{r.start, r.end}
		if sp.start >= sp.end || sp.end > int64(len(data)) {
			t.Fatalf("result %d: bad span %v of %d bytes", i, sp, len(data))
		}
		if i > 0 && sp != prev && sp.start < prev.end {
			t.Fatalf("result %d: span %v overlaps %v", i, sp, prev)
		}
		prev = sp
		covered = append(covered, sp)
		text := data[sp.start:sp.end]
		line, off := r.rec.Line, r.rec.Offset
		if r.err != nil {
			line, off = r.err.Line, r.err.Offset
		}
		if off != sp.start {
			t.Fatalf("result %d: offset %d, span starts at %d", i, off, sp.start)
		}
		lines += int64(bytes.Count(data[counted:sp.start], []byte{'\n'}))
		counted = sp.start
		if line != lines {
			t.Fatalf("result %d: line %d, want %d", i, line, lines)
		}
		if r.err != nil {
			var want []byte
			switch {
			case strings.HasPrefix(r.err.Reason, "record is "):
				want = text[:limit]
			case strings.HasPrefix(r.err.Reason, "array element"):
				continue // the element's own text
			case strings.HasPrefix(r.err.Reason, "record has more than"):
				want = trimEOL(text)
			case format == "csv":
				want = text[:min(len(text), limit)]
			default:
				want = trimEOL(text)
			}
			if !bytes.Equal(r.err.Raw, want) {
				t.Fatalf("result %d: raw %q, want %q", i, r.err.Raw, want)
			}
			continue
		}
		content := trimEOL(text)
		plain := utf8.Valid(content) && len(r.rec.Flags) == 0
		switch s := s.(type) {
		case *linesScanner:
			if plain && s.set.encoding <= encUTF8 && r.rec.Fields[0].Value != string(content) {
				t.Fatalf("result %d: line %q, want %q", i, r.rec.Fields[0].Value, content)
			}
		case *csvScanner:
			if plain && s.set.encoding <= encUTF8 && bytes.IndexByte(content, '"') < 0 && !s.headerless {
				vals := make([]string, len(r.rec.Fields))
				for k, f := range r.rec.Fields {
					vals[k] = f.Value
				}
				if got := strings.Join(vals, string(s.delim)); got != string(content) {
					t.Fatalf("result %d: cells joined give %q, want %q", i, got, content)
				}
			}
		}
	}
	// What no span covers must be blank lines or a byte order mark.
	at := int64(0)
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		at = 3
	}
	gap := func(a, b int64) {
		for _, piece := range strings.Split(string(data[a:b]), "\n") {
			blank := piece == "" || piece == "\r"
			if format != "csv" && format != "lines" {
				blank = isBlank([]byte(piece))
			}
			if !blank {
				t.Fatalf("bytes %d to %d are in no record: %q", a, b, piece)
			}
		}
	}
	// Spans are in order, except a csv header placed first.
	for _, sp := range covered {
		if sp.start > at {
			gap(at, sp.start)
		}
		at = max(at, sp.end)
	}
	if at < int64(len(data)) {
		gap(at, int64(len(data)))
	}
}

// compareWithEncodingJSON checks each valid UTF-8 line within the size
// limit, read as UTF-8, against encoding/json's reading of it: the same
// keys in the same order, strings decoded alike, other values the same
// JSON.
func compareWithEncodingJSON(t *testing.T, data []byte, got []result) {
	for i := 0; i < len(got); {
		j := i + 1
		for j < len(got) && got[j].start == got[i].start {
			j++
		}
		group := got[i:j]
		line := trimEOL(data[group[0].start:group[0].end])
		i = j
		if !utf8.Valid(line) || group[0].err != nil && strings.HasPrefix(group[0].err.Reason, "record is ") {
			continue
		}
		// The scanner checks JSON in its own single pass: it must refuse
		// exactly what encoding/json refuses, the line as a whole.
		invalid := len(group) == 1 && group[0].err != nil && strings.HasPrefix(group[0].err.Reason, "invalid JSON at byte ")
		if valid := json.Valid(line); valid == invalid {
			t.Fatalf("line %q: encoding/json says valid=%v, the scanner gave %d results, first %+v", line, valid, len(group), group[0].err)
		}
		if invalid {
			continue
		}
		var elems []json.RawMessage
		if l := bytes.TrimLeft(line, " \t\r"); l[0] == '[' {
			if err := json.Unmarshal(line, &elems); err != nil {
				t.Fatal(err)
			}
		} else {
			elems = []json.RawMessage{line}
		}
		if len(elems) == 0 {
			// An empty array is one dead letter, so the line leaves a trace.
			if len(group) != 1 || group[0].err == nil {
				t.Fatalf("line %q: an empty array gave %d results, want one error", line, len(group))
			}
			continue
		}
		if len(elems) != len(group) {
			t.Fatalf("line %q: %d results, want %d", line, len(group), len(elems))
		}
		for k, e := range elems {
			want, isObject := jsonFields(t, e)
			if !isObject {
				if group[k].err == nil {
					t.Fatalf("line %q: element %d is not an object but gave a record", line, k)
				}
				continue
			}
			if group[k].err != nil {
				t.Fatalf("line %q: element %d: %v", line, k, group[k].err)
			}
			fields := group[k].rec.Fields
			if len(fields) != len(want) {
				t.Fatalf("line %q: %d fields, want %d", line, len(fields), len(want))
			}
			for n, f := range fields {
				w := want[n]
				ok := f.Name == w.Name && f.Kind == w.Kind
				switch f.Kind {
				case envelope.Raw:
					var a, b bytes.Buffer
					ok = ok && json.Compact(&a, []byte(f.Value)) == nil && json.Compact(&b, []byte(w.Value)) == nil && a.String() == b.String()
				case envelope.String:
					ok = ok && f.Value == w.Value
				}
				if !ok {
					t.Fatalf("line %q: field %d is %+v, encoding/json reads %+v", line, n, f, w)
				}
			}
		}
	}
}

// jsonFields reads the top-level fields of a JSON object in order.
func jsonFields(t *testing.T, b []byte) ([]envelope.Field, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var fields []envelope.Field
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		f := envelope.Field{Name: key.(string), Value: string(raw), Kind: envelope.Raw}
		switch raw[0] {
		case '"':
			f.Kind = envelope.String
			if err := json.Unmarshal(raw, &f.Value); err != nil {
				t.Fatal(err)
			}
		case 'n':
			f.Kind, f.Value = envelope.Null, ""
		}
		fields = append(fields, f)
	}
	return fields, true
}

// TestJSONLDepthAsEncodingJSON checks the nesting limit is encoding/json's.
func TestJSONLDepthAsEncodingJSON(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001} {
		line := `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + "}\n"
		got := drain(t, openSized(t, "jsonl", strings.NewReader(line), Options{}, bufferSize), 4)
		compareWithEncodingJSON(t, []byte(line), got)
		if refused := got[0].err != nil; refused != !json.Valid([]byte(line)) {
			t.Errorf("depth %d: refused=%v, encoding/json valid=%v", depth, refused, json.Valid([]byte(line)))
		}
		raw := &viaRaw{RawScanner: openSized(t, "jsonl", strings.NewReader(line), Options{}, bufferSize).(RawScanner)}
		// A line within the limit is canonical: NextRaw checks its depth.
		if a, b := encodeAll(got), encodeAll(drain(t, raw, 4)); a != b || (got[0].err == nil) != (raw.raws == 1) {
			t.Errorf("depth %d: NextRaw reads %s (%d raw), Next %s", depth, b, raw.raws, a)
		}
	}
}

// FuzzLogParts checks the access log scanner's parts against plain
// byte-by-byte readings of the same rules: the entries split finds (the
// quoted ones found eight bytes at a time), unescape's decoding of a query
// component, and the names paramName gives, remembered by position or
// not, for the '&'-separated pieces of the line taken as a query string.
func FuzzLogParts(f *testing.F) {
	f.Add([]byte(`h2 2024 "GET /e?e=page_view&p=%2Fp%2F1&vid=v-1 HTTP/1.1" "a \"q\" \\ b" "x"y" -`))
	f.Add([]byte(`"\\" "\"" "" " a+b=c+d&%zz=1&=x&&y&p=%C3%A9&q=%FF&type=a&_field3=c&%74ype=b`))
	f.Add([]byte(`a&b&c&e&p&vid`))
	f.Fuzz(func(t *testing.T, line []byte) {
		s := newLog(albLayout, bytes.NewReader(nil), settings{maxRecord: 1 << 20, bufSize: bufferSize})
		want, wantReason := refSplit(line)
		if reason := s.split(line); reason != wantReason || (reason == "" && !slices.Equal(s.entries, want)) {
			t.Fatalf("split(%q) = %v %q, want %v %q", line, s.entries, reason, want, wantReason)
		}
		v := string(line)
		if got, want := s.unescape(v), refUnescape(s, v); got != want {
			t.Fatalf("unescape(%q) = %q, want %q", v, got, want)
		}
		for round := 0; round < 2; round++ {
			for k, raw := range strings.Split(v, "&") {
				want := refUnescape(s, raw)
				if albLayout.reserved[want] || strings.HasPrefix(want, "_field") || want == "" {
					want = "qs_" + want
				}
				// The second round asks by other positions than the first.
				if got := s.paramName(raw, (k+round)%3); got != want {
					t.Fatalf("paramName(%q, %d) = %q, want %q", raw, (k+round)%3, got, want)
				}
			}
		}
	})
}

// refSplit is split read one byte at a time.
func refSplit(b []byte) ([]entry, string) {
	var entries []entry
	for i := 0; i < len(b); {
		if b[i] == ' ' {
			i++
			continue
		}
		if b[i] != '"' {
			j := i
			for j < len(b) && b[j] != ' ' {
				j++
			}
			entries = append(entries, entry{a: i, b: j})
			i = j
			continue
		}
		e := entry{a: i + 1}
		j := i + 1
		for ; j < len(b); j++ {
			if b[j] == '\\' && j+1 < len(b) && (b[j+1] == '"' || b[j+1] == '\\') {
				e.escaped = true
				j++
				continue
			}
			if b[j] == '"' && (j+1 == len(b) || b[j+1] == ' ') {
				break
			}
		}
		if j == len(b) {
			return nil, "unterminated quoted field starting at byte " + strconv.Itoa(i+1) + " of the line"
		}
		e.b = j
		entries = append(entries, e)
		i = j + 1
	}
	if len(entries) < albLayout.minimum {
		return nil, "an alb access log entry has at least " + strconv.Itoa(albLayout.minimum) +
			" fields (up to the request); this line has " + strconv.Itoa(len(entries))
	}
	return entries, ""
}

// refUnescape is unescape read one byte at a time.
func refUnescape(s *logScanner, v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	var b []byte
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return s.decode(b)
}
