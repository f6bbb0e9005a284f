package transform

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
)

// Verdict is what the transform makes of one record now, and where the
// record came from: what `sluice redrive -explain`, `sluice test` and the
// run report show. Value is a record value: local tools show it, the
// Lambdas never log it.
type Verdict struct {
	Result string
	Class  string
	Field  string
	Reason string
	// Value is the input value of Field, when the record has one.
	Value    string
	HasValue bool
	// Schema and Source come from the envelope (Source is nil for a bare
	// record).
	Schema string
	Source *envelope.Source
}

// Inspect runs one Firehose record's data through the transform as if it
// arrived on stream. A packed record is inspected part by part, and the
// first part that is not Ok answers.
func (h *Handler) Inspect(ctx context.Context, data []byte, stream string) Verdict {
	parts := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	var v Verdict
	for _, part := range parts {
		if len(bytes.TrimSpace(part)) == 0 {
			continue
		}
		v = h.inspectOne(ctx, part, stream)
		if v.Result != firehose.Ok {
			return v
		}
	}
	return v
}

func (h *Handler) inspectOne(ctx context.Context, data []byte, stream string) Verdict {
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "explain",
		DeliveryStreamArn: "arn:aws:firehose:local:000000000000:deliverystream/" + stream,
		Records:           []events.KinesisFirehoseEventRecord{{RecordID: "explain", Data: data, ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: h.now()}}},
	}
	var v Verdict
	var d envelope.Decoded
	decoded := envelope.Decode(data, &d) == nil
	if decoded && !d.Bare {
		src := d.Source
		v.Source, v.Schema = &src, d.Schema
	}
	_, out, err := h.Process(ctx, ev)
	if err != nil {
		v.Result, v.Reason = firehose.ProcessingFailed, err.Error()
		return v
	}
	o := out[0]
	v.Result, v.Class, v.Field, v.Reason = o.Result, o.Class, o.Field, o.Reason
	if decoded && v.Field != "" {
		name := v.Schema
		if d.Bare {
			name = h.cfg.SchemaForStream(stream)
		}
		if plan := h.plans[name]; plan != nil {
			top, _, _ := cutField(v.Field)
			want := plan.Lookup(top)
			for _, f := range d.Fields {
				if want >= 0 && plan.Lookup(f.Name) == want {
					v.Value, v.HasValue = f.Value, f.Kind != envelope.Null
					break
				}
			}
		}
	}
	return v
}

// cutField splits "a.b" into "a" and "b".
func cutField(path string) (string, string, bool) {
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			return path[:i], path[i+1:], true
		}
	}
	return path, "", false
}

// Explain is the verdict's reason in one line: "coerce: field price: ...".
func (v Verdict) Explain() string {
	switch {
	case v.Reason == "":
		return ""
	case v.Class == "":
		return v.Reason
	case v.Field != "":
		return fmt.Sprintf("%s: field %s: %s", v.Class, v.Field, v.Reason)
	default:
		return fmt.Sprintf("%s: %s", v.Class, v.Reason)
	}
}
