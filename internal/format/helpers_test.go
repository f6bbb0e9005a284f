package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/schema"
)

// openSized opens a scanner like New, with a read buffer of size bytes, so
// tests can put line and chunk boundaries anywhere.
func openSized(t testing.TB, format string, r io.Reader, opts Options, size int) Scanner {
	t.Helper()
	set, err := parseOptions(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	set.bufSize = size
	switch format {
	case "csv":
		return newCSV(r, set)
	case "jsonl":
		return newJSONL(r, set)
	case "alb":
		return newLog(albLayout, r, set)
	case "elb":
		return newLog(elbLayout, r, set)
	case "lines":
		return newLines(r, set)
	}
	t.Fatalf("no format %q", format)
	return nil
}

// inputOf is the input under a scanner, for the byte accounting.
func inputOf(s Scanner) *input {
	switch s := s.(type) {
	case *csvScanner:
		return &s.in
	case *jsonlScanner:
		return &s.in
	case *logScanner:
		return &s.in
	case *linesScanner:
		return &s.in
	case *viaRaw:
		return inputOf(s.RawScanner)
	case *viaBorrow:
		return inputOf(s.Borrower)
	}
	panic("unknown scanner")
}

// viaBorrow reads a Borrower that borrows, copying each record's strings
// before the next call, as the splitter encodes them: every test of Next
// applies to borrowed records through it, and a string that changed by
// the next call shows as a difference.
type viaBorrow struct{ Borrower }

func borrowing(s Scanner) *viaBorrow {
	b := s.(Borrower)
	b.Borrow()
	return &viaBorrow{b}
}

func (s *viaBorrow) Next() (Record, error) {
	rec, err := s.Borrower.Next()
	fields := make([]envelope.Field, len(rec.Fields))
	for i, f := range rec.Fields {
		fields[i] = envelope.Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value), Kind: f.Kind}
	}
	rec.Fields = fields
	return rec, err
}

// viaRaw reads a RawScanner by NextRaw, handing each Raw record over with
// the fields the envelope's reader finds in its text: every test of Next
// applies to NextRaw through it. raws counts the Raw records.
type viaRaw struct {
	RawScanner
	raws int
}

func (s *viaRaw) Next() (Record, error) {
	rec, err := s.NextRaw()
	if err != nil || rec.Raw == nil {
		return rec, err
	}
	s.raws++
	fields, err := rawFields(rec.Raw)
	if err != nil {
		return Record{}, fmt.Errorf("NextRaw gave Raw %q that is not a JSON object: %w", rec.Raw, err)
	}
	rec.Raw, rec.Fields = nil, fields
	return rec, nil
}

// rawFields reads a Raw record's fields as envelope.Decode reads "fields".
func rawFields(raw []byte) ([]envelope.Field, error) {
	var fields []envelope.Field
	p := jsonx.Scanner{Data: bytes.Clone(raw)}
	err := p.Object(func(name string, kind jsonx.Kind, val string) error {
		fields = append(fields, envelope.Field{Name: name, Value: val, Kind: envelope.FieldKind(kind)})
		return nil
	})
	if err == nil && p.I != len(p.Data) {
		err = p.Fail("data after the object")
	}
	return fields, err
}

// result is one outcome of Next, copied so it outlives the call.
type result struct {
	rec        Record
	err        *RecordError
	start, end int64 // the input it came from
}

// drain reads s to its end. It fails the test on an error other than a
// record error, and on a scanner that does not end within limit calls.
func drain(t testing.TB, s Scanner, limit int) []result {
	t.Helper()
	var out []result
	for n := 0; ; n++ {
		if n > limit {
			t.Fatalf("scanner still returning records after %d calls", limit)
		}
		rec, err := s.Next()
		in := inputOf(s)
		if err == io.EOF {
			return out
		}
		var re *RecordError
		if errors.As(err, &re) {
			out = append(out, result{err: re, start: in.start, end: in.end})
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rec.Fields = append([]envelope.Field(nil), rec.Fields...)
		rec.Flags = append([]string(nil), rec.Flags...)
		out = append(out, result{rec: rec, start: in.start, end: in.end})
	}
}

// appendResult writes r as one line of a golden file.
func appendResult(dst []byte, r result) []byte {
	if r.err != nil {
		e := r.err
		dst = append(dst, `{"line":`...)
		dst = strconv.AppendInt(dst, e.Line, 10)
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendInt(dst, e.Offset, 10)
		dst = append(dst, `,"error":`...)
		dst = schema.AppendString(dst, e.Reason)
		raw := e.Raw
		if len(raw) > 200 {
			dst = append(dst, `,"raw_len":`...)
			dst = strconv.AppendInt(dst, int64(len(raw)), 10)
			raw = raw[:200]
		}
		dst = append(dst, `,"raw":`...)
		dst = schema.AppendString(dst, string(raw))
		return append(dst, "}\n"...)
	}
	dst = append(dst, `{"line":`...)
	dst = strconv.AppendInt(dst, r.rec.Line, 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, r.rec.Offset, 10)
	if len(r.rec.Flags) > 0 {
		dst = append(dst, `,"flags":[`...)
		for i, f := range r.rec.Flags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = schema.AppendString(dst, f)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"fields":{`...)
	for i, f := range r.rec.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = schema.AppendString(dst, f.Name)
		dst = append(dst, ':')
		switch f.Kind {
		case envelope.Raw:
			dst = append(dst, f.Value...)
		case envelope.Null:
			dst = append(dst, "null"...)
		default:
			dst = schema.AppendString(dst, shorten(f.Value))
		}
	}
	return append(dst, "}}\n"...)
}

// shorten keeps golden files readable when a case has a very long value.
func shorten(v string) string {
	if len(v) <= 300 {
		return v
	}
	return v[:100] + "…(" + strconv.Itoa(len(v)) + " bytes)"
}
