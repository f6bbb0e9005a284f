package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPageEscapesValuesAndLoadsNothing(t *testing.T) {
	r := &Report{
		Totals: Totals{RecordsIn: 3, Ok: 2, Failed: 1},
		Schemas: []SchemaReport{{Schema: "s", Version: 1, Records: 3, Ok: 2, Failed: 1,
			Objects: []ObjectReport{{Object: "in/a.csv", Records: 3, Columns: []Column{{Column: "Price", Field: "price", Match: MatchFolded, Records: 3}, {Column: "x", Match: MatchDiscarded, Records: 3}}}},
			Fields: []FieldStats{{Field: "price", Type: "double", Delivered: 2, Coerced: 2, Failed: 1,
				Samples: []Sample{{Object: "in/a.csv", Line: 4, Value: `<script src="https://evil.example/x.js"></script>`, Reason: "is not a number"}}}}}},
		Failures:    []Group{{Reason: "coerce: price: is not a number", Count: 1, Where: []Sample{{Object: "in/a.csv", Line: 4, Value: "<img src=x>"}}}},
		DeadLetters: []Group{},
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := r.WriteHTML(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	page := string(b)
	if tag := loadingTag.FindString(page); tag != "" {
		t.Errorf("a record value reached the page unescaped: %s", tag)
	}
	for _, want := range []string{
		`<tr data-field="price">`, `<td class="n delivered">2</td>`, `<td class="n failed bad">1</td>`,
		`aria-label="2 delivered, 0 preserved, 0 null or default, 1 failed"`,
		`<span class="bad">nowhere</span>`, "in/a.csv:4",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// loadingTag is a tag that could fetch something.
var loadingTag = regexp.MustCompile(`(?i)<(script|img|link|iframe|object|embed|style[^>]*@import)|<[^>]*\s(src|href|srcset|action)=`)

func TestBarIsProportional(t *testing.T) {
	got := string(bar(FieldStats{Delivered: 3, Preserved: 1, Null: 1, Failed: 0}))
	// 2 plain delivered, 1 preserved, 1 null of 4: 80, 40, 40 pixels of 160.
	for _, want := range []string{`width="80.0" height="12" fill="#2e7d32"`, `x="80.0" y="0" width="40.0" height="12" fill="#f9a825"`, `x="120.0" y="0" width="40.0" height="12" fill="#9e9e9e"`} {
		if !strings.Contains(got, want) {
			t.Errorf("bar lacks %s:\n%s", want, got)
		}
	}
	if bar(FieldStats{}) != "" {
		t.Error("a field with no records has a bar")
	}
}
