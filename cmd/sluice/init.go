package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/pipetest"
	"github.com/sluicehq/sluice/internal/scaffold"
)

func runInit(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("init", "init [DIR]", `
Writes a starting project into DIR (default: the current folder): a commented sluice.yaml,
a schema (schemas/shop.v1.avsc), a small sample input (input/) and one test case
(tests/basic, its expected output written by running it). sluice run, sluice test and
sluice schema check work in it at once. Existing files are never overwritten.`, stderr)
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 1 {
		fmt.Fprintln(stderr, "sluice init: name at most one DIR")
		return exitUsage
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	files, err := scaffold.Write(dir)
	if err != nil {
		fmt.Fprintf(stderr, "sluice init: %v\n", err)
		return exitUsage
	}
	// The test case's expected files come from running it with this very
	// sluice, so `sluice test` passes until the pipeline changes.
	cfg, reg, err := config.LoadAll(filepath.Join(dir, config.DefaultPath))
	if err != nil {
		fmt.Fprintf(stderr, "sluice init: the written project does not load (a bug): %v\n", err)
		return exitUsage
	}
	c := pipetest.Case{Name: "basic", Dir: filepath.Join(dir, "tests", "basic")}
	got, err := pipetest.Run(context.Background(), c, pipetest.Options{Config: cfg, Registry: reg})
	if err == nil {
		err = pipetest.Write(c, got)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice init: tests/basic: %v\n", err)
		return exitUsage
	}
	files = append(files, "tests/basic/expected.jsonl")
	if len(got.Failures) > 0 {
		files = append(files, "tests/basic/failures.jsonl")
	}
	fmt.Fprintf(stdout, "wrote a sluice project in %s:\n", dir)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	cd := ""
	if dir != "." {
		cd = "cd " + dir + "\n  "
	}
	fmt.Fprintf(stdout, `
Try next:
  %ssluice run                 # the pipeline on input/: sluice-out/ and sluice-out/report.html
  sluice test                # tests/basic: the expected documents and failures
  sluice schema check        # the config and the schemas
  sluice schema infer -name NAME -out schemas YOUR-FILES/   # a schema for your own files
Then add its route to sluice.yaml, your files under input/, and a case under tests/.
`, cd)
	return exitOK
}
