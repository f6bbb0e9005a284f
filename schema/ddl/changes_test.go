package ddl

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/schema"
)

func TestChanges(t *testing.T) {
	older := `{"type":"record","name":"x","fields":[
	 {"name":"a","type":"string"},
	 {"name":"b","type":"int"},
	 {"name":"gone","type":"string"},
	 {"name":"old_name","type":"string"},
	 {"name":"e","type":{"type":"enum","name":"e","symbols":["A","B"]}},
	 {"name":"p","type":{"type":"record","name":"p","fields":[{"name":"line","type":"long"}]}},
	 {"name":"n","type":["null","string"],"default":null}]}`
	newer := `{"type":"record","name":"x","fields":[
	 {"name":"a","type":"string"},
	 {"name":"b","type":"long"},
	 {"name":"new_name","type":"string","aliases":["old_name"]},
	 {"name":"e","type":{"type":"enum","name":"e","symbols":["A","C"]}},
	 {"name":"p","type":{"type":"record","name":"p","fields":[{"name":"line","type":"long"},{"name":"col","type":["null","long"],"default":null}]}},
	 {"name":"n","type":"string","default":""},
	 {"name":"req","type":"string"}]}`
	o, err := schema.Parse("x", 1, []byte(older))
	if err != nil {
		t.Fatal(err)
	}
	n, err := schema.Parse("x", 2, []byte(newer))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Changes(o, n) {
		got = append(got, c.String())
	}
	want := []string{
		"b: changed, int to long",
		"new_name: renamed, from old_name",
		"e: changed, enum symbols removed: [B]: BREAKING: records written with the older version may hold a removed symbol; keep it, or give the enum a default symbol",
		"e: changed, enum symbols added: [C]",
		"p.col: added, union[null,long] with a default",
		"n: changed, no longer nullable: BREAKING: records written with the older version may hold null here; keep \"null\" in the union",
		"req: added, string with no default: BREAKING: records written with the older version have no value for it; give it a default (null, with \"null\" first in a union)",
		"gone: removed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%q\nwant\n%q", got, want)
	}
	if c := Changes(o, o); len(c) != 0 {
		t.Errorf("a schema differs from itself: %v", c)
	}
}
