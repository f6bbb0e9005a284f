package splitter

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden splits each testdata/golden/<case>/input with the test's line
// format and a fixed clock, and compares the exact bytes of the records
// (want-records.jsonl) and dead letters (want-dead.jsonl). Add a case by
// adding a folder with an input and running with -update.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input"))
			if err != nil {
				t.Fatal(err)
			}
			fixed := time.Date(2026, 11, 20, 9, 14, 3, 512_000_000, time.UTC)
			r := newRig(t, nil, WithClock(func() time.Time { return fixed }))
			o := r.s3.add("golden", "listings/"+name+".txt", input, "", "etag-"+name)
			if _, err := r.h.Split(context.Background(), o, nil); err != nil {
				t.Fatal(err)
			}
			var records bytes.Buffer
			for _, rec := range r.fh.records("events") {
				records.Write(rec)
				records.WriteByte('\n')
			}
			var dead bytes.Buffer
			var names []string
			for n := range r.s3.puts {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				dead.Write(r.s3.puts[n])
			}
			compareGolden(t, filepath.Join(dir, "want-records.jsonl"), records.Bytes())
			compareGolden(t, filepath.Join(dir, "want-dead.jsonl"), dead.Bytes())
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
