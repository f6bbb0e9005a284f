package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
)

// Explainer re-runs the transform on one record's original data, as the
// named delivery stream would deliver it, and says what happens now: the
// result (Ok, Dropped or ProcessingFailed) and, for anything but Ok, why.
// Firehose keeps no reason of its own, so the reason must come from the
// transform; ProcessorExplainer is the fallback that only knows results.
type Explainer func(ctx context.Context, data []byte, stream string) Verdict

// Verdict is an Explainer's answer: the result, why, and what it knows of
// the record: the field at fault, its input value, and where the record
// came from (from its envelope).
type Verdict struct {
	Result, Reason string
	Field, Value   string
	HasValue       bool
	Source         *envelope.Source
}

// Results of an Explanation besides the transform's own.
const (
	// ResultSplitter marks a splitter dead letter: its line never reached
	// a stream, so it is not re-run (fix the input and split again).
	ResultSplitter = "SplitterDeadLetter"
	// ResultError marks a transform that failed as a whole (a Lambda error).
	ResultError = "FunctionError"
)

// Explanation is one line of `sluice redrive -explain`.
type Explanation struct {
	Object           string `json:"object"`
	Line             int64  `json:"line"`
	ArrivalTimestamp int64  `json:"arrivalTimestamp"`
	Arrival          string `json:"arrival"`
	AttemptsMade     int64  `json:"attemptsMade"`
	ErrorCode        string `json:"errorCode"`
	Stream           string `json:"stream,omitempty"`
	// Result is what the transform answers now; Reason says why.
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
	// SourceObject and SourceLine say where the record came from (the
	// splitter's input object, bucket/key); Field is the field at fault
	// and Value its input value (for a splitter dead letter, the line it
	// could not parse).
	SourceObject string  `json:"sourceObject,omitempty"`
	SourceLine   int64   `json:"sourceLine,omitempty"`
	Field        string  `json:"field,omitempty"`
	Value        *string `json:"value,omitempty"`
}

// ExplainStats counts explanations by their result now.
type ExplainStats struct {
	Records  int64
	ByResult map[string]int64
}

// explainer explains items one by one.
type explainer struct {
	explain Explainer
	pick    Picker
	w       io.Writer
	stats   ExplainStats
}

// Explain reads every record of src, re-runs it through explain as its
// stream (chosen by pick) would, and writes one JSON line per record to w.
func Explain(ctx context.Context, src *Source, pick Picker, explain Explainer, w io.Writer) (ExplainStats, error) {
	x := &explainer{explain: explain, pick: pick, w: w, stats: ExplainStats{ByResult: map[string]int64{}}}
	err := src.Each(ctx, func(it Item) error { return x.one(ctx, it) })
	return x.stats, err
}

func (x *explainer) one(ctx context.Context, it Item) error {
	rec := it.Record
	base := Explanation{
		Object: it.Object, Line: it.Line,
		ArrivalTimestamp: rec.ArrivalTimestamp,
		Arrival:          time.UnixMilli(rec.ArrivalTimestamp).UTC().Format("2006-01-02T15:04:05.000Z"),
		AttemptsMade:     rec.AttemptsMade, ErrorCode: rec.ErrorCode,
	}
	if isSplitter(rec.ErrorCode) {
		e := base
		e.Result, e.Reason = ResultSplitter, rec.Reason
		line := string(rec.RawData)
		e.Value = &line
		return x.write(e, rec.Source)
	}
	stream, err := x.pick(it)
	if err != nil {
		return err
	}
	base.Stream = stream
	// A packed record holds several documents, one per line, as the
	// transform reads it: each is explained on its own line.
	for _, part := range packedParts(rec.RawData) {
		e := base
		v := x.explain(ctx, part, stream)
		e.Result, e.Reason, e.Field = v.Result, v.Reason, v.Field
		if v.HasValue {
			e.Value = &v.Value
		}
		src := rec.Source
		if v.Source != nil {
			src = v.Source
		}
		if err := x.write(e, src); err != nil {
			return err
		}
	}
	return nil
}

// packedParts splits a record's data at newlines, as the transform does,
// skipping blank lines; data without a newline is one part.
func packedParts(data []byte) [][]byte {
	var parts [][]byte
	for _, p := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(p)) > 0 {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, data)
	}
	return parts
}

func (x *explainer) write(e Explanation, src *envelope.Source) error {
	if src != nil && src.Key != "" {
		e.SourceObject, e.SourceLine = src.Bucket+"/"+src.Key, src.Line
	}
	x.stats.Records++
	x.stats.ByResult[e.Result]++
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redrive: %w", err)
	}
	if _, err := x.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("redrive: write: %w", err)
	}
	return nil
}

// isSplitter tells the splitter's own dead letters from Firehose's.
func isSplitter(errorCode string) bool { return strings.HasPrefix(errorCode, "Splitter.") }

// ProcessorExplainer explains with a Processor alone: it invokes it with a
// one-record Firehose event for the stream and reports the record's result.
// A processor reports no reasons, so a ProcessingFailed result comes with
// none; the transform's own Explainer should be preferred.
func ProcessorExplainer(process firehose.Processor, region, account string) Explainer {
	return func(ctx context.Context, data []byte, stream string) Verdict {
		const id = "redrive-explain"
		ev := events.KinesisFirehoseEvent{
			InvocationID:      "redrive-explain",
			DeliveryStreamArn: fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", region, account, stream),
			Region:            region,
			Records: []events.KinesisFirehoseEventRecord{{
				RecordID: id, Data: data,
				ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.Now()},
			}},
		}
		resp, err := process(ctx, ev)
		if err != nil {
			return Verdict{Result: ResultError, Reason: err.Error()}
		}
		for _, r := range resp.Records {
			if r.RecordID == id {
				return Verdict{Result: r.Result}
			}
		}
		return Verdict{Result: ResultError, Reason: "the transform returned no result for the record"}
	}
}
