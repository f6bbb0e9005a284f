package cloudformation

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
	"go.yaml.in/yaml/v3"
)

// templates are every template in this directory.
var templates = []string{"pipeline.yaml", "collector-alb.yaml", "webhook-apigw.yaml"}

// template is a parsed CloudFormation template in its JSON form: short-form
// intrinsics (!Ref, !Sub, !GetAtt, !If ...) become {"Ref": ...} and
// {"Fn::Sub": ...} maps, as CloudFormation itself reads them.
type template struct {
	name string
	root map[string]any
	// generated is true for pipeline.yaml and the templates generated
	// from the example topologies; cfg is their config when a test set it.
	generated bool
	cfg       *config.Config
}

// resource is one entry of Resources.
type resource struct {
	name  string
	typ   string
	props map[string]any
	body  map[string]any
}

func loadTemplate(t testing.TB, name string) *template {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := parseTemplate(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func parseTemplate(name string, src []byte) (*template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	budget := maxNodes
	v, err := toValue(&doc, &budget)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a mapping", name)
	}
	return &template{name: name, root: root, generated: name == "pipeline.yaml"}, nil
}

// maxNodes bounds the values a template may expand to, so that aliases of
// aliases (a "billion laughs" document) fail instead of exhausting memory.
const maxNodes = 1_000_000

// toValue converts a yaml.Node to plain Go values, expanding CloudFormation's
// short-form tags and YAML aliases; budget counts the nodes left.
func toValue(n *yaml.Node, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("more than %d values after expanding aliases", maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], budget)
	case yaml.AliasNode:
		return toValue(n.Alias, budget)
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		plain := *n
		plain.Tag = ""
		if n.Kind == yaml.ScalarNode {
			plain.Tag = "!!str"
		}
		inner, err := toValue(&plain, budget)
		if err != nil {
			return nil, err
		}
		switch fn := tag[1:]; fn {
		case "Ref", "Condition":
			return map[string]any{fn: inner}, nil
		case "GetAtt":
			if s, ok := inner.(string); ok {
				res, attr, _ := strings.Cut(s, ".")
				inner = []any{res, attr}
			}
			return map[string]any{"Fn::GetAtt": inner}, nil
		default:
			return map[string]any{"Fn::" + fn: inner}, nil
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := toValue(n.Content[i+1], budget)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toValue(c, budget)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

func (tm *template) section(name string) map[string]any {
	m, _ := tm.root[name].(map[string]any)
	return m
}

func (tm *template) resources(typ string) []resource {
	var out []resource
	for name, v := range tm.section("Resources") {
		body, _ := v.(map[string]any)
		r := resource{name: name, body: body}
		r.typ, _ = body["Type"].(string)
		r.props, _ = body["Properties"].(map[string]any)
		if typ == "" || r.typ == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (tm *template) resource(name string) (resource, bool) {
	for _, r := range tm.resources("") {
		if r.name == name {
			return r, true
		}
	}
	return resource{}, false
}

// parameterDefault returns a parameter's Default as a string.
func (tm *template) parameterDefault(name string) (string, bool) {
	p, ok := tm.section("Parameters")[name].(map[string]any)
	if !ok {
		return "", false
	}
	d, ok := p["Default"]
	return fmt.Sprint(d), ok
}

// branches returns the values v may take: both sides of every Fn::If, and
// nothing for AWS::NoValue.
func branches(v any) []any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if ref, ok := m["Ref"].(string); ok && ref == "AWS::NoValue" {
			return nil
		}
		if l, ok := m["Fn::If"].([]any); ok && len(l) == 3 {
			return append(branches(l[1]), branches(l[2])...)
		}
	}
	return []any{v}
}

// maps returns the mappings among v's branches, looking into lists.
func maps(v any) []map[string]any {
	var out []map[string]any
	for _, b := range branches(v) {
		switch b := b.(type) {
		case map[string]any:
			out = append(out, b)
		case []any:
			for _, e := range b {
				out = append(out, maps(e)...)
			}
		}
	}
	return out
}

// strs returns the literal strings among v's branches, looking into lists.
func strs(v any) []string {
	var out []string
	for _, b := range branches(v) {
		switch b := b.(type) {
		case string:
			out = append(out, b)
		case []any:
			for _, e := range b {
				out = append(out, strs(e)...)
			}
		}
	}
	return out
}

// list returns v's branches, each list flattened.
func list(v any) []any {
	var out []any
	for _, b := range branches(v) {
		if l, ok := b.([]any); ok {
			for _, e := range l {
				out = append(out, branches(e)...)
			}
			continue
		}
		out = append(out, b)
	}
	return out
}

// refName returns the logical name v refers to with Ref or GetAtt.
func refName(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if s, ok := m["Ref"].(string); ok {
		return s
	}
	if l, ok := m["Fn::GetAtt"].([]any); ok && len(l) == 2 {
		s, _ := l[0].(string)
		return s
	}
	return ""
}

// policyDoc is one policy document and where it sits.
type policyDoc struct {
	owner string // logical name of the role or policy resource
	role  string // the role it grants to ("" for resource policies)
	doc   map[string]any
}

// identityPolicies returns the policies granted to roles: inline role
// policies and AWS::IAM::RolePolicy / AWS::IAM::Policy resources.
func (tm *template) identityPolicies() []policyDoc {
	var out []policyDoc
	for _, r := range tm.resources("AWS::IAM::Role") {
		for _, p := range maps(r.props["Policies"]) {
			for _, d := range maps(p["PolicyDocument"]) {
				out = append(out, policyDoc{owner: r.name, role: r.name, doc: d})
			}
		}
	}
	for _, r := range tm.resources("AWS::IAM::RolePolicy") {
		for _, d := range maps(r.props["PolicyDocument"]) {
			out = append(out, policyDoc{owner: r.name, role: refName(r.props["RoleName"]), doc: d})
		}
	}
	for _, r := range tm.resources("AWS::IAM::Policy") {
		for _, role := range list(r.props["Roles"]) {
			for _, d := range maps(r.props["PolicyDocument"]) {
				out = append(out, policyDoc{owner: r.name, role: refName(role), doc: d})
			}
		}
	}
	return out
}

// resourcePolicies returns bucket and queue policies.
func (tm *template) resourcePolicies() []policyDoc {
	var out []policyDoc
	for _, typ := range []string{"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"} {
		for _, r := range tm.resources(typ) {
			for _, d := range maps(r.props["PolicyDocument"]) {
				out = append(out, policyDoc{owner: r.name, doc: d})
			}
		}
	}
	return out
}

func statements(doc map[string]any) []map[string]any { return maps(doc["Statement"]) }

// roleActions returns every action any branch of the template may grant to
// role, sorted.
func (tm *template) roleActions(role string) []string {
	set := map[string]bool{}
	for _, p := range tm.identityPolicies() {
		if p.role != role {
			continue
		}
		for _, st := range statements(p.doc) {
			if st["Effect"] == "Allow" {
				for _, a := range strs(st["Action"]) {
					set[a] = true
				}
			}
		}
	}
	return sortedSet(set)
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestParseTemplateShortForms(t *testing.T) {
	src := []byte(`
A: !Ref X
B: !GetAtt Res.Attr.Sub
C: !Sub ["${a}", {a: !Ref Y}]
D: !If [Cond, 1, !Ref "AWS::NoValue"]
E: !Not [!Condition C]
`)
	tm, err := parseTemplate("t.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"A": "map[Ref:X]",
		"B": "map[Fn::GetAtt:[Res Attr.Sub]]",
		"C": "map[Fn::Sub:[${a} map[a:map[Ref:Y]]]]",
		"D": "map[Fn::If:[Cond 1 map[Ref:AWS::NoValue]]]",
		"E": "map[Fn::Not:[map[Condition:C]]]",
	}
	for k, w := range want {
		if got := fmt.Sprint(tm.root[k]); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	if got := branches(tm.root["D"]); len(got) != 1 || got[0] != 1 {
		t.Errorf("branches(D) = %v, want [1] (NoValue dropped)", got)
	}
}

func TestParseTemplateRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	if _, err := parseTemplate("bomb.yaml", []byte(b.String())); err == nil || !strings.Contains(err.Error(), "after expanding aliases") {
		t.Fatalf("err = %v, want the expansion limit", err)
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, name := range templates {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("A: !GetAtt [B, C]\nD: !Ref\n"))
	f.Add([]byte("a: &x !Sub s\nb: *x\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tm, err := parseTemplate("fuzz.yaml", src)
		if err != nil {
			return
		}
		// Whatever parses can be walked by every helper.
		for _, r := range tm.resources("") {
			_ = branches(r.props)
			_ = strs(r.props)
			_ = list(r.props)
			_ = maps(r.props)
			_ = scoped(r.props)
		}
		_ = tm.identityPolicies()
		_ = tm.resourcePolicies()
	})
}
