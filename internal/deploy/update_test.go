package deploy

import (
	"bytes"
	"strings"
	"testing"
)

func TestCheckUpdate(t *testing.T) {
	gen := func(src string) []byte {
		var buf bytes.Buffer
		if err := Template(&buf, parse(t, src)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	plain := "streams:\n  events: {schema: x}\n  other: {schema: y}\n"
	partitioned := "streams:\n  events: {schema: x, partition_keys: true}\n  other: {schema: y}\n"
	renamed := "streams:\n  events_v2: {schema: x, partition_keys: true}\n  other: {schema: y}\n"
	for _, tt := range []struct {
		name, before, after, want string
	}{
		{"unchanged", plain, plain, ""},
		{"partitioning turned on", plain, partitioned, "streams.events.partition_keys: the deployed stream events runs without dynamic partitioning"},
		{"partitioning turned off", partitioned, plain, "runs with dynamic partitioning"},
		{"under a new name", plain, renamed, ""},
	} {
		err := CheckUpdate(gen(tt.before), parse(t, tt.after))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	// The single-stream template of earlier releases names its stream by a
	// parameter: nothing to compare, nothing refused.
	old := []byte("Resources:\n  DeliveryStream:\n    Type: AWS::KinesisFirehose::DeliveryStream\n    Properties:\n      DeliveryStreamName: !Ref DeliveryStreamName\n")
	if err := CheckUpdate(old, parse(t, partitioned)); err != nil {
		t.Errorf("a parameter-named stream: %v", err)
	}
	if err := CheckUpdate([]byte("{: ["), parse(t, plain)); err == nil {
		t.Error("an unreadable previous template passed")
	}
}
