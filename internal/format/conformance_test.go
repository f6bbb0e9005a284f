package format

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the expected.jsonl files of the golden cases")

// readers are the ways every golden case is read: each must give the
// same records.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
	size int // read buffer size
}{
	{"whole", func(r io.Reader) io.Reader { return r }, bufferSize},
	{"one-byte", iotest.OneByteReader, bufferSize},
	{"half", iotest.HalfReader, bufferSize},
	{"data-err", iotest.DataErrReader, bufferSize},
	// A tiny buffer puts chunk boundaries inside every line.
	{"small-buffer", func(r io.Reader) io.Reader { return r }, 16},
	{"small-buffer-one-byte", iotest.OneByteReader, 16},
}

// TestConformance runs every golden case, testdata/formats/<format>/<case>/
// holding input, an optional options.yaml and expected.jsonl, through
// every reader.
func TestConformance(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/formats/*/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		format := filepath.Base(filepath.Dir(dir))
		seen[format] = true
		t.Run(format+"/"+filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input"))
			if err != nil {
				t.Fatal(err)
			}
			opts := readOptions(t, filepath.Join(dir, "options.yaml"))
			wantPath := filepath.Join(dir, "expected.jsonl")
			if *update {
				got := run(t, format, bytes.NewReader(input), opts, bufferSize)
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			for _, rd := range readers {
				got := run(t, format, rd.wrap(bytes.NewReader(input)), opts, rd.size)
				if !bytes.Equal(got, want) {
					t.Errorf("%s reader: output differs from %s\n%s", rd.name, wantPath, firstDiff(got, want))
				}
				if format != "jsonl" {
					// Borrowed records hold the same fields while they are valid.
					s := borrowing(openSized(t, format, rd.wrap(bytes.NewReader(input)), opts, rd.size))
					if got := results(drain(t, s, 1<<20)); !bytes.Equal(got, want) {
						t.Errorf("%s reader, borrowing: output differs from %s\n%s", rd.name, wantPath, firstDiff(got, want))
					}
				}
				if format == "jsonl" {
					// NextRaw's records hold the same fields.
					s := &viaRaw{RawScanner: openSized(t, format, rd.wrap(bytes.NewReader(input)), opts, rd.size).(RawScanner)}
					if got := results(drain(t, s, 1<<20)); !bytes.Equal(got, want) {
						t.Errorf("%s reader, NextRaw: output differs from %s\n%s", rd.name, wantPath, firstDiff(got, want))
					}
				}
			}
		})
	}
	for _, f := range []string{"csv", "jsonl", "elb", "alb", "lines"} {
		if !seen[f] {
			t.Errorf("no golden case for format %s", f)
		}
	}
}

func run(t *testing.T, format string, r io.Reader, opts Options, size int) []byte {
	t.Helper()
	return results(drain(t, openSized(t, format, r, opts, size), 1<<20))
}

// results writes rs as the lines of a golden file.
func results(rs []result) []byte {
	var out []byte
	for _, res := range rs {
		out = appendResult(out, res)
	}
	return out
}

func readOptions(t *testing.T, path string) Options {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var opts Options
	if err := yaml.Unmarshal(b, &opts); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return opts
}

func firstDiff(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return ""
}
