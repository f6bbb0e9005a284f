package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCommand(t *testing.T) {
	cfg := "../../sluice.yaml"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"shipped example", []string{"run", "-config", cfg, "-progress", "never", "../../examples/input"}, exitOK,
			"in = ok + dropped + failed + dead letters: 14 = 13 + 1 + 0 + 0: every record is accounted for", ""},
		{"dead letters", []string{"run", "-config", cfg, "-progress", "never", "../../examples/broken"}, exitDeadLetter,
			// The shipped config packs records: a failed record is sent back
			// alone and fails alone; the others of its Firehose record are
			// delivered.
			"failed       3 (coerce 2, required 1)", ""},
		{"missing input", []string{"run", "-config", cfg, "no/such/dir"}, exitUsage, "", "no such file"},
		{"unrouted object", []string{"run", "-config", cfg, "-progress", "never", "../../testdata/events"}, exitUsage,
			"objects        2 (2 unrouted, 0 missing)", "no route in ../../sluice.yaml matches events/firehose-listings.json"},
		{"nothing read", []string{"run", "-config", cfg, "-progress", "never", "../../testdata/events"}, exitUsage,
			"", "sluice run: no record was read from ../../testdata/events (2 objects, 2 unrouted): check the paths and the routes' key globs"},
		{"flags after paths", []string{"run", "../../examples/input", "-config", cfg, "-progress", "never"}, exitOK,
			"every record is accounted for", ""},
		{"bad config", []string{"run", "-config", "nope.yaml", "../../examples/input"}, exitUsage, "", "SLUICE_CONFIG"},
		{"bad flag", []string{"run", "-progress", "sometimes"}, exitUsage, "", "-progress must be"},
		{"chaos on the shipped example", []string{"run", "-config", cfg, "-progress", "never", "-chaos", "1", "-chaos-rate", "0.3", "../../examples/input"}, exitOK,
			"conservation   every record id is accounted for", ""},
		{"chaos on the broken example", []string{"run", "-config", cfg, "-progress", "never", "-chaos", "1", "../../examples/broken"}, exitDeadLetter,
			"conservation   every record id is accounted for", ""},
		{"chaos without a seed", []string{"run", "-config", cfg, "-chaos", "x", "../../examples/input"}, exitUsage, "", "-chaos takes a seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append(tt.args[:1:1], append([]string{"-out", t.TempDir()}, tt.args[1:]...)...)
			code := realMain(args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
		})
	}
}

// -cpuprofile writes a CPU profile of the run (a gzipped pprof protobuf);
// a file it cannot create is a usage error before anything runs.
func TestRunCPUProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	var out, errb bytes.Buffer
	args := []string{"run", "-config", "../../sluice.yaml", "-progress", "never", "-out", filepath.Join(dir, "out"), "-cpuprofile", prof, "../../examples/input"}
	if code := realMain(args, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s is not a gzipped profile: % x", prof, b[:min(len(b), 8)])
	}
	out.Reset()
	errb.Reset()
	args[len(args)-2] = filepath.Join(dir, "no", "such", "cpu.pprof")
	if code := realMain(args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "-cpuprofile") {
		t.Fatalf("unwritable profile: exit %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Fatal("the failed run made folders")
	}
}

func TestRunDefaultsToTheShippedExample(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("cmd/sluice")
	var out, errb bytes.Buffer
	if code := realMain([]string{"run", "-progress", "never", "-out", filepath.Join(dir, "out")}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "records in     14") {
		t.Fatalf("did not run the example:\n%s", out.String())
	}
}
