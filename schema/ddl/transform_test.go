package ddl

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/schema"
)

// TestTransformDocumentsLoad checks every document the transform's golden
// cases deliver (testdata/transform/<schema>/<case>/expected.json) against
// the definitions generated for its schema: the documents real input turns
// into are the ones the destinations must accept.
func TestTransformDocumentsLoad(t *testing.T) {
	reg, err := schema.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := filepath.Glob("../../testdata/transform/*/*/expected.json")
	if len(cases) == 0 {
		t.Fatal("no transform golden cases under testdata/transform")
	}
	checked := 0
	for _, path := range cases {
		name := filepath.Base(filepath.Dir(filepath.Dir(path)))
		s, ok := reg.Latest(name)
		if !ok {
			t.Errorf("%s: no schema %q", path, name)
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var results []struct {
			Result    string           `json:"result"`
			Documents []map[string]any `json:"documents"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&results); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range results {
			for _, doc := range r.Documents {
				t.Run(strings.TrimPrefix(filepath.Dir(path), "../../testdata/transform/"), func(t *testing.T) {
					checkRedshiftLoads(t, s, doc)
					checkOpenSearchLoads(t, s, doc)
					checkGlueLoads(t, s, doc)
				})
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("the golden cases deliver no documents")
	}
	t.Logf("%d documents from %d cases", checked, len(cases))
}

// checkGlueLoads checks each value against its Hive column as the OpenX
// JSON SerDe reads it.
func checkGlueLoads(t *testing.T, s *schema.Schema, doc map[string]any) {
	t.Helper()
	for _, c := range parseGlue(t, generate(t, Glue, s)).StorageDescriptor.Columns {
		h, _, err := parseHive(c.Type)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := doc[c.Name]
		if !ok {
			t.Errorf("column %s: no such key in the document", c.Name)
			continue
		}
		checkHiveValue(t, c.Name, h, v)
	}
}

func checkHiveValue(t *testing.T, where string, h hive, v any) {
	if v == nil {
		return
	}
	str, isStr := v.(string)
	bad := false
	switch {
	case h.name == "timestamp":
		bad = !isStr || !isoTimestamp.MatchString(str)
	case h.name == "date":
		bad = !isStr || !isoDate.MatchString(str)
	case strings.HasPrefix(h.name, "decimal("):
		bad = !isStr || !decimalText.MatchString(str)
	case h.name == "string":
		bad = !isStr
	case h.name == "boolean":
		_, ok := v.(bool)
		bad = !ok
	case h.name == "int" || h.name == "bigint" || h.name == "float" || h.name == "double":
		_, ok := v.(json.Number)
		bad = !ok
	case h.name == "array":
		list, ok := v.([]any)
		bad = !ok
		for _, item := range list {
			checkHiveValue(t, where+"[]", h.args[0], item)
		}
	case h.name == "map" || h.name == "struct":
		m, ok := v.(map[string]any)
		bad = !ok
		for k, item := range m {
			if h.name == "map" {
				checkHiveValue(t, where+"."+k, h.args[1], item)
				continue
			}
			i := indexOf(h.fields, k)
			if i < 0 {
				t.Errorf("%s.%s: not a member of the struct", where, k)
				continue
			}
			checkHiveValue(t, where+"."+k, h.args[i], item)
		}
	}
	if bad {
		t.Errorf("%s: %v does not load into %s", where, v, h.name)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
