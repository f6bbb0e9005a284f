package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/redrive"
)

// setup writes a config with one stream and a processing-failed folder.
func setupRedrive(t *testing.T, records ...deadletter.Record) (cfgPath, src string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte("streams:\n  listings: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src = filepath.Join(dir, "out", "processing-failed")
	os.MkdirAll(filepath.Join(src, "2024", "11", "22", "10"), 0o755)
	var body []byte
	for i := range records {
		b, _ := deadletter.Marshal(&records[i])
		body = append(body, b...)
	}
	os.WriteFile(filepath.Join(src, "2024", "11", "22", "10", "listings-1-2024-11-22-10-10-00-x"), body, 0o644)
	return cfgPath, src
}

// stubTransform answers Ok unless the data contains "bad".
func stubTransform(t *testing.T) {
	t.Helper()
	proc := func(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
		var r firehose.Response
		for _, rec := range ev.Records {
			result := firehose.Ok
			if bytes.Contains(rec.Data, []byte("bad")) {
				result = firehose.ProcessingFailed
			}
			r.Records = append(r.Records, firehose.ResponseRecord{RecordID: rec.RecordID, Result: result, Data: append(rec.Data, '\n')})
		}
		return r, nil
	}
	oldP, oldX := newTransformProcessor, newTransformExplainer
	newTransformProcessor = func(*config.Config) (firehose.Processor, error) { return proc, nil }
	newTransformExplainer = func(*config.Config) (redrive.Explainer, error) {
		return func(_ context.Context, data []byte, _ string) redrive.Verdict {
			if bytes.Contains(data, []byte("bad")) {
				return redrive.Verdict{Result: firehose.ProcessingFailed, Reason: "price: not a number"}
			}
			return redrive.Verdict{Result: firehose.Ok}
		}, nil
	}
	t.Cleanup(func() { newTransformProcessor, newTransformExplainer = oldP, oldX })
}

func TestRedriveUsage(t *testing.T) {
	cfgPath, src := setupRedrive(t, deadletter.Record{RawData: []byte("x")})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{"redrive", "-config", cfgPath}, "name one SRC"},
		{"two sources", []string{"redrive", "-config", cfgPath, src, src}, "name one SRC"},
		{"unknown stream", []string{"redrive", "-config", cfgPath, "-stream", "nope", "-explain", src}, `-stream "nope" is not in`},
		{"bad cap", []string{"redrive", "-config", cfgPath, "-max-attempts", "0", src}, "-max-attempts"},
		{"missing config", []string{"redrive", "-config", filepath.Join(t.TempDir(), "none.yaml"), src}, "SLUICE_CONFIG"},
		{"unknown flag", []string{"redrive", "-nope", src}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := realMain(tt.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errb.String(), tt.want)
		}
	}
	var out, errb bytes.Buffer
	if code := realMain([]string{"redrive", "-h"}, &out, &errb); code != exitOK || !strings.Contains(errb.String(), "-max-attempts") {
		t.Errorf("-h: exit %d: %s", code, errb.String())
	}
}

func TestRedriveExplainCommand(t *testing.T) {
	stubTransform(t)
	cfgPath, src := setupRedrive(t,
		deadletter.Record{AttemptsMade: 1, ArrivalTimestamp: 1732270200123, ErrorCode: "Lambda.ProcessingFailedStatus", RawData: []byte(`{"price":"bad"}`)},
		deadletter.Record{AttemptsMade: 4, ArrivalTimestamp: 1732270200456, ErrorCode: "Lambda.FunctionError", RawData: []byte(`{"price":"1"}`)},
	)
	var out, errb bytes.Buffer
	code := realMain([]string{"redrive", "-explain", "-config", cfgPath, src}, &out, &errb)
	if code != exitDeadLetter {
		t.Fatalf("exit %d (want 1: a record still fails): %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"result":"ProcessingFailed","reason":"price: not a number"`) ||
		!strings.Contains(lines[1], `"result":"Ok"`) || !strings.Contains(lines[0], `"arrival":"2024-11-22T10:10:00.123Z"`) {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "explained 2 records: (Ok 1, ProcessingFailed 1)") {
		t.Fatalf("summary: %s", errb.String())
	}
}

func TestRedriveIntoALocalRun(t *testing.T) {
	stubTransform(t)
	cfgPath, src := setupRedrive(t,
		deadletter.Record{AttemptsMade: 1, RawData: []byte(`{"price":"1"}`)},
		deadletter.Record{AttemptsMade: 4, RawData: []byte(`{"price":"2"}`)},
		deadletter.Record{AttemptsMade: 12, RawData: []byte(`{"price":"poison"}`)},
		deadletter.Record{ErrorCode: "Splitter.Parse", RawData: []byte(`a,"b`)},
	)
	outDir := t.TempDir()
	var out, errb bytes.Buffer
	code := realMain([]string{"redrive", "-config", cfgPath, "-local", outDir, "-max-attempts", "10", src}, &out, &errb)
	if code != exitDeadLetter {
		t.Fatalf("exit %d (want 1: one record parked): %s", code, errb.String())
	}
	for _, want := range []string{"2 redriven (listings 2), 1 parked", "1 skipped", "local run into " + outDir + ": 2 Ok"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, errb.String())
		}
	}
	parked := filepath.Join(filepath.Dir(src), "parked")
	var files []string
	filepath.WalkDir(parked, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("parked files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !bytes.Contains(b, []byte(`"attemptsMade":12`)) {
		t.Fatalf("parked body %s", b)
	}

	// A second run over the whole output folder does not read the parked
	// records back.
	errb.Reset()
	code = realMain([]string{"redrive", "-config", cfgPath, "-local", t.TempDir(), "-parked", parked, filepath.Dir(src)}, &out, &errb)
	if !strings.Contains(errb.String(), "1 parked") {
		t.Fatalf("second run re-read parked records (exit %d): %s", code, errb.String())
	}
}

func TestBesideSource(t *testing.T) {
	tests := map[string]string{
		"out/processing-failed":              filepath.Join("out", "parked"),
		"out/processing-failed/":             filepath.Join("out", "parked"),
		"s3://b/x/processing-failed/":        "s3://b/x/parked/",
		"s3://b/processing-failed":           "s3://b/parked/",
		"s3://b/errors/processing-failed/20": "s3://b/errors/processing-failed/parked/",
	}
	for src, want := range tests {
		if got := besideSource(src, "parked"); got != want {
			t.Errorf("besideSource(%q) = %q, want %q", src, got, want)
		}
	}
}

func TestRedriveInfersTheStreamFromObjectNames(t *testing.T) {
	stubTransform(t)
	cfgPath, src := setupRedrive(t, deadletter.Record{RawData: []byte(`{"a":1}`)})
	os.WriteFile(cfgPath, []byte("streams:\n  listings: {}\n  page_views: {}\n"), 0o644)
	other := filepath.Join(src, "2024", "11", "22", "11", "page_views-1-2024-11-22-11-00-00-y")
	os.MkdirAll(filepath.Dir(other), 0o755)
	b, _ := deadletter.Marshal(&deadletter.Record{RawData: []byte(`{"b":2}`)})
	os.WriteFile(other, append(b, b...), 0o644)
	var out, errb bytes.Buffer
	code := realMain([]string{"redrive", "-config", cfgPath, "-local", t.TempDir(), src}, &out, &errb)
	if code != exitOK || !strings.Contains(errb.String(), "3 redriven (listings 1, page_views 2)") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	os.WriteFile(filepath.Join(src, "stray.jsonl"), b, 0o644)
	errb.Reset()
	code = realMain([]string{"redrive", "-explain", "-config", cfgPath, src}, &out, &errb)
	if code != exitDeadLetter || !strings.Contains(errb.String(), "cannot tell the stream of") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// The real transform names, for each failed record of a run, its source
// object and line, the field and the offending value.
func TestRedriveExplainNamesSourceFieldAndValue(t *testing.T) {
	out := t.TempDir()
	if code, stdout, stderr := sluice(t, "run", "-config", exampleConfig, "-progress", "never", "-out", out, "../../examples/broken"); code != exitDeadLetter {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	// The run delivered the good records of the broken example too: explain
	// the error prefix and the splitter's dead letters, where failures are.
	var stdout string
	for dir, n := range map[string]int{"processing-failed": 3, "splitter-failed": 2} {
		code, o, stderr := sluice(t, "redrive", "-explain", "-format", "text", "-config", exampleConfig, filepath.Join(out, dir))
		if code != exitDeadLetter || strings.Contains(stderr, "skipped") || !strings.Contains(stderr, fmt.Sprintf("explained %d records", n)) {
			t.Fatalf("explain %s: exit %d\n%s", dir, code, stderr)
		}
		stdout += o
	}
	for _, want := range []string{
		`broken/listings/2024-05-03/mixed.csv:3: ProcessingFailed: coerce: field price: is not a number: value "call us"`,
		// Packed with the record above, but re-ingested and failed alone.
		`broken/listings/2024-05-03/mixed.csv:4: ProcessingFailed: required: field listed: is required and missing`,
		`broken/webhooks/events.jsonl:1: ProcessingFailed: coerce: field amount: `,
		`: value "12.345"`,
		`broken/webhooks/events.jsonl:2: SplitterDeadLetter: invalid JSON at byte 2 of the line`,
		`: value "not json at all"`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explanation lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ := sluice(t, "redrive", "-explain", "-config", exampleConfig, filepath.Join(out, "processing-failed"))
	if !strings.Contains(stdout, `"sourceObject":"broken/listings/2024-05-03/mixed.csv","sourceLine":3,"field":"price","value":"call us"`) {
		t.Errorf("JSON explanation (exit %d) lacks the source, field and value:\n%s", code, stdout)
	}
}
