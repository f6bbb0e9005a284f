package ddl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/schema"
)

// Target is a destination a definition can be written for.
type Target string

// The targets sluice writes definitions for.
const (
	Redshift   Target = "redshift"
	OpenSearch Target = "opensearch"
	Glue       Target = "glue"
)

// Targets lists every target, in the order the CLI shows them.
var Targets = []Target{Redshift, OpenSearch, Glue}

// Options tune a definition. The zero value is usable.
type Options struct {
	// Table is the Redshift table, OpenSearch index or Glue table name.
	// Default: the schema's name.
	Table string
	// JSONPathsURI is where the Redshift JSONPaths file will be uploaded; it
	// is written into the COPY options. Default: a placeholder,
	// s3://BUCKET/jsonpaths/<table>.jsonpaths.json.
	JSONPathsURI string
	// Location is the Glue table's S3 location (the Firehose destination
	// prefix). Default: none, and the table input has no Location.
	Location string
}

// File is one generated file: its conventional name and contents.
type File struct {
	Name string
	Data []byte
}

// Generate writes the definition of s for target.
func Generate(target Target, s *schema.Schema, opts Options) ([]File, error) {
	if opts.Table == "" {
		opts.Table = s.Name
	}
	if len(s.Fields) == 0 {
		return nil, fmt.Errorf("ddl: %s has no fields, and a table needs at least one column", s.Name)
	}
	if err := checkColumnNames(s); err != nil {
		return nil, err
	}
	switch target {
	case Redshift:
		return redshift(s, opts)
	case OpenSearch:
		return opensearch(s, opts)
	case Glue:
		return glue(s, opts)
	}
	return nil, fmt.Errorf("ddl: unknown target %q (want redshift, opensearch or glue)", target)
}

// ParseTarget returns the target called name.
func ParseTarget(name string) (Target, error) {
	for _, t := range Targets {
		if string(t) == name {
			return t, nil
		}
	}
	return "", fmt.Errorf("ddl: unknown target %q (want redshift, opensearch or glue)", name)
}

// checkColumnNames rejects schemas whose field names collide once folded to
// lower case: Redshift, Glue and Hive all fold identifiers, so "id" and
// "ID" would be one column there. Nested records are checked as well,
// because they become Hive struct members.
func checkColumnNames(s *schema.Schema) error {
	return checkFields(s.Name, s.Fields)
}

func checkFields(where string, fields []schema.Field) error {
	seen := map[string]string{}
	for _, f := range fields {
		low := strings.ToLower(f.Name)
		if prev, ok := seen[low]; ok {
			return fmt.Errorf("ddl: %s: fields %q and %q are the same column once lower-cased; rename one", where, prev, f.Name)
		}
		seen[low] = f.Name
		if len(f.Name) > maxIdentifier {
			return fmt.Errorf("ddl: %s: field %q is longer than %d bytes, the longest Redshift and Glue column name", where, f.Name, maxIdentifier)
		}
		if err := checkType(where+"."+f.Name, f.Type); err != nil {
			return err
		}
	}
	return nil
}

func checkType(where string, t *schema.Type) error {
	switch t.Kind {
	case schema.Record:
		return checkFields(where, t.Fields)
	case schema.Array:
		return checkType(where, t.Items)
	case schema.Map:
		return checkType(where, t.Values)
	case schema.Union:
		for _, b := range t.Branches {
			if err := checkType(where, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxIdentifier is Redshift's longest identifier in bytes; Glue allows 255.
const maxIdentifier = 127

// object is a JSON object that keeps its keys in insertion order, so
// generated definitions list fields in schema order and diff cleanly.
type object []member

type member struct {
	key   string
	value any
}

func (o *object) set(key string, value any) { *o = append(*o, member{key, value}) }

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(schema.AppendString(nil, m.key))
		b.WriteByte(':')
		if err := encode(&b, m.value, ""); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encode writes v as JSON without escaping <, > and &: Hive types such as
// array<string> must stay readable.
func encode(b *bytes.Buffer, v any, indent string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// marshal writes v as indented JSON ending in a newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v, "  "); err != nil {
		return nil, fmt.Errorf("ddl: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// scalarUnion reports whether every non-null branch of a union with several
// non-null branches is a scalar (no record, array or map).
func scalarUnion(t *schema.Type) bool {
	for _, b := range t.Branches {
		switch b.Kind {
		case schema.Record, schema.Array, schema.Map:
			return false
		}
	}
	return true
}
