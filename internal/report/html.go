package report

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
)

// The page loads nothing: no scripts, no fonts, no images but inline SVG,
// and its Content-Security-Policy forbids any fetch, so it opens the same
// from a laptop, a CI artefact or an air-gapped machine.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"bar": bar,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice run report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .bad { color: #c62828; font-weight: bold; }
code { background: #f4f4f4; padding: 0 3px; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 12px; }
</style>
</head>
<body>
<h1>sluice run report</h1>
<table id="totals">
<tr><th>records in</th><th>ok</th><th>dropped</th><th>failed</th><th>dead letters</th><th>objects</th><th>unrouted</th></tr>
<tr><td class="n records_in">{{.Totals.RecordsIn}}</td><td class="n ok">{{.Totals.Ok}}</td><td class="n dropped">{{.Totals.Dropped}}</td><td class="n failed">{{.Totals.Failed}}</td><td class="n dead_letters">{{.Totals.DeadLetters}}</td><td class="n objects">{{.Totals.Objects}}</td><td class="n unrouted">{{.Totals.Unrouted}}</td></tr>
</table>
<p>Per schema, "ok" counts records normalised; with <code>pack</code>, a transform invocation that fails after Firehose's retries sends each Firehose record of its batch, with every document it holds, to the error prefix, so the totals above may count more failed records than the fields below.</p>
<p class="legend">Bars:<span style="background:#2e7d32"></span>delivered<span style="background:#f9a825"></span>preserved (original kept in extra)<span style="background:#9e9e9e"></span>null or default<span style="background:#c62828"></span>failed</p>
{{range .Schemas}}{{$schema := .Schema}}
<h2 id="schema-{{.Schema}}">{{.Schema}} v{{.Version}}: {{.Records}} records normalised, {{.Ok}} ok, {{.Failed}} failed</h2>
<h3>Fields</h3>
<table class="fields" data-schema="{{.Schema}}">
<tr><th>field</th><th>type</th><th>delivered</th><th>coerced</th><th>null</th><th>defaulted</th><th>preserved</th><th>failed</th><th>chart</th><th>sample bad values</th></tr>
{{range .Fields}}<tr data-field="{{.Field}}"><td><code>{{.Field}}</code></td><td>{{.Type}}</td><td class="n delivered">{{.Delivered}}</td><td class="n coerced">{{.Coerced}}</td><td class="n null">{{.Null}}</td><td class="n defaulted">{{.Defaulted}}</td><td class="n preserved">{{.Preserved}}</td><td class="n failed{{if .Failed}} bad{{end}}">{{.Failed}}</td><td>{{bar .}}</td><td>{{range .Samples}}<div><code>{{printf "%q" .Value}}</code> at {{.Object}}{{if .Line}}:{{.Line}}{{end}}: {{.Reason}}</div>{{end}}</td></tr>
{{end}}</table>
<h3>Where each input column went</h3>
{{range .Objects}}
<table class="columns" data-object="{{.Object}}">
<tr><th colspan="3">{{.Object}} ({{.Records}} records){{if .Route}}, read by {{.Route}}{{end}}</th></tr>
<tr><th>input column</th><th>went to</th><th>how</th></tr>
{{range .Columns}}<tr data-column="{{.Column}}"><td>{{.Column}}</td><td>{{if .Field}}<code>{{.Field}}</code>{{else}}<span class="bad">nowhere</span>{{end}}</td><td class="{{if eq .Match "discarded"}}bad{{end}}">{{.Match}}</td></tr>
{{end}}</table>
{{end}}{{end}}
<h2 id="failures">Failed records by reason</h2>
{{if .Failures}}<table class="reasons">
<tr><th>reason</th><th>records</th><th>where (up to five)</th></tr>
{{range .Failures}}<tr><td>{{.Reason}}</td><td class="n">{{.Count}}</td><td>{{range .Where}}<div>{{.Object}}{{if .Line}}:{{.Line}}{{end}}{{if .Value}} <code>{{printf "%q" .Value}}</code>{{end}}</div>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="ok">None.</p>{{end}}
<h2 id="dead-letters">Dead letters by reason (lines the splitter could not parse)</h2>
{{if .DeadLetters}}<table class="reasons">
<tr><th>reason</th><th>lines</th><th>where</th></tr>
{{range .DeadLetters}}<tr><td>{{.Reason}}</td><td class="n">{{.Count}}</td><td>{{range .Where}}<div>{{.Object}}{{if .Line}}:{{.Line}}{{end}} <code>{{printf "%q" .Value}}</code></div>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="ok">None.</p>{{end}}
</body>
</html>
`))

// bar draws a field's records as one stacked bar: delivered, preserved,
// null or defaulted, failed.
func bar(f FieldStats) template.HTML {
	total := f.Delivered + f.Null + f.Defaulted + f.Failed
	if total == 0 {
		return ""
	}
	const width = 160.0
	parts := []struct {
		n      int64
		colour string
		label  string
	}{
		{f.Delivered - f.Preserved, "#2e7d32", "delivered"},
		{f.Preserved, "#f9a825", "preserved"},
		{f.Null + f.Defaulted, "#9e9e9e", "null or default"},
		{f.Failed, "#c62828", "failed"},
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg class="bar" width="%d" height="12" role="img" aria-label="%d delivered, %d preserved, %d null or default, %d failed">`,
		int(width), f.Delivered-f.Preserved, f.Preserved, f.Null+f.Defaulted, f.Failed)
	x := 0.0
	for _, p := range parts {
		if p.n <= 0 {
			continue
		}
		w := width * float64(p.n) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="12" fill="%s"><title>%d %s</title></rect>`, x, w, p.colour, p.n, p.label)
		x += w
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// WriteHTML writes report.html.
func (r *Report) WriteHTML(path string) error {
	var b bytes.Buffer
	if err := page.Execute(&b, r); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
