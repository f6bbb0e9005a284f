package splitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseEvent: any payload either parses or is an *EventError; it never
// panics, and an SQS message's bad body fails only that message.
func FuzzParseEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/events/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"sluice":"continue","hop":1,"objects":[{"bucket":"b","key":"k"}]}`))
	f.Add([]byte(`{"Records":[{"messageId":"m","eventSource":"aws:sqs","body":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := parseEvent(json.RawMessage(raw))
		var ee *EventError
		if err != nil {
			if !errors.As(err, &ee) {
				t.Fatalf("err %T %v is not an *EventError", err, err)
			}
			return
		}
		if len(ev.messages) == 0 && ev.shape != ShapeSQS {
			t.Fatalf("shape %s with no message", ev.shape)
		}
	})
}

// FuzzSplitConservation: whatever the object holds, plain or gzip, every
// line ends exactly once delivered or dead-lettered, and a broken gzip
// stream ends in one object-level dead letter.
func FuzzSplitConservation(f *testing.F) {
	f.Add([]byte("a\nBAD b\nc"), false)
	f.Add([]byte("\n\n\nBAD\n"), true)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		r := newRig(t, nil)
		body := data
		if compress {
			body = gzipMembers(t, data[:len(data)/2], data[len(data)/2:])
		}
		o := r.s3.add("b", "listings/f.txt", body, "", "e")
		res, err := r.h.Split(context.Background(), o, nil)
		if err != nil || res.Status != StatusDone {
			t.Fatalf("Split = %+v, %v", res, err)
		}
		sent := int64(len(delivered(t, r.fh, "events")))
		dead := int64(len(r.s3.deadLetterLines()))
		if sent != res.Sent || dead != res.DeadLettered {
			t.Fatalf("counted %d/%d, found %d/%d", res.Sent, res.DeadLettered, sent, dead)
		}
		isGzip := len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b
		if isGzip && !compress {
			return // arbitrary bytes behind a gzip magic: corrupt, one dead letter for the rest
		}
		lines := int64(bytes.Count(data, []byte("\n")))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if sent+dead != lines {
			t.Fatalf("%d lines, %d sent + %d dead-lettered", lines, sent, dead)
		}
	})
}
