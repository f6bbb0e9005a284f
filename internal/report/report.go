package report

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// Report is report.json.
type Report struct {
	// Totals are the run's summary: every record read is ok, dropped,
	// failed or dead-lettered.
	Totals Totals `json:"totals"`
	// Schemas say, per schema, where each object's columns went and what
	// each field got.
	Schemas []SchemaReport `json:"schemas"`
	// Failures groups the records the transform failed by reason (the
	// class, the field and why), most frequent first.
	Failures []Group `json:"failures"`
	// DeadLetters groups the lines the splitter could not parse by reason.
	DeadLetters []Group `json:"dead_letters"`
}

// Totals are a run's counts.
type Totals struct {
	RecordsIn   int64 `json:"records_in"`
	Ok          int64 `json:"ok"`
	Dropped     int64 `json:"dropped"`
	Failed      int64 `json:"failed"`
	DeadLetters int64 `json:"dead_letters"`
	Objects     int   `json:"objects"`
	Unrouted    int   `json:"unrouted"`
}

// SchemaReport is one schema's part of a run.
type SchemaReport struct {
	Schema  string         `json:"schema"`
	Version int            `json:"version"`
	Records int64          `json:"records"`
	Ok      int64          `json:"ok"`
	Failed  int64          `json:"failed"`
	Objects []ObjectReport `json:"objects"`
	Fields  []FieldStats   `json:"fields"`
}

// ObjectReport is one input object: its columns, in input order.
type ObjectReport struct {
	Object string `json:"object"`
	// Route names the route that read the object, e.g.
	// `routes[0] (key "listings/**", csv → listings)`.
	Route   string   `json:"route,omitempty"`
	Records int64    `json:"records"`
	Columns []Column `json:"columns"`
}

// Column is where one input column went.
type Column struct {
	Column string `json:"column"`
	// Field is the schema field, or "extra"; empty when discarded.
	Field string `json:"field,omitempty"`
	// Match is name, alias, folded, extra or discarded.
	Match   string `json:"match"`
	Records int64  `json:"records"`
}

// FieldStats are what one field got over the records normalised: of the
// records that were not failed, Delivered had a value (Coerced of them
// read from text into another type or form, Preserved of them with the
// original kept in extra), Null had none, Defaulted took the default for
// want of a column; Failed records failed on this field.
type FieldStats struct {
	Field     string   `json:"field"`
	Type      string   `json:"type"`
	Delivered int64    `json:"delivered"`
	Coerced   int64    `json:"coerced"`
	Null      int64    `json:"null"`
	Defaulted int64    `json:"defaulted"`
	Preserved int64    `json:"preserved"`
	Failed    int64    `json:"failed"`
	Samples   []Sample `json:"samples,omitempty"`
}

// Sample is one value at one place.
type Sample struct {
	Object string `json:"object"`
	Line   int64  `json:"line,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Group is records that failed for one reason, with a few of their places.
type Group struct {
	Reason string   `json:"reason"`
	Class  string   `json:"class,omitempty"`
	Count  int64    `json:"count"`
	Where  []Sample `json:"where"`
}

// ReadDeadLetters groups the splitter's dead letters under dir (the run's
// splitter-failed folder) by reason.
func ReadDeadLetters(dir string) ([]Group, error) {
	byReason := map[string]*Group{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r := deadletter.NewReader(f)
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			var le *deadletter.LineError
			if errors.As(err, &le) {
				continue // not a dead letter: nothing to group
			}
			if err != nil {
				return err
			}
			g := byReason[rec.Reason]
			if g == nil {
				g = &Group{Reason: rec.Reason, Class: strings.TrimPrefix(rec.ErrorCode, "Splitter.")}
				byReason[rec.Reason] = g
			}
			g.Count++
			if len(g.Where) < maxSamples {
				w := Sample{Value: strings.TrimRight(string(rec.RawData), "\r\n")}
				if rec.Source != nil {
					w.Object, w.Line = rec.Source.Bucket+"/"+rec.Source.Key, rec.Source.Line
				}
				g.Where = append(g.Where, w)
			}
		}
	})
	out := []Group{}
	for _, g := range byReason {
		out = append(out, *g)
	}
	sortGroups(out)
	return out, err
}

// NameRoutes sets each object's Route with route(bucket, key).
func (r *Report) NameRoutes(route func(bucket, key string) string) {
	for i := range r.Schemas {
		for j := range r.Schemas[i].Objects {
			o := &r.Schemas[i].Objects[j]
			if bucket, key, ok := strings.Cut(o.Object, "/"); ok {
				o.Route = route(bucket, key)
			}
		}
	}
}

// WriteJSON writes report.json.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
