package envelope

import (
	"strconv"

	"github.com/sluicehq/sluice/schema"
)

// Encoder writes the envelopes of one object. What is the same for every
// record (schema, bucket, key, version, format, ingest time, the quoted
// field names) is written once; the bytes are exactly Append's.
type Encoder struct {
	object [20]byte // the object part of every record id
	mid    []byte   // from ,"schema": to "line":
	tail   []byte   // ,"ingested_at":"…" when set
	// names and quoted cache the JSON of field names, which repeat from
	// record to record (a CSV's header).
	names  []string
	quoted [][]byte
}

// NewEncoder returns an Encoder for records of schema from src (its Line,
// Offset and Flags are per record and ignored here).
func NewEncoder(schemaName string, src Source) *Encoder {
	e := &Encoder{}
	e.object = objectID(src.Bucket, src.Key, src.Version, src.ETag)
	m := append([]byte(nil), `,"schema":`...)
	m = schema.AppendString(m, schemaName)
	m = append(m, `,"source":{"bucket":`...)
	m = schema.AppendString(m, src.Bucket)
	m = append(m, `,"key":`...)
	m = schema.AppendString(m, src.Key)
	if src.Version != "" {
		m = append(m, `,"version":`...)
		m = schema.AppendString(m, src.Version)
	}
	if src.ETag != "" {
		m = append(m, `,"etag":`...)
		m = schema.AppendString(m, src.ETag)
	}
	m = append(m, `,"format":`...)
	m = schema.AppendString(m, src.Format)
	e.mid = append(m, `,"line":`...)
	if !src.IngestedAt.IsZero() {
		e.tail = append(e.tail, `,"ingested_at":"`...)
		e.tail = appendMillisUTC(e.tail, src.IngestedAt)
		e.tail = append(e.tail, '"')
	}
	return e
}

// Append writes the envelope of the index-th record: the same bytes as
// Append with RecordID's id and the Encoder's source.
func (e *Encoder) Append(dst []byte, index, line, offset int64, flags []string, fields []Field) []byte {
	dst = append(dst, `{"v":1,"id":"`...)
	dst = appendID(dst, e.object, index)
	dst = append(dst, '"')
	dst = append(dst, e.mid...)
	dst = strconv.AppendInt(dst, line, 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, offset, 10)
	dst = append(dst, e.tail...)
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
	dst = append(dst, `},"fields":{`...)
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.name(i, f.Name)...)
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

// name returns the JSON key (with its colon) for the i-th field's name.
func (e *Encoder) name(i int, name string) []byte {
	if i < len(e.names) && e.names[i] == name {
		return e.quoted[i]
	}
	q := append(schema.AppendString(nil, name), ':')
	if i < len(e.names) {
		e.names[i], e.quoted[i] = name, q
	} else if i == len(e.names) {
		e.names, e.quoted = append(e.names, name), append(e.quoted, q)
	}
	return q
}
