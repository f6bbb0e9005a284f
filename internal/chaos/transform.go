package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"

	"github.com/aws/aws-lambda-go/events"

	sfirehose "github.com/sluicehq/sluice/internal/firehose"
)

// Process wraps the transform invocation the Firehose emulator makes. It
// may fail the invocation before it runs (a function error) or after (a
// timeout: the transform ran, its response is lost); the emulator then
// retries the batch and, past its retries, writes it under the error prefix
// as Lambda.FunctionError, as Firehose does. From each answered batch it
// records the ids the transform dropped: a dropped record leaves nothing in
// the destination to check it by.
func (in *Injector) Process(next sfirehose.Processor) sfirehose.Processor {
	return func(ctx context.Context, ev events.KinesisFirehoseEvent) (sfirehose.Response, error) {
		key := batchKey(ev)
		if in.fire(InvokeError, key) {
			return sfirehose.Response{}, errors.New("chaos: the function returned an error")
		}
		resp, err := next(ctx, ev)
		if err != nil {
			return resp, err
		}
		if in.fire(InvokeTimeout, key) {
			return sfirehose.Response{}, errors.New("chaos: Task timed out")
		}
		in.ledger.dropped(droppedIDs(ev, resp))
		return resp, nil
	}
}

// batchKey identifies a batch by its envelopes' ids (the emulator's record
// ids are random, and the data's ingested_at changes from run to run).
func batchKey(ev events.KinesisFirehoseEvent) []byte {
	h := fnv.New64a()
	for _, r := range ev.Records {
		h.Write(idsKey(r.Data))
	}
	return h.Sum(nil)
}

// droppedIDs lists the envelope ids of each input record that its answer
// does not carry: all of a Dropped record's, and those of an Ok record
// whose documents leave some out (a drop rule on a packed record's part).
func droppedIDs(ev events.KinesisFirehoseEvent, resp sfirehose.Response) []string {
	byID := make(map[string]*sfirehose.ResponseRecord, len(resp.Records))
	for i := range resp.Records {
		byID[resp.Records[i].RecordID] = &resp.Records[i]
	}
	var out []string
	for _, rec := range ev.Records {
		r := byID[rec.RecordID]
		if r == nil || r.Result == sfirehose.ProcessingFailed {
			continue // the emulator writes it under the error prefix
		}
		kept := map[string]bool{}
		if r.Result == sfirehose.Ok {
			forEachLine(r.Data, func(doc []byte) {
				var d struct {
					Provenance struct {
						RecordID string `json:"record_id"`
					} `json:"provenance"`
				}
				if json.Unmarshal(doc, &d) == nil {
					kept[d.Provenance.RecordID] = true
				}
			})
		}
		forEachLine(rec.Data, func(env []byte) {
			if id := envelopeID(env); id != "" && !kept[id] {
				out = append(out, id)
			}
		})
	}
	return out
}
