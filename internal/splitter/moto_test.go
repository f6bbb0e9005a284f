package splitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter/splittertest"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestMoto runs the handler with the real SDK clients against moto_server:
// objects go into moto's S3, records through moto's Firehose into its S3
// destination, and every record is counted there. Checkpoints use the real
// Redis.
func TestMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	redisAddr := testenv.RedisAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"), awsconfig.WithLogger(logging.Nop{}))
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true })
	fhc := firehose.NewFromConfig(awsCfg, func(o *firehose.Options) { o.BaseEndpoint = aws.String(endpoint) })

	for _, b := range []string{"landing", "plain", "delivered", "dead"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("landing"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fhc.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("events"),
		DeliveryStreamType: fhtypes.DeliveryStreamTypeDirectPut,
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::delivered"),
			RoleARN:   aws.String("arn:aws:iam::123456789012:role/firehose-delivery"),
			Prefix:    aws.String("events/"),
		},
	}); err != nil {
		t.Fatalf("create delivery stream: %v", err)
	}

	cfg, err := config.Parse("sluice.yaml", []byte(`
streams:
  events: {}
routes:
  - key: "in/**"
    format: lines
    schema: listing
    stream: events
dead_letter:
  bucket: dead
  prefix: splitter-failed/
`))
	if err != nil {
		t.Fatal(err)
	}
	store := NewRedisStore(redisAt(t, "redis://"+redisAddr+"/0"+patient), time.Minute)
	emf := &bytes.Buffer{}
	h, err := New(cfg, s3c, NewFirehoseSink(fhc), WithFormats(splittertest.OpenFormat), WithCheckpoints(store),
		WithMetrics(metrics.New(emf)), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}

	// Keys unique per run: the real Redis keeps done markers.
	run := time.Now().UnixNano()
	var want, wantBad int
	put := func(bucket, key string, body []byte) Object {
		out, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return Object{Bucket: bucket, Key: key, Version: aws.ToString(out.VersionId), ETag: strings.Trim(aws.ToString(out.ETag), `"`), Size: int64(len(body))}
	}
	lines := func(n, badEvery int) []byte {
		var b bytes.Buffer
		for i := range n {
			if badEvery > 0 && i%badEvery == badEvery-1 {
				fmt.Fprintf(&b, "BAD %d\n", i)
				wantBad++
				continue
			}
			fmt.Fprintf(&b, "row %d of a file with a key that needs decoding\n", i)
			want++
		}
		return b.Bytes()
	}
	versioned := put("landing", fmt.Sprintf("in/%d/red flower=ä.txt", run), lines(2345, 100))
	if versioned.Version == "" {
		t.Fatal("moto gave no version id for a versioned bucket")
	}
	byETag := put("plain", fmt.Sprintf("in/%d/plain.txt", run), lines(700, 0))
	gz := put("plain", fmt.Sprintf("in/%d/packed.txt", run), gzipMembers(t, lines(600, 0), lines(400, 0)))

	// Through the event shapes, with URL-encoded keys as S3 sends them.
	if _, err := h.Handle(ctx, s3EventFor(versioned)); err != nil {
		t.Fatal(err)
	}
	out, err := h.Handle(ctx, sqsEventFor(s3EventFor(byETag), s3EventFor(gz)))
	if err != nil {
		t.Fatal(err)
	}
	if f := out.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
		t.Fatalf("SQS batch item failures %v", f)
	}
	// Redelivery: nothing is sent twice.
	if _, err := h.Handle(ctx, s3EventFor(versioned)); err != nil {
		t.Fatal(err)
	}
	// A changed object (412 on If-Match) and a missing version (404).
	stale := byETag
	stale.ETag = "0123456789abcdef0123456789abcdef"
	if res, err := h.Split(ctx, stale, nil); err != nil || res.Status != StatusChanged {
		t.Fatalf("stale ETag: %+v, %v", res, err)
	}
	gone := versioned
	gone.Version = "no-such-version"
	if res, err := h.Split(ctx, gone, nil); err != nil || res.Status != StatusMissing {
		t.Fatalf("missing version: %+v, %v", res, err)
	}

	// Count what moto's Firehose delivered to its S3 destination.
	got := map[string]bool{}
	var decoded int
	for _, key := range listKeys(t, ctx, s3c, "delivered", "events/") {
		body := getBody(t, ctx, s3c, "delivered", key)
		dec := json.NewDecoder(bytes.NewReader(body)) // records are concatenated
		for {
			var d envDoc
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if got[d.ID] {
				t.Fatalf("record %s delivered twice", d.ID)
			}
			got[d.ID] = true
			decoded++
			if d.Schema != "listing" || !strings.HasPrefix(d.Fields["line"], "row ") {
				t.Fatalf("record %+v", d)
			}
		}
	}
	if decoded != want {
		t.Fatalf("moto's Firehose delivered %d records, want %d", decoded, want)
	}
	var bad int
	for _, key := range listKeys(t, ctx, s3c, "dead", "splitter-failed/") {
		bad += strings.Count(string(getBody(t, ctx, s3c, "dead", key)), "\n")
	}
	if bad != wantBad {
		t.Fatalf("dead letters %d, want %d", bad, wantBad)
	}

	// Replay lists the prefix and sends it again, with the same ids.
	replayer, err := New(cfg, s3c, NewFirehoseSink(fhc), WithFormats(splittertest.OpenFormat),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Replay(ctx, sdkLister(s3c), replayer, "plain", fmt.Sprintf("in/%d/", run), time.Now().Add(-time.Hour), time.Time{}, nil)
	if err != nil || sum.Objects != 2 || sum.Sent != 700+1000 {
		t.Fatalf("replay: %+v, %v", sum, err)
	}
}

func listKeys(t *testing.T, ctx context.Context, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func getBody(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
