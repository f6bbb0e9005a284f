package splitter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
)

// headed serves a generated object: a header once, then chunk repeated.
type headed struct {
	header, chunk []byte
	size          int64
}

func (g headed) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	body := io.MultiReader(bytes.NewReader(g.header), &repeatReader{chunk: g.chunk, left: g.size - int64(len(g.header))})
	return &s3.GetObjectOutput{Body: io.NopCloser(body), ContentLength: aws.Int64(g.size)}, nil
}

const formatsYAML = `
streams:
  s: {schema: listing}
routes:
  - {key: "csv/**", format: csv, schema: listing, stream: s}
  - {key: "alb/**", format: alb, schema: page_view, stream: s}
dead_letter: {bucket: dl}
`

// benchSplitFormat is the splitter with a real format on one core, into a
// Firehose client that discards. The object is about 64 MiB of whole lines.
func benchSplitFormat(b *testing.B, key string, g headed) {
	g.size = int64(len(g.header)) + (64<<20)/int64(len(g.chunk))*int64(len(g.chunk))
	cfg, err := config.Parse("sluice.yaml", []byte(formatsYAML))
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(cfg, g, NewFirehoseSink(&discardFirehose{}), WithFormats(format.New),
		WithDeadLetters(WriterDeadLetters{W: io.Discard}), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(g.size)
	b.ReportAllocs()
	var records int64
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; b.Loop(); i++ {
		res, err := h.Split(context.Background(), Object{Bucket: "b", Key: key, ETag: strconv.Itoa(i)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.DeadLettered > 0 {
			b.Fatalf("%d records dead-lettered", res.DeadLettered)
		}
		records += res.Sent
	}
	elapsed, cpu := time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(records)/elapsed, "records/s")
	if cpu > 0 {
		b.ReportMetric(float64(g.size)*float64(b.N)/1e6/cpu, "cpu-MB/s")
	}
}

// BenchmarkSplitCSV: scraped-listing CSV, the 150 MB/s target.
func BenchmarkSplitCSV(b *testing.B) {
	var chunk bytes.Buffer
	for i := 0; chunk.Len() < 1<<20; i++ {
		fmt.Fprintf(&chunk, "Shop %d,\"%d High St, Bristol\",\"£1,%03d.00\",01/05/2024,https://example.com/shops/%d,4.5,books; cafe\n", i, i%300, i%1000, i)
	}
	benchSplitFormat(b, "csv/big.csv", headed{header: []byte("Shop Name,Address,Price,Listed,URL,Rating,Tags\n"), chunk: chunk.Bytes()})
}

// BenchmarkSplitALB: ALB access logs whose query strings carry events.
func BenchmarkSplitALB(b *testing.B) {
	var chunk bytes.Buffer
	for i := 0; chunk.Len() < 1<<20; i++ {
		fmt.Fprintf(&chunk, `h2 2024-05-01T10:00:01.123456Z app/sluice-collector/50dc6c495c0c9188 203.0.113.%d:46532 - -1 -1 -1 204 - 312 146 "GET https://collector.example.com:443/e?e=page_view&p=%%2Fp%%2F%d&vid=v-%d HTTP/2.0" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-6632f1a0-0f1e2d3c4b5a69788796a5b4" "collector.example.com" "-" 0 2024-05-01T10:00:00.000000Z "fixed-response" "-" "-" "-" "-" "-" "-" TID_0f1e2d3c`+"\n", i%255, i%500, i)
	}
	benchSplitFormat(b, "alb/big.log", headed{chunk: chunk.Bytes()})
}
