package localfirehose

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
)

type discard struct{}

func (discard) WriteObject(context.Context, string, []byte) error { return nil }

// BenchmarkPutAndProcess measures the emulator's own cost per record:
// PutRecordBatch, buffering, the response checks and delivery, with a
// processor that echoes each record.
func BenchmarkPutAndProcess(b *testing.B) {
	cfg, err := config.Parse("sluice.yaml", []byte(oneStream))
	if err != nil {
		b.Fatal(err)
	}
	proc := func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		return okNewline(ev)
	}
	e, err := New(cfg, proc, discard{})
	if err != nil {
		b.Fatal(err)
	}
	rec := []byte(strings.Repeat("r", 299))
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String("listings"), Records: make([]types.Record, 500)}
	for i := range in.Records {
		in.Records[i].Data = rec
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.PutRecordBatch(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Close(ctx); err != nil {
		b.Fatal(err)
	}
	n := float64(b.N) * 500
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(n*300/1e6/b.Elapsed().Seconds(), "MB/s")
}
