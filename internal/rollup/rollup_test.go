package rollup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

const testYAML = `
routes:
  - key: "alb-logs/**"
    format: alb
    stream: rollups
    rollup:
      name: beacon_5m
      window: 5m
      where:
        - {field: request_url_path, match: "^/e$"}
        - {name: no-health-checks, field: user_agent, not_match: "^ELB-HealthChecker/"}
      by: [event, utm_source, elb_status_code]
      measures:
        - count
        - {sum: sent_bytes}
        - {min: target_processing_time}
        - {max: target_processing_time}
        - {distinct: user}
        - {quantiles: target_processing_time, q: [0.5, 0.95, 0.99]}
      max_groups: %d
`

func testRoute(t testing.TB, maxGroups int) *config.Route {
	t.Helper()
	c, err := config.Parse("sluice.yaml", []byte(fmt.Sprintf(testYAML, maxGroups)))
	if err != nil {
		t.Fatal(err)
	}
	return &c.Routes[0]
}

// aggregateText runs the alb format and an Aggregator over text, flushing
// segments as the splitter does, and returns the partial records as
// delivered documents, the counts, and the scanner's parse errors.
func aggregateText(t testing.TB, route *config.Route, object, text string) ([]map[string]any, Counts, int64) {
	t.Helper()
	sc, err := format.New("alb", strings.NewReader(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := New(route)
	var docs []map[string]any
	total := Counts{Excluded: make([]int64, len(route.Rollup.Where))}
	var parseErrors int64
	segment := 0
	flush := func() {
		recs, c, err := a.Flush(object, segment)
		if err != nil {
			t.Fatal(err)
		}
		segment++
		for _, r := range recs {
			docs = append(docs, document(t, r))
		}
		total.Lines += c.Lines
		total.Aggregated += c.Aggregated
		total.Invalid += c.Invalid
		for i, n := range c.Excluded {
			total.Excluded[i] += n
		}
	}
	for {
		rec, err := sc.Next()
		var re *format.RecordError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &re) {
			parseErrors++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		a.Add(rec.Fields)
		if a.Full() {
			flush()
		}
	}
	if a.Pending() {
		flush()
	}
	return docs, total, parseErrors
}

// document is a record as the transform delivers it: a JSON object.
func document(t testing.TB, r Record) map[string]any {
	t.Helper()
	env := envelope.Append(nil, &envelope.Record{ID: r.ID, Schema: "beacon_5m", Fields: r.Fields})
	var e struct{ Fields json.RawMessage }
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatalf("envelope %s: %v", env, err)
	}
	dec := json.NewDecoder(bytes.NewReader(e.Fields))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

type truthKey struct {
	window              int64
	event, source       string
	status              int
	hasEvent, hasSource bool
}

type truth struct {
	count, sent int64
	min, max    float64
	users       map[string]bool
	times       []float64
}

func bruteForce(lines []beacon.Line) map[truthKey]*truth {
	out := map[truthKey]*truth{}
	for _, l := range lines {
		if l.Kind != beacon.Event {
			continue
		}
		k := truthKey{window: l.Requested.Truncate(5 * time.Minute).UnixMilli(), event: l.Event, source: l.UTMSource, status: l.Status,
			hasEvent: l.Event != "", hasSource: l.UTMSource != ""}
		g := out[k]
		if g == nil {
			g = &truth{min: math.Inf(1), max: math.Inf(-1), users: map[string]bool{}}
			out[k] = g
		}
		g.count++
		g.sent += l.SentBytes
		g.min, g.max = min(g.min, l.TargetTime), max(g.max, l.TargetTime)
		if l.User != "" {
			g.users[l.User] = true
		}
		g.times = append(g.times, l.TargetTime)
	}
	return out
}

func joinLines(lines []beacon.Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func generate(seed uint64, n int) []beacon.Line {
	return beacon.Generate(beacon.Options{Seed: seed, Start: time.Date(2024, 5, 1, 9, 58, 0, 0, time.UTC), Span: 2 * time.Hour, Lines: n, Users: 3000})
}

// The totals merged from partials of several objects, in segments of a few
// groups, equal a brute-force count of what the generator wrote; the
// sketches stay within their bounds.
func TestTotalsMatchBruteForce(t *testing.T) {
	lines := generate(1, 30000)
	route := testRoute(t, 40)
	m, err := NewMerger(route, Query{})
	if err != nil {
		t.Fatal(err)
	}
	var total Counts
	total.Excluded = make([]int64, 2)
	var parseErrors, redelivered int64
	// Four objects, the last one delivered twice.
	chunks := [][]beacon.Line{lines[:7000], lines[7000:15000], lines[15000:22000], lines[22000:], lines[22000:]}
	for i, chunk := range chunks {
		object := fmt.Sprintf("obj%d", min(i, 3))
		docs, c, pe := aggregateText(t, route, object, joinLines(chunk))
		for _, d := range docs {
			if err := m.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if i == 4 {
			redelivered = int64(len(docs))
			continue
		}
		parseErrors += pe
		total.Lines += c.Lines
		total.Aggregated += c.Aggregated
		total.Invalid += c.Invalid
		total.Excluded[0] += c.Excluded[0]
		total.Excluded[1] += c.Excluded[1]
	}
	kinds := map[beacon.Kind]int64{}
	for _, l := range lines {
		kinds[l.Kind]++
	}
	if total.Aggregated != kinds[beacon.Event] || total.Excluded[0] != kinds[beacon.Health]+kinds[beacon.OtherPath] ||
		total.Excluded[1] != 0 || total.Invalid != kinds[beacon.NoTime] || parseErrors != kinds[beacon.Malformed] {
		t.Fatalf("counts %+v, parse errors %d; generated %v", total, parseErrors, kinds)
	}
	if int64(len(lines)) != total.Aggregated+total.Excluded[0]+total.Excluded[1]+total.Invalid+parseErrors {
		t.Fatal("lines are not conserved")
	}

	want := bruteForce(lines)
	cols := m.Columns()
	wantCols := "event utm_source elb_status_code window_start count sum_sent_bytes min_target_processing_time max_target_processing_time distinct_user p50_target_processing_time p95_target_processing_time p99_target_processing_time"
	if strings.Join(cols, " ") != wantCols {
		t.Fatalf("columns %v", cols)
	}
	rows := m.Rows()
	if len(rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(rows), len(want))
	}
	var sumCount int64
	var worstHLL float64
	for _, r := range rows {
		win, _ := time.Parse(time.RFC3339, r[3].(string))
		k := truthKey{window: win.UnixMilli(), status: int(r[2].(int64))}
		if r[0] != nil {
			k.event, k.hasEvent = r[0].(string), true
		}
		if r[1] != nil {
			k.source, k.hasSource = r[1].(string), true
		}
		g := want[k]
		if g == nil {
			t.Fatalf("row %v: no such group in the brute-force count", r)
		}
		sumCount += r[4].(int64)
		if r[4].(int64) != g.count || r[5].(int64) != g.sent || r[6].(float64) != g.min || r[7].(float64) != g.max {
			t.Errorf("row %v: want count %d, sent %d, min %v, max %v", r, g.count, g.sent, g.min, g.max)
		}
		exact := float64(len(g.users))
		if d := math.Abs(float64(r[8].(uint64)) - exact); d > 3*HLLStandardError*exact+1 {
			t.Errorf("row %v: distinct %v, exact %v", r, r[8], exact)
		} else if exact > 0 {
			worstHLL = max(worstHLL, d/exact)
		}
		slices.Sort(g.times)
		for i, q := range []float64{0.5, 0.95, 0.99} {
			exactQ := g.times[int(q*float64(len(g.times)-1))]
			if got := r[9+i].(float64); math.Abs(got-exactQ) > RelativeAccuracy*math.Abs(exactQ)+1e-12 {
				t.Errorf("row %v: p%v = %v, exact %v", r, q*100, got, exactQ)
			}
		}
	}
	if sumCount != total.Aggregated {
		t.Errorf("sum of count %d, aggregated %d", sumCount, total.Aggregated)
	}
	if m.Duplicates != redelivered {
		t.Errorf("%d duplicates dropped; the redelivered object had %d partials", m.Duplicates, redelivered)
	}
	t.Logf("%d groups, %d partials, %d duplicates dropped, worst distinct error %.3f%%", len(rows), m.Partials, m.Duplicates, worstHLL*100)
}

// Missing parameters form their own null groups; coarser queries merge
// windows and dimensions.
func TestCoarserQueryAndNulls(t *testing.T) {
	lines := generate(2, 5000)
	route := testRoute(t, 10000)
	docs, c, _ := aggregateText(t, route, "o", joinLines(lines))
	m, err := NewMerger(route, Query{By: []string{"utm_source"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := m.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if cols := m.Columns(); cols[0] != "utm_source" || cols[1] != "count" {
		t.Fatalf("columns %v", cols)
	}
	bySource := map[string]int64{}
	for _, l := range lines {
		if l.Kind == beacon.Event {
			bySource[l.UTMSource]++
		}
	}
	rows := m.Rows()
	var sum int64
	for _, r := range rows {
		src := ""
		if r[0] != nil {
			src = r[0].(string)
		}
		if r[1].(int64) != bySource[src] {
			t.Errorf("utm_source %v: count %v, want %d", r[0], r[1], bySource[src])
		}
		sum += r[1].(int64)
	}
	if len(rows) != len(bySource) || rows[0][0] != nil || sum != c.Aggregated {
		t.Errorf("rows %v (the null group first), sum %d, aggregated %d", rows, sum, c.Aggregated)
	}
	if _, err := NewMerger(route, Query{By: []string{"country"}}); err == nil || !strings.Contains(err.Error(), "beacon_5m has no dimension country") {
		t.Errorf("unknown dimension: %v", err)
	}
}

// The same object aggregated twice gives the same ids and records.
func TestSameObjectSameIDs(t *testing.T) {
	text := joinLines(generate(3, 3000))
	route := testRoute(t, 25)
	a, _, _ := aggregateText(t, route, "objectid", text)
	b, _, _ := aggregateText(t, route, "objectid", text)
	if len(a) < 10 || len(a) != len(b) {
		t.Fatalf("%d and %d records", len(a), len(b))
	}
	ids := map[string]bool{}
	for i := range a {
		ja, _ := json.Marshal(a[i])
		jb, _ := json.Marshal(b[i])
		if !bytes.Equal(ja, jb) {
			t.Fatalf("record %d differs:\n%s\n%s", i, ja, jb)
		}
		id := a[i][config.ColumnID].(string)
		if ids[id] || !strings.HasPrefix(id, "objectid-beacon_5m-") {
			t.Fatalf("id %s repeated or not derived from the object", id)
		}
		ids[id] = true
	}
}

func TestWindowBoundaries(t *testing.T) {
	route := testRoute(t, 100)
	line := func(created string) string {
		return `https 2024-05-01T10:05:00.010000Z app/b/1 1.2.3.4:5 10.0.0.1:80 0.001 0.002 0.000 204 204 1 10 "GET https://b.example:443/e?event=x HTTP/1.1" "ua" - - - "-" "-" "-" 1 ` + created + ` "forward" "-" "-" "-" "-" "-" "-" TID_1` + "\n"
	}
	text := line("2024-05-01T10:04:59.999999Z") + line("2024-05-01T10:05:00.000000Z") + line("2024-05-01T10:09:59.999Z") + line("2024-05-01T10:10:00Z")
	docs, c, _ := aggregateText(t, route, "o", text)
	var got []string
	for _, d := range docs {
		got = append(got, fmt.Sprintf("%s=%s", d["window_start"], d["count"]))
	}
	sort.Strings(got)
	want := "2024-05-01T10:00:00.000Z=1 2024-05-01T10:05:00.000Z=2 2024-05-01T10:10:00.000Z=1"
	if strings.Join(got, " ") != want || c.Aggregated != 4 {
		t.Errorf("windows %v, want %s", got, want)
	}
}

func TestInvalidValues(t *testing.T) {
	route := testRoute(t, 100)
	a := New(route)
	base := []envelope.Field{{Name: "request_url", Value: "https://b.example/e"}, {Name: "request_creation_time", Value: "2024-05-01T10:00:00Z"}}
	with := func(f ...envelope.Field) []envelope.Field { return append(slices.Clone(base), f...) }
	tests := []struct {
		fields []envelope.Field
		reason string
	}{
		{[]envelope.Field{{Name: "request_url", Value: "/e"}}, "rollup beacon_5m: no request_creation_time"},
		{[]envelope.Field{{Name: "request_url", Value: "/e"}, {Name: "request_creation_time", Value: "yesterday"}}, `request_creation_time "yesterday" is not a time`},
		{with(envelope.Field{Name: "elb_status_code", Value: "2xx"}), `dimension elb_status_code: "2xx" is not an integer`},
		{with(envelope.Field{Name: "sent_bytes", Value: "1.5"}), `sum of sent_bytes: "1.5" is not a number`},
		{with(envelope.Field{Name: "target_processing_time", Value: "NaN"}), `min of target_processing_time: "NaN" is not a number`},
	}
	for _, tt := range tests {
		out, _, reason := a.Add(tt.fields)
		if out != Invalid || !strings.Contains(reason, tt.reason) {
			t.Errorf("%v: %v %q, want Invalid %q", tt.fields, out, reason, tt.reason)
		}
	}
	if a.Groups() != 0 {
		t.Error("an invalid record made a group")
	}
	// "+200" and "0200" are the status 200.
	for _, s := range []string{"200", "+200", "0200"} {
		if out, _, reason := a.Add(with(envelope.Field{Name: "elb_status_code", Value: s})); out != Aggregated {
			t.Fatalf("%s: %v %s", s, out, reason)
		}
	}
	if a.Groups() != 1 {
		t.Errorf("%d groups for one status", a.Groups())
	}
}

// The sketches on known distributions: HyperLogLog within 3 standard
// errors, DDSketch within its relative accuracy at every quantile, merged
// from parts.
func TestSketchBounds(t *testing.T) {
	for _, n := range []int{100, 5000, 200000} {
		whole := newAcc(config.Measure{Kind: config.MeasureDistinct}, false)
		for part := range 4 {
			p := newAcc(config.Measure{Kind: config.MeasureDistinct}, false)
			for i := part; i < n; i += 4 {
				p.hll.Insert([]byte(fmt.Sprintf("user-%d", i)))
				p.hll.Insert([]byte(fmt.Sprintf("user-%d", i/2))) // repeats
			}
			roundTrip(t, p)
			if err := whole.merge(p); err != nil {
				t.Fatal(err)
			}
		}
		if got, rel := whole.hll.Estimate(), math.Abs(float64(whole.hll.Estimate())-float64(n))/float64(n); rel > 3*HLLStandardError {
			t.Errorf("distinct of %d values: %d (%.2f%% off)", n, got, rel*100)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	dists := map[string]func() float64{
		"uniform":     func() float64 { return r.Float64() * 10 },
		"exponential": func() float64 { return r.ExpFloat64() / 20 },
		"lognormal":   func() float64 { return math.Exp(r.NormFloat64()*1.5 - 3) },
		"with zeros and negatives": func() float64 {
			if r.IntN(10) == 0 {
				return -1 // ALB's "no target"
			}
			return float64(r.IntN(100)) / 1000
		},
	}
	for name, gen := range dists {
		whole := newAcc(config.Measure{Kind: config.MeasureQuantiles}, false)
		var all []float64
		for range 5 {
			p := newAcc(config.Measure{Kind: config.MeasureQuantiles}, false)
			for range 20000 {
				v := gen()
				all = append(all, v)
				p.addNumber(v, 0)
			}
			roundTrip(t, p)
			if err := whole.merge(p); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(all)
		for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999} {
			exact := all[int(q*float64(len(all)-1))]
			got, err := whole.dd.Quantile(q)
			if err != nil || math.Abs(got-exact) > RelativeAccuracy*math.Abs(exact)+1e-12 {
				t.Errorf("%s: q%v = %v, exact %v (%v)", name, q, got, exact, err)
			}
		}
	}
}

// roundTrip replaces a's sketch by its serialised form read back.
func roundTrip(t *testing.T, a *acc) {
	t.Helper()
	v, _, err := a.partial(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newAcc(config.Measure{Kind: a.kind}, false)
	if err := b.setPartial(string(v)); err != nil {
		t.Fatal(err)
	}
	*a = *b
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]int64{
		"2024-05-01T10:00:00.123456Z": 1714557600123,
		"2024-05-01T10:00:00Z":        1714557600000,
		"2024-05-01T10:00:00.1Z":      1714557600100,
		"2024-05-01T12:00:00+02:00":   1714557600000,
		"1714557600":                  1714557600000,
		"1714557600123":               1714557600123,
	} {
		if got, ok := parseTime(s); !ok || got != want {
			t.Errorf("parseTime(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "2024-04-31T10:00:00Z", "2024-05-01T10:00:00.Z", "2024-05-01 10:00:00", "soon"} {
		if _, ok := parseTime(s); ok {
			t.Errorf("parseTime(%q) accepted", s)
		}
	}
}

// FuzzParseTime: the fast path reads exactly what time.Parse reads, to the
// millisecond (fractions truncated, as windows need).
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00Z", "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00Z", "1714557600", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, ok := parseUTC(s)
		if !ok {
			return
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("parseUTC(%q) = %d, but time.Parse refuses it: %v", s, ms, err)
		}
		if want := tm.UnixMilli(); ms != want {
			t.Fatalf("parseUTC(%q) = %d, time.Parse %d", s, ms, want)
		}
	})
}

// Property: however the lines are cut into objects and segments, the merged
// counts, sums, minimums, maximums and quantiles are the same (the sketches
// merge losslessly), and distinct counts stay within their bound.
func TestMergeIsIndependentOfPartitioning(t *testing.T) {
	lines := generate(11, 6000)
	merged := func(r *rand.Rand) [][]any {
		route := testRoute(t, 1+r.IntN(200))
		m, err := NewMerger(route, Query{By: []string{"event", "window_start"}})
		if err != nil {
			t.Fatal(err)
		}
		for start, obj := 0, 0; start < len(lines); obj++ {
			end := min(len(lines), start+1+r.IntN(2500))
			docs, _, _ := aggregateText(t, route, fmt.Sprint("o", obj), joinLines(lines[start:end]))
			r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
			for _, d := range docs {
				if err := m.Add(d); err != nil {
					t.Fatal(err)
				}
			}
			start = end
		}
		return m.Rows()
	}
	want := merged(rand.New(rand.NewPCG(0, 0)))
	for seed := uint64(1); seed <= 8; seed++ {
		got := merged(rand.New(rand.NewPCG(seed, seed)))
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(want))
		}
		for i := range got {
			for c := range got[i] {
				if c == 6 { // distinct_user
					g, w := float64(got[i][c].(uint64)), float64(want[i][c].(uint64))
					if math.Abs(g-w) > 3*HLLStandardError*w+1 {
						t.Errorf("seed %d row %d: distinct %v, one partition gave %v", seed, i, g, w)
					}
					continue
				}
				if got[i][c] != want[i][c] {
					t.Errorf("seed %d row %d column %d: %v, one partition gave %v", seed, i, c, got[i][c], want[i][c])
				}
			}
		}
	}
}
