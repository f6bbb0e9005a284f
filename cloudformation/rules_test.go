package cloudformation

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// starResources are the Allow statements that may name Resource "*", by
// template and statement Sid, with the reason.
var starResources = map[string]string{
	// Lambda attaches a function to its VPC with the function's role; the
	// network interfaces it creates and describes have no ARN known in
	// advance (AWSLambdaVPCAccessExecutionRole grants the same on "*").
	"pipeline.yaml/VpcNetworkInterfaces": "Lambda VPC network interfaces",
}

// eachTemplate runs f on every template of this directory and on those
// generated from the example topologies.
func eachTemplate(t *testing.T, f func(t *testing.T, tm *template)) {
	for _, name := range templates {
		t.Run(name, func(t *testing.T) {
			if name == "pipeline.yaml" {
				f(t, loadPipeline(t))
				return
			}
			f(t, loadTemplate(t, name))
		})
	}
	for _, tm := range generatedTemplates(t) {
		t.Run(tm.name, func(t *testing.T) { f(t, tm) })
	}
}

// eachGenerated runs f on pipeline.yaml and the generated templates.
func eachGenerated(t *testing.T, f func(t *testing.T, tm *template)) {
	t.Run("pipeline.yaml", func(t *testing.T) { f(t, loadPipeline(t)) })
	for _, tm := range generatedTemplates(t) {
		t.Run(tm.name, func(t *testing.T) { f(t, tm) })
	}
}

func TestNoWildcardActions(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, p := range append(tm.identityPolicies(), tm.resourcePolicies()...) {
			for _, st := range statements(p.doc) {
				if st["NotAction"] != nil || st["NotResource"] != nil {
					t.Errorf("%s %v: NotAction/NotResource grants more than it names", p.owner, st["Sid"])
				}
				if st["Effect"] != "Allow" {
					continue // a Deny may be broad: it only takes away
				}
				for _, a := range strs(st["Action"]) {
					if strings.Contains(a, "*") {
						t.Errorf("%s %v: wildcard action %q", p.owner, st["Sid"], a)
					}
				}
				if len(strs(st["Action"])) == 0 {
					t.Errorf("%s %v: Allow without a literal action", p.owner, st["Sid"])
				}
			}
		}
	})
}

// scoped reports whether a Resource value names something this stack owns
// or the user passed in: a Ref or GetAtt, or a Sub that uses at least one
// variable besides the AWS:: pseudo parameters.
func scoped(v any) bool {
	bs := branches(v)
	if len(bs) == 0 {
		return false
	}
	for _, b := range bs {
		switch b := b.(type) {
		case []any:
			for _, e := range b {
				if !scoped(e) {
					return false
				}
			}
		case map[string]any:
			if refName(b) != "" {
				continue
			}
			sub, ok := b["Fn::Sub"]
			if !ok {
				return false
			}
			s, _ := sub.(string)
			if l, ok := sub.([]any); ok && len(l) > 0 {
				s, _ = l[0].(string)
			}
			s = regexp.MustCompile(`\$\{AWS::[A-Za-z]+\}`).ReplaceAllString(s, "")
			if !strings.Contains(s, "${") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func TestResourcesScoped(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, p := range append(tm.identityPolicies(), tm.resourcePolicies()...) {
			for _, st := range statements(p.doc) {
				if st["Effect"] != "Allow" {
					continue
				}
				sid := fmt.Sprint(st["Sid"])
				owner := tm.name
				if tm.generated {
					owner = "pipeline.yaml"
				}
				if _, ok := starResources[owner+"/"+sid]; ok {
					if fmt.Sprint(st["Resource"]) != "*" {
						t.Errorf("%s %s is listed as needing Resource \"*\" but names %v: drop it from starResources", p.owner, sid, st["Resource"])
					}
					continue
				}
				if !scoped(st["Resource"]) {
					t.Errorf("%s %s: Resource %v is not scoped to the stack's own ARNs", p.owner, sid, st["Resource"])
				}
				for _, pr := range maps(st["Principal"]) {
					if fmt.Sprint(pr["AWS"]) == "*" {
						t.Errorf("%s %s: Allow to every principal", p.owner, sid)
					}
				}
				if st["Principal"] == "*" {
					t.Errorf("%s %s: Allow to every principal", p.owner, sid)
				}
			}
		}
	})
}

func TestScopedRejectsBroadResources(t *testing.T) {
	for _, v := range []any{
		"*",
		"arn:aws:s3:::*",
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/*"},
		[]any{map[string]any{"Ref": "Bucket"}, "*"},
	} {
		if scoped(v) {
			t.Errorf("scoped(%v) = true, want false", v)
		}
	}
	for _, v := range []any{
		map[string]any{"Ref": "LookupSecretArn"},
		map[string]any{"Fn::Sub": "${OutputBucket.Arn}/*"},
		map[string]any{"Fn::If": []any{"C", map[string]any{"Fn::GetAtt": []any{"Q", "Arn"}}, map[string]any{"Ref": "AWS::NoValue"}}},
	} {
		if !scoped(v) {
			t.Errorf("scoped(%v) = false, want true", v)
		}
	}
}

func TestLambdaPermissionsNameTheirSource(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, r := range tm.resources("AWS::Lambda::Permission") {
			if r.props["SourceArn"] == nil || r.props["SourceAccount"] == nil {
				t.Errorf("%s: a Lambda permission needs SourceArn and SourceAccount", r.name)
			}
		}
	})
}

// TestFirehoseTrustNamesAccount checks the trust policy of the Firehose
// developer guide: Firehose passes the stream's account id as sts:ExternalId.
func TestFirehoseTrustNamesAccount(t *testing.T) {
	found := 0
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, r := range tm.resources("AWS::IAM::Role") {
			for _, d := range maps(r.props["AssumeRolePolicyDocument"]) {
				for _, st := range statements(d) {
					services := []string{}
					for _, pr := range maps(st["Principal"]) {
						services = append(services, strs(pr["Service"])...)
					}
					if !contains(services, "firehose.amazonaws.com") {
						continue
					}
					found++
					cond, _ := st["Condition"].(map[string]any)
					eq, _ := cond["StringEquals"].(map[string]any)
					if refName(eq["sts:ExternalId"]) != "AWS::AccountId" {
						t.Errorf("%s: Firehose trust must require sts:ExternalId = AWS::AccountId", r.name)
					}
				}
			}
		}
	})
	if found == 0 {
		t.Error("no role trusts firehose.amazonaws.com")
	}
}

func TestBuckets(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, b := range tm.resources("AWS::S3::Bucket") {
			enc := maps(dig(b.props, "BucketEncryption", "ServerSideEncryptionConfiguration"))
			if len(enc) == 0 || dig(enc[0], "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
				t.Errorf("%s: not encrypted", b.name)
			}
			pab, _ := b.props["PublicAccessBlockConfiguration"].(map[string]any)
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if pab[k] != true {
					t.Errorf("%s: PublicAccessBlockConfiguration.%s must be true", b.name, k)
				}
			}
			if b.props["NotificationConfiguration"] != nil && dig(b.props, "VersioningConfiguration", "Status") != "Enabled" {
				t.Errorf("%s: an input bucket must be versioned (the splitter reads by versionId)", b.name)
			}
			if !denyInsecureTransport(tm, b.name) {
				t.Errorf("%s: no bucket policy denies s3:* on the bucket and its objects when aws:SecureTransport is false", b.name)
			}
		}
	})
}

func denyInsecureTransport(tm *template, bucket string) bool {
	for _, p := range tm.resources("AWS::S3::BucketPolicy") {
		if refName(p.props["Bucket"]) != bucket {
			continue
		}
		for _, d := range maps(p.props["PolicyDocument"]) {
			for _, st := range statements(d) {
				if st["Effect"] != "Deny" || st["Principal"] != "*" || !contains(strs(st["Action"]), "s3:*") {
					continue
				}
				if fmt.Sprint(dig(st, "Condition", "Bool", "aws:SecureTransport")) != "false" {
					continue
				}
				res := fmt.Sprint(st["Resource"])
				if strings.Contains(res, "[map[Fn::GetAtt:["+bucket+" Arn]]") && strings.Contains(res, "${"+bucket+".Arn}/*") {
					return true
				}
			}
		}
	}
	return false
}

func TestInputBucketVersioned(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	b, ok := tm.resource("InputBucket")
	if !ok || dig(b.props, "VersioningConfiguration", "Status") != "Enabled" {
		t.Fatal("pipeline.yaml: InputBucket must be versioned")
	}
}

func TestLogGroupsHaveRetention(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, g := range tm.resources("AWS::Logs::LogGroup") {
			if g.props["RetentionInDays"] == nil {
				t.Errorf("%s: no RetentionInDays", g.name)
			}
		}
		// A Lambda without its own log group writes to one Lambda creates,
		// which keeps logs forever.
		for _, f := range tm.resources("AWS::Lambda::Function") {
			g, ok := tm.resource(refName(dig(f.props, "LoggingConfig", "LogGroup")))
			if !ok || g.typ != "AWS::Logs::LogGroup" {
				t.Errorf("%s: LoggingConfig.LogGroup must name a log group of this template", f.name)
			}
		}
	})
}

func TestQueues(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	queues := tm.resources("AWS::SQS::Queue")
	if len(queues) == 0 {
		t.Fatal("pipeline.yaml has no queue")
	}
	for _, q := range queues {
		if q.props["SqsManagedSseEnabled"] != true && q.props["KmsMasterKeyId"] == nil {
			t.Errorf("%s: not encrypted", q.name)
		}
	}
	mappings := tm.resources("AWS::Lambda::EventSourceMapping")
	if len(mappings) == 0 {
		t.Fatal("pipeline.yaml: no queue triggers the splitter")
	}
	for _, m := range mappings {
		q, _ := tm.resource(refName(m.props["EventSourceArn"]))
		rp, _ := q.props["RedrivePolicy"].(map[string]any)
		dlq, ok := tm.resource(refName(rp["deadLetterTargetArn"]))
		if !ok || dlq.typ != "AWS::SQS::Queue" {
			t.Errorf("%s: queue %s has no redrive policy to a dead-letter queue of this template", m.name, q.name)
			continue
		}
		if n, _ := rp["maxReceiveCount"].(int); n < 1 {
			t.Errorf("%s: maxReceiveCount = %v", q.name, rp["maxReceiveCount"])
		}
		if !contains(strs(m.props["FunctionResponseTypes"]), "ReportBatchItemFailures") {
			t.Errorf("%s: without ReportBatchItemFailures one bad message redelivers the whole batch", m.name)
		}
		alarmed := false
		for _, a := range tm.resources("AWS::CloudWatch::Alarm") {
			for _, d := range maps(a.props["Dimensions"]) {
				if d["Name"] == "QueueName" && refName(d["Value"]) == dlq.name {
					alarmed = true
				}
			}
		}
		if !alarmed {
			t.Errorf("no alarm watches the depth of %s", dlq.name)
		}
	}
}

func TestLambdas(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for name, zip := range map[string]string{"SplitterFunction": "../dist/splitter.zip", "TransformFunction": "../dist/transform.zip"} {
		f, ok := tm.resource(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		want := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Code": zip}
		for k, v := range want {
			if f.props[k] != v {
				t.Errorf("%s.%s = %v, want %v", name, k, f.props[k], v)
			}
		}
		if fmt.Sprint(f.props["Architectures"]) != "[arm64]" {
			t.Errorf("%s.Architectures = %v, want [arm64]", name, f.props["Architectures"])
		}
		if !strings.Contains(string(makefile), strings.TrimPrefix(zip, "../")) {
			t.Errorf("the Makefile does not build %s", zip)
		}
		// Only the package-only warning may be silenced: anything else
		// cfn-lint says must be fixed, not ignored.
		if ign := fmt.Sprint(dig(f.body, "Metadata", "cfn-lint", "config", "ignore_checks")); ign != "[W3002]" {
			t.Errorf("%s ignores cfn-lint checks %s; only W3002 (local Code for `aws cloudformation package`) may be", name, ign)
		}
		if dig(f.props, "ReservedConcurrentExecutions") == nil {
			t.Errorf("%s: reserved concurrency is not a parameter", name)
		}
	}
}

// TestFirehose checks every delivery stream of the generated templates:
// Direct PUT, the shared transform as processor with the buffer
// parameters, errors under an error-output-type prefix, logs.
func TestFirehose(t *testing.T) {
	eachGenerated(t, func(t *testing.T, tm *template) {
		streams := tm.resources("AWS::KinesisFirehose::DeliveryStream")
		if len(streams) != len(tm.cfg.Streams) {
			t.Fatalf("%d delivery streams for %d configured", len(streams), len(tm.cfg.Streams))
		}
		for _, s := range streams {
			if s.props["DeliveryStreamType"] != "DirectPut" {
				t.Errorf("%s: DeliveryStreamType = %v", s.name, s.props["DeliveryStreamType"])
			}
			l := strings.TrimSuffix(s.name, "Stream")
			dests := map[string]string{
				"ExtendedS3DestinationConfiguration":              l + "ToS3",
				"AmazonopensearchserviceDestinationConfiguration": l + "ToOpenSearch",
				"RedshiftDestinationConfiguration":                l + "ToRedshift",
			}
			found := 0
			for key, cond := range dests {
				v, ok := s.props[key].(map[string]any)
				if !ok {
					continue
				}
				found++
				if l, ok := v["Fn::If"].([]any); ok && (len(l) != 3 || l[0] != cond) {
					t.Errorf("%s.%s must be conditional on %s", s.name, key, cond)
				}
				d := maps(v)[0]
				s3 := d
				if key != "ExtendedS3DestinationConfiguration" {
					s3, _ = d["S3Configuration"].(map[string]any)
				}
				for _, p := range strs(s3["ErrorOutputPrefix"]) {
					if !strings.Contains(p, "!{firehose:error-output-type}") {
						t.Errorf("%s.%s: ErrorOutputPrefix %q lacks !{firehose:error-output-type}", s.name, key, p)
					}
				}
				if s3["ErrorOutputPrefix"] == nil {
					t.Errorf("%s.%s: no ErrorOutputPrefix", s.name, key)
				}
				params := map[string]string{}
				for _, pr := range maps(dig(d, "ProcessingConfiguration", "Processors")) {
					if pr["Type"] != "Lambda" {
						continue
					}
					for _, kv := range maps(pr["Parameters"]) {
						params[fmt.Sprint(kv["ParameterName"])] = refName(kv["ParameterValue"])
					}
				}
				want := map[string]string{"LambdaArn": "TransformFunction", "BufferSizeInMBs": "ProcessorBufferSizeMB", "BufferIntervalInSeconds": "ProcessorBufferIntervalSeconds", "NumberOfRetries": "ProcessorRetries"}
				for k, v := range want {
					if params[k] != v {
						t.Errorf("%s.%s: processor parameter %s = %q, want %s", s.name, key, k, params[k], v)
					}
				}
				if refName(dig(d, "CloudWatchLoggingOptions", "LogGroupName")) != "FirehoseLogGroup" {
					t.Errorf("%s.%s: Firehose errors are not logged to FirehoseLogGroup", s.name, key)
				}
			}
			if found == 0 {
				t.Errorf("%s has no destination", s.name)
			}
		}
	})
}

// emfMetrics are the metrics the Lambdas publish in embedded metric format
// (namespace sluice, one dimension Function = splitter or transform). The
// dashboard, the alarms and docs/deploy.md use these names.
var emfMetrics = []string{"RecordsIn", "Ok", "Dropped", "Failed", "DeadLetters", "BytesIn", "BytesOut", "DurationMs"}

type metricKey struct{ namespace, name, function string }

func TestAlarmsAndDashboard(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	dash, _ := tm.resource("Dashboard")
	body := fmt.Sprint(dash.props["DashboardBody"])
	if l, ok := dig(dash.props, "DashboardBody", "Fn::Sub").([]any); ok {
		body = fmt.Sprint(l[0])
	}
	var parsed struct {
		Widgets []struct {
			Properties struct {
				Metrics     [][]string `json:"metrics"`
				Annotations struct {
					Alarms []string `json:"alarms"`
				} `json:"annotations"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	widgetAlarms := map[string]bool{}
	shown := map[metricKey]bool{}
	for _, w := range parsed.Widgets {
		for _, a := range w.Properties.Annotations.Alarms {
			widgetAlarms[strings.TrimSuffix(strings.TrimPrefix(a, "${"), ".Arn}")] = true
		}
		var prev []string
		for _, m := range w.Properties.Metrics {
			row := append([]string(nil), m...)
			for i := range row {
				if row[i] == "." && i < len(prev) {
					row[i] = prev[i]
				}
			}
			prev = row
			if len(row) >= 4 && row[2] == "Function" {
				shown[metricKey{row[0], row[1], row[3]}] = true
			}
		}
	}

	alarms := map[metricKey]string{}
	for _, a := range tm.resources("AWS::CloudWatch::Alarm") {
		if !widgetAlarms[a.name] {
			t.Errorf("alarm %s has no dashboard widget", a.name)
		}
		actions, _ := a.props["AlarmActions"].(map[string]any)
		if l, _ := actions["Fn::If"].([]any); len(l) != 3 || l[0] != "HasAlarmTopic" {
			t.Errorf("alarm %s does not notify AlarmTopicArn", a.name)
		}
		fn := ""
		for _, d := range maps(a.props["Dimensions"]) {
			if d["Name"] == "Function" {
				fn = fmt.Sprint(d["Value"])
			}
			if refName(d["Value"]) == "SplitterFunction" {
				fn = "splitter"
			}
			if refName(d["Value"]) == "TransformFunction" {
				fn = "transform"
			}
		}
		for _, name := range strs(a.props["MetricName"]) {
			alarms[metricKey{fmt.Sprint(a.props["Namespace"]), name, fn}] = a.name
		}
	}
	for _, want := range []metricKey{
		{"sluice", "Failed", "transform"},
		{"AWS/Firehose", "ExecuteProcessing.Success", ""},
		{"sluice", "DeadLetters", "splitter"},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", ""},
		{"AWS/Lambda", "Errors", "splitter"},
		{"AWS/Lambda", "Errors", "transform"},
		{"AWS/Lambda", "Throttles", "splitter"},
		{"AWS/Lambda", "Throttles", "transform"},
		{"AWS/Firehose", "DeliveryToS3.DataFreshness", ""},
	} {
		if alarms[want] == "" {
			t.Errorf("no alarm on %s %s %s", want.namespace, want.name, want.function)
		}
	}
	for k, a := range alarms {
		if k.namespace == "sluice" && !contains(emfMetrics, k.name) {
			t.Errorf("alarm %s watches sluice/%s, which no Lambda publishes", a, k.name)
		}
	}
	for _, fn := range []string{"splitter", "transform"} {
		for _, m := range emfMetrics {
			if !shown[metricKey{"sluice", m, fn}] {
				t.Errorf("the dashboard does not show sluice/%s for Function=%s", m, fn)
			}
		}
	}
}

func TestWebhookIsAServiceIntegration(t *testing.T) {
	tm := loadTemplate(t, "webhook-apigw.yaml")
	if fs := tm.resources("AWS::Lambda::Function"); len(fs) != 0 {
		t.Errorf("webhook-apigw.yaml runs a Lambda: %s", fs[0].name)
	}
	m, _ := tm.resource("WebhookMethod")
	in, _ := m.props["Integration"].(map[string]any)
	if in["Type"] != "AWS" || !strings.HasSuffix(fmt.Sprint(dig(in, "Uri", "Fn::Sub")), ":firehose:action/PutRecord") {
		t.Errorf("integration %v %v is not Firehose PutRecord", in["Type"], in["Uri"])
	}
	if tpl := fmt.Sprint(dig(in, "RequestTemplates")); !strings.Contains(tpl, "$util.base64Encode($input.body)") {
		t.Errorf("request template does not base64-encode the body: %s", tpl)
	}
	if got := tm.roleActions("IntegrationRole"); fmt.Sprint(got) != "[firehose:PutRecord]" {
		t.Errorf("IntegrationRole may %v, want [firehose:PutRecord]", got)
	}
}

func TestCollectorAnswersWithoutCompute(t *testing.T) {
	tm := loadTemplate(t, "collector-alb.yaml")
	if fs := tm.resources("AWS::Lambda::Function"); len(fs) != 0 {
		t.Errorf("collector-alb.yaml runs a Lambda: %s", fs[0].name)
	}
	fixed := 0
	for _, l := range tm.resources("AWS::ElasticLoadBalancingV2::Listener") {
		for _, a := range maps(l.props["DefaultActions"]) {
			switch a["Type"] {
			case "fixed-response":
				fixed++
				if code := dig(a, "FixedResponseConfig", "StatusCode"); code != "204" {
					t.Errorf("%s answers %v, want 204", l.name, code)
				}
			case "redirect":
			default:
				t.Errorf("%s forwards (%v): the collector must run no compute", l.name, a["Type"])
			}
		}
	}
	if fixed == 0 {
		t.Error("no listener answers with a fixed response")
	}
	lb, _ := tm.resource("LoadBalancer")
	attrs := map[string]any{}
	for _, kv := range maps(lb.props["LoadBalancerAttributes"]) {
		attrs[fmt.Sprint(kv["Key"])] = kv["Value"]
	}
	if attrs["access_logs.s3.enabled"] != "true" || refName(attrs["access_logs.s3.prefix"]) != "AlbLogsPrefix" {
		t.Errorf("access logs are not written under AlbLogsPrefix: %v", attrs)
	}
	pipe := loadTemplate(t, "pipeline.yaml")
	a, _ := tm.parameterDefault("AlbLogsPrefix")
	b, _ := pipe.parameterDefault("AlbLogsPrefix")
	if a != b {
		t.Errorf("AlbLogsPrefix defaults differ: collector %q, pipeline %q", a, b)
	}
	// Both ways ELB delivers logs: Regions opened before August 2022 write
	// as a regional ELB account, newer ones as a service principal.
	policy := fmt.Sprint(pipe.root["Resources"].(map[string]any)["InputBucketPolicy"])
	for _, want := range []string{"logdelivery.elasticloadbalancing.amazonaws.com", "ElbLogAccount", "${InputBucket.Arn}/${AlbLogsPrefix}/AWSLogs/${AWS::AccountId}/*"} {
		if !strings.Contains(policy, want) {
			t.Errorf("InputBucketPolicy lacks %s", want)
		}
	}
}

// TestDocsCoverTemplates checks that docs/deploy.md names every parameter
// and every alarm.
func TestDocsCoverTemplates(t *testing.T) {
	doc, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	eachTemplate(t, func(t *testing.T, tm *template) {
		// A stream's parameters and alarms are documented once, as
		// <Stream>Destination for PageViewsDestination.
		generic := func(name string) string {
			if tm.cfg == nil {
				return name
			}
			for s := range tm.cfg.Streams {
				if rest, ok := strings.CutPrefix(name, logicalOf(s)); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
					return "<Stream>" + rest
				}
			}
			return name
		}
		for name := range tm.section("Parameters") {
			if !strings.Contains(string(doc), "`"+generic(name)+"`") {
				t.Errorf("docs/deploy.md does not describe parameter `%s`", generic(name))
			}
		}
		for _, a := range tm.resources("AWS::CloudWatch::Alarm") {
			if !strings.Contains(string(doc), "`"+generic(a.name)+"`") {
				t.Errorf("docs/deploy.md does not explain alarm `%s`", generic(a.name))
			}
		}
	})
	for _, m := range emfMetrics {
		if !strings.Contains(string(doc), "`"+m+"`") {
			t.Errorf("docs/deploy.md does not list EMF metric `%s`", m)
		}
	}
}

// dig follows keys through nested mappings (taking the first branch of an
// Fn::If on the way).
func dig(v any, keys ...string) any {
	for _, k := range keys {
		ms := maps(v)
		if len(ms) == 0 {
			return nil
		}
		v = ms[0][k]
	}
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
