package localrun

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/schema"
)

var update = flag.Bool("update", false, "rewrite the golden output folders")

func shipped(t testing.TB) (*config.Config, *schema.Registry) {
	t.Helper()
	cfg, reg, err := config.LoadAll("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, reg
}

// fixed makes a run reproducible: one instant, sequential ids.
func fixed() (func() time.Time, func() string) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time { return at }, func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

// TestRunGolden runs the shipped examples and compares the output folder,
// file by file, with testdata/run/<example>/ (rewritten with -update).
func TestRunGolden(t *testing.T) {
	for _, tt := range []struct {
		example                                        string
		in, ok, dropped, failed, deadLettered, objects int64
	}{
		{"input", 14, 13, 1, 0, 0, 4},
		{"broken", 7, 2, 0, 3, 2, 2},
	} {
		t.Run(tt.example, func(t *testing.T) {
			cfg, reg := shipped(t)
			out := t.TempDir()
			now, ids := fixed()
			sum, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{"../../examples/" + tt.example},
				Out: out, Now: now, NewID: ids})
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Conserved() {
				t.Fatalf("not conserved: %+v", sum)
			}
			got := [...]int64{sum.RecordsIn, sum.Ok, sum.Dropped, sum.Failed, sum.DeadLettered, int64(sum.Objects)}
			want := [...]int64{tt.in, tt.ok, tt.dropped, tt.failed, tt.deadLettered, tt.objects}
			if got != want {
				t.Fatalf("in, ok, dropped, failed, dead letters, objects = %v, want %v", got, want)
			}
			compareTree(t, out, filepath.Join("../../testdata/run", tt.example))
		})
	}
}

func compareTree(t *testing.T, got, want string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(path)
				rel, _ := filepath.Rel(root, path)
				m[filepath.ToSlash(rel)] = b
			}
			return nil
		})
		return m
	}
	g := files(got)
	if *update {
		_ = os.RemoveAll(want)
		for rel, b := range g {
			p := filepath.Join(want, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := files(want)
	if len(w) == 0 {
		t.Fatalf("no golden files in %s (run with -update)", want)
	}
	for rel, b := range w {
		if !bytes.Equal(g[rel], b) {
			t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", rel, g[rel])
		}
	}
	for rel := range g {
		if _, ok := w[rel]; !ok {
			t.Errorf("unexpected output file %s", rel)
		}
	}
}

func TestRunReportsMissingInput(t *testing.T) {
	cfg, reg := shipped(t)
	_, err := Run(context.Background(), Options{Config: cfg, Registry: reg, Inputs: []string{"no/such/folder"}, Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v", err)
	}
}
