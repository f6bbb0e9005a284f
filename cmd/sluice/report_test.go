package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/report"
)

// runReport runs the pipeline on input with the shipped config and reads
// the report it writes.
func runReport(t *testing.T, input string, wantCode int) (*report.Report, string) {
	t.Helper()
	out := t.TempDir()
	code, stdout, stderr := sluice(t, "run", "-config", exampleConfig, "-progress", "never", "-out", out, input)
	if code != wantCode {
		t.Fatalf("exit %d, want %d\n%s%s", code, wantCode, stdout, stderr)
	}
	if !strings.Contains(stdout, "report         "+filepath.Join(out, "report.html")) {
		t.Errorf("the summary does not give the report's path:\n%s", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r, out
}

func schemaReport(t *testing.T, r *report.Report, name string) report.SchemaReport {
	t.Helper()
	for _, s := range r.Schemas {
		if s.Schema == name {
			return s
		}
	}
	t.Fatalf("no schema %s in the report", name)
	return report.SchemaReport{}
}

func field(t *testing.T, s report.SchemaReport, name string) report.FieldStats {
	t.Helper()
	for _, f := range s.Fields {
		if f.Field == name {
			return f
		}
	}
	t.Fatalf("no field %s in %s", name, s.Schema)
	return report.FieldStats{}
}

func TestRunReportSaysWhereEveryColumnWent(t *testing.T) {
	r, out := runReport(t, "../../examples/input", exitOK)
	if r.Totals != (report.Totals{RecordsIn: 14, Ok: 13, Dropped: 1, Objects: 4}) {
		t.Errorf("totals %+v", r.Totals)
	}
	listing := schemaReport(t, r, "listing")
	columns := map[string]string{}
	for _, o := range listing.Objects {
		if !strings.HasSuffix(o.Route, `(key "listings/**", csv → listings)`) {
			t.Errorf("%s: read by %q", o.Object, o.Route)
		}
		for _, c := range o.Columns {
			columns[o.Object+" "+c.Column] = c.Field + " by " + c.Match
		}
	}
	for col, want := range map[string]string{
		"input/listings/2024-05-01/uk-shops.csv Shop Name":     "shop_name by folded",
		"input/listings/2024-05-01/uk-shops.csv Opening Hours": "extra by extra",
		"input/listings/2024-05-02/eu-shops.csv store":         "shop_name by alias",
		"input/listings/2024-05-02/eu-shops.csv price":         "price by name",
	} {
		if columns[col] != want {
			t.Errorf("%s went to %q, want %q", col, columns[col], want)
		}
	}
	// Seven listings: every price read from text; rating empty in three
	// (N/A, -, ""), the address column absent from the EU file.
	for _, tt := range []struct {
		field string
		want  report.FieldStats
	}{
		{"price", report.FieldStats{Delivered: 7, Coerced: 7}},
		{"rating", report.FieldStats{Delivered: 4, Coerced: 4, Null: 3}},
		{"address", report.FieldStats{Delivered: 4, Defaulted: 3}},
		{"shop_name", report.FieldStats{Delivered: 7}},
	} {
		got := field(t, listing, tt.field)
		got.Field, got.Type, got.Samples = "", "", nil
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.field, got, tt.want)
		}
	}
	// The unknown enum symbol "on-hold" is delivered as the default, with
	// the original kept in extra.
	if st := field(t, schemaReport(t, r, "webhook_event"), "status"); st.Preserved != 1 || st.Delivered != 3 {
		t.Errorf("status: %+v", st)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(page))
	if !regexp.MustCompile(`<tr data-field="price">.*<td class="n delivered">7</td><td class="n coerced">7</td>`).Match(page) {
		t.Errorf("the page's field table does not show price's figures")
	}
}

func TestRunReportGroupsFailuresWithTheirPlaces(t *testing.T) {
	r, _ := runReport(t, "../../examples/broken", exitDeadLetter)
	price := field(t, schemaReport(t, r, "listing"), "price")
	if price.Failed != 1 || len(price.Samples) != 1 || price.Samples[0].Value != "call us" ||
		price.Samples[0].Object != "broken/listings/2024-05-03/mixed.csv" || price.Samples[0].Line != 3 {
		t.Errorf("price: %+v", price)
	}
	found := false
	for _, g := range r.Failures {
		if strings.HasPrefix(g.Reason, "coerce: price: ") && g.Count == 1 && g.Where[0].Value == "call us" {
			found = true
		}
	}
	if !found {
		t.Errorf("no failure group for the price: %+v", r.Failures)
	}
	if len(r.DeadLetters) != 2 {
		t.Fatalf("dead letters: %+v", r.DeadLetters)
	}
	for _, g := range r.DeadLetters {
		if g.Count != 1 || g.Where[0].Object == "" || g.Where[0].Line == 0 {
			t.Errorf("dead letter group without its place: %+v", g)
		}
	}
}

// checkSelfContained fails if the page could fetch anything.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Error("report.html has no strict Content-Security-Policy")
	}
	if tag := regexp.MustCompile(`(?i)<(script|img|link|iframe|object|embed)|<[^>]*\s(src|href|srcset|action)=`).FindString(page); tag != "" {
		t.Errorf("report.html holds %s: it must load nothing", tag)
	}
	_, css, _ := strings.Cut(page, "<style>")
	css, _, _ = strings.Cut(css, "</style>")
	if strings.Contains(css, "url(") || strings.Contains(css, "@import") {
		t.Error("report.html's style loads something")
	}
}

func TestRunWithoutReport(t *testing.T) {
	out := t.TempDir()
	if code, stdout, stderr := sluice(t, "run", "-config", exampleConfig, "-progress", "never", "-report=false", "-out", out, "../../examples/input"); code != exitOK || strings.Contains(stdout, "report ") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
		t.Error("-report=false wrote report.json")
	}
}
