package localrun

import (
	"context"
	"runtime"
	"testing"
)

// TestRunSameOutputOnAnyCoreCount runs the same mixed input (several
// objects per format, several processor buffers per stream) on one core
// and on more, and checks the output folders are identical, file by file:
// splitting objects at once and transforming buffers at once must not
// change what is delivered, or where.
func TestRunSameOutputOnAnyCoreCount(t *testing.T) {
	cfg, reg := shipped(t)
	for name, s := range cfg.Streams {
		s.BufferSizeMB = 0.2 // several buffers per stream from a small input
		cfg.Streams[name] = s
	}
	in := benchInput(t, 2<<20, 256<<10)
	run := func(procs int) (string, Summary) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		out := t.TempDir()
		now, ids := fixed()
		sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{in}, Out: out, Now: now, NewID: ids})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Conserved() || sum.Ok == 0 {
			t.Fatalf("GOMAXPROCS=%d: %+v", procs, sum)
		}
		return out, sum
	}
	one, sum1 := run(1)
	if sum1.Files < 6 {
		t.Fatalf("only %d files delivered: the input should fill several buffers per stream", sum1.Files)
	}
	for _, procs := range []int{2, 4} {
		out, sum := run(procs)
		if sum.Ok != sum1.Ok || sum.Files != sum1.Files || sum.RecordsIn != sum1.RecordsIn {
			t.Errorf("GOMAXPROCS=%d: %+v; on one core: %+v", procs, sum, sum1)
		}
		compareTree(t, out, one)
	}
}
