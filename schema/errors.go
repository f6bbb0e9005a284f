package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// SyntaxError is an .avsc document that is not JSON, with the position of
// the first problem.
type SyntaxError struct {
	Line, Column int
	Problem      string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: JSON syntax: %s", e.Line, e.Column, e.Problem)
}

// checkJSON returns a *SyntaxError if src is not one JSON document.
func checkJSON(src []byte) error {
	var v any
	err := json.Unmarshal(src, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	offset := int64(len(src))
	problem := err.Error()
	if errors.As(err, &se) {
		offset = se.Offset
		if offset > 0 {
			offset-- // Offset is just past the byte in error
		}
	} else if !strings.Contains(problem, "unexpected end") {
		return nil // valid JSON of the wrong shape: the Avro parser says why
	}
	line, col := 1, 1
	for _, c := range src[:min(offset, int64(len(src)))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Problem: problem}
}

var badDefaultRe = regexp.MustCompile(`invalid default for field ([A-Za-z_][A-Za-z0-9_]*)`)

// explainDefault rewrites hamba/avro's "invalid default for field n. <nil>
// not a int" into the field, the default the file has and the type it
// must fit.
func explainDefault(src []byte, err error) error {
	m := badDefaultRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	var doc any
	if json.Unmarshal(src, &doc) != nil {
		return err
	}
	f := findField(doc, m[1])
	if f == nil {
		return err
	}
	def, _ := json.Marshal(f["default"])
	typ, _ := json.Marshal(f["type"])
	hint := ""
	if branches, ok := f["type"].([]any); ok && len(branches) > 0 {
		first, _ := json.Marshal(branches[0])
		hint = fmt.Sprintf(" (a union's default must be a value of its first type, %s: put \"null\" first for a null default)", first)
	}
	return fmt.Errorf("field %s: default %s is not a value of its type %s%s", m[1], def, compact(typ), hint)
}

// findField finds the field object called name anywhere in an .avsc tree.
func findField(v any, name string) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if fields, ok := v["fields"].([]any); ok {
			for _, f := range fields {
				if fm, ok := f.(map[string]any); ok && fm["name"] == name {
					return fm
				}
			}
		}
		for _, c := range v {
			if f := findField(c, name); f != nil {
				return f
			}
		}
	case []any:
		for _, c := range v {
			if f := findField(c, name); f != nil {
				return f
			}
		}
	}
	return nil
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}
