package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/splitter"
)

// openFormat opens the input formats; tests swap it.
var openFormat splitter.OpenFormat = format.New

func runSplit(args []string, stdout, stderr io.Writer) int {
	fl := newFlags("split", "split [-format F] [-schema S] [-config FILE] FILE|s3://bucket/key",
		"Prints one envelope per line on stdout; dead-lettered lines go to stderr as JSON lines with a reason.", stderr)
	cfgPath := fl.String("config", config.PathFromEnv(), "config file (routes, limits)")
	formatName := fl.String("format", "", "input format ("+strings.Join(config.Formats, ", ")+"); default: the config's route for the path")
	schemaName := fl.String("schema", "", "schema name written into the envelopes (with -format)")
	pos, code, ok := parseFlags(fl, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fl.Usage()
		return exitUsage
	}
	src := pos[0]
	if *formatName != "" && !slices.Contains(config.Formats, *formatName) {
		fmt.Fprintf(stderr, "sluice split: unknown format %q (want one of %s)\n", *formatName, strings.Join(config.Formats, ", "))
		return exitUsage
	}
	if *schemaName != "" && *formatName == "" {
		fmt.Fprintln(stderr, "sluice split: -schema needs -format (without -format the route gives both)")
		return exitUsage
	}
	cfg, err := loadSplitConfig(*cfgPath, *formatName != "")
	if err != nil {
		fmt.Fprintf(stderr, "sluice split: %v\n", err)
		return exitUsage
	}

	ctx := context.Background()
	var getter splitter.GetObjectAPI = splitter.Files{}
	obj := splitter.Object{Key: src}
	if bucket, key, ok := splitter.ParseS3URL(src); ok {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "sluice split: AWS config: %v\n", err)
			return exitUsage
		}
		getter, obj = s3.NewFromConfig(awsCfg), splitter.Object{Bucket: bucket, Key: key}
	}
	h, err := splitter.New(cfg, getter, &splitter.WriterSink{W: stdout},
		splitter.WithDeadLetters(splitter.WriterDeadLetters{W: stderr}),
		splitter.WithFormats(openFormat),
		splitter.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Fprintf(stderr, "sluice split: %v\n", err)
		return exitUsage
	}
	var route *config.Route
	if *formatName != "" {
		route = &config.Route{Format: *formatName, Schema: *schemaName, Stream: "stdout"}
	}
	res, err := h.Split(ctx, obj, route)
	if err != nil {
		fmt.Fprintf(stderr, "sluice split: %v\n", err)
		return exitUsage
	}
	switch res.Status {
	case splitter.StatusUnrouted:
		fmt.Fprintf(stderr, "sluice split: no route in %s matches %q (add one, or pass -format)\n", cfg.Path, src)
		return exitUsage
	case splitter.StatusMissing:
		fmt.Fprintf(stderr, "sluice split: %s does not exist\n", src)
		return exitUsage
	}
	if res.DeadLettered > 0 {
		return exitDeadLetter
	}
	return exitOK
}

// loadSplitConfig reads the config; with an explicit format a missing
// default config is fine (the defaults apply).
func loadSplitConfig(path string, haveFormat bool) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil && haveFormat && errors.Is(err, fs.ErrNotExist) {
		return config.Parse("(defaults)", nil)
	}
	return cfg, err
}
