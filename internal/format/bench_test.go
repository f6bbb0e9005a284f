package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Run with -cpu 1 for throughput per core:
//
//	go test -run '^$' -bench . -cpu 1 ./internal/format
//
// MB/s is input per wall-clock second; cpu-MB/s is input per second of
// CPU time used by the process (parsing and garbage collection), which
// stays meaningful when other work shares the machine.

// BenchmarkCSV reads listing exports: ten columns, one row in ten with a
// quoted cell (a comma or a quote in the description).
func BenchmarkCSV(b *testing.B) { benchFormat(b, "csv", csvInput(8<<20, 10)) }

// BenchmarkCSVQuoted reads a file where every cell is quoted, the slow path.
func BenchmarkCSVQuoted(b *testing.B) { benchFormat(b, "csv", csvInput(8<<20, 1)) }

// BenchmarkALB reads Application Load Balancer logs of an events endpoint:
// every request carries a query string of five to eight parameters.
func BenchmarkALB(b *testing.B) { benchFormat(b, "alb", albInput(8<<20)) }

func BenchmarkJSONL(b *testing.B) { benchFormat(b, "jsonl", jsonlInput(8<<20)) }

// BenchmarkJSONLRaw reads the same lines as the splitter does when only
// the envelope reads the fields: by NextRaw, every line checked, none
// unescaped.
func BenchmarkJSONLRaw(b *testing.B) { benchFormat(b, "jsonl-raw", jsonlInput(8<<20)) }

func BenchmarkLines(b *testing.B) { benchFormat(b, "lines", albInput(8<<20)) }

// BenchmarkCSVObject1GiB streams a generated 1 GiB csv object through the
// scanner and reports the peak live heap, sampled every 4096 records: the
// scanner's memory does not grow with the object.
func BenchmarkCSVObject1GiB(b *testing.B) {
	const size = 1 << 30
	block := csvInput(1<<20, 10)
	header := block[:bytes.IndexByte(block, '\n')+1]
	rows := block[len(header):]
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		r := io.MultiReader(bytes.NewReader(header), &cycle{data: rows, left: size - int64(len(header))})
		s, err := New("csv", r, nil)
		if err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		for n := 0; ; n++ {
			_, err := s.Next()
			if err == io.EOF {
				break
			}
			var re *RecordError
			if err != nil && !errors.As(err, &re) { // the object may end mid-row
				b.Fatal(err)
			}
			if n%4096 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// cycle repeats data until left bytes have been read.
type cycle struct {
	data []byte
	at   int
	left int64
}

func (c *cycle) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.left)]
	n := copy(p, c.data[c.at:])
	c.at = (c.at + n) % len(c.data)
	c.left -= int64(n)
	return n, nil
}

func benchFormat(b *testing.B, format string, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	records := 0
	cpu := cpuSeconds()
	name, raw := strings.CutSuffix(format, "-raw")
	for b.Loop() {
		s, err := New(name, bytes.NewReader(data), nil)
		if err != nil {
			b.Fatal(err)
		}
		next := s.Next
		if raw {
			next = s.(RawScanner).NextRaw
		}
		for {
			_, err := next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if used := cpuSeconds() - cpu; used > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/used/1e6, "cpu-MB/s")
	}
}

// csvInput builds about size bytes of CSV; every quoteEvery-th row has
// quoted cells (every cell, when quoteEvery is 1).
func csvInput(size, quoteEvery int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	cities := []string{"Berlin", "München", "São Paulo", "Zürich", "Lyon", "Austin"}
	words := []string{"bright", "two-bedroom", "flat", "garden", "near", "station", "renovated", "quiet", "balcony", "parking"}
	var b bytes.Buffer
	b.WriteString("id,sku,title,price,currency,qty,created_at,city,lat,description\n")
	for i := 0; b.Len() < size; i++ {
		desc := make([]string, 4+r.IntN(8))
		for k := range desc {
			desc[k] = words[r.IntN(len(words))]
		}
		d := strings.Join(desc, " ")
		cells := []string{
			fmt.Sprint(i), fmt.Sprintf("SKU-%06d", r.IntN(1e6)), "Listing " + desc[0], fmt.Sprintf("%d.%02d", r.IntN(5000), r.IntN(100)),
			"EUR", fmt.Sprint(r.IntN(20)), "2026-03-14T09:26:53Z", cities[r.IntN(len(cities))],
			fmt.Sprintf("%.5f", 40+r.Float64()*20), d,
		}
		switch {
		case quoteEvery == 1:
			for k, c := range cells {
				cells[k] = `"` + c + `"`
			}
		case i%quoteEvery == 0:
			cells[9] = `"` + d + `, with ""character"""`
		}
		b.WriteString(strings.Join(cells, ","))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func albInput(size int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	events := []string{"page_view", "click", "add_to_cart", "purchase"}
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		q := fmt.Sprintf("event=%s&uid=%d&page=%%2Fp%%2F%d&ref=https%%3A%%2F%%2Fwww.example.org%%2Fsearch%%3Fq%%3Dred%%2Bshoes&ts=%d",
			events[r.IntN(len(events))], r.IntN(1e6), r.IntN(1e4), 1710408413000+i)
		if i%3 == 0 {
			q += "&name=Jos%C3%A9+Garc%C3%ADa&tag=a&tag=b"
		}
		fmt.Fprintf(&b, `https 2026-03-14T09:27:01.%06dZ app/prod-events/9a8b7c6d5e4f3a2b 198.51.100.%d:%d - 0.000 0.000 0.000 204 - 812 233 "GET https://events.example.com:443/e?%s HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-65f2c2bd-1c2d3e4f5a6b7c8d9e0f1a2b" "events.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2026-03-14T09:27:01.100000Z "fixed-response" "-" "-" "-" "-" "-" "-" TID_0f1e2d3c4b5a69788796a5b4c3d2e1f0 "-" "-" "-"`+"\n",
			i%1000000, r.IntN(255), 1024+r.IntN(60000), q)
	}
	return b.Bytes()
}

func jsonlInput(size int) []byte {
	r := rand.New(rand.NewPCG(5, 6))
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `{"id":%d,"event":"page_view","user":{"id":%d,"plan":"pro"},"page":"/p/%d","ts":"2026-03-14T09:27:01Z","tags":["a","b"],"amount":%d.%02d,"note":null}`+"\n",
			i, r.IntN(1e6), r.IntN(1e4), r.IntN(500), r.IntN(100))
	}
	return b.Bytes()
}
