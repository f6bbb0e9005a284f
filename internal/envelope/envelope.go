package envelope

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/schema"
)

// Version is the envelope format version written in "v".
const Version = 1

// Source is where a record came from. Its JSON tags match the envelope's
// "source" object, so dead-letter lines carry the same names.
type Source struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Version string `json:"version,omitempty"`
	ETag    string `json:"etag,omitempty"`
	Format  string `json:"format"`
	// Line is the 1-based line of the record's first byte; Offset its byte
	// offset in the decompressed object.
	Line       int64     `json:"line"`
	Offset     int64     `json:"offset"`
	IngestedAt time.Time `json:"ingested_at"`
	// Flags mark a record kept despite a defect (e.g. "ragged"); omitted
	// when empty.
	Flags []string `json:"flags,omitempty"`
}

// FieldKind says how a field's Value is written.
type FieldKind uint8

const (
	// String values are written as JSON strings.
	String FieldKind = iota
	// Raw values are already JSON (numbers, booleans, objects, arrays).
	Raw
	// Null is JSON null; Value is ignored.
	Null
)

// Field is one raw input field, in input order.
type Field struct {
	Name  string
	Value string
	Kind  FieldKind
}

// Record is one envelope.
type Record struct {
	ID     string
	Schema string
	Source Source
	Fields []Field
}

// RecordID is the deterministic id of the index-th record (0-based) of an
// object: 20 hex digits identifying the object (a SHA-256 of bucket, key
// and version, or ETag when the bucket is unversioned), a dash, and the
// index. The same object, redelivered, yields the same ids.
func RecordID(bucket, key, version, etag string, index int64) string {
	return string(appendID(nil, objectID(bucket, key, version, etag), index))
}

// BranchRecordID is the id of the index-th record of an object sent by a
// forked route (routes[].to) into stream: RecordID, a colon and the
// stream's name. Each branch's ids are as deterministic as RecordID, and
// the branches of one record share everything before the colon.
func BranchRecordID(bucket, key, version, etag string, index int64, stream string) string {
	return RecordID(bucket, key, version, etag, index) + ":" + stream
}

// objectID is the object part of a record id.
func objectID(bucket, key, version, etag string) [20]byte {
	ident := version
	if ident == "" {
		ident = etag
	}
	var stack [256]byte
	b := append(stack[:0], bucket...)
	b = append(b, 0)
	b = append(b, key...)
	b = append(b, 0)
	b = append(b, ident...)
	sum := sha256.Sum256(b)
	var id [20]byte
	hex.Encode(id[:], sum[:10])
	return id
}

func appendID(dst []byte, object [20]byte, index int64) []byte {
	dst = append(dst, object[:]...)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, index, 10)
}

// Append writes r as one envelope JSON object (no trailing newline).
func Append(dst []byte, r *Record) []byte {
	dst = append(dst, `{"v":1,"id":`...)
	dst = schema.AppendString(dst, r.ID)
	dst = appendHead(dst, r.Schema, &r.Source)
	return appendBody(dst, r.Source.Line, r.Source.Offset, appendIngested(nil, r.Source.IngestedAt), r.Source.Flags, r.Fields, nil)
}

// appendHead writes what follows the id up to the line number: the same
// for every record of an object.
func appendHead(dst []byte, schemaName string, s *Source) []byte {
	dst = append(dst, `,"schema":`...)
	dst = schema.AppendString(dst, schemaName)
	dst = append(dst, `,"source":{"bucket":`...)
	dst = schema.AppendString(dst, s.Bucket)
	dst = append(dst, `,"key":`...)
	dst = schema.AppendString(dst, s.Key)
	if s.Version != "" {
		dst = append(dst, `,"version":`...)
		dst = schema.AppendString(dst, s.Version)
	}
	if s.ETag != "" {
		dst = append(dst, `,"etag":`...)
		dst = schema.AppendString(dst, s.ETag)
	}
	dst = append(dst, `,"format":`...)
	dst = schema.AppendString(dst, s.Format)
	return append(dst, `,"line":`...)
}

// appendIngested writes the ingested_at member, or nothing for a zero time.
func appendIngested(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	dst = append(dst, `,"ingested_at":"`...)
	dst = appendMillisUTC(dst, t)
	return append(dst, '"')
}

// appendBody writes the rest of an envelope from the line number on.
// enc, when set, gives the JSON key (with its colon) of the i-th field from
// its cache.
func appendBody(dst []byte, line, offset int64, ingested []byte, flags []string, fields []Field, enc *Encoder) []byte {
	dst = appendPosition(dst, line, offset, ingested, flags)
	dst = append(dst, '{')
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		if enc != nil {
			dst = append(dst, enc.name(i, f.Name)...)
		} else {
			dst = schema.AppendString(dst, f.Name)
			dst = append(dst, ':')
		}
		switch f.Kind {
		case Raw:
			dst = append(dst, f.Value...)
		case Null:
			dst = append(dst, "null"...)
		default:
			dst = schema.AppendString(dst, f.Value)
		}
	}
	return append(dst, "}}"...)
}

// appendPosition writes an envelope from the line number to the "fields"
// key and its colon.
func appendPosition(dst []byte, line, offset int64, ingested []byte, flags []string) []byte {
	dst = strconv.AppendInt(dst, line, 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, offset, 10)
	dst = append(dst, ingested...)
	if len(flags) > 0 {
		dst = append(dst, `,"flags":[`...)
		for i, f := range flags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = schema.AppendString(dst, f)
		}
		dst = append(dst, ']')
	}
	return append(dst, `},"fields":`...)
}

// appendMillisUTC appends t as 2006-01-02T15:04:05.000Z, as AppendFormat
// would, at a fraction of its cost (it runs for every record).
func appendMillisUTC(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	}
	ms := t.Nanosecond() / 1e6
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}
