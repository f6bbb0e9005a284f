package pipetest

import (
	"encoding/json"
	"reflect"
	"testing"
)

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDiffNamesEachField(t *testing.T) {
	want := Outcome{
		Delivered: []map[string]any{
			doc(t, `{"price":1300,"tags":["a","b"],"extra":{},"provenance":{"record_id":"r1","bucket":"input","key":"a.csv","line":2}}`),
			doc(t, `{"price":5,"provenance":{"record_id":"r2","bucket":"input","key":"a.csv","line":3}}`),
		},
		Failures: []Failure{
			{Object: "input/a.csv", Line: 3, Result: "ProcessingFailed", Field: "price", Value: "call us", Reason: "coerce: field price: is not a number"},
			{Object: "input/a.csv", Line: 9, Result: "SplitterDeadLetter", Reason: "unterminated quoted field"},
		},
	}
	got := Outcome{
		Delivered: []map[string]any{
			doc(t, `{"price":1299,"tags":["a","c"],"extra":{"Opening Hours":"9-17"},"provenance":{"record_id":"r1","bucket":"input","key":"a.csv","line":2}}`),
			doc(t, `{"price":7,"provenance":{"record_id":"r4","bucket":"input","key":"a.csv","line":5}}`),
		},
		Failures: []Failure{
			{Object: "input/a.csv", Line: 3, Result: "ProcessingFailed", Field: "price", Value: "call us", Reason: "coerce: field price: is ambiguous"},
			{Object: "input/a.csv", Line: 7, Result: "ProcessingFailed", Reason: "required: field listed: is required and missing (no default)"},
		},
	}
	wantDiffs := []string{
		`input/a.csv:2: extra.Opening Hours: got "9-17", not expected`,
		`input/a.csv:2: price: got 1299, want 1300`,
		`input/a.csv:2: tags[1]: got "c", want "b"`,
		`input/a.csv:3: expected a delivered document, got none (ProcessingFailed: coerce: field price: is ambiguous)`,
		`input/a.csv:5: delivered, but not expected`,
		`input/a.csv:3: ProcessingFailed reason: got "coerce: field price: is ambiguous", want "coerce: field price: is not a number"`,
		`input/a.csv:9: expected SplitterDeadLetter (unterminated quoted field), but it was not`,
		`input/a.csv:7: ProcessingFailed, not expected: required: field listed: is required and missing (no default)`,
	}
	if got := Diff(want, got); !reflect.DeepEqual(got, wantDiffs) {
		t.Errorf("diff:\n%q\nwant\n%q", got, wantDiffs)
	}
	if d := Diff(want, want); len(d) != 0 {
		t.Errorf("an outcome differs from itself: %q", d)
	}
}
