package format

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/envelope"
)

// Record is one raw record as a format reads it.
type Record struct {
	// Fields are the record's raw fields, in input order.
	Fields []envelope.Field
	// Line is the 1-based line of the record's first byte; Offset its byte
	// offset in the (decompressed) input.
	Line   int64
	Offset int64
	// Flags mark records kept despite a defect, e.g. "ragged".
	Flags []string
	// Raw, set only by RawScanner.NextRaw, is the record as the JSON
	// object text an envelope's "fields" holds for its fields (see
	// envelope.Encoder.AppendRaw); Fields is then nil. It is valid until
	// the next call.
	Raw []byte
}

// RecordError is a record that cannot be parsed. It is not fatal: the
// scanner continues after it, and the caller dead-letters Raw with Reason.
type RecordError struct {
	Line   int64
	Offset int64
	Raw    []byte
	Reason string
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("format: line %d (offset %d): %s", e.Line, e.Offset, e.Reason)
}

// Scanner reads records one at a time. Next returns io.EOF at the end, a
// *RecordError for a record it could not parse (call Next again), or any
// other error for a fault that ends the scan (an I/O error), after which
// Next keeps returning that error.
//
// A Record's Fields and Flags slices are reused by the next call: copy
// them to keep them. The strings in them (names and values) are never
// overwritten and may be kept. A RecordError's Raw is the caller's.
type Scanner interface {
	Next() (Record, error)
}

// Borrower is a Scanner that can give its records strings that alias its
// own memory instead of copies. After Borrow, a record's strings (like its
// Fields and Flags slices) are valid only until the next call to Next; a
// RecordError's Raw is still the caller's. The splitter borrows when it
// encodes each record before reading the next and keeps none of it.
type Borrower interface {
	Scanner
	Borrow()
}

// RawScanner is a Scanner that can hand over a record as its own text when
// that text is already what an envelope holds for the record's fields: a
// JSON line of one object written as the envelope's encoder writes one
// (see jsonx.Scanner.Canonical), in UTF-8. NextRaw returns such a record
// with Raw set and no Fields, checked as JSON but not unescaped, and any
// other record or record error as Next does. The splitter uses it when
// nothing but the envelope reads the fields.
type RawScanner interface {
	Scanner
	NextRaw() (Record, error)
}

// Options are a route's format options (e.g. "delimiter", "encoding",
// "max_record_bytes"). An option the format does not take is an error.
type Options map[string]string

// New opens a scanner of the named format on r.
func New(name string, r io.Reader, opts Options) (Scanner, error) {
	open, ok := formats[name]
	if !ok {
		return nil, fmt.Errorf("format: unknown format %q", name)
	}
	return open(r, opts)
}

// CheckOptions reports whether opts are options the named format takes,
// with valid values, so a configuration can be checked before any object
// is read.
func CheckOptions(name string, opts Options) error {
	if _, ok := formats[name]; !ok {
		return fmt.Errorf("format: unknown format %q", name)
	}
	_, err := parseOptions(name, opts)
	return err
}

// formats lists every format by name.
var formats = map[string]func(io.Reader, Options) (Scanner, error){
	"csv":   openCSV,
	"jsonl": openJSONL,
	"elb":   openELB,
	"alb":   openALB,
	"lines": openLines,
}
