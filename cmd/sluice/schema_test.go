package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sluice(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = realMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const exampleConfig = "../../sluice.yaml"

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	thingV1 = `{"type":"record","name":"thing","fields":[{"name":"id","type":"string"}]}`
	// v2 adds a field with no default: v2 cannot read v1 data.
	thingV2 = `{"type":"record","name":"thing","fields":[{"name":"id","type":"string"},{"name":"size","type":"int"}]}`
)

func TestSchemaHelpDescribesEveryFlag(t *testing.T) {
	code, out, _ := sluice(t, "schema", "-h")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"check", "compat", "ddl", "-config", "-dir", "-target", "-table", "-version", "-out", "-jsonpaths", "-location", "redshift", "opensearch", "glue"} {
		if !strings.Contains(out, w) {
			t.Errorf("sluice schema -h does not mention %s", w)
		}
	}
	if code, out, _ := sluice(t, "help", "schema"); code != exitOK || !strings.Contains(out, "-target") {
		t.Errorf("sluice help schema: exit %d\n%s", code, out)
	}
	if code, out, _ := sluice(t, "help"); code != exitOK || !strings.Contains(out, "schema") {
		t.Errorf("sluice help does not list schema (exit %d)", code)
	}
	for _, sub := range []string{"check", "compat", "ddl"} {
		code, _, errOut := sluice(t, "schema", sub, "-h")
		if code != exitOK || !strings.Contains(errOut, "-dir") || !strings.Contains(errOut, "-config") {
			t.Errorf("schema %s -h: exit %d\n%s", sub, code, errOut)
		}
	}
	if code, _, _ := sluice(t, "schema"); code != exitUsage {
		t.Errorf("bare sluice schema: exit %d, want %d", code, exitUsage)
	}
	if code, _, errOut := sluice(t, "schema", "lint"); code != exitUsage || !strings.Contains(errOut, `unknown subcommand "lint"`) {
		t.Errorf("unknown subcommand: exit %d %s", code, errOut)
	}
}

func TestSchemaCheck(t *testing.T) {
	t.Run("shipped example", func(t *testing.T) {
		code, out, errOut := sluice(t, "schema", "check", "-config", exampleConfig)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, w := range []string{"4 schemas, 5 versions", "beacon_5m v1", "listing v1..v2", "sluice.yaml is valid", "OK"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("incompatible versions", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"thing.v1.avsc": thingV1, "thing.v2.avsc": thingV2})
		code, _, errOut := sluice(t, "schema", "check", "-config", "", "-dir", dir)
		if code != exitUsage || !strings.Contains(errOut, "thing v2 cannot read thing v1 data") || !strings.Contains(errOut, "size") || !strings.Contains(errOut, dir) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("bad schema file", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"thing.v1.avsc": `{"type":"record","name":"thing","fields":[{"name":"id","type":"strnig"}]}`})
		code, _, errOut := sluice(t, "schema", "check", "-config", "", "-dir", dir)
		if code != exitUsage || !strings.Contains(errOut, "thing.v1.avsc") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("config names a missing schema", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"sluice.yaml": "streams:\n  things:\n    schema: thingz\n", "thing.v1.avsc": thingV1})
		code, _, errOut := sluice(t, "schema", "check", "-config", filepath.Join(dir, "sluice.yaml"), "-dir", dir)
		if code != exitUsage || !strings.Contains(errOut, `sluice.yaml:3:5: streams.things.schema: unknown schema "thingz"`) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("route to a missing stream", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"sluice.yaml": "streams:\n  things:\n    schema: thing\nroutes:\n  - key: \"a/**\"\n    format: csv\n    schema: thing\n    stream: thingz\n", "thing.v1.avsc": thingV1})
		code, _, errOut := sluice(t, "schema", "check", "-config", filepath.Join(dir, "sluice.yaml"), "-dir", dir)
		if code != exitUsage || !strings.Contains(errOut, `sluice.yaml:8:5: routes[0].stream: unknown stream "thingz" (streams: things)`) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		code, _, errOut = sluice(t, "run", "-config", filepath.Join(dir, "sluice.yaml"), "-out", t.TempDir(), dir)
		if code != exitUsage || !strings.Contains(errOut, `routes[0].stream: unknown stream "thingz"`) {
			t.Errorf("run: exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("avsc syntax error", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"thing.v1.avsc": "{\"type\":\"record\",\"name\":\"thing\",\n \"fields\":[\n  {\"name\":\"id\",\"type\":\"string\" \"default\": \"\"}]}\n"})
		code, _, errOut := sluice(t, "schema", "check", "-config", "", "-dir", dir)
		want := filepath.Join(dir, "thing.v1.avsc") + ":3:32: JSON syntax: invalid character"
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want %q in stderr:\n%s", code, want, errOut)
		}
	})
	t.Run("avsc syntax error in compat", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"a.avsc": "{\"type\": \"record\",\n  \"name\": thing}\n", "b.avsc": thingV1})
		code, _, errOut := sluice(t, "schema", "compat", filepath.Join(dir, "a.avsc"), filepath.Join(dir, "b.avsc"))
		want := filepath.Join(dir, "a.avsc") + ":2:12: JSON syntax: invalid character 'h' in literal true"
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want %q in stderr:\n%s", code, want, errOut)
		}
	})
	t.Run("bad default", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"thing.v1.avsc": `{"type":"record","name":"thing","fields":[{"name":"size","type":["int","null"],"default":null}]}`})
		code, _, errOut := sluice(t, "schema", "check", "-config", "", "-dir", dir)
		want := `field size: default null is not a value of its type ["int","null"] (a union's default must be a value of its first type, "int"`
		if code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want %q in stderr:\n%s", code, want, errOut)
		}
	})
	t.Run("config schemas.dir is used", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"sluice.yaml": "schemas:\n  dir: .\nstreams:\n  things:\n    schema: thing\n", "thing.v1.avsc": thingV1})
		code, out, errOut := sluice(t, "schema", "check", "-config", filepath.Join(dir, "sluice.yaml"))
		if code != exitOK || !strings.Contains(out, "thing v1") {
			t.Errorf("exit %d: %s%s", code, out, errOut)
		}
	})
	t.Run("missing config", func(t *testing.T) {
		code, _, errOut := sluice(t, "schema", "check", "-config", filepath.Join(t.TempDir(), "nope.yaml"))
		if code != exitUsage || !strings.Contains(errOut, "nope.yaml") || !strings.Contains(errOut, `-config ""`) {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
}

func TestSchemaCompat(t *testing.T) {
	dir := writeFiles(t, map[string]string{"thing.v1.avsc": thingV1, "thing.v2.avsc": thingV2})
	code, out, _ := sluice(t, "schema", "compat", "-dir", dir, "thing")
	if code != exitDeadLetter {
		t.Errorf("incompatible pair: exit %d, want 1", code)
	}
	for _, w := range []string{"thing v1 -> v2: INCOMPATIBLE: 1 breaking change", "size: added, int with no default: BREAKING: records written with the older version have no value for it"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Files, in the reverse order: v1 readers ignore v2's new field.
	code, out, errOut := sluice(t, "schema", "compat", filepath.Join(dir, "thing.v2.avsc"), filepath.Join(dir, "thing.v1.avsc"))
	if code != exitOK || !strings.Contains(out, ": compatible") || !strings.Contains(out, "size: removed") {
		t.Errorf("files: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = sluice(t, "schema", "compat", "-config", exampleConfig, "listing", "1", "v2")
	if code != exitOK || !strings.Contains(out, "listing v1 -> v2: compatible") || !strings.Contains(out, "latitude: added") {
		t.Errorf("versions: exit %d\n%s", code, out)
	}
	code, out, _ = sluice(t, "schema", "compat")
	if code != exitOK || !strings.Contains(out, "listing v1 -> v2: compatible") {
		t.Errorf("every schema: exit %d\n%s", code, out)
	}
	single := writeFiles(t, map[string]string{"thing.v1.avsc": thingV1})
	if code, out, _ := sluice(t, "schema", "compat", "-dir", single); code != exitOK || !strings.Contains(out, "nothing to compare") {
		t.Errorf("single versions: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"nope"}, {"listing", "1"}, {"listing", "1", "9"}, {"listing", "one", "2"}} {
		if code, _, errOut := sluice(t, append([]string{"schema", "compat"}, args...)...); code != exitUsage || errOut == "" {
			t.Errorf("compat %q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func golden(t *testing.T, schemaName, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/ddl", schemaName, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchemaDDL(t *testing.T) {
	// Flags after the name work too.
	code, out, errOut := sluice(t, "schema", "ddl", "webhook_event", "-target", "glue")
	if code != exitOK || out != golden(t, "webhook_event", "webhook_event.glue-table.json") {
		t.Errorf("glue: exit %d %s\n%s", code, errOut, out)
	}
	code, out, _ = sluice(t, "schema", "ddl", "-target", "redshift", "listing")
	sql := golden(t, "listing", "listing.sql")
	if code != exitOK || !strings.HasPrefix(out, sql) || !strings.Contains(out[len(sql):], `-- listing.jsonpaths.json`) || !strings.Contains(out, `--     "$['shop_name']",`) {
		t.Errorf("redshift to stdout: exit %d\n%s", code, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out[len(sql):]), "\n") {
		if !strings.HasPrefix(line, "--") {
			t.Errorf("stdout is not one SQL script: %q", line)
		}
	}

	dir := filepath.Join(t.TempDir(), "out")
	code, out, _ = sluice(t, "schema", "ddl", "-target", "redshift", "-out", dir, "page_view")
	if code != exitOK || !strings.Contains(out, "wrote "+filepath.Join(dir, "page_view.sql")) {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, f := range []string{"page_view.sql", "page_view.jsonpaths.json"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(got) != golden(t, "page_view", f) {
			t.Errorf("%s differs from golden (%v)", f, err)
		}
	}

	code, out, _ = sluice(t, "schema", "ddl", "-target", "opensearch", "-version", "1", "-table", "shops", "listing")
	if code != exitOK || strings.Contains(out, "latitude") || !strings.Contains(out, `"shops-*"`) || !strings.Contains(out, `"sluice_version": 1`) {
		t.Errorf("opensearch v1: exit %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"listing"}, "-target is required"},
		{[]string{"-target", "bigquery", "listing"}, `unknown target "bigquery"`},
		{[]string{"-target", "glue"}, "want one schema NAME"},
		{[]string{"-target", "glue", "nope"}, `no schema "nope"`},
		{[]string{"-target", "glue", "-version", "7", "listing"}, "listing has no v7 (have v1, v2)"},
		{[]string{"-target", "opensearch", "-table", "_shops", "listing"}, `index "_shops"`},
		{[]string{"-target", "glue", "-config", "/nonexistent/sluice.yaml", "listing"}, "/nonexistent/sluice.yaml"},
		{[]string{"-target", "glue", "-frob", "listing"}, "flag provided but not defined: -frob"},
	} {
		code, _, errOut := sluice(t, append([]string{"schema", "ddl"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("ddl %q: exit %d, stderr %q, want it to contain %q", tc.args, code, errOut, tc.want)
		}
	}
}

// Nothing is discarded silently: a malformed extra is refused, a missing
// one is a warning that sluice run repeats with the columns it lost, and
// sluice run refuses what schema check refuses.
func TestNoSilentDiscard(t *testing.T) {
	const intExtra = `{"type":"record","name":"thing","fields":[{"name":"id","type":"string"},{"name":"extra","type":{"type":"map","values":"int"},"default":{}}]}`
	config := "schemas:\n  dir: .\nstreams:\n  things:\n    schema: thing\nroutes:\n  - key: \"**\"\n    format: csv\n    schema: thing\n    stream: things\n"
	t.Run("extra of ints", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"sluice.yaml": config, "thing.v1.avsc": intExtra})
		cfg := filepath.Join(dir, "sluice.yaml")
		code, _, errOut := sluice(t, "schema", "check", "-config", cfg)
		if code != exitUsage || !strings.Contains(errOut, "field extra is map<int>; it must be a map of strings") {
			t.Errorf("schema check: exit %d, stderr:\n%s", code, errOut)
		}
		code, _, errOut = sluice(t, "run", "-config", cfg, "-out", t.TempDir(), dir)
		if code != exitUsage || !strings.Contains(errOut, "map of strings") {
			t.Errorf("run: exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("no extra", func(t *testing.T) {
		in := t.TempDir()
		if err := os.WriteFile(filepath.Join(in, "things.csv"), []byte("id,colour,size\na,red,1\nb,blue,\nc,,3\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := writeFiles(t, map[string]string{"sluice.yaml": config, "thing.v1.avsc": thingV1})
		cfg := filepath.Join(dir, "sluice.yaml")
		code, out, errOut := sluice(t, "schema", "check", "-config", cfg)
		if code != exitOK || !strings.Contains(out, `warning: thing v1 has no "extra" map<string> field`) {
			t.Errorf("schema check: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = sluice(t, "run", "-config", cfg, "-out", t.TempDir(), "-progress", "never", in)
		if code != exitOK || !strings.Contains(errOut, `warning: thing v1 has no "extra"`) {
			t.Errorf("run: exit %d, stderr:\n%s", code, errOut)
		}
		// An empty CSV cell is a value too (only JSON null carries nothing).
		if want := `discarded      columns of thing, which has no extra map: "colour" (3), "size" (3)`; !strings.Contains(out, want) {
			t.Errorf("run summary lacks %q:\n%s", want, out)
		}
	})
	t.Run("incompatible new version", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"sluice.yaml": config, "thing.v1.avsc": thingV1, "thing.v2.avsc": thingV2})
		code, _, errOut := sluice(t, "run", "-config", filepath.Join(dir, "sluice.yaml"), "-out", t.TempDir(), t.TempDir())
		if code != exitUsage || !strings.Contains(errOut, "thing v2 cannot read thing v1 data") {
			t.Errorf("run: exit %d, stderr:\n%s", code, errOut)
		}
	})
}

// The shipped example's rule-2 values (the on-hold enum symbol, a listing
// date given with a time, three ALB times with microseconds) are counted.
func TestRunCountsKeptValues(t *testing.T) {
	code, out, errOut := sluice(t, "run", "-config", exampleConfig, "-out", t.TempDir(), "-progress", "never", "../../examples/input")
	if code != exitOK || !strings.Contains(out, "kept           5 values delivered with their original text in extra") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
