package format

import (
	"io"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/jsonx"
)

// linesScanner makes each non-empty line a record with one field, "line".
type linesScanner struct {
	in     input
	set    settings
	fields [1]envelope.Field
	flags  flagSet
	borrow bool
}

func openLines(r io.Reader, opts Options) (Scanner, error) {
	set, err := parseOptions("lines", opts)
	if err != nil {
		return nil, err
	}
	return newLines(r, set), nil
}

func newLines(r io.Reader, set settings) *linesScanner {
	return &linesScanner{in: newInput(r, set.bufSize), set: set}
}

// Borrow makes the lines' text alias the scanner's buffer (Borrower).
func (s *linesScanner) Borrow() { s.borrow = true }

func (s *linesScanner) Next() (Record, error) {
	for {
		l, err := s.in.readLine(s.set.maxRecord)
		if err != nil {
			return Record{}, err
		}
		if l.size == 0 {
			continue
		}
		if l.over {
			return Record{}, tooLong(l.start, l.line, l.size, l.content, s.set.maxRecord)
		}
		var v, flag string
		if s.borrow && s.set.encoding.plain(l.content) {
			v = jsonx.Alias(l.content)
		} else {
			v, flag = s.set.encoding.decode(l.content)
		}
		s.flags = s.flags[:0]
		s.flags.add(flag)
		s.fields[0] = envelope.Field{Name: "line", Value: v}
		return Record{Fields: s.fields[:], Line: l.line, Offset: l.start, Flags: s.flags}, nil
	}
}
