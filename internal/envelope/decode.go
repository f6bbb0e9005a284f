package envelope

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodeError says why a record is not a JSON object sluice can read.
type DecodeError struct {
	Offset int
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("envelope: byte %d: %s", e.Offset, e.Reason)
}

// Decoded is a decoded record: an envelope, or a bare JSON object whose
// top-level keys are its fields (Bare is then true and only Fields is set).
type Decoded struct {
	Record
	Bare bool
	top  []Field
	// Flags mark a record the splitter kept despite a defect ("ragged").
	Flags []string
}

// Decode parses one record. Envelope strings without escapes alias data
// (no copy), so data must not change while d is in use. d's slices are
// reused.
//
// A JSON object is an envelope when it has a numeric "v" and an object
// "fields"; any other object is bare.
func Decode(data []byte, d *Decoded) error {
	d.ID, d.Schema, d.Source, d.Bare = "", "", Source{}, false
	d.Fields, d.Flags, d.top = d.Fields[:0], d.Flags[:0], d.top[:0]
	p := parser{data: data}
	p.ws()
	if p.i >= len(data) || data[p.i] != '{' {
		return p.fail("a record must be a JSON object")
	}
	var hasV, hasFields bool
	var sourceRaw, flagsRaw []byte
	err := p.members(func(key string) error {
		if key == "fields" && p.peek() == '{' {
			if hasFields {
				return p.fail("duplicate key \"fields\"")
			}
			hasFields = true
			start := p.i
			err := p.members(func(name string) error {
				kind, val, _, err := p.value()
				d.Fields = append(d.Fields, Field{Name: name, Value: val, Kind: kind})
				return err
			})
			d.top = append(d.top, Field{Name: key, Value: alias(data[start:p.i]), Kind: Raw})
			return err
		}
		kind, val, raw, err := p.value()
		if err != nil {
			return err
		}
		d.top = append(d.top, Field{Name: key, Value: val, Kind: kind})
		switch key {
		case "v":
			hasV = kind == Raw && raw[0] >= '0' && raw[0] <= '9'
		case "id":
			d.ID = val
		case "schema":
			d.Schema = val
		case "source":
			if raw[0] == '{' {
				sourceRaw = raw
			}
		case "flags":
			if raw[0] == '[' {
				flagsRaw = raw
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.ws()
	if p.i != len(data) {
		return p.fail("unexpected data after the JSON object")
	}
	if !hasV || !hasFields {
		d.ID, d.Schema, d.Bare = "", "", true
		d.Fields = append(d.Fields[:0], d.top...)
		return nil
	}
	if sourceRaw != nil {
		if err := decodeSource(sourceRaw, &d.Source); err != nil {
			return err
		}
	}
	if flagsRaw != nil {
		fp := parser{data: flagsRaw}
		return fp.array(func(kind FieldKind, val string) {
			if kind == String {
				d.Flags = append(d.Flags, val)
			}
		})
	}
	return nil
}

func decodeSource(raw []byte, s *Source) error {
	p := parser{data: raw}
	return p.object(func(key string, kind FieldKind, val string) error {
		switch key {
		case "bucket":
			s.Bucket = val
		case "key":
			s.Key = val
		case "version":
			s.Version = val
		case "etag":
			s.ETag = val
		case "format":
			s.Format = val
		case "line", "offset":
			n, err := strconv.ParseInt(val, 10, 64)
			if kind != Raw || err != nil {
				return &DecodeError{Reason: fmt.Sprintf("source.%s must be an integer", key)}
			}
			if key == "line" {
				s.Line = n
			} else {
				s.Offset = n
			}
		case "ingested_at":
			if kind == String {
				t, err := time.Parse(time.RFC3339Nano, val)
				if err != nil {
					return &DecodeError{Reason: "source.ingested_at must be an RFC 3339 time"}
				}
				s.IngestedAt = t
			}
		}
		return nil
	})
}

type parser struct {
	data []byte
	i    int
}

func (p *parser) fail(reason string) error { return &DecodeError{Offset: p.i, Reason: reason} }

func (p *parser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

// members parses an object at p.i, calling fn with each key; fn must consume
// the member's value.
func (p *parser) members(fn func(key string) error) error {
	p.ws()
	if p.i >= len(p.data) || p.data[p.i] != '{' {
		return p.fail("expected an object")
	}
	p.i++
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return p.fail("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return p.fail("expected ':' after a key")
		}
		p.i++
		if err := fn(key); err != nil {
			var de *DecodeError
			if errors.As(err, &de) && de.Offset == 0 {
				de.Offset = p.i
			}
			return err
		}
		p.ws()
		if p.i >= len(p.data) {
			return p.fail("unterminated object")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}' in an object")
		}
	}
}

// object parses an object at p.i, calling fn for each member: strings are
// unescaped (kind String), null is Null, anything else is Raw with its JSON
// text as val.
func (p *parser) object(fn func(key string, kind FieldKind, val string) error) error {
	return p.members(func(key string) error {
		kind, val, _, err := p.value()
		if err != nil {
			return err
		}
		return fn(key, kind, val)
	})
}

// array parses an array at p.i, calling fn for each element.
func (p *parser) array(fn func(kind FieldKind, val string)) error {
	p.ws()
	if p.i >= len(p.data) || p.data[p.i] != '[' {
		return p.fail("expected an array")
	}
	p.i++
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		kind, val, _, err := p.value()
		if err != nil {
			return err
		}
		fn(kind, val)
		p.ws()
		if p.i >= len(p.data) {
			return p.fail("unterminated array")
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or ']' in an array")
		}
	}
}

func (p *parser) value() (FieldKind, string, []byte, error) {
	p.ws()
	if p.i >= len(p.data) {
		return 0, "", nil, p.fail("expected a value")
	}
	start := p.i
	switch c := p.data[p.i]; {
	case c == '"':
		s, err := p.str()
		return String, s, p.data[start:p.i], err
	case c == '{' || c == '[':
		if err := p.skipNested(); err != nil {
			return 0, "", nil, err
		}
	case c == 't':
		if err := p.lit("true"); err != nil {
			return 0, "", nil, err
		}
	case c == 'f':
		if err := p.lit("false"); err != nil {
			return 0, "", nil, err
		}
	case c == 'n':
		if err := p.lit("null"); err != nil {
			return 0, "", nil, err
		}
		return Null, "", p.data[start:p.i], nil
	case c == '-' || (c >= '0' && c <= '9'):
		if err := p.number(); err != nil {
			return 0, "", nil, err
		}
	default:
		return 0, "", nil, p.fail(fmt.Sprintf("unexpected character %q", c))
	}
	raw := p.data[start:p.i]
	return Raw, alias(raw), raw, nil
}

func (p *parser) lit(word string) error {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return p.fail("invalid literal")
	}
	p.i += len(word)
	return nil
}

func (p *parser) number() error {
	start := p.i
	if p.data[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.data) && p.data[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return p.fail("invalid number")
	}
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail("invalid number")
		}
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail("invalid number")
		}
	}
	if p.i == start {
		return p.fail("invalid number")
	}
	return nil
}

// skipNested skips an object or array, validating its JSON.
func (p *parser) skipNested() error {
	if p.data[p.i] == '{' {
		return p.object(func(string, FieldKind, string) error { return nil })
	}
	return p.array(func(FieldKind, string) {})
}

// str parses a string at p.i and returns it unescaped. Without escapes the
// result aliases p.data.
func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := alias(p.data[start:p.i])
			p.i++
			return s, nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", p.fail("control character in a string")
		}
		p.i++
	}
	return "", p.fail("unterminated string")
}

func (p *parser) strEscaped(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.data[start:p.i]...)
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.data) {
			break
		}
		e := p.data[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.i+1 < len(p.data) && p.data[p.i] == '\\' && p.data[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if lo, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						p.i = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail(fmt.Sprintf("invalid escape \\%c", e))
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// alias returns b as a string without copying. The caller guarantees b is
// not modified while the string is in use (see Decode).
func alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
