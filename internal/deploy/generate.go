package deploy

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/sluicehq/sluice/internal/config"
)

//go:embed stack.yaml.tmpl
var stackTemplate string

// The template's actions are <% %>: CloudFormation's YAML and the
// dashboard's JSON are full of braces.
var stackTmpl = template.Must(template.New("stack").Delims("<%", "%>").Funcs(template.FuncMap{
	"join": strings.Join,
	"endpoint": func(name, cond, service string) map[string]string {
		return map[string]string{"Name": name, "Condition": cond, "Service": service}
	},
	"lambdaAlarm": func(name, metric, function, description string) map[string]string {
		return map[string]string{"Name": name, "Metric": metric, "Function": function, "Description": description}
	},
}).Parse(stackTemplate))

// Template writes the CloudFormation template that deploys cfg as one
// stack: the input bucket, the splitter, one Firehose delivery stream per
// stream of the config sharing one transform, the S3 or SQS notifications
// of every routed prefix (chained ones included), dead letters, the Redis
// option, VPC endpoints, alarms and a dashboard. The same config gives the
// same bytes.
func Template(w io.Writer, cfg *config.Config) error {
	st, err := newStack(cfg)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	var buf bytes.Buffer
	if err := stackTmpl.Execute(&buf, st); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// FedStreams are the streams routes send records to.
func (st *stack) FedStreams() []stream { return st.filter(func(s stream) bool { return s.Fed }) }

// OpenSearchStreams are the streams that may deliver to OpenSearch.
func (st *stack) OpenSearchStreams() []stream {
	return st.filter(func(s stream) bool { return s.HasDestination(ToOpenSearch) })
}

// RedshiftStreams are the streams that may deliver to Redshift.
func (st *stack) RedshiftStreams() []stream {
	return st.filter(func(s stream) bool { return s.HasDestination(ToRedshift) })
}

func (st *stack) AnyOpenSearch() bool { return len(st.OpenSearchStreams()) > 0 }
func (st *stack) AnyRedshift() bool   { return len(st.RedshiftStreams()) > 0 }
func (st *stack) AnyPartitioned() bool {
	return len(st.filter(func(s stream) bool { return s.Partitioned })) > 0
}

func (st *stack) filter(keep func(stream) bool) []stream {
	var out []stream
	for _, s := range st.Streams {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// Dashboard returns the DashboardBody value: a Fn::Sub of the dashboard's
// JSON, with a variable for the delivered-records metric of each stream
// whose destination is a parameter.
func (st *stack) Dashboard() string {
	var widgets []string
	x, y := 0, 0
	add := func(width int, props string) {
		if x+width > 24 {
			x, y = 0, y+6
		}
		widgets = append(widgets, fmt.Sprintf(`{"type":"metric","x":%d,"y":%d,"width":%d,"height":6,"properties":{%s}}`, x, y, width, props))
		x += width
	}
	alarm := func(title, name string) {
		add(8, fmt.Sprintf(`"title":%q,"region":"${AWS::Region}","annotations":{"alarms":["${%s.Arn}"]}`, title, name))
	}
	alarm("ProcessingFailed records", "ProcessingFailedAlarm")
	alarm("Splitter dead letters", "SplitterDeadLettersAlarm")
	alarm("Dead-letter queue depth", "DeadLetterQueueAlarm")
	alarm("Splitter errors", "SplitterErrorsAlarm")
	alarm("Splitter throttles", "SplitterThrottlesAlarm")
	alarm("Transform errors", "TransformErrorsAlarm")
	alarm("Transform throttles", "TransformThrottlesAlarm")
	for _, s := range st.Streams {
		alarm(s.Name+": transform invocations failed", s.Logical+"InvocationFailedAlarm")
		alarm(s.Name+": data freshness", s.Logical+"DataFreshnessAlarm")
	}
	x = 24 // new row
	for _, fn := range []string{"splitter", "transform"} {
		add(12, fmt.Sprintf(`"title":"%s records","region":"${AWS::Region}","view":"timeSeries","stat":"Sum","period":300,"metrics":[["sluice","RecordsIn","Function","%s"],[".","Ok",".","."],[".","Dropped",".","."],[".","Failed",".","."],[".","DeadLetters",".","."]]`, strings.ToUpper(fn[:1])+fn[1:], fn))
	}
	add(12, `"title":"Bytes","region":"${AWS::Region}","view":"timeSeries","stat":"Sum","period":300,"metrics":[["sluice","BytesIn","Function","splitter"],[".","BytesOut",".","."],[".","BytesIn",".","transform"],[".","BytesOut",".","."]]`)
	add(12, `"title":"Duration (ms)","region":"${AWS::Region}","view":"timeSeries","stat":"p99","period":300,"metrics":[["sluice","DurationMs","Function","splitter"],[".","DurationMs",".","transform"]]`)
	var vars []string
	for _, s := range st.Streams {
		delivered := "DeliveryToS3.Records"
		if s.Choice() {
			delivered = "${" + s.Logical + "Delivered}"
			other := "DeliveryToRedshift.Records"
			if s.HasDestination(ToOpenSearch) {
				other = fmt.Sprintf("!If [%sToOpenSearch, DeliveryToAmazonOpenSearchService.Records, DeliveryToRedshift.Records]", s.Logical)
			}
			vars = append(vars, fmt.Sprintf("%sDelivered: !If [%sToS3, DeliveryToS3.Records, %s]", s.Logical, s.Logical, other))
		}
		add(8, fmt.Sprintf(`"title":"Firehose %s","region":"${AWS::Region}","view":"timeSeries","stat":"Sum","period":300,"metrics":[["AWS/Firehose","IncomingRecords","DeliveryStreamName","${%sStream}"],[".","%s",".","."]]`, s.Name, s.Logical, delivered))
	}
	body := "{\"widgets\":[\n" + strings.Join(widgets, ",\n") + "\n]}"
	indent := "\n          "
	if len(vars) == 0 {
		return "!Sub |-" + indent + strings.ReplaceAll(body, "\n", indent)
	}
	return "!Sub\n        - |-" + indent + strings.ReplaceAll(body, "\n", indent) + "\n        - " + strings.Join(vars, "\n          ")
}
