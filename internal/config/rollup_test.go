package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// issueRollup is the route shape sluice.yaml documents for rollups.
const issueRollup = `
streams:
  rollups: {}
routes:
  - key: "alb-logs/**"
    format: alb
    stream: rollups
    rollup:
      name: beacon_5m
      window: 5m                 # 1m, 5m, 15m or 1h, on the request time
      where:                     # all must match; fields after query-string decoding
        - {field: request_url_path, match: "^/e$"}
      by: [event, utm_source, elb_status_code]
      measures:
        - count
        - {sum: sent_bytes}
        - {min: target_processing_time}
        - {max: target_processing_time}
        - {distinct: user}                                   # HyperLogLog
        - {quantiles: target_processing_time, q: [0.5, 0.95, 0.99]}   # mergeable sketch
`

func TestRollupRouteParses(t *testing.T) {
	c, err := Parse("sluice.yaml", []byte(issueRollup))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routes[0]
	if r.Schema != "beacon_5m" || r.Rollup.Window != 5*time.Minute || r.TimeField() != "request_creation_time" {
		t.Fatalf("route = %+v, rollup %+v", r, r.Rollup)
	}
	want := []Measure{{Kind: "count"}, {Kind: "sum", Field: "sent_bytes"}, {Kind: "min", Field: "target_processing_time"},
		{Kind: "max", Field: "target_processing_time"}, {Kind: "distinct", Field: "user"},
		{Kind: "quantiles", Field: "target_processing_time", Q: []float64{0.5, 0.95, 0.99}}}
	if !reflect.DeepEqual(r.Rollup.Measures, want) {
		t.Errorf("measures = %+v\nwant %+v", r.Rollup.Measures, want)
	}
	if w := r.Rollup.Where[0]; w.Name != "request_url_path ~ ^/e$" || !w.Matches("/e") || w.Matches("/e/x") {
		t.Errorf("where rule %+v", w)
	}
	if r.Rollup.MaxGroups != 10000 || r.Rollup.SegmentLines != 1_000_000 {
		t.Errorf("defaults: %+v", r.Rollup)
	}

	reg, err := c.Registry()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := reg.Latest("beacon_5m")
	if !ok {
		t.Fatal("no generated schema beacon_5m")
	}
	var got []string
	for _, f := range s.Fields {
		got = append(got, f.Name+":"+f.Type.String())
	}
	wantFields := "rollup:string rollup_id:string event:union[null,string] utm_source:union[null,string] elb_status_code:union[null,long] " +
		"window_start:timestamp-millis count:long sum_sent_bytes:long min_target_processing_time:union[null,double] " +
		"max_target_processing_time:union[null,double] hll_user:string sketch_target_processing_time:string extra:map<string> provenance:union[null,record sluice.rollup.provenance]"
	if strings.Join(got, " ") != wantFields {
		t.Errorf("schema fields:\n%s\nwant\n%s", strings.Join(got, " "), wantFields)
	}
	if err := c.CheckSchemas(reg.Has); err != nil {
		t.Error(err)
	}
}

func TestRollupCountIsAlwaysMeasured(t *testing.T) {
	c, err := Parse("c.yaml", []byte("routes:\n  - {key: a, format: jsonl, stream: s, rollup: {name: r, window: 1h, time: ts, measures: [{sum: n}]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Routes[0].Rollup.Measures; len(m) != 2 || m[0].Kind != "count" {
		t.Errorf("measures = %+v, want count first", m)
	}
}

func TestRollupErrors(t *testing.T) {
	fork := func(branch string) string {
		return "routes:\n  - key: a/**\n    format: alb\n    schema: page_view\n    to:\n      - {stream: p}\n      - " + branch + "\n"
	}
	route := func(rollup string) string {
		return "routes:\n  - key: a/**\n    format: alb\n    stream: s\n    rollup: " + rollup + "\n"
	}
	tests := []struct{ name, yaml, want string }{
		{"name", route("{name: Beacon, window: 5m}"), `routes[0].rollup.name: "Beacon" must be a lower-case identifier`},
		{"window", route("{name: b, window: 10m}"), `routes[0].rollup.window: 10m0s is not a window length (want 1m, 5m, 15m or 1h)`},
		{"window unset", route("{name: b}"), `routes[0].rollup.window: 0s is not a window length`},
		{"schema", "routes:\n  - {key: a, format: alb, stream: s, schema: page_view, rollup: {name: b, window: 1m}}\n", `routes[0].schema: a rollup route's records have the generated schema "b"; leave schema out`},
		{"time", "routes:\n  - {key: a, format: jsonl, stream: s, rollup: {name: b, window: 1m}}\n", `routes[0].rollup.time: is required for format jsonl`},
		{"where both", route("{name: b, window: 1m, where: [{field: f, match: x, not_match: y}]}"), `routes[0].rollup.where[0]: set exactly one of match and not_match`},
		{"where regexp", route("{name: b, window: 1m, where: [{field: f, match: \"(\"}]}"), `routes[0].rollup.where[0].match: not a valid regular expression`},
		{"where field", route("{name: b, window: 1m, where: [{match: x}]}"), `routes[0].rollup.where[0].field: is required`},
		{"measure kind", route("{name: b, window: 1m, measures: [{avg: x}]}"), `routes[0].rollup.measures[1]: unknown measure "avg" (want count, sum, min, max, distinct or quantiles)`},
		{"two kinds", route("{name: b, window: 1m, measures: [{sum: x, max: x}]}"), `a measure has one kind; sum and max given`},
		{"not numeric", route("{name: b, window: 1m, measures: [{sum: user_agent}]}"), `routes[0].rollup.measures[1]: sum of user_agent: the field is not numeric`},
		{"no field", route("{name: b, window: 1m, measures: [{distinct: \"\"}]}"), `distinct needs a field`},
		{"bad q", route("{name: b, window: 1m, measures: [{quantiles: x, q: [95]}]}"), `routes[0].rollup.measures[1].q: 95 is not a quantile between 0 and 1`},
		{"q elsewhere", route("{name: b, window: 1m, measures: [{sum: x, q: [0.5]}]}"), `only a quantiles measure takes q`},
		{"reserved dim", route("{name: b, window: 1m, by: [window_start]}"), `routes[0].rollup.by[0]: its column "window_start" is also reserved`},
		{"clashing dims", route("{name: b, window: 1m, by: [utm-source, utm_source]}"), `routes[0].rollup.by[1]: its column "utm_source" is also routes[0].rollup.by[0]`},
		{"same measure", route("{name: b, window: 1m, measures: [{sum: x}, {sum: x}]}"), `routes[0].rollup.measures[2]: its column "sum_x" is also routes[0].rollup.measures[1]`},
		{"export", route("{name: b, window: 1m, export: \"exports/\"}"), `routes[0].rollup.export: "exports/" is not an s3://bucket/prefix/ location`},
		{"max groups", route("{name: b, window: 1m, max_groups: -1}"), `routes[0].rollup.max_groups: must be at least 1`},
		{"twice", "routes:\n  - {key: a, format: alb, stream: s, rollup: {name: b, window: 1m}}\n  - {key: c, format: alb, stream: s, rollup: {name: b, window: 1m}}\n", `routes[1].rollup.name: "b" is used by another route's rollup`},
		{"unknown key", route("{name: b, window: 1m, group_by: [x]}"), `routes[0].rollup.group_by: unknown key "group_by"`},
		{"rollup and to", "routes:\n  - {key: a, format: alb, schema: page_view, to: [{stream: p}], rollup: {name: b, window: 1m}}\n", `routes[0].rollup: and to: exclude each other`},
		{"branch window", fork("{stream: s, rollup: {name: b, window: 10m}}"), `routes[0].to[1].rollup.window: 10m0s is not a window length`},
		{"branch schema", fork("{stream: s, schema: page_view, rollup: {name: b, window: 1m}}"), `routes[0].to[1].schema: a rollup route's records have the generated schema "b"; leave schema out`},
		{"branch where", fork("{stream: s, where: [{field: f, match: x}], rollup: {name: b, window: 1m}}"), `routes[0].to[1].where: a rollup branch takes its rules under rollup.where`},
		{"two rollup branches", fork("{stream: s, rollup: {name: b, window: 1m}}\n      - {stream: t, rollup: {name: c, window: 1m}}"), `routes[0].to[2].rollup: a route has at most one rollup branch`},
		{"branch twice", "routes:\n  - {key: a, format: alb, stream: s, rollup: {name: b, window: 1m}}\n" + fork("{stream: s, rollup: {name: b, window: 1m}}")[len("routes:\n"):], `routes[1].to[1].rollup.name: "b" is used by another route's rollup`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A fork's branch may be a rollup: the route's rollup is the branch's,
// seen through RollupRoute with the branch's stream and generated schema,
// while the other branches keep the route's schema.
func TestForkRollupBranchParses(t *testing.T) {
	c, err := Parse("sluice.yaml", []byte(`
routes:
  - key: "alb-logs/**"
    format: alb
    schema: page_view
    to:
      - stream: page_views
      - stream: rollups
        rollup: {name: beacon_5m, window: 5m, by: [event]}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routes[0]
	if r.Rollup == nil || r.Rollup != r.To[1].Rollup || r.To[0].Schema != "page_view" || r.To[1].Schema != "beacon_5m" {
		t.Fatalf("route = %+v", r)
	}
	rr := r.RollupRoute()
	if rr.Stream != "rollups" || rr.Schema != "beacon_5m" || rr.Forks() || rr.TimeField() != "request_creation_time" ||
		rr.Rollup.SegmentLines != 1_000_000 || rr.Rollup.Measures[0].Kind != MeasureCount {
		t.Fatalf("rollup route = %+v, rollup %+v", rr, rr.Rollup)
	}
	if c.Routes[0].Stream != "" || len(c.Routes[0].To) != 2 {
		t.Fatal("RollupRoute changed the route")
	}
}

func TestRollupNameClashesWithASchema(t *testing.T) {
	c, err := Parse("c.yaml", []byte("routes:\n  - {key: a, format: alb, stream: s, rollup: {name: listing, window: 1m}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Registry()
	if err == nil || !strings.Contains(err.Error(), `routes[0].rollup.name: "listing" is also a schema's name`) {
		t.Fatalf("error = %v", err)
	}
}

func TestQuantileColumn(t *testing.T) {
	for q, want := range map[float64]string{0.5: "p50_t", 0.95: "p95_t", 0.999: "p99_9_t"} {
		if got := QuantileColumn(q, "t"); got != want {
			t.Errorf("QuantileColumn(%v) = %s, want %s", q, got, want)
		}
	}
}

// A where rule ^literal$ is compared as a string; any other expression is
// a regular expression; not_match inverts either.
func TestWhereRuleMatches(t *testing.T) {
	tests := []struct {
		rule    WhereRule
		yes, no []string
	}{
		{WhereRule{Match: "^/e$"}, []string{"/e"}, []string{"", "/e/", "x/e", "/E"}},
		{WhereRule{Match: "^/e.x$"}, []string{"/e.x", "/eyx"}, []string{"/e.xx"}},
		{WhereRule{Match: "e"}, []string{"e", "/e/x"}, []string{""}},
		{WhereRule{NotMatch: "^ELB-HealthChecker/"}, []string{"Mozilla", ""}, []string{"ELB-HealthChecker/2.0"}},
		{WhereRule{NotMatch: "^-$"}, []string{"x", ""}, []string{"-"}},
	}
	for _, tt := range tests {
		if err := tt.rule.Compile(); err != nil {
			t.Fatal(err)
		}
		for _, v := range tt.yes {
			if !tt.rule.Matches(v) {
				t.Errorf("%+v does not pass %q", tt.rule, v)
			}
		}
		for _, v := range tt.no {
			if tt.rule.Matches(v) {
				t.Errorf("%+v passes %q", tt.rule, v)
			}
		}
	}
}
