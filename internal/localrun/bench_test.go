package localrun

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchInput writes a mixed input of about size bytes, split evenly between
// listings CSVs, ALB access logs with query-string events, and webhook
// JSON lines, in files of at most fileSize bytes as they would land in S3.
func benchInput(b testing.TB, size, fileSize int64) string {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewSource(1))
	kinds := []struct {
		dir, ext, header string
		line             func(i int) string
	}{
		{"listings", "csv", "Shop Name,Address,Price,Listed,URL,Rating,Tags\n", func(i int) string {
			return fmt.Sprintf("Shop %d,\"%d High St, Bristol\",\"£%d,%03d.%02d\",%02d/05/2024,https://example.com/s/%d,%d.%d,books; cafe\n",
				i, rng.Intn(300), rng.Intn(9), rng.Intn(1000), rng.Intn(100), 1+rng.Intn(28), i, rng.Intn(5), rng.Intn(10))
		}},
		{"alb-logs", "log", "", func(i int) string {
			return fmt.Sprintf(`h2 2024-05-01T10:%02d:%02d.%06dZ app/sluice-collector/50dc6c495c0c9188 203.0.113.%d:46532 - -1 -1 -1 204 - 312 146 "GET https://collector.example.com:443/e?e=page_view&p=%%2Fp%%2F%d&vid=v-%d HTTP/2.0" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-6632f1a0-0f1e2d3c4b5a69788796a5b4" "collector.example.com" "-" 0 2024-05-01T10:00:00.000000Z "fixed-response" "-" "-" "-" "-" "-" "-" TID_0f1e2d3c`+"\n",
				rng.Intn(60), rng.Intn(60), rng.Intn(1000000), rng.Intn(255), i%500, rng.Intn(100000))
		}},
		{"webhooks", "jsonl", "", func(i int) string {
			return fmt.Sprintf(`{"id":"evt_%d","type":"payment.succeeded","created_at":"2024-05-01T10:00:00.%06dZ","amount":"%d.%02d","status":"succeeded","livemode":true}`+"\n",
				i, rng.Intn(1000000), rng.Intn(5000), rng.Intn(100))
		}},
	}
	var written int64
	for n := 0; written < size; n++ {
		k := kinds[n%len(kinds)]
		path := filepath.Join(dir, k.dir, "part-"+strconv.Itoa(n)+"."+k.ext)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fw, _ := w.WriteString(k.header)
		for i := 0; int64(fw) < fileSize && written+int64(fw) < size; i++ {
			m, _ := w.WriteString(k.line(i))
			fw += m
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		written += int64(fw)
	}
	return dir
}

// BenchmarkRun is `sluice run` end to end: split, the Firehose emulator,
// the transform and delivery to disk. SLUICE_BENCH_BYTES sets the input size
// (default 64 MiB; the figure in the docs is for 1 GiB:
// SLUICE_BENCH_BYTES=1073741824 go test -run XXX -bench Run -cpu 1 ./internal/localrun).
func BenchmarkRun(b *testing.B) {
	size := int64(64 << 20)
	if s := os.Getenv("SLUICE_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("SLUICE_BENCH_BYTES: %v", err)
		}
		size = n
	}
	cfg, reg := shipped(b)
	in := benchInput(b, size, 64<<20)
	b.SetBytes(size)
	b.ResetTimer()
	var records int64
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{in}, Out: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if !sum.Conserved() || sum.Failed+sum.DeadLettered > 0 {
			b.Fatalf("benchmark input should all be delivered: %+v", sum)
		}
		records += sum.RecordsIn
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
