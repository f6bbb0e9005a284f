package ddl

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/sluicehq/sluice/schema"
)

var recordName = regexp.MustCompile(`"name"\s*:\s*"(?:[A-Za-z0-9_]+\.)*([A-Za-z_][A-Za-z0-9_]*)"`)

// FuzzGenerate feeds arbitrary .avsc text through every target: whatever
// parses as a schema must give definitions that are valid JSON, one Redshift
// column and JSONPath per field, and a Glue column with a well-formed Hive
// type per field.
func FuzzGenerate(f *testing.F) {
	for _, s := range shipped(f) {
		f.Add(s.Source)
	}
	f.Add([]byte(allTypes))
	f.Add([]byte(`{"type":"record","name":"r","fields":[{"name":"u","type":["null","int","string",{"type":"array","items":"null"}]}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		m := recordName.FindSubmatch(src)
		if m == nil {
			return
		}
		s, err := schema.Parse(string(m[1]), 1, src)
		if err != nil {
			return
		}
		for _, target := range Targets {
			files, err := Generate(target, s, Options{})
			if err != nil {
				// The errors a parsed schema may legitimately get.
				if len(s.Fields) == 0 || checkColumnNames(s) != nil || (target == OpenSearch && s.Name[0] == '_') {
					continue
				}
				t.Fatalf("%s: %v", target, err)
			}
			for _, file := range files {
				if file.Name[len(file.Name)-5:] == ".json" && !json.Valid(file.Data) {
					t.Fatalf("%s: %s is not valid JSON:\n%s", target, file.Name, file.Data)
				}
			}
			switch target {
			case Redshift:
				names, _ := sqlColumns(t, files[0].Data)
				if paths := jsonPaths(t, files[1].Data); len(paths) != len(s.Fields) || len(names) != len(s.Fields) {
					t.Fatalf("%d fields, %d columns, %d jsonpaths", len(s.Fields), len(names), len(paths))
				}
			case OpenSearch:
				coversRecord(t, s.Name, s.Fields, parseTemplate(t, files).Template.Mappings.Properties)
			case Glue:
				cols := parseGlue(t, files).StorageDescriptor.Columns
				if len(cols) != len(s.Fields) {
					t.Fatalf("%d columns for %d fields", len(cols), len(s.Fields))
				}
				for i, c := range cols {
					h, rest, err := parseHive(c.Type)
					if err != nil || rest != "" {
						t.Fatalf("column %s: %q does not parse: %v", c.Name, c.Type, err)
					}
					if err := hiveMatches(h, s.Fields[i].Type); err != nil {
						t.Fatalf("column %s: %v", c.Name, err)
					}
				}
			}
		}
	})
}
