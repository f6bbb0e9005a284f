package redrive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/testenv"
)

// A local run's processing-failed output, redriven into a fresh local run
// with a fixed transform, is delivered.
func TestRedriveIntoTheLocalEmulator(t *testing.T) {
	cfg, err := config.Parse("sluice.yaml", []byte("streams:\n  listings: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	answer := func(result string) firehose.Processor {
		return func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
			var r firehose.Response
			for _, rec := range ev.Records {
				r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: result, Data: append(rec.Data, '\n')})
			}
			return r, nil
		}
	}
	first := t.TempDir()
	broken, err := localfirehose.New(cfg, answer(firehose.ProcessingFailed), localfirehose.Dir(first))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := broken.PutRecordBatch(ctx, putInput("listings", "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if err := broken.Close(ctx); err != nil {
		t.Fatal(err)
	}

	second := t.TempDir()
	fixed, err := localfirehose.New(cfg, answer(firehose.Ok), localfirehose.Dir(second))
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{Location: filepath.Join(first, "processing-failed")}
	res, err := Redrive(ctx, src, Stream("listings"), NewRedriver(fixed, nil, Options{}))
	if err != nil || res.Redriven != 3 {
		t.Fatalf("redrive: %+v %v", res, err)
	}
	if err := fixed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := fixed.Stats().Total(); st.Ok != 3 || st.Files != 1 {
		t.Fatalf("second run %+v", st)
	}
}

// Reading an s3:// prefix against moto_server (the fuller suite).
func TestSourceReadsS3FromMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dead")}); err != nil {
		t.Fatal(err)
	}
	plain, _ := os.ReadFile(filepath.Join(fixtures, "firehose-processing-failed.jsonl"))
	zipped, _ := os.ReadFile(filepath.Join(fixtures, "firehose-processing-failed.jsonl.gz"))
	splitter, _ := os.ReadFile(filepath.Join(fixtures, "splitter.jsonl"))
	for key, body := range map[string][]byte{
		"processing-failed/2024/11/22/10/listings-1-2024-11-22-10-10-00-a":    plain,
		"processing-failed/2024/11/22/11/listings-1-2024-11-22-11-10-00-b.gz": zipped,
		"splitter-failed/x.jsonl": splitter,
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dead"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []*deadletter.Record
	src := &Source{Location: "s3://dead/processing-failed/", S3: client}
	if err := src.Each(ctx, func(it Item) error { got = append(got, it.Record); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].ErrorCode != "Lambda.ProcessingFailedStatus" || got[3].AttemptsMade != 4 {
		t.Fatalf("records %+v", got)
	}

	// Parked records written back to S3.
	w := S3Writer{Client: client, Bucket: "dead", Prefix: "parked/"}
	if err := w.WriteObject(ctx, "2024/x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dead"), Key: aws.String("parked/2024/x")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
}

func putInput(stream string, data ...string) *awsfirehose.PutRecordBatchInput {
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
	for _, d := range data {
		in.Records = append(in.Records, types.Record{Data: []byte(d)})
	}
	return in
}
