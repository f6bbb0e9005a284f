package firehose_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/firehose"
)

// throttleOnce refuses the second record of its first call, as a stream
// over its quota does, and acknowledges everything else.
type throttleOnce struct{ calls int }

func (c *throttleOnce) PutRecordBatch(_ context.Context, in *fh.PutRecordBatchInput, _ ...func(*fh.Options)) (*fh.PutRecordBatchOutput, error) {
	c.calls++
	out := &fh.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}
	for i, r := range in.Records {
		e := types.PutRecordBatchResponseEntry{RecordId: aws.String("id")}
		if c.calls == 1 && i == 1 {
			e = types.PutRecordBatchResponseEntry{ErrorCode: aws.String("ServiceUnavailableException")}
			*out.FailedPutCount++
		}
		fmt.Printf("call %d sends %q\n", c.calls, r.Data)
		out.RequestResponses = append(out.RequestResponses, e)
	}
	return out, nil
}

func ExampleProducer() {
	ctx := context.Background()
	p, err := firehose.New(&throttleOnce{}, firehose.Options{
		Stream: "listings",
		// A checkpoint would store n: records 0 to n-1 are in Firehose.
		OnAck: func(n int64) { fmt.Println("acknowledged:", n) },
	})
	if err != nil {
		panic(err)
	}
	for _, r := range []string{"a", "b", "c"} {
		if err := p.Add(ctx, []byte(r)); err != nil {
			var rejected *firehose.RecordError
			if errors.As(err, &rejected) {
				continue // dead-letter it with err.Error() as the reason
			}
			panic(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		panic(err)
	}
	// Output:
	// call 1 sends "a"
	// call 1 sends "b"
	// call 1 sends "c"
	// call 2 sends "b"
	// acknowledged: 3
}
