package ddl

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ddl")

const goldenDir = "../../testdata/ddl"

func shipped(t testing.TB) []*schema.Schema {
	t.Helper()
	reg, err := schema.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	var out []*schema.Schema
	for _, name := range reg.Names() {
		s, _ := reg.Latest(name)
		out = append(out, s)
	}
	return out
}

func generate(t *testing.T, target Target, s *schema.Schema) []File {
	t.Helper()
	files, err := Generate(target, s, Options{})
	if err != nil {
		t.Fatalf("%s %s: %v", target, s.Name, err)
	}
	return files
}

func fileNamed(t *testing.T, files []File, suffix string) []byte {
	t.Helper()
	for _, f := range files {
		if strings.HasSuffix(f.Name, suffix) {
			return f.Data
		}
	}
	t.Fatalf("no file ending in %s among %d", suffix, len(files))
	return nil
}

// TestGolden compares every target's output for the shipped schemas with
// testdata/ddl/<schema>/; run with -update to rewrite them.
func TestGolden(t *testing.T) {
	for _, s := range shipped(t) {
		dir := filepath.Join(goldenDir, s.Name)
		want := map[string]bool{}
		for _, target := range Targets {
			for _, f := range generate(t, target, s) {
				want[f.Name] = true
				path := filepath.Join(dir, f.Name)
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				golden, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./schema/ddl -update)", err)
				}
				if !bytes.Equal(golden, f.Data) {
					t.Errorf("%s differs from its golden file:\n--- got\n%s\n--- want\n%s", path, f.Data, golden)
				}
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !want[e.Name()] {
				t.Errorf("%s: stale golden file %s", dir, e.Name())
			}
		}
	}
}

var columnLine = regexp.MustCompile(`^  "([a-z0-9_]+)"\s+(.+?)(,)?$`)

// sqlColumns reads the column lines of the CREATE TABLE statement.
func sqlColumns(t *testing.T, sql []byte) (names, types []string) {
	t.Helper()
	inTable := false
	for _, line := range strings.Split(string(sql), "\n") {
		switch {
		case strings.HasPrefix(line, "CREATE TABLE"):
			inTable = true
		case line == ");":
			inTable = false
		case inTable:
			m := columnLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("unexpected line in CREATE TABLE: %q", line)
			}
			names, types = append(names, m[1]), append(types, m[2])
		}
	}
	return names, types
}

func jsonPaths(t *testing.T, data []byte) []string {
	t.Helper()
	var jp struct {
		JSONPaths []string `json:"jsonpaths"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jp); err != nil {
		t.Fatalf("jsonpaths file does not parse: %v", err)
	}
	return jp.JSONPaths
}

func TestRedshiftJSONPathsOnePerColumnInOrder(t *testing.T) {
	for _, s := range shipped(t) {
		t.Run(s.Name, func(t *testing.T) {
			files := generate(t, Redshift, s)
			names, _ := sqlColumns(t, fileNamed(t, files, ".sql"))
			paths := jsonPaths(t, fileNamed(t, files, ".jsonpaths.json"))
			if len(names) != len(s.Fields) || len(paths) != len(s.Fields) {
				t.Fatalf("%d fields, %d columns, %d jsonpaths", len(s.Fields), len(names), len(paths))
			}
			for i, f := range s.Fields {
				if names[i] != f.Name {
					t.Errorf("column %d is %q, want field %q", i, names[i], f.Name)
				}
				if want := "$['" + f.Name + "']"; paths[i] != want {
					t.Errorf("jsonpath %d is %q, want %q", i, paths[i], want)
				}
			}
			cols := regexp.MustCompile(`DataTableColumns: (\S+)`).FindSubmatch(fileNamed(t, files, ".sql"))
			for i := range names {
				names[i] = columnRef(names[i])
			}
			if cols == nil || string(cols[1]) != strings.Join(names, ",") {
				t.Errorf("Firehose DataTableColumns %q do not list the columns in order", cols)
			}
		})
	}
}

// allTypes has one field of every kind the normaliser produces.
const allTypes = `{"type":"record","name":"all","doc":"Every type; it's here.","fields":[
 {"name":"s","type":"string","doc":"A string's doc"},
 {"name":"ns","type":["null","string"]},
 {"name":"i","type":"int"},
 {"name":"l","type":["null","long"]},
 {"name":"f","type":"float"},
 {"name":"d","type":"double"},
 {"name":"b","type":"boolean"},
 {"name":"day","type":{"type":"int","logicalType":"date"}},
 {"name":"ms","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"us","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
 {"name":"bigdec","type":{"type":"bytes","logicalType":"decimal","precision":40,"scale":0}},
 {"name":"wide","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}},
 {"name":"e","type":{"type":"enum","name":"colour","symbols":["red","yellow"]}},
 {"name":"raw","type":"bytes"},
 {"name":"hash","type":{"type":"fixed","name":"md5","size":16}},
 {"name":"id","type":{"type":"string","logicalType":"uuid"}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"item","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
 {"name":"extra","type":{"type":"map","values":"string"}},
 {"name":"counts","type":{"type":"map","values":"long"}},
 {"name":"where","type":["null",{"type":"record","name":"place","fields":[{"name":"lat","type":"double"},{"name":"when","type":{"type":"long","logicalType":"timestamp-millis"}}]}]},
 {"name":"either","type":["null","string","long"]},
 {"name":"anything","type":["string",{"type":"map","values":"string"}]},
 {"name":"order","type":"int","doc":"A reserved word in Redshift."}
]}`

func allTypesSchema(t testing.TB) *schema.Schema {
	t.Helper()
	s, err := schema.Parse("all", 1, []byte(allTypes))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedshiftTypes(t *testing.T) {
	s := allTypesSchema(t)
	files := generate(t, Redshift, s)
	names, types := sqlColumns(t, fileNamed(t, files, ".sql"))
	got := map[string]string{}
	for i := range names {
		got[names[i]] = types[i]
	}
	want := map[string]string{
		"s": "VARCHAR(65535) NOT NULL", "ns": "VARCHAR(65535)", "i": "INTEGER NOT NULL",
		"l": "BIGINT", "f": "REAL NOT NULL", "d": "DOUBLE PRECISION NOT NULL",
		"b": "BOOLEAN NOT NULL", "day": "DATE NOT NULL", "ms": "TIMESTAMP NOT NULL",
		"us": "TIMESTAMP", "dec": "DECIMAL(12,2) NOT NULL", "bigdec": "VARCHAR(42) NOT NULL",
		"wide": "DECIMAL(20,4) NOT NULL", "e": "VARCHAR(6) NOT NULL", "raw": "VARCHAR(65535) NOT NULL",
		"hash": "VARCHAR(24) NOT NULL", "id": "VARCHAR(65535) NOT NULL", "tags": "SUPER NOT NULL",
		"items": "SUPER NOT NULL", "extra": "SUPER NOT NULL", "counts": "SUPER NOT NULL",
		"where": "SUPER", "either": "SUPER", "anything": "SUPER NOT NULL",
	}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("column %s: %q, want %q", col, got[col], w)
		}
	}
	sql := string(fileNamed(t, files, ".sql"))
	for _, w := range []string{
		`COMMENT ON TABLE "all" IS 'Every type; it''s here.';`,
		`COMMENT ON COLUMN "all"."s" IS 'A string''s doc';`,
		`CopyOptions:      FORMAT AS JSON 's3://BUCKET/jsonpaths/all.jsonpaths.json' TIMEFORMAT 'auto'`,
		`DataTableColumns: s,ns,i,l,f,d,b,day,ms,us,dec,bigdec,wide,e,"raw",hash,id,tags,items,extra,counts,"where",either,anything,"order"`,
		`COPY "all" (s, ns, i, l, f, d, b, day, ms, us, dec, bigdec, wide, e, "raw", hash, id, tags, items, extra, counts, "where", either, anything, "order")`,
	} {
		if !strings.Contains(sql, w) {
			t.Errorf("SQL lacks %s:\n%s", w, sql)
		}
	}
}

func TestRedshiftOptions(t *testing.T) {
	s := allTypesSchema(t)
	files, err := Generate(Redshift, s, Options{Table: "Analytics.Things", JSONPathsURI: "s3://b/k.json"})
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Name != "analytics.things.sql" || files[1].Name != "analytics.things.jsonpaths.json" {
		t.Errorf("file names %q, %q", files[0].Name, files[1].Name)
	}
	sql := string(files[0].Data)
	for _, w := range []string{`CREATE TABLE IF NOT EXISTS "analytics"."things" (`, `FORMAT AS JSON 's3://b/k.json'`, `DataTableName:    analytics.things`} {
		if !strings.Contains(sql, w) {
			t.Errorf("SQL lacks %s", w)
		}
	}
	for _, bad := range []string{"a-b", "1x", "a.b.c", `x"; DROP TABLE y; --`} {
		if _, err := Generate(Redshift, s, Options{Table: bad}); err == nil {
			t.Errorf("table %q accepted", bad)
		}
	}
}

// osField is the part of an OpenSearch mapping the tests read.
type osField struct {
	Type          string             `json:"type"`
	Format        string             `json:"format"`
	ScalingFactor float64            `json:"scaling_factor"`
	IgnoreAbove   int                `json:"ignore_above"`
	Enabled       *bool              `json:"enabled"`
	Properties    map[string]osField `json:"properties"`
}

type indexTemplate struct {
	IndexPatterns []string `json:"index_patterns"`
	Template      struct {
		Mappings struct {
			Dynamic    string             `json:"dynamic"`
			Properties map[string]osField `json:"properties"`
		} `json:"mappings"`
	} `json:"template"`
}

func parseTemplate(t *testing.T, files []File) indexTemplate {
	t.Helper()
	var tpl indexTemplate
	if err := json.Unmarshal(fileNamed(t, files, ".index-template.json"), &tpl); err != nil {
		t.Fatalf("index template does not parse: %v", err)
	}
	return tpl
}

// coversRecord checks that props maps exactly the record's fields, nested
// records included.
func coversRecord(t *testing.T, where string, fields []schema.Field, props map[string]osField) {
	t.Helper()
	if len(props) != len(fields) {
		t.Errorf("%s: %d properties for %d fields", where, len(props), len(fields))
	}
	for _, f := range fields {
		p, ok := props[f.Name]
		if !ok {
			t.Errorf("%s: field %s has no mapping", where, f.Name)
			continue
		}
		if p.Type == "" {
			t.Errorf("%s.%s: mapping has no type", where, f.Name)
		}
		inner, _ := f.Type.NonNull()
		for inner.Kind == schema.Array {
			inner, _ = inner.Items.NonNull()
		}
		if inner.Kind == schema.Record {
			coversRecord(t, where+"."+f.Name, inner.Fields, p.Properties)
		}
	}
}

func TestOpenSearchCoversEveryField(t *testing.T) {
	for _, s := range append(shipped(t), allTypesSchema(t)) {
		t.Run(s.Name, func(t *testing.T) {
			tpl := parseTemplate(t, generate(t, OpenSearch, s))
			if tpl.Template.Mappings.Dynamic != "strict" {
				t.Errorf("dynamic = %q", tpl.Template.Mappings.Dynamic)
			}
			if !slices.Equal(tpl.IndexPatterns, []string{s.Name, s.Name + "-*"}) {
				t.Errorf("index_patterns = %q", tpl.IndexPatterns)
			}
			coversRecord(t, s.Name, s.Fields, tpl.Template.Mappings.Properties)
		})
	}
}

func TestOpenSearchTypes(t *testing.T) {
	props := parseTemplate(t, generate(t, OpenSearch, allTypesSchema(t))).Template.Mappings.Properties
	f := false
	want := map[string]osField{
		"s":        {Type: "keyword", IgnoreAbove: 8191},
		"i":        {Type: "integer"},
		"l":        {Type: "long"},
		"f":        {Type: "float"},
		"d":        {Type: "double"},
		"b":        {Type: "boolean"},
		"day":      {Type: "date", Format: "strict_date"},
		"ms":       {Type: "date", Format: "strict_date_optional_time"},
		"us":       {Type: "date", Format: "strict_date_optional_time"},
		"dec":      {Type: "scaled_float", ScalingFactor: 100},
		"wide":     {Type: "keyword", IgnoreAbove: 8191},
		"e":        {Type: "keyword", IgnoreAbove: 8191},
		"raw":      {Type: "binary"},
		"tags":     {Type: "keyword", IgnoreAbove: 8191},
		"extra":    {Type: "flat_object"},
		"either":   {Type: "keyword", IgnoreAbove: 8191},
		"anything": {Type: "object", Enabled: &f},
	}
	for name, w := range want {
		got := props[name]
		got.Properties = nil
		if got.Enabled != nil && w.Enabled != nil && *got.Enabled == *w.Enabled {
			got.Enabled, w.Enabled = nil, nil
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: %+v, want %+v", name, got, w)
		}
	}
	if props["items"].Type != "nested" || props["where"].Type != "object" {
		t.Errorf("array of records is %q (want nested), record is %q (want object)", props["items"].Type, props["where"].Type)
	}
}

func TestOpenSearchRejectsBadIndexNames(t *testing.T) {
	files, err := Generate(OpenSearch, allTypesSchema(t), Options{Table: "Shops"})
	if err != nil || files[0].Name != "shops.index-template.json" {
		t.Errorf("Shops: %v, %v", files, err)
	}
	for _, bad := range []string{"_private", "a b", "a/b", "-x", "a*"} {
		if _, err := Generate(OpenSearch, allTypesSchema(t), Options{Table: bad}); err == nil {
			t.Errorf("index %q accepted", bad)
		}
	}
}

type glueTable struct {
	Name              string            `json:"Name"`
	Description       string            `json:"Description"`
	TableType         string            `json:"TableType"`
	Parameters        map[string]string `json:"Parameters"`
	StorageDescriptor struct {
		Columns []struct {
			Name, Type, Comment string
		} `json:"Columns"`
		Location     string `json:"Location"`
		InputFormat  string `json:"InputFormat"`
		OutputFormat string `json:"OutputFormat"`
		SerdeInfo    struct {
			SerializationLibrary string            `json:"SerializationLibrary"`
			Parameters           map[string]string `json:"Parameters"`
		} `json:"SerdeInfo"`
	} `json:"StorageDescriptor"`
}

func parseGlue(t *testing.T, files []File) glueTable {
	t.Helper()
	var g glueTable
	dec := json.NewDecoder(bytes.NewReader(fileNamed(t, files, ".glue-table.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		t.Fatalf("glue table input does not parse: %v", err)
	}
	return g
}

func TestGlueColumnsCoverEveryField(t *testing.T) {
	for _, s := range append(shipped(t), allTypesSchema(t)) {
		t.Run(s.Name, func(t *testing.T) {
			g := parseGlue(t, generate(t, Glue, s))
			cols := g.StorageDescriptor.Columns
			if len(cols) != len(s.Fields) {
				t.Fatalf("%d columns for %d fields", len(cols), len(s.Fields))
			}
			for i, f := range s.Fields {
				if cols[i].Name != f.Name {
					t.Errorf("column %d is %q, want %q", i, cols[i].Name, f.Name)
				}
				ht, rest, err := parseHive(cols[i].Type)
				if err != nil || rest != "" {
					t.Errorf("column %s: type %q does not parse: %v (rest %q)", f.Name, cols[i].Type, err, rest)
					continue
				}
				if err := hiveMatches(ht, f.Type); err != nil {
					t.Errorf("column %s: %s: %v", f.Name, cols[i].Type, err)
				}
			}
			if g.StorageDescriptor.SerdeInfo.SerializationLibrary != parquetSerDe || g.Parameters["classification"] != "parquet" {
				t.Errorf("not a Parquet table: %+v", g)
			}
		})
	}
}

func TestGlueTypes(t *testing.T) {
	g := parseGlue(t, generate(t, Glue, allTypesSchema(t)))
	got := map[string]string{}
	for _, c := range g.StorageDescriptor.Columns {
		got[c.Name] = c.Type
	}
	want := map[string]string{
		"s": "string", "i": "int", "l": "bigint", "f": "float", "d": "double", "b": "boolean",
		"day": "date", "ms": "timestamp", "us": "timestamp", "dec": "decimal(12,2)", "bigdec": "string",
		"e": "string", "raw": "string", "hash": "string", "tags": "array<string>",
		"items": "array<struct<sku:string,qty:int>>", "extra": "map<string,string>",
		"counts": "map<string,bigint>", "where": "struct<lat:double,when:timestamp>", "either": "string",
	}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("column %s: %q, want %q", col, got[col], w)
		}
	}
	if g.StorageDescriptor.Location != "" {
		t.Errorf("Location %q without Options.Location", g.StorageDescriptor.Location)
	}
	files, err := Generate(Glue, allTypesSchema(t), Options{Table: "Things", Location: "s3://b/p/"})
	if err != nil {
		t.Fatal(err)
	}
	if g := parseGlue(t, files); g.Name != "things" || g.StorageDescriptor.Location != "s3://b/p/" {
		t.Errorf("name %q location %q", g.Name, g.StorageDescriptor.Location)
	}
}

// hive is a parsed Hive type.
type hive struct {
	name   string // string, int, array, map, struct, decimal(p,s) ...
	args   []hive
	fields []string // struct member names
}

// parseHive parses a Hive type string as Firehose reads it from Glue.
func parseHive(s string) (hive, string, error) {
	i := strings.IndexAny(s, "<,>:")
	if i < 0 {
		i = len(s)
	}
	name := s[:i]
	if strings.HasPrefix(name, "decimal(") {
		j := strings.Index(s, ")")
		if j < 0 {
			return hive{}, s, fmt.Errorf("unclosed decimal")
		}
		return hive{name: s[:j+1]}, s[j+1:], nil
	}
	rest := s[i:]
	h := hive{name: name}
	switch name {
	case "array", "map", "struct":
		if !strings.HasPrefix(rest, "<") {
			return h, rest, fmt.Errorf("%s without <", name)
		}
		rest = rest[1:]
		for {
			if name == "struct" {
				k := strings.Index(rest, ":")
				if k <= 0 {
					return h, rest, fmt.Errorf("struct member without name")
				}
				h.fields = append(h.fields, rest[:k])
				rest = rest[k+1:]
			}
			arg, r, err := parseHive(rest)
			if err != nil {
				return h, r, err
			}
			h.args = append(h.args, arg)
			rest = r
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
				continue
			}
			if !strings.HasPrefix(rest, ">") {
				return h, rest, fmt.Errorf("%s not closed", name)
			}
			rest = rest[1:]
			break
		}
		if (name == "array" && len(h.args) != 1) || (name == "map" && (len(h.args) != 2 || h.args[0].name != "string")) {
			return h, rest, fmt.Errorf("bad %s arguments", name)
		}
	case "":
		return h, rest, fmt.Errorf("empty type")
	}
	return h, rest, nil
}

// hiveMatches checks that a Hive type has the Avro type's shape: structs
// name every record field, arrays and maps nest the right things.
func hiveMatches(h hive, t *schema.Type) error {
	t, _ = t.NonNull()
	switch {
	case t.Kind == schema.Record:
		if h.name != "struct" || len(h.fields) != len(t.Fields) {
			return fmt.Errorf("record %s is %s with %d members", t.Name, h.name, len(h.fields))
		}
		for i, f := range t.Fields {
			if h.fields[i] != f.Name {
				return fmt.Errorf("struct member %d is %s, want %s", i, h.fields[i], f.Name)
			}
			if err := hiveMatches(h.args[i], f.Type); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	case t.Kind == schema.Array:
		if h.name != "array" {
			return fmt.Errorf("array is %s", h.name)
		}
		return hiveMatches(h.args[0], t.Items)
	case t.Kind == schema.Map:
		if h.name != "map" {
			return fmt.Errorf("map is %s", h.name)
		}
		return hiveMatches(h.args[1], t.Values)
	case h.name == "array" || h.name == "map" || h.name == "struct":
		return fmt.Errorf("%s is %s", t, h.name)
	}
	return nil
}

// sample makes a native value of t, as decoded from JSON, for documents
// that exercise every column; variant picks null for nullable fields on odd
// calls.
func sample(t *schema.Type, variant int) any {
	if t.Kind == schema.Union {
		if variant%2 == 1 && t.Nullable() {
			return nil
		}
		inner, _ := t.NonNull()
		if inner.Kind == schema.Union {
			for _, b := range inner.Branches {
				if b.Kind != schema.Null {
					return sample(b, variant)
				}
			}
		}
		return sample(inner, variant)
	}
	switch t.Logical {
	case schema.Date:
		return "2024-02-29"
	case schema.TimestampMillis, schema.TimestampMicros:
		return time.Date(2024, 3, 1, 12, 30, 15, 123456000, time.UTC).Format(time.RFC3339Nano)
	case schema.Decimal:
		return "-1234"
	}
	switch t.Kind {
	case schema.Boolean:
		return true
	case schema.Int, schema.Long:
		return json.Number("42")
	case schema.Float, schema.Double:
		return json.Number("2.5")
	case schema.String:
		return "it's \"quoted\""
	case schema.Bytes:
		return "\x00\xff"
	case schema.Fixed:
		return strings.Repeat("x", t.Size)
	case schema.Enum:
		return t.Symbols[len(t.Symbols)-1]
	case schema.Array:
		return []any{sample(t.Items, variant), sample(t.Items, variant+1)}
	case schema.Map:
		return map[string]any{"k": sample(t.Values, variant)}
	case schema.Record:
		m := map[string]any{}
		for _, f := range t.Fields {
			m[f.Name] = sample(f.Type, variant)
		}
		return m
	}
	return nil
}

// document writes a sluice JSON document of s, as the transform delivers it.
func document(t *testing.T, s *schema.Schema, variant int) map[string]any {
	t.Helper()
	v, err := schema.FromNative(s.Type, sample(s.Type, variant))
	if err != nil {
		t.Fatalf("sample of %s: %v", s.Name, err)
	}
	doc := schema.AppendJSON(nil, s.Type, &v)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("document %s does not parse: %v", doc, err)
	}
	return m
}

var (
	isoTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`) // OpenX's yyyy-MM-dd'T'HH:mm:ss[.S]'Z'
	isoDate      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	decimalText  = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	varcharWidth = regexp.MustCompile(`^VARCHAR\((\d+)\)`)
)

// TestDocumentsLoad checks each column against the value the transform
// writes for it: what COPY, OpenSearch and the OpenX SerDe receive.
func TestDocumentsLoad(t *testing.T) {
	for _, s := range append(shipped(t), allTypesSchema(t)) {
		for variant := range 2 {
			t.Run(fmt.Sprintf("%s/%d", s.Name, variant), func(t *testing.T) {
				doc := document(t, s, variant)
				checkRedshiftLoads(t, s, doc)
				checkOpenSearchLoads(t, s, doc)
				checkGlueLoads(t, s, doc)
			})
		}
	}
}

func checkRedshiftLoads(t *testing.T, s *schema.Schema, doc map[string]any) {
	files := generate(t, Redshift, s)
	_, types := sqlColumns(t, fileNamed(t, files, ".sql"))
	paths := jsonPaths(t, fileNamed(t, files, ".jsonpaths.json"))
	for i, p := range paths {
		key := strings.TrimSuffix(strings.TrimPrefix(p, "$['"), "']")
		v, ok := doc[key]
		if !ok {
			t.Errorf("jsonpath %s finds nothing in the document", p)
			continue
		}
		typ := types[i]
		if v == nil {
			if strings.HasSuffix(typ, "NOT NULL") {
				t.Errorf("%s: null into %s", key, typ)
			}
			continue
		}
		str, isStr := v.(string)
		switch base := strings.TrimSuffix(typ, " NOT NULL"); {
		case base == "TIMESTAMP":
			if !isStr || !isoTimestamp.MatchString(str) {
				t.Errorf("%s: %v into TIMESTAMP is not ISO 8601 UTC", key, v)
			}
		case base == "DATE":
			if !isStr || !isoDate.MatchString(str) {
				t.Errorf("%s: %v into DATE is not YYYY-MM-DD", key, v)
			}
		case strings.HasPrefix(base, "DECIMAL("):
			var p, sc int
			fmt.Sscanf(base, "DECIMAL(%d,%d)", &p, &sc)
			if !isStr || !decimalText.MatchString(str) || (sc > 0 && len(str)-strings.Index(str, ".")-1 != sc) {
				t.Errorf("%s: %v into %s is not a decimal with %d places", key, v, base, sc)
			}
		case strings.HasPrefix(base, "VARCHAR"):
			var width int
			fmt.Sscan(varcharWidth.FindStringSubmatch(base)[1], &width)
			if !isStr || len(str) > width {
				t.Errorf("%s: %v does not fit %s", key, v, base)
			}
		case base == "BOOLEAN":
			if _, ok := v.(bool); !ok {
				t.Errorf("%s: %v into BOOLEAN", key, v)
			}
		case base == "INTEGER" || base == "BIGINT" || base == "REAL" || base == "DOUBLE PRECISION":
			if _, ok := v.(json.Number); !ok {
				t.Errorf("%s: %v into %s", key, v, base)
			}
		case base == "SUPER":
		default:
			t.Errorf("%s: unexpected column type %s", key, base)
		}
	}
}

func checkOpenSearchLoads(t *testing.T, s *schema.Schema, doc map[string]any) {
	props := parseTemplate(t, generate(t, OpenSearch, s)).Template.Mappings.Properties
	checkOSObject(t, "", props, doc)
}

func checkOSObject(t *testing.T, where string, props map[string]osField, doc map[string]any) {
	for k, v := range doc {
		p, ok := props[k]
		if !ok {
			t.Errorf("%s%s: key not in the strict mapping", where, k)
			continue
		}
		checkOSValue(t, where+k, p, v)
	}
}

func checkOSValue(t *testing.T, where string, p osField, v any) {
	if v == nil {
		return
	}
	if list, ok := v.([]any); ok {
		for _, item := range list {
			checkOSValue(t, where+"[]", p, item)
		}
		return
	}
	str, isStr := v.(string)
	switch p.Type {
	case "date":
		re := isoTimestamp
		if p.Format == "strict_date" {
			re = isoDate
		}
		if !isStr || !re.MatchString(str) {
			t.Errorf("%s: %v does not match %s", where, v, p.Format)
		}
	case "object", "nested":
		m, ok := v.(map[string]any)
		if p.Enabled != nil && !*p.Enabled {
			return
		}
		if !ok {
			t.Errorf("%s: %v into %s", where, v, p.Type)
			return
		}
		checkOSObject(t, where+".", p.Properties, m)
	case "flat_object":
		if _, ok := v.(map[string]any); !ok {
			t.Errorf("%s: %v into flat_object", where, v)
		}
	case "scaled_float", "integer", "long", "float", "double":
		if _, ok := v.(json.Number); !ok && !(isStr && decimalText.MatchString(str)) {
			t.Errorf("%s: %v into %s", where, v, p.Type)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: %v into boolean", where, v)
		}
	case "keyword", "binary":
		if _, isMap := v.(map[string]any); isMap {
			t.Errorf("%s: object into %s", where, p.Type)
		}
	default:
		t.Errorf("%s: unexpected mapping type %s", where, p.Type)
	}
}

func TestCaseCollisionsAreRejected(t *testing.T) {
	s, err := schema.Parse("c", 1, []byte(`{"type":"record","name":"c","fields":[{"name":"id","type":"string"},{"name":"ID","type":"string"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range Targets {
		_, err := Generate(target, s, Options{})
		if err == nil || !strings.Contains(err.Error(), `"id" and "ID"`) {
			t.Errorf("%s: error %v, want the colliding fields named", target, err)
		}
	}
	if _, err := ParseTarget("bigquery"); err == nil {
		t.Error("unknown target accepted")
	}
}

func TestTruncateKeepsRunesWhole(t *testing.T) {
	if got := truncate("aé", 2); got != "a" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 5); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}

func BenchmarkGenerate(b *testing.B) {
	s := allTypesSchema(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, target := range Targets {
			if _, err := Generate(target, s, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(Targets))/b.Elapsed().Seconds(), "definitions/s")
}
