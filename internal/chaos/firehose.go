package chaos

import (
	"bytes"
	"context"
	"hash/fnv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	sfirehose "github.com/sluicehq/sluice/internal/firehose"
)

// Firehose wraps the splitter's PutRecordBatch client. Per call it may
// refuse the whole call (throttled), refuse some entries (partial failure:
// they are not passed on, and answered ServiceUnavailableException), or
// pass the call on and then lose the answer (a timeout after Firehose
// accepted: the producer sends the records again, with the same ids).
// Every entry next accepts is recorded in the Ledger as sent.
func (in *Injector) Firehose(next sfirehose.PutRecordBatchAPI) sfirehose.PutRecordBatchAPI {
	return &firehoseFaults{in: in, next: next}
}

type firehoseFaults struct {
	in   *Injector
	next sfirehose.PutRecordBatchAPI
}

const codeThrottled = "ServiceUnavailableException"

func (f *firehoseFaults) PutRecordBatch(ctx context.Context, req *awsfirehose.PutRecordBatchInput, opts ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	key := callKey(req)
	if f.in.fire(PutThrottled, key) {
		return nil, &smithy.GenericAPIError{Code: codeThrottled, Message: "chaos: Slow down.", Fault: smithy.FaultServer}
	}
	n := len(req.Records)
	refused := make([]bool, n)
	pass := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: req.DeliveryStreamName, Records: make([]types.Record, 0, n)}
	if f.in.fire(PutPartial, key) {
		for i, r := range req.Records {
			refused[i] = f.in.draw(PutPartial, idsKey(r.Data)) < 0.5
		}
	}
	for i, r := range req.Records {
		if !refused[i] {
			pass.Records = append(pass.Records, r)
		}
	}
	out := &awsfirehose.PutRecordBatchOutput{RequestResponses: make([]types.PutRecordBatchResponseEntry, n), Encrypted: aws.Bool(false)}
	var failed int32
	if len(pass.Records) > 0 {
		got, err := f.next.PutRecordBatch(ctx, pass, opts...)
		if err != nil {
			return nil, err
		}
		k := 0
		for i := range req.Records {
			if refused[i] {
				continue
			}
			e := got.RequestResponses[k]
			k++
			out.RequestResponses[i] = e
			if e.ErrorCode != nil {
				failed++
				continue
			}
			f.in.ledger.sent(req.Records[i].Data)
		}
	}
	for i := range refused {
		if refused[i] {
			failed++
			out.RequestResponses[i] = types.PutRecordBatchResponseEntry{ErrorCode: aws.String(codeThrottled), ErrorMessage: aws.String("chaos: Slow down.")}
		}
	}
	out.FailedPutCount = aws.Int32(failed)
	if len(pass.Records) > 0 && f.in.fire(PutTimeoutAccepted, key) {
		return nil, timeoutError{}
	}
	return out, nil
}

// callKey identifies a call by its stream and its records' ids (not their
// data, whose ingested_at changes from run to run).
func callKey(req *awsfirehose.PutRecordBatchInput) []byte {
	h := fnv.New64a()
	h.Write([]byte(aws.ToString(req.DeliveryStreamName)))
	for _, r := range req.Records {
		h.Write(idsKey(r.Data))
	}
	return h.Sum(nil)
}

// idsKey is the envelope ids in data (one envelope, or packed lines), or
// data itself when it holds none.
func idsKey(data []byte) []byte {
	var out []byte
	forEachLine(data, func(line []byte) {
		if i := bytes.Index(line, []byte(`"id":"`)); i >= 0 {
			id := line[i+6:]
			if j := bytes.IndexByte(id, '"'); j >= 0 {
				out = append(append(out, id[:j]...), 0)
			}
		}
	})
	if out == nil {
		return data
	}
	return out
}

// timeoutError is a response that never came: a network timeout, which the
// SDK's retry rules (and the producer's) treat as retryable.
type timeoutError struct{}

func (timeoutError) Error() string {
	return "chaos: read tcp: i/o timeout awaiting the PutRecordBatch response"
}
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
