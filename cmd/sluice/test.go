package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/pipetest"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// defaultTestDir is where sluice test looks without arguments.
const defaultTestDir = "tests"

func runTest(args []string, stdout, stderr io.Writer) int {
	fl := newFlags("test", "test [-config sluice.yaml] [-update] [-v] [DIR...]", `
Runs your pipeline's test cases: every folder under DIR (default: `+defaultTestDir+`) holding an
input/ folder is a case. Its objects are run through the local pipeline (keyed by their
path below input/, with a fixed clock, so the documents are the same on every run) with
the case's own sluice.yaml if it has one, else -config. The delivered documents are
compared with expected.jsonl and the failed records (with their reasons) with
failures.jsonl, field by field. -update writes both files from the run instead.
Exit 1 when a case fails.`, stderr)
	cfgPath := fl.String("config", config.PathFromEnv(), "the project's config, for cases without their own sluice.yaml (env SLUICE_CONFIG)")
	update := fl.Bool("update", false, "write each case's expected.jsonl and failures.jsonl from its run")
	verbose := fl.Bool("v", false, "list every case, not only those that fail")
	dirs, code, ok := parseFlags(fl, args)
	if !ok {
		return code
	}
	if len(dirs) == 0 {
		dirs = []string{defaultTestDir}
	}
	var cases []pipetest.Case
	for _, d := range dirs {
		found, err := pipetest.Find(d)
		if err != nil {
			fmt.Fprintf(stderr, "sluice test: %v\n", err)
			return exitUsage
		}
		cases = append(cases, found...)
	}
	if len(cases) == 0 {
		fmt.Fprintf(stderr, "sluice test: no cases in %v: a case is a folder holding an input/ folder\n", dirs)
		return exitUsage
	}
	opts := pipetest.Options{Enrichers: func(cfg *config.Config, reg *schema.Registry) ([]transform.Enricher, error) {
		return app.Enrichers(context.Background(), cfg, reg, enrich.WithMetrics(metrics.New(io.Discard)), enrich.WithAWSConfig(loadAWSConfig))
	}}
	if _, err := os.Stat(*cfgPath); err == nil || os.Getenv(config.EnvPath) != "" {
		cfg, reg, err := config.LoadAll(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "sluice test: %v\n", err)
			return exitUsage
		}
		opts.Config, opts.Registry = cfg, reg
	} else if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "sluice test: %v\n", err)
		return exitUsage
	}

	failed := 0
	for _, c := range cases {
		got, err := pipetest.Run(context.Background(), c, opts)
		if err != nil {
			fmt.Fprintf(stderr, "sluice test: %s: %v\n", c.Name, err)
			return exitUsage
		}
		if *update {
			if err := pipetest.Write(c, got); err != nil {
				fmt.Fprintf(stderr, "sluice test: %s: %v\n", c.Name, err)
				return exitUsage
			}
			fmt.Fprintf(stdout, "wrote  %s (%d delivered, %d failed)\n", c.Name, len(got.Delivered), len(got.Failures))
			continue
		}
		want, err := pipetest.Expected(c)
		if err != nil {
			fmt.Fprintf(stderr, "sluice test: %s: %v\n", c.Name, err)
			return exitUsage
		}
		diffs := pipetest.Diff(want, got)
		if len(diffs) == 0 {
			if *verbose {
				fmt.Fprintf(stdout, "ok     %s (%d delivered, %d failed as expected)\n", c.Name, len(got.Delivered), len(got.Failures))
			}
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL   %s: %d differences\n", c.Name, len(diffs))
		for _, d := range diffs {
			fmt.Fprintf(stdout, "    %s\n", d)
		}
	}
	switch {
	case *update:
		return exitOK
	case failed > 0:
		fmt.Fprintf(stdout, "FAIL: %d of %d cases (run sluice test -update to accept the new output)\n", failed, len(cases))
		return exitDeadLetter
	}
	fmt.Fprintf(stdout, "ok: %d cases\n", len(cases))
	return exitOK
}
