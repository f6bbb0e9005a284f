package splitter

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

// BenchmarkRollupALB compares, on one core and the same beacon ALB log
// lines (about 32 MiB), splitting them into one record each with rolling
// them up (the route of docs/rollups.md, 5-minute windows, six measures),
// into a Firehose client that discards. Reports lines/s.
func BenchmarkRollupALB(b *testing.B) {
	lines := beacon.Generate(beacon.Options{Seed: 1, Start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), Span: 5 * time.Minute, Lines: 20000, Users: 5000})
	var chunk bytes.Buffer
	var valid int64
	for _, l := range lines {
		if l.Kind == beacon.Malformed || l.Kind == beacon.NoTime {
			continue // dead letters cost the same either way; leave them out
		}
		chunk.WriteString(l.Text + "\n")
		valid++
	}
	reps := int64((32 << 20) / chunk.Len())
	g := headed{chunk: chunk.Bytes(), size: reps * int64(chunk.Len())}
	for _, bc := range []struct{ name, yaml string }{
		{"split", `
streams: {s: {}}
routes:
  - {key: "alb/**", format: alb, schema: page_view, stream: s}
dead_letter: {bucket: dl}
`},
		{"rollup", `
streams: {s: {}}
routes:
  - key: "alb/**"
    format: alb
    stream: s
    rollup:
      name: beacon_5m
      window: 5m
      where: [{field: request_url_path, match: "^/e$"}]
      by: [event, utm_source, elb_status_code]
      measures: [count, {sum: sent_bytes}, {min: target_processing_time}, {max: target_processing_time}, {distinct: user}, {quantiles: target_processing_time}]
dead_letter: {bucket: dl}
`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, err := config.Parse("sluice.yaml", []byte(bc.yaml))
			if err != nil {
				b.Fatal(err)
			}
			fh := &discardFirehose{}
			h, err := New(cfg, g, NewFirehoseSink(fh), WithFormats(format.New),
				WithDeadLetters(WriterDeadLetters{W: io.Discard}), WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(g.size)
			b.ReportAllocs()
			var sent int64
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; b.Loop(); i++ {
				res, err := h.Split(context.Background(), Object{Bucket: "b", Key: "alb/x.log", ETag: strconv.Itoa(i)}, nil)
				if err != nil || res.DeadLettered > 0 {
					b.Fatalf("%v, %d dead letters", err, res.DeadLettered)
				}
				sent += res.Sent
			}
			cpu := (cpuTime() - cpu0).Seconds()
			n := float64(b.N) * float64(reps*valid)
			b.ReportMetric(n/time.Since(start).Seconds(), "lines/s")
			if cpu > 0 {
				b.ReportMetric(n/cpu, "cpu-lines/s")
			}
			b.ReportMetric(float64(sent)/float64(b.N), "records/op")
		})
	}
}
