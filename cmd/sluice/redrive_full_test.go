package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testenv"
)

// Redrive through the real AWS SDK clients into moto's Firehose, which
// delivers to moto's S3 (the fuller suite).
func TestRedriveIntoMotoFirehose(t *testing.T) {
	endpoint := testenv.Moto(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	fhc := awsfirehose.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dest")}); err != nil {
		t.Fatal(err)
	}
	if _, err := fhc.CreateDeliveryStream(ctx, &awsfirehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("listings"),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::dest"),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose"),
		},
	}); err != nil {
		t.Fatal(err)
	}
	cfgPath, src := setupRedrive(t,
		deadletter.Record{AttemptsMade: 1, RawData: []byte("{\"a\":1}\n")},
		deadletter.Record{AttemptsMade: 4, RawData: []byte("{\"b\":2}\n")},
	)
	var out, errb bytes.Buffer
	if code := realMain([]string{"redrive", "-config", cfgPath, src}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "2 redriven (listings 2)") {
		t.Fatalf("summary: %s", errb.String())
	}

	// The same records read from an s3:// source, explained.
	stubTransform(t)
	fixture, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "deadletter", "firehose-processing-failed.jsonl.gz"))
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dest"),
		Key:  aws.String("processing-failed/2024/11/22/10/listings-1-2024-11-22-10-10-00-x"),
		Body: bytes.NewReader(fixture)}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := realMain([]string{"redrive", "-explain", "-config", cfgPath, "s3://dest/processing-failed/"}, &out, &errb); code != exitOK {
		t.Fatalf("explain from s3: exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 2 || !strings.Contains(out.String(), `"object":"s3://dest/processing-failed/2024/11/22/10/listings-1-2024-11-22-10-10-00-x"`) {
		t.Fatalf("explain output: %s", out.String())
	}
	// moto delivers each put straight to S3.
	var body []byte
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dest")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dest"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		body = append(body, b...)
	}
	if !bytes.Contains(body, []byte(`{"a":1}`)) || !bytes.Contains(body, []byte(`{"b":2}`)) {
		t.Fatalf("delivered %q", body)
	}
}
