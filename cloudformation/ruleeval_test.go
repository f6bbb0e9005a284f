package cloudformation

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// This file evaluates a template's Rules the way CloudFormation does before
// it creates anything, so that tests can ask which parameter combinations a
// template refuses, and why.

// paramValues are parameter values as CloudFormation passes them: strings,
// and lists for CommaDelimitedList parameters.
type paramValues map[string]any

// withDefaults returns the template's defaults overridden by set.
func (tm *template) withDefaults(set map[string]string) paramValues {
	out := paramValues{}
	for name, v := range tm.section("Parameters") {
		p, _ := v.(map[string]any)
		d := ""
		if p["Default"] != nil {
			d = fmt.Sprint(p["Default"])
		}
		if s, ok := set[name]; ok {
			d = s
		}
		if p["Type"] == "CommaDelimitedList" {
			var l []any
			for _, e := range strings.Split(d, ",") {
				l = append(l, e)
			}
			out[name] = l
			continue
		}
		out[name] = d
	}
	return out
}

// evalRule evaluates a rule-condition or assertion function.
func evalRule(v any, p paramValues) (any, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string, int, float64:
		return fmt.Sprint(v), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := evalRule(e, p)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("not a function: %v", v)
		}
		for fn, arg := range v {
			if fn == "Ref" {
				val, ok := p[fmt.Sprint(arg)]
				if !ok {
					return nil, fmt.Errorf("Ref to unknown parameter %v", arg)
				}
				return val, nil
			}
			args, err := evalRule(arg, p)
			if err != nil {
				return nil, err
			}
			l, _ := args.([]any)
			switch fn {
			case "Fn::Equals":
				if len(l) != 2 {
					return nil, fmt.Errorf("Fn::Equals takes 2 arguments: %v", arg)
				}
				return fmt.Sprint(l[0]) == fmt.Sprint(l[1]), nil
			case "Fn::Not":
				if len(l) != 1 {
					return nil, fmt.Errorf("Fn::Not takes 1 argument: %v", arg)
				}
				return l[0] != true, nil
			case "Fn::And", "Fn::Or":
				all, any := true, false
				for _, e := range l {
					b, ok := e.(bool)
					if !ok {
						return nil, fmt.Errorf("%s of a non-condition %v", fn, e)
					}
					all, any = all && b, any || b
				}
				if fn == "Fn::And" {
					return all, nil
				}
				return any, nil
			case "Fn::Join":
				if len(l) != 2 {
					return nil, fmt.Errorf("Fn::Join takes 2 arguments: %v", arg)
				}
				parts, _ := l[1].([]any)
				s := make([]string, len(parts))
				for i, e := range parts {
					s[i] = fmt.Sprint(e)
				}
				return strings.Join(s, fmt.Sprint(l[0])), nil
			default:
				return nil, fmt.Errorf("function %s is not evaluated here", fn)
			}
		}
	}
	return nil, fmt.Errorf("cannot evaluate %T %v", v, v)
}

// refusals returns the AssertDescription of every failed assertion.
func (tm *template) refusals(t testing.TB, set map[string]string) []string {
	t.Helper()
	p := tm.withDefaults(set)
	var out []string
	// CloudFormation checks each value against its parameter first.
	for name, v := range set {
		def, ok := tm.section("Parameters")[name].(map[string]any)
		if allowed := strs(def["AllowedValues"]); ok && len(allowed) > 0 && !contains(allowed, v) {
			out = append(out, fmt.Sprintf("%s=%s is not one of %v", name, v, allowed))
		}
	}
	for name, r := range tm.section("Rules") {
		rule, _ := r.(map[string]any)
		if c, ok := rule["RuleCondition"]; ok {
			v, err := evalRule(c, p)
			if err != nil {
				t.Fatalf("rule %s: %v", name, err)
			}
			if v != true {
				continue
			}
		}
		for _, a := range maps(rule["Assertions"]) {
			v, err := evalRule(a["Assert"], p)
			if err != nil {
				t.Fatalf("rule %s: %v", name, err)
			}
			if v != true {
				out = append(out, fmt.Sprint(a["AssertDescription"]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// combinations calls f with every combination of the values.
func combinations(values map[string][]string, f func(map[string]string)) {
	names := sortedKeys(values)
	var walk func(i int, set map[string]string)
	walk = func(i int, set map[string]string) {
		if i == len(names) {
			f(set)
			return
		}
		for _, v := range values[names[i]] {
			set[names[i]] = v
			walk(i+1, set)
		}
		delete(set, names[i])
	}
	walk(0, map[string]string{})
}

// TestNetworkRules checks, for every combination of the network
// parameters, that each generated template refuses exactly the ones where a
// Lambda could not reach what it calls. The model below says what can
// work, in terms of the network; the template says it with Rules.
func TestNetworkRules(t *testing.T) {
	values := map[string][]string{
		"Redis":                {"none", "create", "existing"},
		"RedisUrl":             {"", "rediss://cache:6379"},
		"RedisSecurityGroupId": {"", "sg-0abc"},
		"VpcId":                {"", "vpc-0abc"},
		"SubnetIds":            {"", "subnet-0a,subnet-0b"},
		"VpcEndpoints":         {"create", "none"},
		"RouteTableIds":        {"", "rtb-0a"},
		"SubnetsHaveNat":       {"true", "false"},
		"LookupSecretArn":      {"", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:lookup"},
	}
	enriched := 0
	eachGenerated(t, func(t *testing.T, tm *template) {
		enriches := len(tm.cfg.Enrichers) > 0
		if enriches {
			enriched++
		}
		n := 0
		combinations(values, func(p map[string]string) {
			n++
			subnets, vpc, nat := p["SubnetIds"] != "", p["VpcId"] != "", p["SubnetsHaveNat"] == "true"
			inVpc := p["Redis"] != "none" && subnets
			endpoints := p["VpcEndpoints"] == "create"
			// The stack can be built...
			buildable := (!subnets || vpc) &&
				(p["Redis"] != "create" || (subnets && vpc)) &&
				(p["Redis"] != "existing" || p["RedisUrl"] != "") &&
				(!inVpc || !endpoints || p["RouteTableIds"] != "")
			// ...and the Lambdas reach S3, Firehose and Lambda, the lookup
			// APIs and Redis.
			reachAWS := !inVpc || nat || endpoints
			reachLookup := !enriches || !inVpc || nat
			reachRedis := p["Redis"] != "existing" || !inVpc || p["RedisSecurityGroupId"] != ""
			// A lookup key is for the config's enrichers.
			consistent := p["LookupSecretArn"] == "" || enriches
			want := buildable && reachAWS && reachLookup && reachRedis && consistent

			got := tm.refusals(t, p)
			if want != (len(got) == 0) {
				t.Errorf("%v: refusals %q, want accepted = %v", p, got, want)
			}
		})
		if n < 500 {
			t.Fatalf("only %d combinations", n)
		}
	})
	if enriched == 0 {
		t.Error("no example topology has enrichers: the lookup rule is not checked")
	}
}

// TestStreamRules checks each stream's options: a source backup needs an
// S3 or Redshift destination, dynamic partitioning a buffer interval.
func TestStreamRules(t *testing.T) {
	eachGenerated(t, func(t *testing.T, tm *template) {
		partitioned := false
		for _, s := range tm.cfg.Streams {
			partitioned = partitioned || s.PartitionKeys
		}
		for _, name := range sortedKeys(tm.cfg.Streams) {
			l := logicalOf(name)
			dests := []string{"s3"}
			if p, ok := tm.section("Parameters")[l+"Destination"].(map[string]any); ok {
				dests = strs(p["AllowedValues"])
			}
			values := map[string][]string{
				l + "Destination":               dests,
				l + "SourceBackup":              {"true", "false"},
				"DeliveryBufferIntervalSeconds": {"0", "60"},
				l + "OpenSearchDomainArn":       {"arn:aws:es:eu-west-1:123456789012:domain/d"},
				l + "RedshiftJdbcUrl":           {"jdbc:redshift://c:5439/db"},
				l + "RedshiftSecretArn":         {"arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs"},
			}
			combinations(values, func(p map[string]string) {
				dest := p[l+"Destination"]
				want := (!partitioned || p["DeliveryBufferIntervalSeconds"] != "0") &&
					(p[l+"SourceBackup"] != "true" || dest != "opensearch")
				got := tm.refusals(t, p)
				if want != (len(got) == 0) {
					t.Errorf("%s %v: refusals %q, want accepted = %v", name, p, got, want)
				}
			})
		}
	})
}

// TestRuleMessages checks that a refusal names what to change.
func TestRuleMessages(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	for _, tt := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"Redis": "create", "VpcId": "vpc-1", "SubnetIds": "subnet-1", "VpcEndpoints": "none"}, "set VpcEndpoints=create, or SubnetsHaveNat=true"},
		{map[string]string{"Redis": "create", "VpcId": "vpc-1", "SubnetIds": "subnet-1"}, "needs RouteTableIds"},
		{map[string]string{"LookupSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k"}, "the config has no enrichers"},
		{map[string]string{"ListingsDestination": "opensearch", "ListingsOpenSearchDomainArn": "d"}, "ListingsDestination"},
	} {
		got := strings.Join(tm.refusals(t, tt.set), " | ")
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v: refusals %q, want one saying %q", tt.set, got, tt.want)
		}
	}
	if got := tm.refusals(t, nil); len(got) != 0 {
		t.Errorf("the defaults are refused: %q", got)
	}
	chain := generatedTemplates(t)
	for _, g := range chain {
		direct := strings.Join(g.refusals(t, map[string]string{"Notification": "direct"}), " | ")
		if existing := notificationPrefixes(g, "InputBucket"); len(g.cfg.Routes) > 0 && existing != nil {
			owned := true
			for _, r := range g.cfg.Routes {
				owned = owned && strings.ContainsAny(r.Bucket, "*?[")
			}
			if owned == strings.Contains(direct, "use Notification=sqs") {
				t.Errorf("%s: Notification=direct refusals %q; routes on buckets the stack does not own: %v", g.name, direct, !owned)
			}
		}
		if len(g.cfg.Enrichers) == 0 {
			continue
		}
		got := strings.Join(g.refusals(t, map[string]string{"Redis": "create", "VpcId": "vpc-1", "SubnetIds": "subnet-1", "RouteTableIds": "rtb-1"}), " | ")
		if !strings.Contains(got, "only through a NAT gateway") {
			t.Errorf("%s: enrichers in a VPC without NAT: refusals %q", g.name, got)
		}
	}
}

func TestEvalRule(t *testing.T) {
	p := paramValues{"A": "x", "L": []any{"a", "b"}}
	for _, tt := range []struct {
		expr any
		want any
	}{
		{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "A"}, "x"}}, true},
		{map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "A"}, "x"}}}}, false},
		{map[string]any{"Fn::Join": []any{"", map[string]any{"Ref": "L"}}}, "ab"},
		{map[string]any{"Fn::Or": []any{false, true}}, true},
		{map[string]any{"Fn::And": []any{true, false}}, false},
	} {
		got, err := evalRule(tt.expr, p)
		if err != nil || got != tt.want {
			t.Errorf("%v = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
	if _, err := evalRule(map[string]any{"Fn::Contains": []any{}}, p); err == nil {
		t.Error("an unknown function evaluated")
	}
}
