package pipetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// Expected reads a case's expected documents and failures.
func Expected(c Case) (Outcome, error) {
	var o Outcome
	if err := readJSONL(filepath.Join(c.Dir, ExpectedFile), func(dec *json.Decoder) error {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			return err
		}
		o.Delivered = append(o.Delivered, d)
		return nil
	}); err != nil {
		return o, err
	}
	err := readJSONL(filepath.Join(c.Dir, FailuresFile), func(dec *json.Decoder) error {
		var f Failure
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return err
		}
		o.Failures = append(o.Failures, f)
		return nil
	})
	sortDocs(o.Delivered)
	sortFailures(o.Failures)
	return o, err
}

// readJSONL calls each for every non-empty line; a missing file has none.
func readJSONL(path string, each func(*json.Decoder) error) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := each(dec); err != nil {
			return fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
	}
	return nil
}

// Write writes o as the case's expected files (sluice test -update). A
// case without failures has no failures file.
func Write(c Case, o Outcome) error {
	var b bytes.Buffer
	for _, d := range o.Delivered {
		line, err := json.Marshal(d)
		if err != nil {
			return err
		}
		b.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(c.Dir, ExpectedFile), b.Bytes(), 0o644); err != nil {
		return err
	}
	path := filepath.Join(c.Dir, FailuresFile)
	if len(o.Failures) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b.Reset()
	for _, f := range o.Failures {
		line, err := json.Marshal(f)
		if err != nil {
			return err
		}
		b.Write(append(line, '\n'))
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// Diff lists, for people, every difference between what a case expects and
// what its run produced: a document missing or unexpected, a field that
// differs (by its path, e.g. provenance.line or tags[1]), a failure
// missing, unexpected or with another reason.
func Diff(want, got Outcome) []string {
	var diffs []string
	gotDocs := map[string]map[string]any{}
	for _, d := range got.Delivered {
		gotDocs[docKey(d)] = d
	}
	seen := map[string]bool{}
	for _, w := range want.Delivered {
		k := docKey(w)
		seen[k] = true
		g, ok := gotDocs[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: expected a delivered document, got none%s", docPlace(w), failedAs(got.Failures, w)))
			continue
		}
		for _, d := range diffValues("", w, g) {
			diffs = append(diffs, docPlace(w)+": "+d)
		}
	}
	for _, g := range got.Delivered {
		if !seen[docKey(g)] {
			diffs = append(diffs, fmt.Sprintf("%s: delivered, but not expected", docPlace(g)))
		}
	}
	type fkey struct {
		object string
		line   int64
		result string
	}
	gotF := map[fkey][]Failure{}
	for _, f := range got.Failures {
		k := fkey{f.Object, f.Line, f.Result}
		gotF[k] = append(gotF[k], f)
	}
	for _, w := range want.Failures {
		k := fkey{w.Object, w.Line, w.Result}
		at := fmt.Sprintf("%s:%d", w.Object, w.Line)
		if len(gotF[k]) == 0 {
			diffs = append(diffs, fmt.Sprintf("%s: expected %s (%s), but it was not", at, w.Result, w.Reason))
			continue
		}
		g := gotF[k][0]
		gotF[k] = gotF[k][1:]
		if g.Reason != w.Reason {
			diffs = append(diffs, fmt.Sprintf("%s: %s reason: got %q, want %q", at, w.Result, g.Reason, w.Reason))
		}
		if g.Field != w.Field {
			diffs = append(diffs, fmt.Sprintf("%s: %s field: got %q, want %q", at, w.Result, g.Field, w.Field))
		}
		if g.Value != w.Value {
			diffs = append(diffs, fmt.Sprintf("%s: %s value: got %q, want %q", at, w.Result, g.Value, w.Value))
		}
	}
	var extra []Failure
	for _, fs := range gotF {
		extra = append(extra, fs...)
	}
	sortFailures(extra)
	for _, f := range extra {
		diffs = append(diffs, fmt.Sprintf("%s:%d: %s, not expected: %s", f.Object, f.Line, f.Result, f.Reason))
	}
	return diffs
}

// failedAs says how a document that was not delivered failed, if it did.
func failedAs(fs []Failure, doc map[string]any) string {
	p, _ := doc["provenance"].(map[string]any)
	if p == nil {
		return ""
	}
	object := fmt.Sprintf("%v/%v", p["bucket"], p["key"])
	for _, f := range fs {
		if f.Object == object && fmt.Sprint(f.Line) == fmt.Sprint(p["line"]) {
			return fmt.Sprintf(" (%s: %s)", f.Result, f.Reason)
		}
	}
	return ""
}

// diffValues compares two decoded JSON values field by field.
func diffValues(path string, want, got any) []string {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var out []string
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			wv, inW := wm[k]
			gv, inG := gm[k]
			switch {
			case !inG:
				out = append(out, fmt.Sprintf("%s: missing, want %s", p, show(wv)))
			case !inW:
				out = append(out, fmt.Sprintf("%s: got %s, not expected", p, show(gv)))
			default:
				out = append(out, diffValues(p, wv, gv)...)
			}
		}
		return out
	}
	wa, wok := want.([]any)
	ga, gok := got.([]any)
	if wok && gok && len(wa) == len(ga) {
		var out []string
		for i := range wa {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), wa[i], ga[i])...)
		}
		return out
	}
	if reflect.DeepEqual(want, got) {
		return nil
	}
	return []string{fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want))}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
