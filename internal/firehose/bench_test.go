package firehose

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// discard acknowledges every record without looking at it.
type discard struct{ out firehose.PutRecordBatchOutput }

func (d *discard) PutRecordBatch(_ context.Context, in *firehose.PutRecordBatchInput, _ ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error) {
	if cap(d.out.RequestResponses) < len(in.Records) {
		d.out.RequestResponses = make([]types.PutRecordBatchResponseEntry, MaxBatchRecords)
	}
	d.out.RequestResponses = d.out.RequestResponses[:len(in.Records)]
	return &d.out, nil
}

// BenchmarkProducer measures the producer's own cost per record (copying,
// batching, packing, acknowledgement) with a client that discards.
func BenchmarkProducer(b *testing.B) {
	for _, size := range []int{200, 2048} {
		for _, pack := range []bool{false, true} {
			b.Run(fmt.Sprintf("record=%dB/pack=%v", size, pack), func(b *testing.B) {
				ctx := context.Background()
				d := &discard{}
				p, err := New(d, Options{Stream: "bench", Pack: pack})
				if err != nil {
					b.Fatal(err)
				}
				data := rec(0, size-1)
				data = append(data, '\n')
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := p.Add(ctx, data); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkProducerSDK adds what the real client costs per record (JSON,
// base64, SigV4 payload hash) by answering its HTTP requests in process.
func BenchmarkProducerSDK(b *testing.B) {
	for _, size := range []int{200, 2048} {
		b.Run(fmt.Sprintf("record=%dB", size), func(b *testing.B) {
			ctx := context.Background()
			client := firehose.New(firehose.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String("http://firehose.invalid"),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
				HTTPClient:   &http.Client{Transport: answerAll{}},
			})
			p, err := New(client, Options{Stream: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			data := append(rec(0, size-1), '\n')
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Add(ctx, data); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// answerAll acknowledges every record of a PutRecordBatch request.
type answerAll struct{}

func (answerAll) RoundTrip(r *http.Request) (*http.Response, error) {
	var c dataCounter
	if _, err := io.CopyBuffer(&c, r.Body, make([]byte, 64<<10)); err != nil {
		return nil, err
	}
	n := c.n
	var out bytes.Buffer
	out.WriteString(`{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[`)
	for i := range n {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(`{"RecordId":"x"}`)
	}
	out.WriteString(`]}`)
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(&out),
		Request:    r,
	}, nil
}

// dataCounter counts the records of a request body as it streams by,
// without holding it.
type dataCounter struct {
	n    int
	tail []byte
}

func (c *dataCounter) Write(p []byte) (int, error) {
	const key = `"Data"`
	joined := append(c.tail, p[:min(len(p), len(key)-1)]...)
	c.n += bytes.Count(joined, []byte(key)) + bytes.Count(p, []byte(key))
	c.tail = append(c.tail[:0], p[max(0, len(p)-(len(key)-1)):]...)
	return len(p), nil
}

// BenchmarkBase64 is the transform's base64: a 3 MB event's record data
// decoded, and as much encoded for the response.
func BenchmarkBase64(b *testing.B) {
	src := make([]byte, 9<<18) // 2.25 MiB of data, 3 MiB of base64
	for i := range src {
		src[i] = byte(i*131 + i>>7)
	}
	enc := appendBase64(nil, src)
	b.Run("decode", func(b *testing.B) {
		dst := make([]byte, len(src)+8)
		b.SetBytes(int64(len(enc)))
		for range b.N {
			if _, err := decodeBase64(dst, enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		dst := make([]byte, 0, len(enc))
		b.SetBytes(int64(len(src)))
		for range b.N {
			dst = appendBase64(dst[:0], src)
		}
	})
}

// BenchmarkArenaCopyLarge copies a packed record's documents (1,000 KiB),
// which get memory of their own, batch after batch: the memory of
// delivered batches is collected and handed out again.
func BenchmarkArenaCopyLarge(b *testing.B) {
	docs := bytes.Repeat([]byte(`{"id":"x","price":1.5}`+"\n"), MaxRecordBytes/23)
	var a Arena
	kept := make([][]byte, 0, 4) // a batch's responses
	b.SetBytes(int64(len(docs)))
	b.ReportAllocs()
	for b.Loop() {
		if len(kept) == cap(kept) {
			clear(kept)
			kept = kept[:0]
			a.Reset()
		}
		kept = append(kept, a.Copy(docs))
	}
}
