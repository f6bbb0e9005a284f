package firehose

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/schema"
)

// errSlowPath sends unusual input to encoding/json.
var errSlowPath = errors.New("firehose: use encoding/json")

// DecodeEvent parses a transformation event. Every record's data is
// base64-decoded once into a single buffer. Input the fast path does not
// expect (escaped strings, keys it does not know exactly) is parsed with
// encoding/json instead, with the same result.
func DecodeEvent(payload []byte, ev *events.KinesisFirehoseEvent) error {
	if err := decodeFast(payload, ev); err != nil {
		*ev = events.KinesisFirehoseEvent{}
		if err := json.Unmarshal(payload, ev); err != nil {
			return fmt.Errorf("firehose: not a transformation event: %w", err)
		}
	}
	return nil
}

func decodeFast(payload []byte, ev *events.KinesisFirehoseEvent) error {
	p := jsonx.Scanner{Data: payload}
	arena := make([]byte, 0, base64.StdEncoding.DecodedLen(len(payload)))
	str := func() (string, error) {
		kind, val, raw, err := p.Value()
		if err != nil || kind != jsonx.String {
			return "", errSlowPath
		}
		for _, c := range raw {
			if c == '\\' {
				return "", errSlowPath
			}
		}
		// A copy: the event outlives the payload buffer in some callers.
		return string(val), nil
	}
	err := p.Members(func(key string) error {
		var err error
		switch key {
		case "invocationId":
			ev.InvocationID, err = str()
		case "deliveryStreamArn":
			ev.DeliveryStreamArn, err = str()
		case "sourceKinesisStreamArn":
			ev.SourceKinesisStreamArn, err = str()
		case "region":
			ev.Region, err = str()
		case "records":
			err = p.Elements(func() error {
				var r events.KinesisFirehoseEventRecord
				err := p.Members(func(key string) error {
					switch key {
					case "recordId":
						id, err := str()
						r.RecordID = id
						return err
					case "approximateArrivalTimestamp":
						kind, val, _, err := p.Value()
						if err != nil || kind != jsonx.Raw {
							return errSlowPath
						}
						ms, err := strconv.ParseInt(val, 10, 64)
						if err != nil {
							return errSlowPath
						}
						r.ApproximateArrivalTimestamp = events.MilliSecondsEpochTime{Time: time.UnixMilli(ms).UTC()}
						return nil
					case "data":
						kind, _, raw, err := p.Value()
						if err != nil || kind != jsonx.String {
							return errSlowPath
						}
						start := len(arena)
						n, err := base64.StdEncoding.Decode(arena[start:cap(arena)], raw[1:len(raw)-1])
						if err != nil {
							return errSlowPath
						}
						arena = arena[:start+n]
						r.Data = arena[start : start+n : start+n]
						return nil
					case "kinesisRecordMetadata":
						return decodeKinesisMetadata(&p, &r.KinesisFirehoseRecordMetadata, str)
					}
					// encoding/json matches keys case-insensitively; let it.
					return errSlowPath
				})
				ev.Records = append(ev.Records, r)
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

// AppendResponse writes resp as the JSON Firehose expects, as
// encoding/json would write it.
func AppendResponse(dst []byte, resp *Response) []byte {
	dst = append(dst, `{"records":[`...)
	for i := range resp.Records {
		r := &resp.Records[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"recordId":`...)
		dst = schema.AppendString(dst, r.RecordID)
		dst = append(dst, `,"result":`...)
		dst = schema.AppendString(dst, r.Result)
		dst = append(dst, `,"data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, r.Data)
		dst = append(dst, '"')
		if r.Metadata != nil {
			meta, _ := json.Marshal(r.Metadata)
			dst = append(dst, `,"metadata":`...)
			dst = append(dst, meta...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// decodeKinesisMetadata reads the metadata of records from a Kinesis data
// stream source (aws-lambda-go also writes it, zero-valued, for others).
func decodeKinesisMetadata(p *jsonx.Scanner, m *events.KinesisFirehoseRecordMetadata, str func() (string, error)) error {
	if p.Peek() == 'n' {
		_, _, _, err := p.Value()
		return err
	}
	return p.Members(func(key string) error {
		var err error
		switch key {
		case "shardId":
			m.ShardID, err = str()
		case "partitionKey":
			m.PartitionKey, err = str()
		case "sequenceNumber":
			m.SequenceNumber, err = str()
		case "subsequenceNumber", "approximateArrivalTimestamp":
			kind, val, _, verr := p.Value()
			if verr != nil || kind != jsonx.Raw {
				return errSlowPath
			}
			n, perr := strconv.ParseInt(val, 10, 64)
			if perr != nil {
				return errSlowPath
			}
			if key == "subsequenceNumber" {
				m.SubsequenceNumber = n
			} else {
				m.ApproximateArrivalTimestamp = events.MilliSecondsEpochTime{Time: time.UnixMilli(n).UTC()}
			}
		default:
			return errSlowPath
		}
		return err
	})
}
