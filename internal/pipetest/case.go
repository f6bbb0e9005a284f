package pipetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/localrun"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// The files of a case folder.
const (
	InputDir      = "input"          // the objects, keyed by their path below it
	ConfigFile    = "sluice.yaml"    // optional: replaces the project's config
	ExpectedFile  = "expected.jsonl" // the delivered documents, one per line
	FailuresFile  = "failures.jsonl" // the failed records, one per line (absent: none)
	clockInstant  = "2024-01-01T00:00:00Z"
	maxLineLength = 16 << 20
)

// Case is one test case folder.
type Case struct {
	Name string // its path below the folder searched
	Dir  string
}

// Find returns the cases under dir: dir itself if it has an input folder,
// else every folder below it that has one, sorted.
func Find(dir string) ([]Case, error) {
	var cases []Case
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == InputDir && path != dir {
			return fs.SkipDir
		}
		if st, err := os.Stat(filepath.Join(path, InputDir)); err == nil && st.IsDir() {
			name, _ := filepath.Rel(dir, path)
			if name == "." {
				name = filepath.Base(filepath.Clean(dir))
			}
			cases = append(cases, Case{Name: filepath.ToSlash(name), Dir: path})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pipetest: %w", err)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// Failure is one record that was not delivered, and why.
type Failure struct {
	// Object and Line are where the record came from (input/<key>).
	Object string `json:"object"`
	Line   int64  `json:"line"`
	// Result is ProcessingFailed, or SplitterDeadLetter for a line the
	// splitter could not parse.
	Result string `json:"result"`
	Field  string `json:"field,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// Outcome is what a case's run produced.
type Outcome struct {
	Delivered []map[string]any
	Failures  []Failure
}

// Options are what a case runs with.
type Options struct {
	// Config is the project's config, used when the case has none.
	Config   *config.Config
	Registry *schema.Registry
	// Enrichers builds the enrichers for a config (as sluice run does).
	Enrichers func(*config.Config, *schema.Registry) ([]transform.Enricher, error)
}

// Run runs a case's input through the local pipeline, with a fixed clock
// and ids so the documents are the same on every run.
func Run(ctx context.Context, c Case, opts Options) (Outcome, error) {
	cfg, reg := opts.Config, opts.Registry
	if _, err := os.Stat(filepath.Join(c.Dir, ConfigFile)); err == nil {
		cfg, reg, err = config.LoadAll(filepath.Join(c.Dir, ConfigFile))
		if err != nil {
			return Outcome{}, err
		}
	}
	if cfg == nil {
		return Outcome{}, fmt.Errorf("pipetest: %s: no %s in the case and no project config", c.Name, ConfigFile)
	}
	var enrichers []transform.Enricher
	if opts.Enrichers != nil {
		var err error
		if enrichers, err = opts.Enrichers(cfg, reg); err != nil {
			return Outcome{}, err
		}
	}
	out, err := os.MkdirTemp("", "sluice-test-")
	if err != nil {
		return Outcome{}, err
	}
	defer os.RemoveAll(out)
	at, _ := time.Parse(time.RFC3339, clockInstant)
	n := 0
	_, err = localrun.Run(ctx, localrun.Options{
		Config: cfg, Registry: reg, Inputs: []string{filepath.Join(c.Dir, InputDir)}, Out: out, Enrichers: enrichers,
		Now: func() time.Time { return at },
		NewID: func() string {
			n++
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		},
	})
	if err != nil {
		return Outcome{}, err
	}
	h, err := transform.New(cfg, reg, transform.WithMetrics(metrics.New(io.Discard)),
		transform.WithLogger(slog.New(slog.DiscardHandler)), transform.WithEnrichers(enrichers...),
		transform.WithClock(func() time.Time { return at }))
	if err != nil {
		return Outcome{}, err
	}
	return collect(ctx, out, cfg, h)
}

// collect reads a run's output folder: the delivered documents, and each
// failed record explained by the transform.
func collect(ctx context.Context, out string, cfg *config.Config, h *transform.Handler) (Outcome, error) {
	var o Outcome
	failedDir := filepath.Join(out, "processing-failed")
	deadDir := filepath.Join(out, filepath.FromSlash(strings.TrimSuffix(cfg.DeadLetter.Prefix, "/")))
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		switch {
		case strings.HasPrefix(path, failedDir+string(filepath.Separator)):
			return readFailures(ctx, f, streamOf(cfg, d.Name()), h, &o)
		case strings.HasPrefix(path, deadDir+string(filepath.Separator)):
			return readDeadLetters(f, &o)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, maxLineLength)
		for sc.Scan() {
			var doc map[string]any
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber()
			if err := dec.Decode(&doc); err != nil {
				return fmt.Errorf("pipetest: %s: %w", path, err)
			}
			o.Delivered = append(o.Delivered, doc)
		}
		return sc.Err()
	})
	sortDocs(o.Delivered)
	sortFailures(o.Failures)
	return o, err
}

// streamOf is the stream a Firehose object name starts with.
func streamOf(cfg *config.Config, name string) string {
	best := ""
	for s := range cfg.Streams {
		if strings.HasPrefix(name, s+"-") && len(s) > len(best) {
			best = s
		}
	}
	return best
}

func readFailures(ctx context.Context, r io.Reader, stream string, h *transform.Handler, o *Outcome) error {
	dr := deadletter.NewReader(r)
	for {
		rec, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// A packed record holds several documents: each is explained.
		for _, part := range bytes.Split(bytes.TrimRight(rec.RawData, "\n"), []byte("\n")) {
			if len(bytes.TrimSpace(part)) == 0 {
				continue
			}
			v := h.Inspect(ctx, part, stream)
			f := Failure{Result: v.Result, Field: v.Field, Reason: v.Explain()}
			if v.HasValue {
				f.Value = v.Value
			}
			if v.Source != nil {
				f.Object, f.Line = v.Source.Bucket+"/"+v.Source.Key, v.Source.Line
			}
			if v.Result == "Ok" {
				f.Result, f.Reason = "ProcessingFailed", "failed with another record packed in the same Firehose record"
			}
			o.Failures = append(o.Failures, f)
		}
	}
}

func readDeadLetters(r io.Reader, o *Outcome) error {
	dr := deadletter.NewReader(r)
	for {
		rec, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := Failure{Result: "SplitterDeadLetter", Reason: rec.Reason, Value: strings.TrimRight(string(rec.RawData), "\r\n")}
		if rec.Source != nil {
			f.Object, f.Line = rec.Source.Bucket+"/"+rec.Source.Key, rec.Source.Line
		}
		o.Failures = append(o.Failures, f)
	}
}

// docKey identifies a delivered document: its provenance's record id (the
// same on every run of the same input), else its whole text.
func docKey(d map[string]any) string {
	if p, ok := d["provenance"].(map[string]any); ok {
		if id, ok := p["record_id"].(string); ok {
			return id
		}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// docPlace says where a document came from, for people: key:line.
func docPlace(d map[string]any) string {
	p, ok := d["provenance"].(map[string]any)
	if !ok {
		return docKey(d)
	}
	return fmt.Sprintf("%v/%v:%v", p["bucket"], p["key"], p["line"])
}

func sortDocs(docs []map[string]any) {
	sort.SliceStable(docs, func(i, j int) bool { return docKey(docs[i]) < docKey(docs[j]) })
}

func sortFailures(fs []Failure) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Object != fs[j].Object {
			return fs[i].Object < fs[j].Object
		}
		return fs[i].Line < fs[j].Line
	})
}
