package infer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/schema"
)

// Field is one inferred schema field.
type Field struct {
	Name string
	// Type is the Avro type: "string", "long", "double", "boolean", or a
	// logical type's object; Nullable wraps it in ["null", T].
	Type     any
	Nullable bool
	// Aliases are the spellings seen that are valid Avro names other than
	// Name (the others match by sluice's folding of case and punctuation).
	Aliases []string
	// Spellings are every header or key spelling seen.
	Spellings []string
	Doc       string
}

// Result is the inferred schema and what it was made from.
type Result struct {
	Name    string
	Fields  []Field
	Files   int
	Records int
	// Unparsed counts records the format could not parse (they would be
	// dead-lettered by the splitter, so they say nothing of types).
	Unparsed int
	// InExtra are the columns no field name can match (an accented header
	// an Avro name cannot spell): their values are kept in extra.
	InExtra []string
}

// Options ask for the types infer does not choose by itself.
type Options struct {
	// Enum makes a text column with at most this many distinct values
	// (each seen at least twice on average) an enum of them. 0: never.
	Enum int
	// Arrays makes a text column whose values are lists separated by ';'
	// or '|' (and never ','), or JSON arrays, an array of strings.
	Arrays bool
}

// Result infers the schema called name from everything sampled.
func (s *Sampler) Result(name string, opts Options) *Result {
	r := &Result{Name: name, Files: len(s.files)}
	for _, f := range s.files {
		r.Records += f.records
		r.Unparsed += f.unparsed
	}
	used := map[string]bool{normalize.ExtraField: true, normalize.ProvenanceField: true}
	for _, c := range s.order {
		f := Field{Spellings: c.spellings}
		f.Name = uniqueName(avroName(c.spellings[0]), used)
		if normalize.Canonical(f.Name) != c.canonical && !validName.MatchString(c.canonical) {
			// Neither the name nor an alias would match the column: a field
			// would stay empty while the values land in extra.
			r.InExtra = append(r.InExtra, c.spellings...)
			continue
		}
		used[f.Name] = true
		for _, sp := range c.spellings {
			if sp != f.Name && validName.MatchString(sp) && !containsStr(f.Aliases, sp) {
				f.Aliases = append(f.Aliases, sp)
			}
		}
		if normalize.Canonical(f.Name) != c.canonical && validName.MatchString(c.canonical) && !containsStr(f.Aliases, c.canonical) {
			// The field was renamed (a reserved name): the column still matches by alias.
			f.Aliases = append(f.Aliases, c.canonical)
		}
		var what string
		f.Type, what = c.pick(opts)
		if m, ok := f.Type.(map[string]any); ok && m["type"] == "enum" {
			m["name"] = f.Name + "_enum"
		}
		f.Nullable = c.present < r.Records || c.empty > 0 || c.present == c.empty
		f.Doc = c.doc(len(s.files), r.Records, what)
		r.Fields = append(r.Fields, f)
	}
	return r
}

// pick chooses the narrowest type that reads every value seen, and says why.
func (c *column) pick(opts Options) (any, string) {
	numeric := !c.leadZero && !c.notNumber
	values := int(c.present - c.empty)
	switch {
	case opts.Arrays && c.nonScalars && c.jsonArrays:
		return map[string]any{"type": "array", "items": "string"}, "array<string>: JSON arrays, items kept as text"
	case opts.Arrays && !c.nonScalars && c.listSeps && !c.commas:
		return map[string]any{"type": "array", "items": "string"}, "array<string>: lists separated by ';' or '|'"
	}
	if t, what, ok := c.enum(opts.Enum, values); ok && !(c.alive[candLong] && numeric) && !(c.alive[candDouble] && numeric) && !(c.alive[candBoolean] && c.wordBool) {
		return t, what
	}
	switch {
	case c.nonScalars:
		return "string", "string: JSON objects or arrays, kept as their JSON text"
	case c.present == c.empty:
		return "string", "string: never had a value"
	case c.alive[candBoolean] && c.wordBool:
		return "boolean", "boolean"
	case c.alive[candLong] && numeric && !c.fractional:
		return "long", "long"
	case c.alive[candDecimal] && numeric && c.money && c.fraction == 2:
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}, "decimal(18,2): amounts of money with two decimals"
	case c.alive[candDouble] && numeric:
		return "double", "double"
	case c.alive[candDate] && !c.timeOfDay && !c.bareNumber:
		return map[string]any{"type": "int", "logicalType": "date"}, "date"
	case c.alive[candTimestamp] && !c.bareNumber:
		return map[string]any{"type": "long", "logicalType": "timestamp-millis"}, "timestamp-millis"
	case c.leadZero && c.alive[candLong]:
		return "string", "string: numbers with leading zeros (codes, not quantities)"
	}
	return "string", "string"
}

func quote(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// enum makes the column an enum when it has few distinct values, each a
// valid symbol once spelled as a name (the transform matches symbols
// ignoring case and punctuation). It has no default: an unseen value fails
// with its reason instead of being replaced.
func (c *column) enum(max, values int) (any, string, bool) {
	n := len(c.distinct)
	if max <= 0 || n == 0 || n > max || n > maxEnum || c.nonScalars || values < 2*n {
		return nil, "", false
	}
	keys := make([]string, 0, n)
	for k := range c.distinct {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var symbols []string
	for _, k := range keys {
		sym := avroName(c.distinct[k])
		if normalize.Canonical(sym) != k || containsStr(symbols, sym) {
			return nil, "", false // a value no symbol can spell
		}
		symbols = append(symbols, sym)
	}
	return map[string]any{"type": "enum", "name": "", "symbols": symbols}, fmt.Sprintf("enum of %d symbols (-enum)", n), true
}

func (c *column) doc(files, records int, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Seen as %s in %d of %d files, %d of %d records", strings.Join(quote(c.spellings), ", "), len(c.files), files, c.present, records)
	if c.empty > 0 {
		fmt.Fprintf(&b, ", %d empty (%.0f%%)", c.empty, 100*float64(c.empty)/float64(c.present))
	}
	if len(c.examples) > 0 {
		ex := make([]string, len(c.examples))
		for i, e := range c.examples {
			ex[i] = fmt.Sprintf("%q", shorten(e, 40))
		}
		fmt.Fprintf(&b, "; e.g. %s", strings.Join(ex, ", "))
	}
	fmt.Fprintf(&b, ". Inferred %s.", what)
	return b.String()
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// folds spells the Latin letters Avro names cannot hold in ASCII.
var folds = map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'þ': "th"}

// avroName turns a header into a field name: snake case, ASCII letters.
func avroName(header string) string {
	var b strings.Builder
	under := false
	prevLower := false
	for _, r := range header {
		if s, ok := folds[unicode.ToLower(r)]; ok {
			b.WriteString(s)
			under, prevLower = false, true
			continue
		}
		r = stripAccent(r)
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if unicode.IsUpper(r) && prevLower && !under {
				b.WriteByte('_') // camelCase → camel_case
			}
			b.WriteRune(unicode.ToLower(r))
			under, prevLower = false, unicode.IsLower(r) || unicode.IsDigit(r)
		default:
			if b.Len() > 0 && !under {
				b.WriteByte('_')
				under = true
			}
			prevLower = false
		}
	}
	name := strings.Trim(b.String(), "_")
	if name == "" {
		return "field"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	return name
}

// stripAccent maps the accented Latin-1 and Latin Extended-A letters to
// their base letter.
func stripAccent(r rune) rune {
	const from = "àáâãäåāăąçćčďèéêëēĕėęěìíîïīĭįıñńňòóôõöōŏőùúûüūŭůűųýÿźżž"
	const to = "aaaaaaaaacccdeeeeeeeeeiiiiiiiinnnooooooooouuuuuuuuuyyzzz"
	lower := unicode.ToLower(r)
	for i, f := range []rune(from) {
		if f == lower {
			base := rune(to[i])
			if unicode.IsUpper(r) {
				return unicode.ToUpper(base)
			}
			return base
		}
	}
	return r
}

func uniqueName(name string, used map[string]bool) string {
	if !used[name] {
		return name
	}
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s_%d", name, i); !used[n] {
			return n
		}
	}
}

// provenance is the record sluice fills with where each record came from.
var provenance = json.RawMessage(`{
      "type": "record",
      "name": "provenance",
      "doc": "Where the record came from; filled in by sluice.",
      "fields": [
        {"name": "record_id", "type": "string"},
        {"name": "bucket", "type": ["null", "string"], "default": null},
        {"name": "key", "type": ["null", "string"], "default": null},
        {"name": "version", "type": ["null", "string"], "default": null},
        {"name": "format", "type": ["null", "string"], "default": null},
        {"name": "line", "type": ["null", "long"], "default": null},
        {"name": "offset", "type": ["null", "long"], "default": null},
        {"name": "ingested_at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null}
      ]
    }`)

type avscField struct {
	Name    string           `json:"name"`
	Type    any              `json:"type"`
	Default *json.RawMessage `json:"default,omitempty"`
	Aliases []string         `json:"aliases,omitempty"`
	Doc     string           `json:"doc,omitempty"`
}

// AVSC writes the schema as an .avsc document, checked by sluice's own
// schema parser.
func (r *Result) AVSC() ([]byte, error) {
	null := json.RawMessage("null")
	emptyMap := json.RawMessage("{}")
	var fields []avscField
	for _, f := range r.Fields {
		af := avscField{Name: f.Name, Type: f.Type, Aliases: f.Aliases, Doc: f.Doc}
		if f.Nullable {
			af.Type, af.Default = []any{"null", f.Type}, &null
		}
		fields = append(fields, af)
	}
	extraDoc := "Input columns that match no field, kept verbatim."
	if len(r.InExtra) > 0 {
		extraDoc += fmt.Sprintf(" Seen: %s, whose letters no Avro field name can hold.", strings.Join(quote(r.InExtra), ", "))
	}
	fields = append(fields,
		avscField{Name: normalize.ExtraField, Type: map[string]any{"type": "map", "values": "string"}, Default: &emptyMap, Doc: extraDoc},
		avscField{Name: normalize.ProvenanceField, Type: []any{"null", provenance}, Default: &null})
	doc := struct {
		Type      string      `json:"type"`
		Name      string      `json:"name"`
		Namespace string      `json:"namespace"`
		Doc       string      `json:"doc"`
		Fields    []avscField `json:"fields"`
	}{"record", r.Name, "sluice", fmt.Sprintf("Inferred by sluice schema infer from %d records in %d files; review the types and docs.", r.Records, r.Files), fields}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if _, err := schema.Parse(r.Name, 1, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("infer: the inferred schema does not parse (a bug): %w", err)
	}
	return buf.Bytes(), nil
}

// NameFor derives a schema name from a sample path: its base name without
// extensions, as an Avro name.
func NameFor(path string) string {
	base := filepath.Base(filepath.Clean(path))
	for ext := filepath.Ext(base); ext != "" && len(ext) < len(base); ext = filepath.Ext(base) {
		base = strings.TrimSuffix(base, ext)
	}
	return avroName(base)
}
