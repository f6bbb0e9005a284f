package cloudformation

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// motoUnmodelled are the resource types moto's CloudFormation does not
// create; TestCreateInMoto leaves them out, with whatever refers to them.
var motoUnmodelled = map[string]bool{
	"AWS::CloudWatch::Alarm":            true,
	"AWS::CloudWatch::Dashboard":        true,
	"AWS::Logs::LogStream":              true,
	"AWS::Lambda::EventInvokeConfig":    true,
	"AWS::ElastiCache::ServerlessCache": true,
	"AWS::EC2::SecurityGroupEgress":     true,
}

// TestCreateInMoto creates the generated stacks (the shipped config and the
// example topologies) in moto_server and checks that what the config
// needs exists: one delivery stream per stream, both Lambdas, the buckets.
// moto evaluates Conditions but not Rules, and models only part of the
// resource types: the others are left out and listed in the log.
func TestCreateInMoto(t *testing.T) {
	aws := testenv.Tool(t, "aws")
	endpoint := testenv.Moto(t)
	dir := t.TempDir()
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(aws, append([]string{"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_PAGER=")
		return cmd.CombinedOutput()
	}
	if out, err := run("s3", "mb", "s3://artifacts"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, fn := range []string{"splitter", "transform"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("bootstrap")
		w.Write([]byte("#!/bin/sh\n"))
		zw.Close()
		path := filepath.Join(dir, fn+".zip")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := run("s3", "cp", path, "s3://artifacts/"+fn+".zip"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}

	for i, tm := range append([]*template{loadPipeline(t)}, generatedTemplates(t)...) {
		t.Run(tm.name, func(t *testing.T) {
			body, left := forMoto(tm)
			t.Logf("left out (moto does not model them): %s", strings.Join(left, ", "))
			path := filepath.Join(dir, fmt.Sprintf("stack%d.json", i))
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			stack := fmt.Sprintf("sluice%d", i)
			// moto resolves the queue notification before it creates the
			// queue; direct notifications need no queue.
			if out, err := run("cloudformation", "create-stack", "--stack-name", stack, "--template-body", "file://"+path,
				"--capabilities", "CAPABILITY_IAM", "--parameters", "ParameterKey=Notification,ParameterValue=direct"); err != nil {
				t.Fatalf("create-stack: %v: %s", err, out)
			}
			status, stackID := "", ""
			for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				out, err := run("cloudformation", "describe-stacks", "--stack-name", stack)
				if err != nil {
					t.Fatalf("describe-stacks: %v: %s", err, out)
				}
				var d struct {
					Stacks []struct{ StackId, StackStatus, StackStatusReason string }
				}
				if err := json.Unmarshal(out, &d); err != nil || len(d.Stacks) != 1 {
					t.Fatalf("describe-stacks: %v: %s", err, out)
				}
				status, stackID = d.Stacks[0].StackStatus, d.Stacks[0].StackId
				if !strings.HasSuffix(status, "_IN_PROGRESS") {
					if status != "CREATE_COMPLETE" {
						t.Fatalf("stack %s: %s", status, d.Stacks[0].StackStatusReason)
					}
					break
				}
			}
			if status != "CREATE_COMPLETE" {
				t.Fatalf("stack still %s", status)
			}
			// moto's CloudFormation does not create delivery streams
			// (AWS::KinesisFirehose::DeliveryStream is a placeholder there);
			// what it models is checked below.
			// Nor does it apply a bucket's NotificationConfiguration: the
			// notifications are checked on the template (TestTemplatesMatchConfig).
			out, err := run("s3api", "list-buckets")
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			id := strings.Split(stackID, "/")[2]
			if !strings.Contains(string(out), "sluice-input-"+id) {
				t.Errorf("no input bucket sluice-input-%s: %s", id, out)
			}
			if len(notificationPrefixes(tm, "OutputBucket")) > 0 && !strings.Contains(string(out), "sluice-output-"+id) {
				t.Errorf("chains: no output bucket sluice-output-%s", id)
			}
			out, err = run("cloudformation", "list-stack-resources", "--stack-name", stack)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for _, want := range []string{"SplitterFunction", "TransformFunction", "InputBucket", "OutputBucket", "SplitterRole", "FirehoseRole"} {
				if !strings.Contains(string(out), `"`+want+`"`) {
					t.Errorf("moto created no %s", want)
				}
			}
		})
	}
}

// forMoto returns tm as JSON for moto: Lambda code from the artifacts
// bucket, without the resources moto does not model, references to them
// replaced by placeholders. It also returns what it left out.
func forMoto(tm *template) ([]byte, []string) {
	removed := map[string]bool{}
	for name, v := range tm.section("Resources") {
		body, _ := v.(map[string]any)
		if motoUnmodelled[fmt.Sprint(body["Type"])] {
			removed[name] = true
		}
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			if name := refName(v); removed[name] {
				return "placeholder-" + name
			}
			if sub, ok := v["Fn::Sub"]; ok {
				if s, ok := sub.(string); ok {
					sub = []any{s, map[string]any{}}
				}
				l, _ := sub.([]any)
				if len(l) == 2 {
					s := fmt.Sprint(l[0])
					for name := range removed {
						s = regexp.MustCompile(`\$\{`+regexp.QuoteMeta(name)+`(\.[A-Za-z.]+)?\}`).ReplaceAllString(s, "placeholder-"+name)
					}
					return map[string]any{"Fn::Sub": []any{s, walk(l[1])}}
				}
			}
			out := map[string]any{}
			for k, e := range v {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = walk(e)
			}
			return out
		}
		return v
	}
	root := map[string]any{}
	for k, v := range tm.root {
		root[k] = v
	}
	res := map[string]any{}
	for name, v := range tm.section("Resources") {
		if removed[name] {
			continue
		}
		body := walk(v).(map[string]any)
		if body["Type"] == "AWS::Lambda::Function" {
			props, _ := body["Properties"].(map[string]any)
			code := strings.TrimSuffix(filepath.Base(fmt.Sprint(props["Code"])), ".zip")
			props["Code"] = map[string]any{"S3Bucket": "artifacts", "S3Key": code + ".zip"}
		}
		res[name] = body
	}
	root["Resources"] = res
	root["Outputs"] = walk(tm.section("Outputs"))
	delete(root, "Rules")
	b, _ := json.Marshal(root)
	return b, sortedKeys(removed)
}
