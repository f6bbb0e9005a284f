package splitter

import (
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

// FuzzGlob: any glob compiles or fails cleanly; "*" never crosses "/".
func FuzzGlob(f *testing.F) {
	for _, g := range []string{"*", "listings/**", "a/**/b/*.csv", "x[0-9]?", "[!a]", `\*`, "[", "**/"} {
		f.Add(g, "listings/a/b.csv")
	}
	f.Fuzz(func(t *testing.T, glob, s string) {
		re, err := compileGlob(glob)
		if err != nil {
			return
		}
		re.MatchString(s)
		if glob == "*" && re.MatchString("a/b") {
			t.Fatal(`"*" crossed "/"`)
		}
	})
}
