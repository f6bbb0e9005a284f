package localrun

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The default input of BenchmarkRun: 64 MiB in files of 4 MiB, so each
// of the three kinds has several objects, as a day's uploads would.
const (
	benchBytes     = 64 << 20
	benchFileBytes = 4 << 20
)

// benchInput writes a mixed input of about size bytes: listings CSVs, ALB
// access logs with query-string events, and webhook JSON lines, a third of
// the bytes each, in files of at most about fileSize bytes (whole lines, so
// a file may pass it by one line) as they would land in S3. The kinds take
// turns file by file, and the same size and fileSize give the same bytes.
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
	// Each kind's lines are numbered across its files, so ids do not repeat.
	per := size / int64(len(kinds))
	written := make([]int64, len(kinds))
	lines := make([]int, len(kinds))
	for n := 0; slices.ContainsFunc(written, func(w int64) bool { return w < per }); n++ {
		k := n % len(kinds)
		if written[k] >= per {
			continue
		}
		kind := kinds[k]
		path := filepath.Join(dir, kind.dir, "part-"+strconv.Itoa(n)+"."+kind.ext)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fw, _ := w.WriteString(kind.header)
		for {
			m, _ := w.WriteString(kind.line(lines[k]))
			fw += m
			lines[k]++
			if int64(fw) >= fileSize || written[k]+int64(fw) >= per {
				break
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		written[k] += int64(fw)
	}
	return dir
}

// BenchmarkRun is `sluice run` end to end on a mixed input (benchInput):
// split, the Firehose emulator, the transform and delivery to disk.
// SLUICE_BENCH_BYTES sets the input size (default 64 MiB, in files of
// 4 MiB; the figure in the docs is for 1 GiB:
// SLUICE_BENCH_BYTES=1073741824 go test -run XXX -bench Run -cpu 1 ./internal/localrun).
// records/op is the input's record count, the same for any code that
// delivers it all.
func BenchmarkRun(b *testing.B) {
	size := int64(benchBytes)
	if s := os.Getenv("SLUICE_BENCH_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("SLUICE_BENCH_BYTES: %v", err)
		}
		size = n
	}
	cfg, reg := shipped(b)
	in := benchInput(b, size, benchFileBytes)
	b.SetBytes(size)
	b.ResetTimer()
	var records, objects int64
	out := b.TempDir()
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{in}, Out: out})
		if err != nil {
			b.Fatal(err)
		}
		if !sum.Conserved() || sum.Failed+sum.DeadLettered > 0 {
			b.Fatalf("benchmark input should all be delivered: %+v", sum)
		}
		records += sum.RecordsIn
		objects += sum.Files
		// Each run's output (about three times the input) is removed
		// outside the timing, so that the disk holds one run's at a time.
		b.StopTimer()
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

// TestBenchInputMixed holds BenchmarkRun's default input to its purpose:
// at the default's shape (size and file size scaled down by 16), each of
// the three kinds has about a third of the bytes, in several files, none
// much over the file size.
func TestBenchInputMixed(t *testing.T) {
	const scale = 16
	size, fileSize := int64(benchBytes/scale), int64(benchFileBytes/scale)
	dir := benchInput(t, size, fileSize)
	sizes := map[string]int64{}
	files := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > fileSize+1024 {
			t.Errorf("%s: %d bytes, want at most a line over %d", path, info.Size(), fileSize)
		}
		rel, _ := filepath.Rel(dir, path)
		kind := strings.Split(filepath.ToSlash(rel), "/")[0]
		sizes[kind] += info.Size()
		files[kind]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"listings", "alb-logs", "webhooks"} {
		if share := float64(sizes[kind]) / float64(size); share < 0.32 || share > 0.35 {
			t.Errorf("%s: %d bytes, %.3f of %d; want a third", kind, sizes[kind], share, size)
		}
		if files[kind] < 3 {
			t.Errorf("%s: %d files, want several", kind, files[kind])
		}
	}
	if len(sizes) != 3 {
		t.Errorf("kinds %v, want listings, alb-logs and webhooks only", sizes)
	}
}
