package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/report"
)

// messyFiles are a new user's scraped samples: different headers for the
// same columns, delimiters, currencies, date layouts, a Latin-1 file, a
// gzipped file and JSON lines.
func messyFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	latin1 := func(s string) string {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r)) // every rune here is below U+0100
		}
		return string(b)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("Shop Name,Price,Opening Hours,Zip\nMill Lane Deli,£4.20,9-17,01234\nOld Forge,£15,,02110\n"))
	zw.Close()
	files := map[string]string{
		"uk/shops.csv": "Shop Name,Price,Listed,Rating,In Stock\n" +
			"Corner Books,\"£1,299.00\",01/05/2024,4.5,yes\n" +
			"Blue Bicycle,£845,28/04/2024,N/A,no\n" +
			"The Tea Room,£12.50,30/04/2024,4.8,Y\n",
		"eu/shops.csv": "shop_name;price;date listed;stars;Catégorie\n" +
			"Bäckerei Süß;1.234,50 €;2024-05-02;4,7;Brot\n" +
			"Librairie du Coin;18,90 €;2024-05-01T09:30:00+02:00;;Livres\n",
		"us/shops.tsv": "SHOP-NAME\tPRICE\tlisted on\tphone\n" +
			"Main St Hardware\t$1,299.00\tMay 2, 2024\t+1 555 0100\n" +
			"Deli 24\t$7\t2024-05-03\t\n",
		"fr/magasins.csv":    latin1("Shop Name;Ville;Price\nCafé Müller;Zürich;3,50 EUR\nCrêperie Ôté;Besançon;12 EUR\n"),
		"archive/old.csv.gz": gz.String(),
		"api/shops.jsonl": `{"shop_name": "Kiosk", "price": 3.5, "open": true, "tags": ["a", "b"], "meta": {"x": 1}, "rating": null}` + "\n" +
			`{"ShopName": "Stall 9", "price": "2.00", "open": "false", "visits": 12}` + "\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// inferAndRun infers a schema from samples, writes the config it prints
// into dir and runs the pipeline on the samples with it.
func inferAndRun(t *testing.T, samples string, inferArgs ...string) (runOut string, out string) {
	t.Helper()
	work := t.TempDir()
	schemas := filepath.Join(work, "schemas")
	args := append([]string{"schema", "infer", "-config", "", "-out", schemas}, inferArgs...)
	code, stdout, stderr := sluice(t, append(args, samples)...)
	if code != exitOK {
		t.Fatalf("infer: exit %d\n%s%s", code, stdout, stderr)
	}
	_, yaml, ok := strings.Cut(stdout, "):\n\n")
	if !ok {
		t.Fatalf("infer printed no route:\n%s", stdout)
	}
	yaml, _, _ = strings.Cut(yaml, "\nThen:")
	cfg := filepath.Join(work, "sluice.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(work, "out")
	code, runOut, stderr = sluice(t, "run", "-config", cfg, "-progress", "never", "-out", out, samples)
	if code != exitOK {
		t.Fatalf("run with the inferred schema: exit %d\nschema:\n%s\nconfig:\n%s\n%s%s", code, stdout, yaml, runOut, stderr)
	}
	return runOut, out
}

// delivered reads every delivered document below out.
func delivered(t *testing.T, out string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(path, "failed") || strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".json") {
			return err
		}
		f, _ := os.Open(path)
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var d map[string]any
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			docs = append(docs, d)
		}
		return nil
	})
	return docs
}

func TestInferredSchemaDeliversEveryMessySample(t *testing.T) {
	samples := messyFiles(t)
	summary, out := inferAndRun(t, samples)
	if !strings.Contains(summary, "records in     13\n  ok           13\n") {
		t.Fatalf("not every record delivered:\n%s", summary)
	}
	docs := delivered(t, out)
	if len(docs) != 13 {
		t.Fatalf("%d documents delivered, want 13", len(docs))
	}
	// No column lost: every input column matched a field (the accented
	// header too, by its folded name); extra holds only the flags of the
	// transcoded Latin-1 file.
	for _, d := range docs {
		for k := range d["extra"].(map[string]any) {
			if k != "_flags" {
				t.Errorf("column %q went to extra in %v", k, d)
			}
		}
	}
	// The run's report agrees: every column of every object went to a
	// field of its own, and no field failed.
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	columns := 0
	for _, s := range rep.Schemas {
		for _, o := range s.Objects {
			for _, c := range o.Columns {
				columns++
				if c.Match == report.MatchExtra || c.Match == report.MatchDiscarded {
					t.Errorf("%s: column %q went to %s", o.Object, c.Column, c.Match)
				}
			}
		}
		for _, f := range s.Fields {
			if f.Failed > 0 {
				t.Errorf("field %s failed %d times", f.Field, f.Failed)
			}
		}
	}
	if columns < 25 {
		t.Errorf("the report lists %d columns over the six files", columns)
	}
	byShop := map[string]map[string]any{}
	for _, d := range docs {
		for k, v := range d {
			if normalize.Canonical(k) == "shopname" {
				byShop[v.(string)] = d
			}
		}
	}
	checks := []struct {
		shop, field string
		want        any
	}{
		{"Corner Books", "price", 1299.0},
		{"Bäckerei Süß", "price", 1234.5},
		{"Café Müller", "ville", "Zürich"}, // the Latin-1 file, read right
		{"Mill Lane Deli", "zip", "01234"}, // gzipped; a code keeps its zero
		{"Kiosk", "open", true},
		{"Stall 9", "visits", 12.0},
		{"Main St Hardware", "phone", "+1 555 0100"},
		{"Bäckerei Süß", "categorie", "Brot"}, // Catégorie, matched by its folded name
	}
	for _, c := range checks {
		d, ok := byShop[c.shop]
		if !ok {
			t.Errorf("%s not delivered (have %d shops)", c.shop, len(byShop))
			continue
		}
		if fmt.Sprint(d[c.field]) != fmt.Sprint(c.want) {
			t.Errorf("%s: %s = %#v, want %#v", c.shop, c.field, d[c.field], c.want)
		}
	}
}

func TestInferOnTheShippedExamples(t *testing.T) {
	for _, tt := range []struct {
		dir  string
		args []string
		n    string
	}{
		{"listings", nil, "7"},
		{"webhooks", nil, "3"},
		{"alb-logs", []string{"-format", "alb"}, "4"},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			summary, out := inferAndRun(t, filepath.Join("../../examples/input", tt.dir), tt.args...)
			if !strings.Contains(summary, "records in     "+tt.n+"\n  ok           "+tt.n+"\n") {
				t.Fatalf("not every record delivered:\n%s", summary)
			}
			for _, d := range delivered(t, out) {
				if extra := d["extra"].(map[string]any); len(extra) > 0 {
					t.Errorf("columns went to extra: %v", extra)
				}
			}
		})
	}
}

func TestInferUnifiesSpellingsAndSaysWhatItSaw(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := sluice(t, "schema", "infer", "-config", "", "-out", dir, "-name", "shop", messyFiles(t))
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`shop_name +string +from "shop_name", "ShopName", "Shop Name", "SHOP-NAME"`),
		regexp.MustCompile(`price +double +from "price", "Price", "PRICE"`),
		regexp.MustCompile(`zip +string or null`),
		regexp.MustCompile(`in_stock +boolean or null`),
		regexp.MustCompile(`visits +long or null`),
		regexp.MustCompile(`- key: "\*\*\.csv\.gz"\n    format: csv`),
		regexp.MustCompile(`- key: "\*\*\.jsonl"\n    format: jsonl`),
	} {
		if !want.MatchString(stdout) {
			t.Errorf("output lacks %s:\n%s", want, stdout)
		}
	}
	src, err := os.ReadFile(filepath.Join(dir, "shop.v1.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ShopName"`, `Seen as \"shop_name\", \"ShopName\", \"Shop Name\", \"SHOP-NAME\" in 6 of 6 files, 13 of 13 records`, `"name": "extra"`, `"name": "provenance"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	if code, _, stderr := sluice(t, "schema", "infer", "-config", "", "-out", dir, "-name", "shop", messyFiles(t)); code != exitUsage || !strings.Contains(stderr, "exists: not overwritten") {
		t.Errorf("overwrote: exit %d %s", code, stderr)
	}
}

// With -arrays and -enum, what infer asks for is still delivered: every
// record Ok.
func TestInferArraysAndEnumsDeliver(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "orders.csv"), []byte("Order,Status,Tags\n1,paid,a;b\n2,Pending,c\n3,PAID,d|e\n4,pending,\n5,paid,f\n6,on-hold,g\n7,On Hold,h\n"), 0o644)
	summary, out := inferAndRun(t, dir, "-enum", "3", "-arrays")
	if !strings.Contains(summary, "records in     7\n  ok           7\n") {
		t.Fatalf("not every record delivered:\n%s", summary)
	}
	byOrder := map[string]map[string]any{}
	for _, d := range delivered(t, out) {
		byOrder[fmt.Sprint(d["order"])] = d
	}
	if d := byOrder["3"]; fmt.Sprint(d["status"]) != "paid" || fmt.Sprint(d["tags"]) != "[d e]" {
		t.Errorf("order 3: %v", d)
	}
	if d := byOrder["7"]; fmt.Sprint(d["status"]) != "on_hold" {
		t.Errorf("order 7: %v", d)
	}
}
