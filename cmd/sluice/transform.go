package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/transform"
)

func runTransform(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("transform", "transform -event FILE [-documents] [-config sluice.yaml]", `
Runs the transform Lambda's handler on a Firehose event and prints its response.
Failed records are explained on stderr. Exit 1 if any record is ProcessingFailed.`, stderr)
	cfgPath := fs.String("config", config.PathFromEnv(), "the sluice.yaml to read (env SLUICE_CONFIG)")
	eventPath := fs.String("event", "", "a Firehose transformation event JSON file (required; - for stdin)")
	docs := fs.Bool("documents", false, "print the decoded output documents instead of the Firehose response")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if *eventPath == "" || len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	raw, err := readInput(*eventPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice transform: %v\n", err)
		return exitUsage
	}
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		fmt.Fprintf(stderr, "sluice transform: %s is not a Firehose event: %v\n", *eventPath, err)
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice transform: %v\n", err)
		return exitUsage
	}
	h, err := localTransform(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sluice transform: %v\n", err)
		return exitUsage
	}
	resp, outcomes, err := h.Process(context.Background(), ev)
	if err != nil {
		fmt.Fprintf(stderr, "sluice transform: %v\n", err)
		return exitDeadLetter
	}
	failed := 0
	for i, o := range outcomes {
		if o.Result == firehose.ProcessingFailed {
			failed++
		}
		if o.Reason != "" {
			field := ""
			if o.Field != "" {
				field = " field " + o.Field + ":"
			}
			fmt.Fprintf(stderr, "record %d (%s): %s (%s):%s %s\n", i, ev.Records[i].RecordID, o.Result, o.Class, field, o.Reason)
		}
	}
	if *docs {
		for _, r := range resp.Records {
			if r.Result == firehose.Ok {
				_, _ = stdout.Write(r.Data)
			}
		}
	} else {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintf(stderr, "sluice transform: %v\n", err)
			return exitUsage
		}
	}
	if failed > 0 {
		return exitDeadLetter
	}
	return exitOK
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// localTransform builds the transform handler for the CLI: the command
// reports each outcome itself, so metrics and failure logs are discarded.
func localTransform(cfg *config.Config, opts ...transform.Option) (*transform.Handler, error) {
	reg, err := cfg.Registry()
	if err != nil {
		return nil, err
	}
	enrichers, err := app.Enrichers(context.Background(), cfg, reg, enrich.WithMetrics(metrics.New(io.Discard)), enrich.WithAWSConfig(loadAWSConfig))
	if err != nil {
		return nil, err
	}
	quiet := []transform.Option{
		transform.WithMetrics(metrics.New(io.Discard)),
		transform.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		transform.WithEnrichers(enrichers...),
	}
	return transform.New(cfg, reg, append(quiet, opts...)...)
}
