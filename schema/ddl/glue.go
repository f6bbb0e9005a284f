package ddl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/schema"
)

// Parquet input, output and SerDe classes, as Firehose and Athena expect
// them for a Parquet table.
const (
	parquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	parquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	parquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// hiveMaxPrecision is the largest Hive decimal precision.
const hiveMaxPrecision = 38

// glueCommentMax is the longest column comment Glue accepts.
const glueCommentMax = 255

var glueName = regexp.MustCompile(`^[a-z0-9_]+$`)

func glue(s *schema.Schema, opts Options) ([]File, error) {
	name := strings.ToLower(opts.Table)
	if !glueName.MatchString(name) || len(name) > 255 {
		return nil, fmt.Errorf("ddl: table %q: Glue table names are letters, digits and _", opts.Table)
	}
	cols := make([]any, 0, len(s.Fields))
	for _, f := range s.Fields {
		c := object{{"Name", strings.ToLower(f.Name)}, {"Type", hiveType(f.Type)}}
		if f.Doc != "" {
			c.set("Comment", truncate(f.Doc, glueCommentMax))
		}
		cols = append(cols, c)
	}
	sd := object{{"Columns", cols}}
	if opts.Location != "" {
		sd.set("Location", opts.Location)
	}
	sd.set("InputFormat", parquetInputFormat)
	sd.set("OutputFormat", parquetOutputFormat)
	sd.set("SerdeInfo", object{
		{"SerializationLibrary", parquetSerDe},
		{"Parameters", object{{"serialization.format", "1"}}},
	})
	table := object{{"Name", name}}
	if s.Doc != "" {
		table.set("Description", s.Doc)
	}
	table.set("TableType", "EXTERNAL_TABLE")
	table.set("Parameters", object{
		{"EXTERNAL", "TRUE"},
		{"classification", "parquet"},
		{"sluice.schema", s.Name},
		{"sluice.version", strconv.Itoa(s.Version)},
	})
	table.set("StorageDescriptor", sd)
	data, err := marshal(table)
	if err != nil {
		return nil, err
	}
	return []File{{Name: name + ".glue-table.json", Data: data}}, nil
}

// hiveType maps an Avro type to the Hive type Firehose's OpenX JSON SerDe
// reads the value schema.AppendJSON writes for it into.
func hiveType(t *schema.Type) string {
	t, _ = t.NonNull()
	switch t.Logical {
	case schema.Date:
		return "date"
	case schema.TimestampMillis, schema.TimestampMicros:
		// yyyy-MM-dd'T'HH:mm:ss.SSS[SSS]'Z', which the OpenX JSON SerDe
		// parses (up to nine fraction digits).
		return "timestamp"
	case schema.Decimal:
		if t.Precision > hiveMaxPrecision {
			return "string"
		}
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	}
	switch t.Kind {
	case schema.Boolean:
		return "boolean"
	case schema.Int:
		return "int"
	case schema.Long:
		return "bigint"
	case schema.Float:
		return "float"
	case schema.Double:
		return "double"
	case schema.Array:
		return "array<" + hiveType(t.Items) + ">"
	case schema.Map:
		return "map<string," + hiveType(t.Values) + ">"
	case schema.Record:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = strings.ToLower(f.Name) + ":" + hiveType(f.Type)
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	// Strings, enum symbols, base64 bytes and fixed, and unions of several
	// types, whose values have no single Hive type.
	return "string"
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
