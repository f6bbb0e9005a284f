package chaos_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/chaos"
	"github.com/sluicehq/sluice/internal/localrun"
)

// BenchmarkSoak pushes a million records (SLUICE_SOAK_RECORDS to change
// it) through the local pipeline with faults at rate 0.2
// (SLUICE_SOAK_RATE), then checks conservation by record id. It reports
// records/s, the faults injected, the duplicates and the peak RSS (the
// ledger of every id is part of it). Not run in CI:
//
//	go test ./internal/chaos -run '^$' -bench Soak -benchtime 1x
func BenchmarkSoak(b *testing.B) {
	records := envInt("SLUICE_SOAK_RECORDS", 1_000_000)
	rate, _ := strconv.ParseFloat(os.Getenv("SLUICE_SOAK_RATE"), 64)
	if rate == 0 {
		rate = 0.2
	}
	const perObject = 10_000
	in := b.TempDir()
	lines := writeInput(b, in, (records+perObject-1)/perObject, perObject)
	for i := 0; i < b.N; i++ {
		inj := chaos.New(uint64(i+1), rate)
		opts := shipped(b)
		opts.Inputs, opts.Out, opts.Faults = []string{in}, b.TempDir(), inj
		start := time.Now()
		sum, err := localrun.Run(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		if err := inj.Ledger().ReadOutput(opts.Out); err != nil {
			b.Fatal(err)
		}
		rep := inj.Ledger().Check()
		if !rep.Conserved() {
			b.Fatalf("conservation broken: %s", rep.Broken(20))
		}
		if rep.IDs != lines {
			b.Fatalf("%d ids for %d lines", rep.IDs, lines)
		}
		b.ReportMetric(float64(lines)/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(inj.Total()), "faults")
		b.ReportMetric(float64(rep.Duplicates), "duplicates")
		b.ReportMetric(float64(len(rep.Lost)), "lost")
		b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
		b.Logf("%d lines in %d objects, %v: %+v; delivered %d, dropped %d, failed %d, dead-lettered %d, duplicates %d; faults %v",
			lines, sum.Objects, elapsed.Round(time.Millisecond), rate, rep.Delivered, rep.Dropped, rep.Failed, rep.DeadLetter, rep.Duplicates, inj.Counts())
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// peakRSSMiB reads the process's peak resident set (VmHWM, Linux); 0
// elsewhere.
func peakRSSMiB() float64 {
	f, err := os.Open(filepath.Join("/proc", "self", "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			var kb float64
			fmt.Sscan(string(v), &kb)
			return kb / 1024
		}
	}
	return 0
}
