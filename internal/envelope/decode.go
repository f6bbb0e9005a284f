package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/schema"
)

// DecodeError says why a record is not a JSON object sluice can read.
type DecodeError struct {
	Offset int
	Reason string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("envelope: byte %d: %s", e.Offset, e.Reason)
}

// wrap turns a scanner error into a DecodeError.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var je *jsonx.Error
	if errors.As(err, &je) {
		return &DecodeError{Offset: je.Offset, Reason: je.Reason}
	}
	return err
}

// Decoded is a decoded record: an envelope, or a bare JSON object whose
// top-level keys are its fields (Bare is then true and only Fields is set).
type Decoded struct {
	Record
	Bare bool
	top  []Field
	// Flags mark a record the splitter kept despite a defect ("ragged").
	Flags []string

	cache sourceCache
	// unescaped holds the record's strings that had escapes, reused by
	// the next Decode (jsonx.Scanner.Buf).
	unescaped []byte
}

// sourceCache keeps what the last source object's head decoded to. The
// splitter writes the same bytes from "source":{ up to "line": for every
// record of an object, so a run of records of one object reads that head
// once: the next record's head is compared byte for byte and its decoded
// values (which alias the cache's own copy of the head, never a record's
// data) reused.
type sourceCache struct {
	head     []byte // the source object up to ,"line": (its own copy)
	src      Source // the head decoded
	ingested string // the last ingested_at text, and its time
	at       time.Time
	// mid is the bytes from ,"schema": to "source": of the last record
	// read in the splitter's layout, and schema the name they hold (its own
	// copy), for splitterLayout.
	mid    []byte
	schema string
	off    bool // read every source whole, and fields the general way (the tests' reference)
}

// lineMember ends a source head: the splitter writes line right after the
// per-object members. In valid JSON the first occurrence is the member
// itself, as a quote inside a string is always escaped.
var lineMember = []byte(`,"line":`)

// Decode parses one record. Envelope strings without escapes alias data
// (no copy), so data must not change while d is in use; strings with
// escapes alias d's own memory, which the next Decode into d reuses. So
// a string that is kept past the next Decode must be copied. d's slices
// are reused.
//
// A JSON object is an envelope when it has a numeric "v" and an object
// "fields"; any other object is bare.
func Decode(data []byte, d *Decoded) error {
	d.ID, d.Schema, d.Bare = "", "", false
	d.Source = Source{Flags: d.Source.Flags[:0]}
	d.Fields, d.Flags, d.top = d.Fields[:0], d.Flags[:0], d.top[:0]
	d.unescaped = d.unescaped[:0]
	p := jsonx.Scanner{Data: data, Buf: &d.unescaped}
	p.WS()
	if p.I >= len(data) || data[p.I] != '{' {
		return wrap(p.Fail("a record must be a JSON object"))
	}
	start := p.I
	var st topState
	var err error
	fast := !d.cache.off && d.splitterLayout(&p, &st)
	if !fast && !d.cache.off {
		d.forget()
		st, p.I = topState{}, start
	}
	if !fast && (d.cache.off || !d.topFast(&p, &st)) {
		// The general reading, from the start.
		d.forget()
		st, p.I = topState{}, start
		err = p.Members(func(key string) error {
			if key == "source" && !st.sourceSeen && !d.cache.off {
				st.sourceSeen = true
				p.WS()
				start := p.I
				if ok, err := d.sourceInPlace(&p); ok {
					if _, isDE := err.(*DecodeError); err != nil && !isDE {
						return err
					}
					st.sourceRead, st.sourceErr = true, err
					d.top = append(d.top, Field{Name: key, Value: jsonx.Alias(data[start:p.I]), Kind: Raw})
					return nil
				}
				p.I = start
			}
			if key == "fields" && p.Peek() == '{' {
				if st.hasFields {
					return wrap(p.Fail("duplicate key \"fields\""))
				}
				st.hasFields = true
				start := p.I
				if !d.cache.off && d.fields(&p) {
					d.top = append(d.top, Field{Name: key, Value: jsonx.Alias(data[start:p.I]), Kind: Raw})
					return nil
				}
				p.I = start
				d.Fields = d.Fields[:0]
				err := p.Members(func(name string) error {
					kind, val, _, err := p.Value()
					d.Fields = append(d.Fields, Field{Name: name, Value: val, Kind: FieldKind(kind)})
					return err
				})
				d.top = append(d.top, Field{Name: key, Value: jsonx.Alias(data[start:p.I]), Kind: Raw})
				return err
			}
			kind, val, raw, err := p.Value()
			if err != nil {
				return err
			}
			d.member(&st, key, kind, val, raw)
			return nil
		})
	}
	if err != nil {
		return wrap(err)
	}
	p.WS()
	if p.I != len(data) {
		return wrap(p.Fail("unexpected data after the JSON object"))
	}
	if p.Replaced {
		defer d.flagReplaced()
	}
	if !st.hasV || !st.hasFields {
		d.ID, d.Schema, d.Bare = "", "", true
		d.Source = Source{Flags: d.Source.Flags[:0]}
		d.Fields = append(d.Fields[:0], d.top...)
		return nil
	}
	switch {
	case st.sourceRaw != nil: // the last source object, read the general way
		d.Source = Source{Flags: d.Source.Flags[:0]}
		if err := d.decodeSource(st.sourceRaw); err != nil {
			return err
		}
		d.Flags = append(d.Flags, d.Source.Flags...)
	case st.sourceRead:
		if st.sourceErr != nil {
			return st.sourceErr
		}
		d.Flags = append(d.Flags, d.Source.Flags...)
	}
	if !fast && st.sourceRead {
		d.cache.noteLayout(data, d.Schema)
	}
	if st.flagsRaw != nil {
		fp := jsonx.Scanner{Data: st.flagsRaw}
		return wrap(fp.Array(func(kind jsonx.Kind, val string) {
			if kind == jsonx.String {
				d.Flags = append(d.Flags, val)
			}
		}))
	}
	return nil
}

// forget drops what a reading of a record that gave up had read.
func (d *Decoded) forget() {
	d.ID, d.Schema = "", ""
	d.Source = Source{Flags: d.Source.Flags[:0]}
	d.Fields, d.top = d.Fields[:0], d.top[:0]
}

// FlagReplaced marks a record with text that could not be kept as it was
// written and was replaced with U+FFFD: bytes that are not UTF-8, or a \u
// escape of half a UTF-16 surrogate pair. The splitter's formats, the
// decoder and the normaliser all use it.
const FlagReplaced = "replaced"

// flagReplaced adds FlagReplaced to d.Flags, once.
func (d *Decoded) flagReplaced() {
	if !slices.Contains(d.Flags, FlagReplaced) {
		d.Flags = append(d.Flags, FlagReplaced)
	}
}

// member notes a record's member other than an object "fields" (and, for
// topMembers, a source read in place): its value in d.top, and what the
// envelope's own members say.
func (d *Decoded) member(st *topState, key string, kind jsonx.Kind, val string, raw []byte) {
	d.top = append(d.top, Field{Name: key, Value: val, Kind: FieldKind(kind)})
	switch key {
	case "v":
		st.hasV = kind == jsonx.Raw && raw[0] >= '0' && raw[0] <= '9'
	case "id":
		d.ID = val
	case "schema":
		d.Schema = val
	case "source":
		if raw[0] == '{' {
			st.sourceRaw = raw
		}
	case "flags":
		if raw[0] == '[' {
			st.flagsRaw = raw
		}
	}
}

// idStart is how the splitter starts every envelope, up to the quote that
// opens the record id.
var (
	idStart   = []byte(`{"v":1,"id":"`)
	schemaKey = []byte(`,"schema":`)
	sourceKey = []byte(`,"source":`)
	fieldsKey = []byte(`,"fields":`)
)

// splitterLayout reads the record at p.I the way the splitter writes one,
// with no member loop: {"v":1,"id":"…" (an id without escapes), the bytes
// from ,"schema": to "source": that the last record so written had (held
// in the cache with the schema's name), a source object whose head is
// cached, ,"fields": and a fields object, then the closing brace. It
// reports false at anything else (another order or member, spaces, flags
// outside the source, a head not cached), and Decode then reads the record
// the general way from its start, so the result is the same either way.
func (d *Decoded) splitterLayout(p *jsonx.Scanner, st *topState) bool {
	c := &d.cache
	data := p.Data
	start := p.I
	if c.mid == nil || !bytes.HasPrefix(data[start:], idStart) {
		return false
	}
	id, i, ok := jsonx.PlainString(data, start+len(idStart)-1)
	if !ok || !bytes.HasPrefix(data[i:], c.mid) {
		return false
	}
	if p.Enter() != nil {
		return false
	}
	defer p.Leave()
	p.I = i + len(c.mid)
	if read, err := d.sourceInPlace(p); !read || err != nil {
		return false
	}
	if !bytes.HasPrefix(data[p.I:], fieldsKey) || p.I+len(fieldsKey) >= len(data) || data[p.I+len(fieldsKey)] != '{' {
		return false
	}
	p.I += len(fieldsKey)
	if !d.fields(p) || p.I >= len(data) || data[p.I] != '}' {
		return false
	}
	p.I++
	d.ID, d.Schema = id, c.schema
	st.hasV, st.hasFields, st.sourceSeen, st.sourceRead = true, true, true, true
	return true
}

// noteLayout keeps, for splitterLayout, the bytes from ,"schema": to
// "source": of a record decoded the general way whose source head is now
// cached, when they are what the splitter writes for its schema (as
// AppendString writes the name) and lie where it writes them: after
// {"v":1,"id":"…" and before the cached head.
func (c *sourceCache) noteLayout(data []byte, schemaName string) {
	if c.head == nil || schemaName == "" || !bytes.HasPrefix(data, idStart) {
		return
	}
	_, i, ok := jsonx.PlainString(data, len(idStart)-1)
	if !ok {
		return
	}
	if c.schema == schemaName && bytes.HasPrefix(data[i:], c.mid) {
		return
	}
	// ,"schema":"<name>","source": with the name as the splitter writes
	// it (no escape: PlainString reads it whole), then the cached head.
	q := i + len(schemaKey)
	if !bytes.HasPrefix(data[i:], schemaKey) || q >= len(data) || data[q] != '"' {
		return
	}
	name, j, ok := jsonx.PlainString(data, q)
	if !ok || name != schemaName || !schema.PlainASCII(name) || !bytes.HasPrefix(data[j:], sourceKey) ||
		!bytes.HasPrefix(data[j+len(sourceKey):], c.head) {
		return
	}
	c.mid, c.schema = bytes.Clone(data[i:j+len(sourceKey)]), strings.Clone(schemaName)
}

// topState is what reading a record's members found.
type topState struct {
	hasV, hasFields, sourceSeen, sourceRead bool
	sourceRaw, flagsRaw                     []byte
	sourceErr                               error // what the source read in place says, given if an envelope
}

// topFast reads the record's members at p.I the way the splitter writes
// them, in one loop: the fields object by fields, a source object whose
// head is cached in place, other values by Value. It reports false at
// anything else (a repeated source or fields, a source head not cached,
// bad JSON); Decode then reads the record the general way from its start,
// so the result is the same either way.
func (d *Decoded) topFast(p *jsonx.Scanner, st *topState) bool {
	if p.Enter() != nil {
		return false
	}
	ok := d.topMembers(p, st)
	p.Leave()
	return ok
}

func (d *Decoded) topMembers(p *jsonx.Scanner, st *topState) bool {
	data := p.Data
	i := skipWS(data, p.I+1) // past '{'
	if i < len(data) && data[i] == '}' {
		p.I = i + 1
		return true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		key, next, ok := readString(p, i)
		if !ok {
			return false
		}
		if i = skipWS(data, next); i >= len(data) || data[i] != ':' {
			return false
		}
		if i = skipWS(data, i+1); i >= len(data) {
			return false
		}
		start := i
		p.I = i
		switch key {
		case "fields":
			if data[i] != '{' || st.hasFields || !d.fields(p) {
				return false
			}
			st.hasFields = true
			d.top = append(d.top, Field{Name: key, Value: jsonx.Alias(data[start:p.I]), Kind: Raw})
		case "source":
			if st.sourceSeen || data[i] != '{' {
				return false
			}
			st.sourceSeen = true
			read, err := d.sourceInPlace(p)
			if _, isDE := err.(*DecodeError); !read || err != nil && !isDE {
				return false
			}
			st.sourceRead, st.sourceErr = true, err
			d.top = append(d.top, Field{Name: key, Value: jsonx.Alias(data[start:p.I]), Kind: Raw})
		default:
			var kind jsonx.Kind
			var val string
			var raw []byte
			if data[i] == '"' {
				// String is the zero Kind, as Value gives it.
				if val, p.I, ok = readString(p, i); !ok {
					return false
				}
				raw = data[i:p.I]
			} else {
				var err error
				if kind, val, raw, err = p.Value(); err != nil {
					return false
				}
			}
			d.member(st, key, kind, val, raw)
		}
		if i = skipWS(data, p.I); i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			p.I = i + 1
			return true
		default:
			return false
		}
	}
}

// fields reads the fields object at p.I, the common way it is written
// (keys and string values without escapes, null, numbers and literals,
// any spaces), into d.Fields, one loop without a call per member. It
// reports false, having read nothing that counts, at anything else: an
// escape, a nested value, bad JSON. Decode then reads the object the
// general way from the start, so the result is the same either way.
func (d *Decoded) fields(p *jsonx.Scanner) bool {
	if p.Enter() != nil {
		return false
	}
	ok := d.fieldsIn(p)
	p.Leave()
	return ok
}

func (d *Decoded) fieldsIn(p *jsonx.Scanner) bool {
	data := p.Data
	i := skipWS(data, p.I+1) // past '{'
	if i < len(data) && data[i] == '}' {
		p.I = i + 1
		return true
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		var f Field
		var ok bool
		if f.Name, i, ok = readString(p, i); !ok {
			return false
		}
		if i = skipWS(data, i); i >= len(data) || data[i] != ':' {
			return false
		}
		if i = skipWS(data, i+1); i >= len(data) {
			return false
		}
		if data[i] == '"' {
			if f.Value, i, ok = readString(p, i); !ok {
				return false
			}
		} else {
			p.I = i
			kind, val, _, err := p.Value()
			if err != nil {
				return false
			}
			f.Kind, f.Value, i = FieldKind(kind), val, p.I
		}
		d.Fields = append(d.Fields, f)
		if i = skipWS(data, i); i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			p.I = i + 1
			return true
		default:
			return false
		}
	}
}

// readString reads the string whose opening quote is at q, as Str does:
// one without escapes here, one with them by Str.
func readString(p *jsonx.Scanner, q int) (s string, next int, ok bool) {
	if s, next, ok = jsonx.PlainString(p.Data, q); ok || next >= len(p.Data) || p.Data[next] != '\\' {
		return s, next, ok
	}
	p.I = q
	s, err := p.Str()
	return s, p.I, err == nil
}

func skipWS(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// sourceInPlace reads the source object at p.I (after any spaces) when
// its head is the cached one's, followed by ,"line":, as decodeSource
// would, in the one pass that also checks it is JSON: only what follows
// the head is scanned. It reports false, having read nothing, when the
// head differs. Otherwise the error is the scanner's (bad JSON, to be
// returned at once) or, for JSON whose members do not read (a line that
// is not an integer), decodeSource's DecodeError, after the whole object
// was checked as Value checks it.
func (d *Decoded) sourceInPlace(p *jsonx.Scanner) (bool, error) {
	c := &d.cache
	// The head must be followed by the line member, as it was cut: a head
	// whose last value the record's continues ({"a":1 in {"a":10) is the
	// same bytes, not the same JSON.
	if p.Peek() != '{' || c.head == nil || !bytes.HasPrefix(p.Data[p.I:], c.head) || !bytes.HasPrefix(p.Data[p.I+len(c.head):], lineMember) {
		return false, nil
	}
	start := p.I
	s := &d.Source
	flags := append(s.Flags[:0], c.src.Flags...)
	*s = c.src
	s.Flags = flags
	p.I += len(c.head)
	if end, ok := sourceTail(p.Data, p.I, s, c); ok {
		p.I = end
		return true, nil
	}
	err := p.MoreMembers(func(key string) error { return sourceMember(p, key, s, c) })
	if de, ok := err.(*DecodeError); ok {
		p.I = start
		if _, _, _, err := p.Value(); err != nil {
			return true, err
		}
		return true, de
	}
	return true, err
}

var (
	offsetMember   = []byte(`,"offset":`)
	ingestedMember = []byte(`,"ingested_at":"`)
)

// sourceTail reads the rest of a source object at i, after a cached head,
// when it is written as the splitter writes it: ,"line":N,"offset":N, then
// the cached ingested_at text or none, then the closing brace, with plain
// integers and no spaces. It sets s's line, offset and ingest time as
// sourceMember would and returns the index after the object, or reports
// false, having set nothing, at anything else (flags, another member, a
// number written otherwise), which sourceInPlace then reads member by
// member.
func sourceTail(data []byte, i int, s *Source, c *sourceCache) (int, bool) {
	line, i, ok := plainInt(data, i+len(lineMember))
	if !ok || !bytes.HasPrefix(data[i:], offsetMember) {
		return 0, false
	}
	offset, i, ok := plainInt(data, i+len(offsetMember))
	if !ok {
		return 0, false
	}
	at := s.IngestedAt
	if bytes.HasPrefix(data[i:], ingestedMember) {
		// The cached text is an RFC 3339 time, which needs no escape in
		// JSON: its bytes followed by a quote are the whole string.
		j := i + len(ingestedMember)
		end := j + len(c.ingested)
		if c.ingested == "" || end >= len(data) || string(data[j:end]) != c.ingested || data[end] != '"' {
			return 0, false
		}
		at, i = c.at, end+1
	}
	if i >= len(data) || data[i] != '}' {
		return 0, false
	}
	s.Line, s.Offset, s.IngestedAt = line, offset, at
	return i + 1, true
}

// plainInt reads the digits at i as a JSON integer: 0, or 1 to 18 digits
// with no leading zero (no sign, fraction or exponent), followed by a
// comma or brace. It returns the value and the index after the digits.
func plainInt(data []byte, i int) (int64, int, bool) {
	start := i
	var n int64
	for ; i < len(data) && data[i] >= '0' && data[i] <= '9'; i++ {
		n = n*10 + int64(data[i]-'0')
	}
	if k := i - start; k == 0 || k > 18 || k > 1 && data[start] == '0' || i >= len(data) || data[i] != ',' && data[i] != '}' {
		return 0, 0, false
	}
	return n, i, true
}

// decodeSource reads the source object into d.Source, the head from the
// cache when it is the last one's.
func (d *Decoded) decodeSource(raw []byte) error {
	c := &d.cache
	cut := bytes.Index(raw, lineMember)
	if cut < 0 || c.off {
		return decodeSource(raw, &d.Source, c)
	}
	if c.head == nil || !bytes.Equal(raw[:cut], c.head) {
		// A new head: decode it alone, as a whole object, into the cache.
		head := append(append(make([]byte, 0, cut+1), raw[:cut]...), '}')
		var src Source
		if err := decodeSource(head, &src, c); err != nil {
			c.head = nil
			return decodeSource(raw, &d.Source, c) // the whole object's own error
		}
		// src's strings alias head, which is never written again.
		c.head, c.src = head[:cut], src
	}
	s := &d.Source
	flags := append(s.Flags[:0], c.src.Flags...)
	*s = c.src
	s.Flags = flags
	p := jsonx.Scanner{Data: raw, I: cut}
	return wrap(p.MoreMembers(func(key string) error { return sourceMember(&p, key, s, c) }))
}

// decodeSource reads a whole source object into s.
func decodeSource(raw []byte, s *Source, c *sourceCache) error {
	p := jsonx.Scanner{Data: raw}
	return wrap(p.Members(func(key string) error { return sourceMember(&p, key, s, c) }))
}

// sourceMember reads the value of the source member key at p into s.
func sourceMember(p *jsonx.Scanner, key string, s *Source, c *sourceCache) error {
	kind, val, _, err := p.Value()
	if err != nil {
		return err
	}
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
		n, err := jsonx.ParseInt(val)
		if kind != jsonx.Raw || err != nil {
			return &DecodeError{Reason: fmt.Sprintf("source.%s must be an integer", key)}
		}
		if key == "line" {
			s.Line = n
		} else {
			s.Offset = n
		}
	case "flags":
		if kind != jsonx.Raw || len(val) == 0 || val[0] != '[' {
			return &DecodeError{Reason: "source.flags must be an array of strings"}
		}
		fp := jsonx.Scanner{Data: []byte(val)}
		return fp.Array(func(kind jsonx.Kind, v string) {
			if kind == jsonx.String {
				s.Flags = append(s.Flags, v)
			}
		})
	case "ingested_at":
		if kind == jsonx.String {
			if val == c.ingested && c.ingested != "" {
				s.IngestedAt = c.at
				return nil
			}
			t, err := parseIngested(val)
			if err != nil {
				return &DecodeError{Reason: "source.ingested_at must be an RFC 3339 time"}
			}
			s.IngestedAt = t
			c.ingested, c.at = strings.Clone(val), t
		}
	}
	return nil
}

// parseIngested reads ingested_at. The splitter writes it as
// 2006-01-02T15:04:05.000Z; that form is read without a layout, anything
// else with time.Parse.
func parseIngested(s string) (time.Time, error) {
	if len(s) == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == '.' && s[23] == 'Z' {
		n := func(a, b int) int {
			v := 0
			for _, c := range s[a:b] {
				if c < '0' || c > '9' {
					return -1
				}
				v = v*10 + int(c-'0')
			}
			return v
		}
		y, mo, d, h, mi, sec, ms := n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19), n(20, 23)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60 && ms >= 0 {
			t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
			if t.Day() == d { // 2024-02-30 is not a date
				return t, nil
			}
		}
	}
	return time.Parse(time.RFC3339Nano, s)
}
