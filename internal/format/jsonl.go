package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/jsonx"
)

// jsonlScanner reads one JSON value per line. An object is a record whose
// top-level keys are its fields: strings as String, null as Null, anything
// else as Raw JSON text. An array of objects is one record per element; an
// empty array is a RecordError, so that every line leaves a trace.
//
// Each line is read in one pass that both checks it is JSON (as strictly
// as encoding/json) and takes its fields: a line is a record or a record
// error before any of it is returned.
type jsonlScanner struct {
	in  input
	set settings
	// texts holds the records' texts, many to an allocation.
	texts  texts
	fields []envelope.Field
	flags  flagSet

	// The array line being split into records: its elements, the fields
	// of the object ones one after another, and the next to return.
	elems       []element
	next        int
	line, start int64
	text        string
}

// element is one element of an array line: its JSON text and, for an
// object, its fields as fields[lo:hi].
type element struct {
	raw     string
	object  bool
	tooMany bool
	lo, hi  int
}

func openJSONL(r io.Reader, opts Options) (Scanner, error) {
	set, err := parseOptions("jsonl", opts)
	if err != nil {
		return nil, err
	}
	return newJSONL(r, set), nil
}

func newJSONL(r io.Reader, set settings) *jsonlScanner {
	return &jsonlScanner{in: newInput(r, set.bufSize), set: set, texts: rowTexts()}
}

func (s *jsonlScanner) Next() (Record, error) { return s.scan(false) }

// NextRaw is Next, except that a line that is one canonical JSON object
// (see jsonx.Scanner.Canonical) is only checked and handed over as Raw,
// without a copy: its fields are not read.
func (s *jsonlScanner) NextRaw() (Record, error) { return s.scan(true) }

func (s *jsonlScanner) scan(raw bool) (Record, error) {
	for {
		if s.next < len(s.elems) {
			return s.element()
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
		plain := s.set.encoding.plain(b)
		if plain && raw {
			// No transcoding and no replacement: the text is the
			// record's. Anything but a canonical object (or invalid
			// JSON) is read again below, as Next reads it.
			p := jsonx.Scanner{Data: b}
			p.WS()
			start := p.I
			if p.Canonical(maxFields) && !p.Replaced {
				end := p.I
				if p.WS(); p.I == len(b) {
					return Record{Raw: b[start:end], Line: l.line, Offset: l.start}, nil
				}
			}
		}
		if plain {
			text = s.texts.chunks.Bytes(b)
		} else {
			text, flag = s.set.encoding.decode(b)
			b = []byte(text)
		}
		s.flags = s.flags[:0]
		s.flags.add(flag)
		// The scanner reads text's bytes and never writes them; the fields
		// it returns alias text, which is the record's own copy.
		p := jsonx.Scanner{Data: unsafe.Slice(unsafe.StringData(text), len(text))}
		s.fields, s.elems, s.next = s.fields[:0], s.elems[:0], 0
		var tooMany bool
		switch c := p.Peek(); c {
		case '{':
			tooMany, err = s.object(&p)
		case '[':
			err = s.array(&p)
		default:
			_, _, _, err = p.Value()
		}
		if err == nil {
			p.WS()
			if p.I != len(p.Data) {
				err = p.Fail("data after the value")
			}
		}
		if p.Replaced {
			s.flags.add(flagReplaced) // a lone surrogate read as U+FFFD
		}
		if err != nil {
			s.elems = s.elems[:0]
			return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content), Reason: invalidJSON(b)}
		}
		switch text[skipSpace(text, 0)] {
		case '{':
			if tooMany {
				return Record{}, tooManyFields(l.start, l.line, l.content)
			}
			return Record{Fields: s.fields, Line: l.line, Offset: l.start, Flags: s.flags}, nil
		case '[':
			if len(s.elems) == 0 {
				// Every line leaves a trace: an empty array would otherwise
				// vanish without a record or a dead letter.
				return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content),
					Reason: "the line is an empty JSON array: it holds no record"}
			}
			s.line, s.start, s.text = l.line, l.start, text
		default:
			return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content),
				Reason: fmt.Sprintf("the line is a JSON %s, not an object or an array of objects", jsonKind(text[skipSpace(text, 0)]))}
		}
	}
}

// element returns the array line's next element as a record.
func (s *jsonlScanner) element() (Record, error) {
	e := s.elems[s.next]
	s.next++
	if !e.object {
		return Record{}, &RecordError{Line: s.line, Offset: s.start, Raw: []byte(e.raw),
			Reason: fmt.Sprintf("array element %d is a JSON %s, not an object", s.next, jsonKind(e.raw[0]))}
	}
	if e.tooMany {
		return Record{}, tooManyFields(s.start, s.line, []byte(e.raw))
	}
	return Record{Fields: s.fields[e.lo:e.hi], Line: s.line, Offset: s.start, Flags: s.flags}, nil
}

// object reads the object at p.I, appending its fields to s.fields; past
// maxFields it goes on checking the JSON but keeps no more fields and
// reports tooMany.
func (s *jsonlScanner) object(p *jsonx.Scanner) (tooMany bool, err error) {
	lo := len(s.fields)
	err = p.Object(func(name string, kind jsonx.Kind, val string) error {
		if len(s.fields)-lo == maxFields {
			tooMany = true
			return nil
		}
		f := envelope.Field{Name: name, Value: val, Kind: envelope.FieldKind(kind)} // the same kinds
		s.fields = append(s.fields, f)
		return nil
	})
	return tooMany, err
}

// array reads the array at p.I into s.elems.
func (s *jsonlScanner) array(p *jsonx.Scanner) error {
	return p.Elements(func() error {
		start := p.I
		e := element{object: start < len(p.Data) && p.Data[start] == '{', lo: len(s.fields)}
		var err error
		if e.object {
			e.tooMany, err = s.object(p)
		} else {
			_, _, _, err = p.Value()
		}
		e.hi = len(s.fields)
		e.raw = jsonx.Alias(p.Data[start:p.I])
		s.elems = append(s.elems, e)
		return err
	})
}

// invalidJSON says why b is not JSON, and where, as encoding/json words it.
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

func skipSpace(t string, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n') {
		i++
	}
	return i
}
