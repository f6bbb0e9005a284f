package splitter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Object identifies one S3 object as an event announced it. Key is
// URL-decoded.
type Object struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Version string `json:"version,omitempty"`
	ETag    string `json:"etag,omitempty"`
	// Size is the stored (compressed) size, or 0 when unknown.
	Size int64 `json:"size,omitempty"`
	// RawKey is the key exactly as an EventBridge event carried it, when
	// decoding changed it: its other readings are tried when the decoded
	// key does not hold the announced object (see readings).
	RawKey string `json:"raw_key,omitempty"`
}

// Shape is the kind of event the handler was invoked with.
type Shape string

// The event shapes the handler understands.
const (
	ShapeS3           Shape = "s3"
	ShapeSQS          Shape = "sqs"
	ShapeSNS          Shape = "sns"
	ShapeEventBridge  Shape = "eventbridge"
	ShapeContinuation Shape = "continuation"
	ShapeTest         Shape = "s3:TestEvent"
)

// continuationEvent is what the splitter sends itself to go on with objects
// it could not finish before the deadline. Keys are not URL-encoded.
type continuationEvent struct {
	Sluice  string   `json:"sluice"` // always "continue"
	Hop     int      `json:"hop"`
	Objects []Object `json:"objects"`
}

const continueMarker = "continue"

// message is one unit that succeeds or fails as a whole: an SQS message,
// or the whole invocation for the other shapes.
type message struct {
	id      string // SQS messageId; "" otherwise
	objects []Object
	err     error // the message could not be read
	test    bool  // an s3:TestEvent
}

type parsedEvent struct {
	shape    Shape
	hop      int
	messages []message
}

// EventError is an invocation payload the splitter cannot read.
type EventError struct{ Reason string }

func (e *EventError) Error() string { return "splitter: unreadable event: " + e.Reason }

type probe struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
	Event      string `json:"Event"`
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Sluice     string `json:"sluice"`
	Type       string `json:"Type"`    // SNS notification
	Message    string `json:"Message"` // SNS notification
}

// parseEvent detects the event's shape from its JSON and lists its objects.
func parseEvent(raw json.RawMessage) (parsedEvent, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return parsedEvent{}, &EventError{Reason: err.Error()}
	}
	if p.Sluice == continueMarker {
		var c continuationEvent
		if err := json.Unmarshal(raw, &c); err != nil {
			return parsedEvent{}, &EventError{Reason: "continuation: " + err.Error()}
		}
		return parsedEvent{shape: ShapeContinuation, hop: c.Hop, messages: []message{{objects: c.Objects}}}, nil
	}
	if len(p.Records) > 0 && p.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return parsedEvent{}, &EventError{Reason: "sqs: " + err.Error()}
		}
		out := parsedEvent{shape: ShapeSQS}
		for _, m := range ev.Records {
			shape, objs, err := parseNotification([]byte(m.Body))
			out.messages = append(out.messages, message{id: m.MessageId, objects: objs, err: err, test: shape == ShapeTest})
		}
		return out, nil
	}
	if len(p.Records) > 0 && p.Records[0].EventSource == "aws:sns" {
		return parseSNS(raw)
	}
	shape, objs, err := parseNotification(raw)
	if err != nil {
		return parsedEvent{}, err
	}
	return parsedEvent{shape: shape, messages: []message{{objects: objs, test: shape == ShapeTest}}}, nil
}

// parseNotification reads an S3 notification, an S3 test event, an
// EventBridge event or either wrapped in an SNS notification (the body of
// an SQS message from an SNS subscription without raw message delivery).
func parseNotification(raw []byte) (Shape, []Object, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", nil, &EventError{Reason: err.Error()}
	}
	switch {
	case p.Event == "s3:TestEvent":
		return ShapeTest, nil, nil
	case p.Type == "Notification" && p.Message != "":
		return parseNotification([]byte(p.Message))
	case p.Source == "aws.s3" && p.DetailType != "":
		return parseEventBridge(raw, p.DetailType)
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:s3":
		return parseS3(raw)
	}
	return "", nil, &EventError{Reason: "not an S3, SQS, SNS, EventBridge or s3:TestEvent payload"}
}

// parseSNS reads S3 → SNS → Lambda: each SNS record's message is a
// notification. SNS invokes asynchronously, so the event succeeds or fails
// as a whole, like a direct one.
func parseSNS(raw json.RawMessage) (parsedEvent, error) {
	var ev events.SNSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsedEvent{}, &EventError{Reason: "sns: " + err.Error()}
	}
	var m message
	for _, r := range ev.Records {
		shape, objs, err := parseNotification([]byte(r.SNS.Message))
		var ee *EventError
		if errors.As(err, &ee) {
			return parsedEvent{}, &EventError{Reason: fmt.Sprintf("sns message %s: %s", r.SNS.MessageID, ee.Reason)}
		}
		m.test = m.test || shape == ShapeTest
		m.objects = append(m.objects, objs...)
	}
	return parsedEvent{shape: ShapeSNS, messages: []message{m}}, nil
}

func parseS3(raw []byte) (Shape, []Object, error) {
	// aws-lambda-go's S3Object decodes the key while unmarshalling and fails
	// the whole event on a bad escape; decode here to name the bad key.
	var ev struct {
		Records []struct {
			EventName string `json:"eventName"`
			S3        struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key       string `json:"key"`
					Size      int64  `json:"size"`
					VersionID string `json:"versionId"`
					ETag      string `json:"eTag"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", nil, &EventError{Reason: "s3: " + err.Error()}
	}
	var objs []Object
	for _, r := range ev.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		o := r.S3.Object
		key, err := decodeKey(o.Key)
		if err != nil {
			return "", nil, err
		}
		objs = append(objs, Object{Bucket: r.S3.Bucket.Name, Key: key, Version: o.VersionID, ETag: o.ETag, Size: o.Size})
	}
	return ShapeS3, objs, nil
}

func parseEventBridge(raw []byte, detailType string) (Shape, []Object, error) {
	if detailType != "Object Created" {
		return ShapeEventBridge, nil, nil
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", nil, &EventError{Reason: "eventbridge: " + err.Error()}
	}
	var d struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"etag"`
			VersionID string `json:"version-id"`
		} `json:"object"`
	}
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return "", nil, &EventError{Reason: "eventbridge detail: " + err.Error()}
	}
	key, err := decodeKey(d.Object.Key)
	if err != nil {
		return "", nil, err
	}
	o := Object{Bucket: d.Bucket.Name, Key: key, Version: d.Object.VersionID, ETag: d.Object.ETag, Size: d.Object.Size}
	if key != d.Object.Key {
		o.RawKey = d.Object.Key
	}
	return ShapeEventBridge, []Object{o}, nil
}

// decodeKey undoes S3's form-URL encoding of keys in notifications: "+" is
// a space, "%3D" is "=", and %XX sequences form UTF-8.
func decodeKey(k string) (string, error) {
	key, err := url.QueryUnescape(k)
	if err != nil {
		return "", &EventError{Reason: fmt.Sprintf("key %q is not URL-encoded: %v", k, err)}
	}
	return key, nil
}
