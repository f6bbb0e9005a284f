package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The config file's YAML tree is kept so that every error can point at the
// line and column of the key it is about, and so that the YAML library's
// type errors ("cannot unmarshal !!seq into string") can be said in
// sluice's words: which key, what it wants, what it got.

// visitKeys calls visit for every key under n with its dotted path
// (routes[1].stream), its key and value nodes, and the Go type the key
// decodes into (nil where the config has no such key).
func visitKeys(n *yaml.Node, path string, t reflect.Type, visit func(path string, key, val *yaml.Node, t reflect.Type)) {
	for n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var ft reflect.Type
			if t != nil {
				switch t.Kind() {
				case reflect.Struct:
					if f, ok := yamlField(t, k.Value); ok {
						ft = f.Type
					}
				case reflect.Map:
					ft = t.Elem()
				}
			}
			visit(join(k.Value), k, v, ft)
			visitKeys(v, join(k.Value), ft, visit)
		}
	case yaml.SequenceNode:
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			et = t.Elem()
		}
		for i, v := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			visit(p, nil, v, et)
			visitKeys(v, p, et, visit)
		}
	}
}

// yamlField finds the struct field whose yaml tag is name.
func yamlField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys lists the keys a struct type accepts.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	return keys
}

// position returns the line and column of the key at path, 0 if the file
// does not have it.
func position(doc *yaml.Node, path string) (line, col int) {
	visitKeys(doc, "", nil, func(p string, k, v *yaml.Node, _ reflect.Type) {
		if p != path || line != 0 {
			return
		}
		if k != nil {
			line, col = k.Line, k.Column
		} else {
			line, col = v.Line, v.Column
		}
	})
	return line, col
}

var (
	typeErrorRe    = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal (.+?)(?: `(.*)`)? into (.+)$")
	unknownFieldRe = regexp.MustCompile(`^line (\d+): field (.*) not found in type (.+)$`)
)

// typeProblems turns each of yaml.v3's type errors into an Error naming
// the key, what it wants and what the file has there.
func typeProblems(path string, doc *yaml.Node, msgs []string) []*Error {
	var errs []*Error
	for _, msg := range msgs {
		e := &Error{Path: path, Problem: msg}
		if m := typeErrorRe.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			tag, value := m[2], m[3]
			e.Line, e.Column = line, 1
			e.Problem = "got " + describeYAML(tag, value)
			if root := rootNode(doc); root != nil && root.Kind != yaml.MappingNode {
				// The file itself is not a map of keys.
				e.Column = root.Column
				e.Problem = fmt.Sprintf("want %s, got %s", describeType(reflect.TypeOf(Config{})), describeYAML(tag, value))
			}
			visitKeys(doc, "", reflect.TypeOf(Config{}), func(p string, k, v *yaml.Node, t reflect.Type) {
				// The last match is the innermost: a list's own line also
				// holds its first entry.
				if v.Line != line || v.ShortTag() != tag || (value != "" && v.Value != value) || t == nil {
					return
				}
				e.Key, e.Column = p, v.Column
				e.Problem = fmt.Sprintf("want %s, got %s", describeType(t), describeYAML(tag, value))
			})
		} else if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			e.Line, e.Problem = line, fmt.Sprintf("unknown key %q", m[2])
			visitKeys(doc, "", reflect.TypeOf(Config{}), func(p string, k, v *yaml.Node, t reflect.Type) {
				if e.Key != "" || k == nil || k.Line != line || k.Value != m[2] || t != nil {
					return
				}
				e.Key, e.Column = p, k.Column
				if parent := parentType(doc, p); parent != nil {
					e.Problem += " (known keys here: " + strings.Join(yamlKeys(parent), ", ") + ")"
				}
			})
		}
		errs = append(errs, e)
	}
	return errs
}

func rootNode(doc *yaml.Node) *yaml.Node {
	n := doc
	for n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil || n.Kind == yaml.DocumentNode {
		return nil
	}
	return n
}

// parentType is the struct type holding the key at path, or nil.
func parentType(doc *yaml.Node, path string) reflect.Type {
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return reflect.TypeOf(Config{})
	}
	parent := path[:i]
	var found reflect.Type
	visitKeys(doc, "", reflect.TypeOf(Config{}), func(p string, _, _ *yaml.Node, t reflect.Type) {
		if p == parent && t != nil {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if t.Kind() == reflect.Struct {
				found = t
			}
		}
	})
	return found
}

var durationType = reflect.TypeOf(time.Duration(0))

// fractionalInts refuses a number with a fraction where a whole number is
// wanted: yaml.v3 would cut 2.5 to 2 without a word (1e6 and 5.0 are
// whole, and kept).
func fractionalInts(path string, doc *yaml.Node) error {
	var errs []error
	visitKeys(doc, "", reflect.TypeOf(Config{}), func(p string, _, v *yaml.Node, t reflect.Type) {
		if t == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!float" {
			return
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64); err == nil && f == math.Trunc(f) {
			return
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
			if t != durationType {
				errs = append(errs, &Error{Path: path, Key: p, Line: v.Line, Column: v.Column,
					Problem: fmt.Sprintf("want %s, got %s", describeType(t), describeYAML(v.ShortTag(), v.Value))})
			}
		}
	})
	return errors.Join(errs...)
}

// describeType says what a config key wants, in a user's words.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration with a unit, such as 30s, 500ms or 2m"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "a list of entries (- key: value ...)"
		}
		return "a list of " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s, such as [a, b]"
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct {
			return "a map of names to settings"
		}
		return "a map of names to " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s"
	case reflect.Struct:
		return "a map with the keys " + strings.Join(yamlKeys(t), ", ")
	}
	return t.String()
}

// describeYAML says what the file has, from yaml.v3's tag and value.
func describeYAML(tag, value string) string {
	switch strings.TrimPrefix(tag, "!!") {
	case "seq":
		return "a list"
	case "map":
		return "a map"
	case "str":
		return strconv.Quote(value)
	case "int", "float":
		if value != "" {
			return "the number " + value
		}
		return "a number"
	case "bool":
		return value
	case "null":
		return "nothing"
	}
	if value != "" {
		return fmt.Sprintf("%q (tagged %s)", value, tag)
	}
	return "a value tagged " + tag
}
