package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sluicehq/sluice/internal/envelope"
)

// jsonlScanner reads one JSON value per line. An object is a record whose
// top-level keys are its fields: strings as String, null as Null, anything
// else as Raw JSON text. An array of objects is one record per element.
type jsonlScanner struct {
	in     input
	set    settings
	fields []envelope.Field
	flags  flagSet

	// The array line being split into records, if any.
	array       string
	at          int // where the next element starts, or -1
	elem        int // elements read so far
	line, start int64
}

func openJSONL(r io.Reader, opts Options) (Scanner, error) {
	set, err := parseOptions("jsonl", opts)
	if err != nil {
		return nil, err
	}
	return newJSONL(r, set), nil
}

func newJSONL(r io.Reader, set settings) *jsonlScanner {
	return &jsonlScanner{in: newInput(r, set.bufSize), set: set, at: -1}
}

func (s *jsonlScanner) Next() (Record, error) {
	for {
		if s.at >= 0 {
			if rec, ok, err := s.element(); ok {
				return rec, err
			}
		}
		l, err := s.in.readLine(s.set.maxRecord)
		if err != nil {
			return Record{}, err
		}
		if l.over {
			return Record{}, tooLong(l.start, l.line, l.size, l.content, s.set.maxRecord)
		}
		if isBlank(l.content) {
			continue
		}
		b, text, flag := l.content, "", ""
		if s.set.encoding.plain(b) {
			text = string(b)
		} else {
			text, flag = s.set.encoding.decode(b)
			b = []byte(text)
		}
		s.flags = s.flags[:0]
		s.flags.add(flag)
		if !json.Valid(b) {
			return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content), Reason: invalidJSON(b)}
		}
		i := skipSpace(text, 0)
		switch text[i] {
		case '{':
			if !s.object(text, i) {
				return Record{}, tooManyFields(l.start, l.line, l.content)
			}
			return Record{Fields: s.fields, Line: l.line, Offset: l.start, Flags: s.flags}, nil
		case '[':
			s.array, s.at, s.elem, s.line, s.start = text, i+1, 0, l.line, l.start
		default:
			return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content),
				Reason: fmt.Sprintf("the line is a JSON %s, not an object or an array of objects", jsonKind(text[i]))}
		}
	}
}

// element returns the next element of the array line as a record, or
// ok=false when the array is done.
func (s *jsonlScanner) element() (rec Record, ok bool, err error) {
	t := s.array
	i := skipSpace(t, s.at)
	if t[i] == ',' {
		i = skipSpace(t, i+1)
	}
	if t[i] == ']' {
		s.array, s.at = "", -1
		return Record{}, false, nil
	}
	end := valueEnd(t, i)
	s.at = end
	s.elem++
	if t[i] != '{' {
		return Record{}, true, &RecordError{Line: s.line, Offset: s.start, Raw: []byte(t[i:end]),
			Reason: fmt.Sprintf("array element %d is a JSON %s, not an object", s.elem, jsonKind(t[i]))}
	}
	if !s.object(t, i) {
		return Record{}, true, tooManyFields(s.start, s.line, []byte(t[i:end]))
	}
	return Record{Fields: s.fields, Line: s.line, Offset: s.start, Flags: s.flags}, true, nil
}

// object reads the fields of the valid JSON object starting at t[i], or
// reports false for an object of more than maxFields keys.
func (s *jsonlScanner) object(t string, i int) bool {
	s.fields = s.fields[:0]
	i++
	for {
		i = skipSpace(t, i)
		switch t[i] {
		case '}':
			return true
		case ',':
			i++
			continue
		}
		if len(s.fields) == maxFields {
			return false
		}
		kEnd := stringEnd(t, i)
		name := unquote(t[i:kEnd])
		i = skipSpace(t, kEnd) + 1 // past ':'
		i = skipSpace(t, i)
		vEnd := valueEnd(t, i)
		f := envelope.Field{Name: name, Value: t[i:vEnd], Kind: envelope.Raw}
		switch t[i] {
		case '"':
			f.Value, f.Kind = unquote(f.Value), envelope.String
		case 'n':
			f.Value, f.Kind = "", envelope.Null
		}
		s.fields = append(s.fields, f)
		i = vEnd
	}
}

// invalidJSON says why b is not JSON, and where.
func invalidJSON(b []byte) string {
	err := json.Unmarshal(b, new(json.RawMessage))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d of the line: %v", se.Offset, se)
	}
	return fmt.Sprintf("invalid JSON: %v", err)
}

func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	return "number"
}

// The helpers below walk text already checked by json.Valid.

func skipSpace(t string, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at t[i].
func stringEnd(t string, i int) int {
	for j := i + 1; j < len(t); j++ {
		switch t[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(t)
}

// valueEnd returns the index just past the value starting at t[i].
func valueEnd(t string, i int) int {
	switch t[i] {
	case '"':
		return stringEnd(t, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(t); j++ {
			switch t[j] {
			case '"':
				j = stringEnd(t, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(t)
	}
	j := i
	for j < len(t) && !strings.ContainsRune(",]} \t\r\n", rune(t[j])) {
		j++
	}
	return j
}

// unquote decodes the JSON string literal q.
func unquote(q string) string {
	if strings.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	if err := json.Unmarshal([]byte(q), &s); err != nil {
		return q[1 : len(q)-1] // unreachable for valid JSON
	}
	return s
}
