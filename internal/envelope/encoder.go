package envelope

import (
	"strings"

	"github.com/sluicehq/sluice/schema"
)

// Encoder writes the envelopes of one object. What is the same for every
// record (schema, bucket, key, version, format, ingest time, the quoted
// field names) is written once; the bytes are exactly Append's.
type Encoder struct {
	object [20]byte // the object part of every record id
	branch []byte   // ":<stream>" after the index, for a forked route
	mid    []byte   // from ,"schema": to "line":
	tail   []byte   // ,"ingested_at":"…" when set
	// at and byName cache the JSON of field names, which repeat from
	// record to record (a CSV's header): at by position, byName by name.
	at     []key
	byName map[string]key
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
	return appendBody(e.appendHead(dst, index), line, offset, e.tail, flags, fields, e)
}

// AppendRaw writes the envelope of the index-th record whose "fields"
// object is fields, copied as it is. When fields is the text Append writes
// for a record's fields (see jsonx.Scanner.Canonical), the bytes are
// exactly Append's, without quoting a name or a value again.
func (e *Encoder) AppendRaw(dst []byte, index, line, offset int64, flags []string, fields []byte) []byte {
	dst = appendPosition(e.appendHead(dst, index), line, offset, e.tail, flags)
	dst = append(dst, fields...)
	return append(dst, '}')
}

// appendHead writes the index-th record's envelope up to the line number.
func (e *Encoder) appendHead(dst []byte, index int64) []byte {
	dst = append(dst, `{"v":1,"id":"`...)
	dst = appendID(dst, e.object, index)
	dst = append(dst, e.branch...)
	dst = append(dst, '"')
	return append(dst, e.mid...)
}

// name returns the JSON key (with its colon) for the i-th field's name.
// The key at each position is remembered, and every key by name, so that
// records whose fields come in different orders or spellings (JSON lines
// written by several scrapers) quote each name once.
func (e *Encoder) name(i int, name string) []byte {
	if i < len(e.at) && e.at[i].name == name {
		return e.at[i].quoted
	}
	return e.lookup(i, name)
}

// lookup is name for a name not at position i the last time.
func (e *Encoder) lookup(i int, name string) []byte {
	k, ok := e.byName[name]
	if !ok {
		// The name is copied: it may alias a large record's text.
		k = key{name: strings.Clone(name), quoted: append(schema.AppendString(nil, name), ':')}
		if len(e.byName) < maxNames {
			if e.byName == nil {
				e.byName = map[string]key{}
			}
			e.byName[k.name] = k
		}
	}
	if i < len(e.at) {
		e.at[i] = k
	} else if i == len(e.at) {
		e.at = append(e.at, k)
	}
	return k.quoted
}

// key is a field name and its JSON key.
type key struct {
	name   string
	quoted []byte
}

// maxNames bounds the names an Encoder remembers: an object whose records
// each bring new field names costs an allocation per name past it, not
// memory without end.
const maxNames = 4096
