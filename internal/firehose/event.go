package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/schema"
)

// errSlowPath sends unusual input to encoding/json.
var errSlowPath = errors.New("firehose: use encoding/json")

// Batch is a transformation event whose records' data is decoded only when
// asked for, one record at a time, so a handler never holds a second copy of
// the whole batch.
type Batch struct {
	InvocationID      string
	DeliveryStreamArn string
	Region            string
	IDs               []string
	Arrivals          []time.Time
	data              [][]byte // decoded data, when built from an event
	b64               [][]byte // base64 text inside the payload, otherwise
	// inPayload: the records are b64's, read from a payload (Decode).
	inPayload bool
	// bad holds, when some record could not be read, why: that record
	// fails alone (nil when every record was read).
	bad []error
}

// Len is the number of records.
func (b *Batch) Len() int { return len(b.IDs) }

// Data returns record i's data, decoded into buf when it is still base64.
// Otherwise it returns the batch's own bytes, which belong to the caller of
// BatchOf: see DecodesIntoBuf before keeping the result as a buffer.
func (b *Batch) Data(i int, buf []byte) ([]byte, error) {
	if b.bad != nil && b.bad[i] != nil {
		return nil, b.bad[i]
	}
	if !b.inPayload {
		return b.data[i], nil
	}
	src := b.b64[i]
	if n := base64.StdEncoding.DecodedLen(len(src)); cap(buf) < n {
		buf = make([]byte, n)
	}
	n, err := decodeBase64(buf[:cap(buf)], src)
	if err != nil {
		return nil, fmt.Errorf("firehose: record %s: data is not base64: %w", b.IDs[i], err)
	}
	return buf[:n], nil
}

// DecodesIntoBuf reports whether Data decodes into the buffer it is given.
// When it does not, Data's result is the event's own memory and must never
// be passed back as a buffer, or decoding the next record would overwrite
// the caller's event.
func (b *Batch) DecodesIntoBuf() bool { return b.inPayload }

// BatchOf wraps a decoded event.
func BatchOf(ev events.KinesisFirehoseEvent) *Batch {
	b := new(Batch)
	b.Reset(ev)
	return b
}

// Reset makes b wrap a decoded event, reusing b's memory: a caller that
// wraps one event after another allocates only when one is larger than
// any before. Release lets go of the event's strings and data.
func (b *Batch) Reset(ev events.KinesisFirehoseEvent) {
	n := len(ev.Records)
	*b = Batch{InvocationID: ev.InvocationID, DeliveryStreamArn: ev.DeliveryStreamArn, Region: ev.Region,
		IDs: grow(b.IDs, n), Arrivals: grow(b.Arrivals, n), data: grow(b.data, n), b64: b.b64[:0]}
	for i := range ev.Records {
		b.IDs[i], b.Arrivals[i], b.data[i] = ev.Records[i].RecordID, ev.Records[i].ApproximateArrivalTimestamp.Time, ev.Records[i].Data
	}
}

// Release clears b, keeping its memory for the next Reset.
func (b *Batch) Release() {
	clear(b.IDs)
	clear(b.data)
	clear(b.b64)
	*b = Batch{IDs: b.IDs[:0], Arrivals: b.Arrivals[:0], data: b.data[:0], b64: b.b64[:0]}
}

// grow returns s with length n, reusing its memory when it has room.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// DecodeBatch parses a transformation event without decoding its data.
// The batch's strings and data alias payload, which must not change while
// the batch is in use.
// Input the fast path does not expect (escaped strings, keys it does not
// know exactly, a fractional arrival time) is parsed with encoding/json
// instead, one record at a time. Either way a record's data is decoded
// only when asked for, so a record that is not base64, or whose arrival
// time is not a number, fails alone (Data returns the reason); only an
// event that is not a transformation event is an error.
func DecodeBatch(payload []byte) (*Batch, error) {
	b := new(Batch)
	if err := b.Decode(payload); err != nil {
		return nil, err
	}
	return b, nil
}

// Decode is DecodeBatch into b, reusing b's memory as Reset does; Release
// lets go of the payload. On an error b holds no event.
func (b *Batch) Decode(payload []byte) error {
	err := b.decodeFast(payload)
	if err == nil {
		return nil
	}
	b.Release()
	lb, err := decodeLenient(payload)
	if err != nil {
		return err
	}
	*b = *lb
	return nil
}

// lenientRecord is a record as encoding/json reads it, its parts kept raw
// so that reading one cannot fail the others.
type lenientRecord struct {
	RecordID string          `json:"recordId"`
	Arrival  json.RawMessage `json:"approximateArrivalTimestamp"`
	Data     json.RawMessage `json:"data"`
}

func decodeLenient(payload []byte) (*Batch, error) {
	var ev struct {
		InvocationID      string            `json:"invocationId"`
		DeliveryStreamArn string            `json:"deliveryStreamArn"`
		Region            string            `json:"region"`
		Records           []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("firehose: not a transformation event: %w", err)
	}
	n := len(ev.Records)
	b := &Batch{InvocationID: ev.InvocationID, DeliveryStreamArn: ev.DeliveryStreamArn, Region: ev.Region,
		IDs: make([]string, n), Arrivals: make([]time.Time, n), b64: make([][]byte, n), bad: make([]error, n), inPayload: true}
	for i, raw := range ev.Records {
		var r lenientRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			// Without its recordId a record cannot be answered at all.
			return nil, fmt.Errorf("firehose: not a transformation event: record %d: %w", i, err)
		}
		b.IDs[i] = r.RecordID
		var err error
		if b.Arrivals[i], err = parseArrival(r.Arrival); err != nil {
			b.bad[i] = fmt.Errorf("firehose: record %s: %w", r.RecordID, err)
			continue
		}
		switch {
		case len(r.Data) == 0 || string(r.Data) == "null":
			b.b64[i] = []byte{}
		case r.Data[0] == '"':
			var text string
			if err := json.Unmarshal(r.Data, &text); err != nil {
				b.bad[i] = fmt.Errorf("firehose: record %s: data: %w", r.RecordID, err)
				continue
			}
			b.b64[i] = []byte(text)
		default:
			b.bad[i] = fmt.Errorf("firehose: record %s: data is not base64: a JSON %s, not a string", r.RecordID, jsonKind(r.Data))
		}
	}
	return b, nil
}

// parseArrival reads approximateArrivalTimestamp: milliseconds since the
// epoch, fractional ones included; absent is the zero time.
func parseArrival(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, fmt.Errorf("approximateArrivalTimestamp %.40s is not milliseconds since the epoch", raw)
	}
	return time.UnixMicro(int64(math.Round(f * 1000))).UTC(), nil
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

// decodeFast reads payload into b, reusing its lists.
func (b *Batch) decodeFast(payload []byte) error {
	p := jsonx.Scanner{Data: payload}
	// The lists grow as records are read: counting them first would read
	// the whole event once more.
	*b = Batch{IDs: b.IDs[:0], Arrivals: b.Arrivals[:0], b64: b.b64[:0], data: b.data[:0], inPayload: true}
	str := func() (string, error) { return eventString(&p) }
	err := p.Members(func(key string) error {
		var err error
		switch key {
		case "invocationId":
			b.InvocationID, err = str()
		case "deliveryStreamArn":
			b.DeliveryStreamArn, err = str()
		case "sourceKinesisStreamArn":
			_, err = str()
		case "region":
			b.Region, err = str()
		case "records":
			// A repeated "records" replaces the earlier list, as in
			// encoding/json.
			b.IDs, b.Arrivals, b.b64 = b.IDs[:0], b.Arrivals[:0], b.b64[:0]
			err = p.Elements(func() error {
				if id, arrival, data, ok := compactRecord(&p); ok {
					b.IDs, b.Arrivals, b.b64 = append(b.IDs, id), append(b.Arrivals, arrival), append(b.b64, data)
					return nil
				}
				var id string
				var arrival time.Time
				var data []byte
				err := p.Members(func(key string) error {
					switch key {
					case "recordId":
						var err error
						id, err = str()
						return err
					case "approximateArrivalTimestamp":
						kind, val, _, err := p.Value()
						if err != nil || kind != jsonx.Raw {
							return errSlowPath
						}
						ms, err := jsonx.ParseInt(val)
						if err != nil {
							return errSlowPath
						}
						arrival = time.UnixMilli(ms).UTC()
						return nil
					case "data":
						// base64 has no quotes or escapes: find the end. The
						// alphabet is checked when the record is decoded, so a
						// bad record fails alone.
						if p.Peek() != '"' {
							return errSlowPath
						}
						end := bytes.IndexByte(p.Data[p.I+1:], '"')
						if end < 0 {
							return errSlowPath
						}
						data = p.Data[p.I+1 : p.I+1+end]
						p.I += end + 2
						if len(data)%4 != 0 {
							return errSlowPath
						}
						return nil
					}
					// Kinesis-source metadata, or a key in another letter case
					// (encoding/json matches keys case-insensitively): let
					// encoding/json read it.
					return errSlowPath
				})
				b.IDs, b.Arrivals, b.b64 = append(b.IDs, id), append(b.Arrivals, arrival), append(b.b64, data)
				return err
			})
		default:
			return errSlowPath
		}
		return err
	})
	p.WS()
	if err == nil && p.I != len(payload) {
		return errSlowPath
	}
	return err
}

// eventString reads the string at p.I as encoding/json would, when it
// has no escape and is valid UTF-8; otherwise it reports errSlowPath, for
// encoding/json to read the event. The string aliases the payload (see
// DecodeBatch).
func eventString(p *jsonx.Scanner) (string, error) {
	kind, val, raw, err := p.Value()
	if err != nil || kind != jsonx.String {
		return "", errSlowPath
	}
	if len(raw) != len(val)+2 {
		return "", errSlowPath // escaped: every escape is shorter read
	}
	if !schema.ValidUTF8(val) {
		// encoding/json reads each invalid byte as U+FFFD: let it.
		return "", errSlowPath
	}
	return val, nil
}

// The parts of a record written as Firehose writes them, without spaces
// and in its order of keys.
var (
	recordHead    = []byte(`{"recordId":"`)
	recordArrival = []byte(`,"approximateArrivalTimestamp":`)
	recordData    = []byte(`,"data":"`)
)

// compactRecord reads the record at p.I when it is written exactly as
// Firehose writes one, {"recordId":"…","approximateArrivalTimestamp":…,
// "data":"…"}, with an unescaped id, an integer arrival time and data of
// whole base64 groups: what the general reading in decodeFast would read,
// without reading the keys. Otherwise it reports false and leaves p.I
// where it was.
func compactRecord(p *jsonx.Scanner) (id string, arrival time.Time, data []byte, ok bool) {
	start, d := p.I, p.Data
	if !bytes.HasPrefix(d[start:], recordHead) {
		return "", time.Time{}, nil, false
	}
	// The id's opening quote ends recordHead; encoding/json reads each
	// invalid UTF-8 byte as U+FFFD, which the general reading leaves to it.
	id, i, ok := jsonx.PlainString(d, start+len(recordHead)-1)
	if !ok || !schema.ValidUTF8(id) || !bytes.HasPrefix(d[i:], recordArrival) {
		return "", time.Time{}, nil, false
	}
	i += len(recordArrival)
	digits := i
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	if i == digits || (d[digits] == '0' && i-digits > 1) {
		return "", time.Time{}, nil, false // not a JSON integer
	}
	ms, err := jsonx.ParseInt(jsonx.Alias(d[digits:i]))
	if err != nil || !bytes.HasPrefix(d[i:], recordData) {
		return "", time.Time{}, nil, false
	}
	i += len(recordData)
	end := bytes.IndexByte(d[i:], '"')
	if end < 0 || end%4 != 0 || i+end+1 >= len(d) || d[i+end+1] != '}' {
		return "", time.Time{}, nil, false
	}
	p.I = i + end + 2
	return id, time.UnixMilli(ms).UTC(), d[i : i+end], true
}

// AppendResponse writes resp as the JSON Firehose expects, as
// encoding/json would write it.
func AppendResponse(dst []byte, resp *Response) []byte {
	dst = append(dst, `{"records":[`...)
	for i := range resp.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendResponseRecord(dst, &resp.Records[i])
	}
	return append(dst, "]}"...)
}

// AppendResponseRecord writes one record of a response.
func AppendResponseRecord(dst []byte, r *ResponseRecord) []byte {
	dst = append(dst, `{"recordId":`...)
	dst = schema.AppendString(dst, r.RecordID)
	switch r.Result {
	case Ok:
		dst = append(dst, `,"result":"Ok","data":"`...)
	case Dropped:
		dst = append(dst, `,"result":"Dropped","data":"`...)
	case ProcessingFailed:
		dst = append(dst, `,"result":"ProcessingFailed","data":"`...)
	default:
		dst = append(dst, `,"result":`...)
		dst = schema.AppendString(dst, r.Result)
		dst = append(dst, `,"data":"`...)
	}
	dst = appendBase64(dst, r.Data)
	dst = append(dst, '"')
	if r.Metadata != nil {
		meta, _ := json.Marshal(r.Metadata)
		dst = append(dst, `,"metadata":`...)
		dst = append(dst, meta...)
	}
	dst = append(dst, '}')
	return dst
}

// ResponseSize is len(AppendResponse(nil, resp)), computed without writing
// the response.
func ResponseSize(resp *Response) int {
	n := len(`{"records":[]}`)
	var buf [128]byte
	for i := range resp.Records {
		r := &resp.Records[i]
		if i > 0 {
			n++
		}
		n += len(`{"recordId":,"result":,"data":""}`) + len(schema.AppendString(buf[:0], r.RecordID)) +
			len(schema.AppendString(buf[:0], r.Result)) + base64.StdEncoding.EncodedLen(len(r.Data))
		if r.Metadata != nil {
			meta, _ := json.Marshal(r.Metadata)
			n += len(`,"metadata":`) + len(meta)
		}
	}
	return n
}
