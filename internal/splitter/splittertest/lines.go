// Package splittertest holds test helpers for code that runs the splitter
// before (or without) the real formats: a minimal line format.
package splittertest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
)

// OpenFormat opens "lines": one record per line with one field "line"; a
// line starting with "BAD" is a *format.RecordError, and one starting with
// "RAGGED" is kept with the flag "ragged". "broken" reads a byte
// and gives up on the data; any other name is unknown.
func OpenFormat(name string, r io.Reader, _ format.Options) (format.Scanner, error) {
	switch name {
	case "lines":
	case "broken":
		if _, err := r.Read(make([]byte, 1)); err != nil {
			return nil, err
		}
		return nil, errors.New("format: broken cannot read this")
	default:
		return nil, fmt.Errorf("format: unknown format %q", name)
	}
	return &lines{r: bufio.NewReaderSize(r, 64<<10)}, nil
}

type lines struct {
	r      *bufio.Reader
	line   int64
	offset int64
	fields [1]envelope.Field
}

func (s *lines) Next() (format.Record, error) {
	b, err := s.r.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) { // a long line: keep going
		var more []byte
		more, err = s.r.ReadSlice('\n')
		b = append(bytes.Clone(b), more...)
	}
	if len(b) == 0 && err != nil {
		return format.Record{}, err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return format.Record{}, err
	}
	s.line++
	off := s.offset
	s.offset += int64(len(b))
	text := strings.TrimSuffix(string(b), "\n")
	if strings.HasPrefix(text, "BAD") {
		return format.Record{}, &format.RecordError{Line: s.line, Offset: off, Raw: []byte(text), Reason: "line starts with BAD"}
	}
	s.fields[0] = envelope.Field{Name: "line", Value: text}
	rec := format.Record{Fields: s.fields[:], Line: s.line, Offset: off}
	if strings.HasPrefix(text, "RAGGED") {
		rec.Flags = []string{"ragged"}
	}
	return rec, nil
}
