package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/redrive"
)

// The transform, as the CLI builds it.
var (
	// newTransformExplainer builds the transform's Explainer: the result a
	// record gets now and, unlike a Firehose response, the reason.
	newTransformExplainer = func(cfg *config.Config) (redrive.Explainer, error) {
		h, err := localTransform(cfg)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, data []byte, stream string) redrive.Verdict {
			v := h.Inspect(ctx, data, stream)
			return redrive.Verdict{Result: v.Result, Reason: v.Explain(), Field: v.Field, Value: v.Value, HasValue: v.HasValue, Source: v.Source}
		}, nil
	}
	// newTransformProcessor builds the transform handler as Firehose
	// invokes it.
	newTransformProcessor = func(cfg *config.Config) (firehose.Processor, error) {
		h, err := localTransform(cfg)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	}
)

// awsClients builds the S3 and Firehose clients from the environment
// (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL...). An endpoint override
// (an S3-compatible store, a local emulator) gets path-style S3 addresses,
// which such endpoints need.
func awsClients(ctx context.Context) (*s3.Client, *awsfirehose.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	pathStyle := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }), awsfirehose.NewFromConfig(cfg), nil
}

func runRedrive(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("redrive", "redrive [flags] SRC", `
Reads dead-letter records (Firehose processing-failed objects, the splitter's dead letters)
from SRC, a folder (read recursively) or s3://bucket/prefix, gzip or not.
With -explain it re-runs the transform on each record and says, per record, its source
object and line, the field, the offending value and why it fails now: one line for people
on a terminal, one JSON object per line when piped or with -format json.
Otherwise it puts the records back into the stream (or a local run with -local).
Exit 0 when all records were redriven (or are Ok now), 1 when some were parked, failed or still fail.`, stderr)
	configPath := fs.String("config", config.PathFromEnv(), "the sluice.yaml to read")
	explain := fs.Bool("explain", false, "re-run the transform on each record and print why it fails now; send nothing")
	outFormat := fs.String("format", "auto", "-explain output: text, json (one object per line), or auto: text on a terminal, else json")
	stream := fs.String("stream", "", "the delivery stream to put records into (and whose schema -explain uses); default: the config's only stream, else the stream that starts each Firehose object's name")
	maxAttempts := fs.Int64("max-attempts", 10, "park records whose attemptsMade is at least this instead of sending them")
	maxRedrives := fs.Int("max-redrives", 3, "park envelopes that redrive has already put back this many times")
	parked := fs.String("parked", "", "where parked records go, a folder or s3://bucket/prefix; default: parked/ beside SRC")
	local := fs.String("local", "", "put records into a local run writing to this folder instead of Firehose")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "sluice redrive: name one SRC: a folder or s3://bucket/prefix (see sluice redrive -h)")
		return exitUsage
	}
	src := pos[0]
	if *maxAttempts < 1 {
		fmt.Fprintln(stderr, "sluice redrive: -max-attempts must be at least 1")
		return exitUsage
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return exitUsage
	}
	pick, err := streamPicker(cfg, *stream)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	source := &redrive.Source{Location: src, Skip: isRunReport, OnBadLine: func(b redrive.BadLine) {
		fmt.Fprintf(stderr, "sluice redrive: %s:%d: skipped: %s\n", b.Object, b.Line, b.Problem)
	}}
	var s3c *s3.Client
	var fhc *awsfirehose.Client
	needAWS := redrive.IsS3(src) || redrive.IsS3(*parked) || (!*explain && *local == "")
	if needAWS {
		if s3c, fhc, err = awsClients(ctx); err != nil {
			fmt.Fprintf(stderr, "sluice redrive: AWS configuration: %v (set AWS_REGION and credentials)\n", err)
			return exitUsage
		}
		source.S3 = s3c
	}
	if *outFormat != "auto" && *outFormat != "text" && *outFormat != "json" {
		fmt.Fprintf(stderr, "sluice redrive: -format must be auto, text or json, not %q\n", *outFormat)
		return exitUsage
	}
	if *explain {
		text := *outFormat == "text" || (*outFormat == "auto" && isTerminal(stdout))
		return runExplain(ctx, cfg, source, pick, text, stdout, stderr)
	}

	parkedLoc := *parked
	if parkedLoc == "" {
		parkedLoc = besideSource(src, "parked")
	}
	var parkedW redrive.ObjectWriter = localfirehose.Dir(parkedLoc)
	if redrive.IsS3(parkedLoc) {
		bucket, prefix, err := redrive.SplitS3(parkedLoc)
		if err != nil {
			fmt.Fprintf(stderr, "sluice redrive: -parked: %v\n", err)
			return exitUsage
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		parkedW = redrive.S3Writer{Client: s3c, Bucket: bucket, Prefix: prefix}
	}
	source.Skip = func(object string) bool { return isRunReport(object) || sameLocation(object, parkedLoc) }

	var client redrive.PutRecordBatchAPI = fhc
	var emu *localfirehose.Emulator
	if *local != "" {
		proc, err := newTransformProcessor(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
			return exitUsage
		}
		if emu, err = localfirehose.New(cfg, proc, localfirehose.Dir(*local)); err != nil {
			fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
			return exitUsage
		}
		client = emu
	}
	res, err := redrive.Redrive(ctx, source, pick, redrive.NewRedriver(client, parkedW, redrive.Options{MaxAttempts: *maxAttempts, MaxRedrives: *maxRedrives}))
	if emu != nil {
		err = errors.Join(err, emu.Close(ctx))
	}
	fmt.Fprintf(stderr, "sluice redrive: %d redriven%s, %d parked", res.Redriven, byCode(res.RedrivenByStream), res.Parked)
	if res.Parked > 0 {
		fmt.Fprintf(stderr, " (in %s)", parkedLoc)
	}
	fmt.Fprintf(stderr, ", %d failed%s, %d skipped (splitter dead letters: fix the input and split it again)\n",
		res.Failed, byCode(res.FailedByCode), res.Skipped)
	if emu != nil {
		t := emu.Stats().Total()
		fmt.Fprintf(stderr, "sluice redrive: local run into %s: %d Ok, %d Dropped, %d Failed%s\n", *local, t.Ok, t.Dropped, t.Failed, byCode(t.FailedByCode))
		res.Failed += t.Failed
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return exitDeadLetter
	}
	if res.Parked > 0 || res.Failed > 0 {
		return exitDeadLetter
	}
	return exitOK
}

func runExplain(ctx context.Context, cfg *config.Config, source *redrive.Source, pick redrive.Picker, text bool, stdout, stderr io.Writer) int {
	explainer, err := newTransformExplainer(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return exitUsage
	}
	out := stdout
	if text {
		out = &explanationText{w: stdout}
	}
	st, err := redrive.Explain(ctx, source, pick, explainer, out)
	fmt.Fprintf(stderr, "sluice redrive: explained %d records:%s\n", st.Records, byCode(st.ByResult))
	if err != nil {
		fmt.Fprintf(stderr, "sluice redrive: %v\n", err)
		return exitDeadLetter
	}
	if st.Records > st.ByResult[firehose.Ok]+st.ByResult[firehose.Dropped] {
		return exitDeadLetter
	}
	return exitOK
}

// explanationText turns the JSON lines of redrive.Explain into one line
// per record for a person:
//
//	listings/a.csv:3: ProcessingFailed: coerce: field price: is not a number: value "call us"
type explanationText struct{ w io.Writer }

func (t *explanationText) Write(p []byte) (int, error) {
	var e redrive.Explanation
	if err := json.Unmarshal(p, &e); err != nil {
		return 0, err
	}
	at := fmt.Sprintf("%s:%d", e.Object, e.Line)
	if e.SourceObject != "" {
		at = fmt.Sprintf("%s:%d", e.SourceObject, e.SourceLine)
	}
	line := at + ": " + e.Result
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	if e.Value != nil {
		line += fmt.Sprintf(": value %q", truncateValue(*e.Value, 200))
	}
	if _, err := fmt.Fprintln(t.w, line); err != nil {
		return 0, err
	}
	return len(p), nil
}

func truncateValue(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// streamPicker picks the named stream, or the config's only one, or else
// the stream Firehose names at the start of each object.
func streamPicker(cfg *config.Config, name string) (redrive.Picker, error) {
	names := streamNames(cfg)
	switch {
	case name != "":
		if _, ok := cfg.Streams[name]; !ok {
			return nil, fmt.Errorf("-stream %q is not in %s (streams: %s)", name, cfg.Path, strings.Join(names, ", "))
		}
		return redrive.Stream(name), nil
	case len(names) == 1:
		return redrive.Stream(names[0]), nil
	case len(names) == 0:
		return nil, fmt.Errorf("%s has no streams: add the delivery stream under streams:", cfg.Path)
	}
	return redrive.StreamFromObjectName(names), nil
}

func streamNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Streams))
	for n := range cfg.Streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// isRunReport reports sluice run's report files, which share the output
// folder with the dead letters.
func isRunReport(object string) bool {
	base := object[strings.LastIndexAny(object, "/\\")+1:]
	return base == "report.json" || base == "report.html"
}

// besideSource is the folder or prefix next to src named name:
// out/processing-failed → out/parked, s3://b/x/processing-failed/ → s3://b/x/parked/.
func besideSource(src, name string) string {
	if redrive.IsS3(src) {
		bucket, prefix, _ := redrive.SplitS3(src)
		prefix = strings.TrimSuffix(prefix, "/")
		parent := ""
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			parent = prefix[:i+1]
		}
		return "s3://" + bucket + "/" + parent + name + "/"
	}
	return filepath.Join(filepath.Dir(filepath.Clean(src)), name)
}

// sameLocation reports whether object lies in loc (so redrive never reads
// back what it parked).
func sameLocation(object, loc string) bool {
	if redrive.IsS3(loc) {
		return strings.HasPrefix(object, strings.TrimSuffix(loc, "/")+"/")
	}
	rel, err := filepath.Rel(filepath.Clean(loc), filepath.Clean(object))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.Clean(object) == filepath.Clean(loc)
}

func byCode(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(" (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	b.WriteString(")")
	return b.String()
}
