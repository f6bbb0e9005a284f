package firehose

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestMotoDelivery puts records through the real SDK client into moto's
// Firehose, which writes each call to its S3 destination, and counts every
// record in the objects written.
func TestMotoDelivery(t *testing.T) {
	endpoint := testenv.Moto(t)
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	fhc := firehose.NewFromConfig(cfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(endpoint) })

	for _, pack := range []bool{false, true} {
		t.Run(fmt.Sprintf("pack=%v", pack), func(t *testing.T) {
			bucket := fmt.Sprintf("delivered-%v", pack)
			name := fmt.Sprintf("sluice-test-%v", pack)
			if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			_, err := fhc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
				DeliveryStreamName: aws.String(name),
				DeliveryStreamType: types.DeliveryStreamTypeDirectPut,
				ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
					BucketARN: aws.String("arn:aws:s3:::" + bucket),
					RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
					Prefix:    aws.String("out/"),
				},
			})
			if err != nil {
				t.Fatal(err)
			}

			var acked int64
			p, err := New(fhc, Options{Stream: name, Pack: pack, OnAck: func(n int64) { acked = n }})
			if err != nil {
				t.Fatal(err)
			}
			const n = 1234
			for i := range n {
				// S3 delivery concatenates records: each carries its newline.
				if err := p.Add(ctx, fmt.Appendf(nil, `{"id":%d,"pad":"%0200d"}`+"\n", i, i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if acked != n {
				t.Fatalf("acknowledged %d, want %d", acked, n)
			}

			seen := make([]int, n)
			objects := 0
			pages := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("out/")})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					objects++
					obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
					if err != nil {
						t.Fatal(err)
					}
					countLines(t, obj.Body, seen)
					obj.Body.Close()
				}
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("record %d delivered %d times", i, c)
				}
			}
			// Unpacked: 1234 records in batches of 500. Packed: they fit one
			// Firehose record, one call.
			if want := map[bool]int{false: 3, true: 1}[pack]; objects != want {
				t.Errorf("%d objects, want %d (one per call)", objects, want)
			}
		})
	}
}

func countLines(t *testing.T, r io.Reader, seen []int) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var id int
		if _, err := fmt.Sscanf(sc.Text(), `{"id":%d,`, &id); err != nil || id < 0 || id >= len(seen) {
			t.Fatalf("unexpected line %.60q: %v", sc.Text(), err)
		}
		seen[id]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
