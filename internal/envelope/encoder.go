package envelope

import "github.com/sluicehq/sluice/schema"

// Encoder writes the envelopes of one object. What is the same for every
// record (schema, bucket, key, version, format, ingest time, the quoted
// field names) is written once; the bytes are exactly Append's.
type Encoder struct {
	object [20]byte // the object part of every record id
	branch []byte   // ":<stream>" after the index, for a forked route
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
	return &Encoder{
		object: objectID(src.Bucket, src.Key, src.Version, src.ETag),
		mid:    appendHead(nil, schemaName, &src),
		tail:   appendIngested(nil, src.IngestedAt),
	}
}

// NewBranchEncoder returns an Encoder for one branch of a forked route:
// its record ids end in ":<stream>" (see BranchRecordID).
func NewBranchEncoder(schemaName, stream string, src Source) *Encoder {
	e := NewEncoder(schemaName, src)
	e.branch = append([]byte{':'}, stream...)
	return e
}

// Append writes the envelope of the index-th record: the same bytes as
// Append with RecordID's id and the Encoder's source.
func (e *Encoder) Append(dst []byte, index, line, offset int64, flags []string, fields []Field) []byte {
	dst = append(dst, `{"v":1,"id":"`...)
	dst = appendID(dst, e.object, index)
	dst = append(dst, e.branch...)
	dst = append(dst, '"')
	dst = append(dst, e.mid...)
	return appendBody(dst, line, offset, e.tail, flags, fields, e.name)
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
