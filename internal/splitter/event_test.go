package splitter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"testing"
)

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEventFiles(t *testing.T) {
	put := Object{Bucket: "sluice-landing", Key: "listings/red flower = äö.csv", Version: "096fKKXTRTtl3on89fVO.nfljtsv6qko", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 1024}
	tests := []struct {
		file  string
		shape Shape
		want  []message
	}{
		{"s3-put.json", ShapeS3, []message{{objects: []Object{put}}}},
		{"s3-test-event.json", ShapeTest, []message{{test: true}}},
		{"eventbridge-object-created.json", ShapeEventBridge, []message{{objects: []Object{{
			Bucket: "sluice-landing", Key: "webhooks/2026/11/20/batch 1.jsonl", Version: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
			ETag: "b1946ac92492d2347c6235b4d2611184", Size: 5576, RawKey: "webhooks/2026/11/20/batch+1.jsonl"}}}}},
		{"sns-s3.json", ShapeSNS, []message{{objects: []Object{put}}}},
		{"sqs-sns-s3.json", ShapeSQS, []message{
			{id: "7b2f9d1e-0000-4000-8000-000000000001", objects: []Object{put}}, // SNS envelope
			{id: "7b2f9d1e-0000-4000-8000-000000000002", objects: []Object{put}}, // raw message delivery
		}},
		{"sqs-s3.json", ShapeSQS, []message{
			{id: "5fea7756-0ea4-451a-a703-a558b933e271", objects: []Object{put}},
			{id: "5fea7756-0ea4-451a-a703-a558b933e272", test: true},
			{id: "5fea7756-0ea4-451a-a703-a558b933e273", objects: []Object{{Bucket: "sluice-landing", Key: "alb-logs/2026/11/20/app.log.gz", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 1024}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := parseEvent(readEvent(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.shape != tc.shape && !(tc.shape == ShapeTest && ev.shape == ShapeTest) {
				t.Fatalf("shape = %q, want %q", ev.shape, tc.shape)
			}
			if !reflect.DeepEqual(ev.messages, tc.want) {
				t.Fatalf("messages =\n%+v\nwant\n%+v", ev.messages, tc.want)
			}
		})
	}
}

// Keys arrive form-URL-encoded in every shape and are always decoded.
func TestKeyDecoding(t *testing.T) {
	keys := []struct{ encoded, want string }{
		{"red+flower.csv", "red flower.csv"},
		{"date%3D2026-11-20/a.csv", "date=2026-11-20/a.csv"},
		{"caf%C3%A9/%E6%97%A5%E6%9C%AC+%F0%9F%8C%8A.csv", "café/日本 🌊.csv"},
		{"a%2Bb.csv", "a+b.csv"},
		{"100%25.csv", "100%.csv"},
		{"plain/key.csv", "plain/key.csv"},
	}
	s3Event := func(key string) string {
		return fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":%q,"eTag":"e"}}}]}`, key)
	}
	ebEvent := func(key string) string {
		return fmt.Sprintf(`{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":%q,"etag":"e"}}}`, key)
	}
	sqsEvent := func(body string) string {
		b, _ := json.Marshal(body)
		return fmt.Sprintf(`{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":%s}]}`, b)
	}
	snsBody := func(msg string) string {
		b, _ := json.Marshal(msg)
		return fmt.Sprintf(`{"Type":"Notification","Message":%s}`, b)
	}
	for _, k := range keys {
		shapes := map[string]string{
			"s3":               s3Event(k.encoded),
			"eventbridge":      ebEvent(k.encoded),
			"sqs(s3)":          sqsEvent(s3Event(k.encoded)),
			"sqs(eventbridge)": sqsEvent(ebEvent(k.encoded)),
			"sqs(sns(s3))":     sqsEvent(snsBody(s3Event(k.encoded))),
		}
		for name, raw := range shapes {
			ev, err := parseEvent(json.RawMessage(raw))
			if err != nil {
				t.Fatalf("%s %s: %v", name, k.encoded, err)
			}
			if len(ev.messages) != 1 || len(ev.messages[0].objects) != 1 {
				t.Fatalf("%s %s: %+v", name, k.encoded, ev.messages)
			}
			if got := ev.messages[0].objects[0].Key; got != k.want {
				t.Errorf("%s: %q decoded to %q, want %q", name, k.encoded, got, k.want)
			}
		}
	}
	// A continuation carries keys as they are, never decoded twice.
	raw, _ := json.Marshal(continuationEvent{Sluice: continueMarker, Hop: 2, Objects: []Object{{Bucket: "b", Key: "a+b %3D.csv"}}})
	ev, err := parseEvent(raw)
	if err != nil || ev.shape != ShapeContinuation || ev.hop != 2 || ev.messages[0].objects[0].Key != "a+b %3D.csv" {
		t.Fatalf("continuation: %+v, %v", ev, err)
	}
	if _, err := url.QueryUnescape("%zz"); err == nil {
		t.Fatal("expected a bad escape")
	}
	var ee *EventError
	if _, err := parseEvent(json.RawMessage(s3Event("bad%zzkey"))); !errors.As(err, &ee) {
		t.Fatalf("bad escape: err = %v, want *EventError", err)
	}
}

func TestParseEventIgnoresAndRejects(t *testing.T) {
	removed := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`
	ev, err := parseEvent(json.RawMessage(removed))
	if err != nil || len(ev.messages[0].objects) != 0 {
		t.Fatalf("ObjectRemoved: %+v %v; want no objects", ev, err)
	}
	deleted := `{"source":"aws.s3","detail-type":"Object Deleted","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`
	ev, err = parseEvent(json.RawMessage(deleted))
	if err != nil || len(ev.messages[0].objects) != 0 {
		t.Fatalf("Object Deleted: %+v %v; want no objects", ev, err)
	}
	for _, bad := range []string{`{}`, `[]`, `{"Records":[{"eventSource":"aws:kinesis"}]}`, `not json`} {
		var ee *EventError
		if _, err := parseEvent(json.RawMessage(bad)); !errors.As(err, &ee) {
			t.Errorf("%s: err = %v, want *EventError", bad, err)
		}
	}
	// A bad SQS body fails only its message.
	ev, err = parseEvent(json.RawMessage(`{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":"garbage"}]}`))
	if err != nil || ev.messages[0].err == nil {
		t.Fatalf("bad body: %+v %v", ev, err)
	}
}
