package cloudformation

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// This file checks that pipeline.yaml matches the code each Lambda links:
// the environment variables it reads and the AWS API operations it calls.
// It scans the Go sources (not _test.go, as built for linux/arm64 with
// lambda.norpc) of every package of this module that `go list -deps
// ./cmd/<lambda>` reports. Until cmd/<lambda> exists the code side is
// skipped; the scanner itself is tested on testdata/codescan.

const module = "github.com/sluicehq/sluice"

// lambdas maps each function of pipeline.yaml to the command it runs.
var lambdas = map[string]string{
	"SplitterFunction":  "cmd/splitter",
	"TransformFunction": "cmd/transform",
}

// runtimeEnv are set by the Lambda runtime itself, never by the template.
var runtimeEnv = map[string]bool{
	"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_VERSION": true,
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_LAMBDA_RUNTIME_API": true,
	"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_EXECUTION_ENV": true,
	"LAMBDA_TASK_ROOT": true, "_X_AMZN_TRACE_ID": true, "_HANDLER": true,
}

// optionalEnv may be read by a Lambda without the template setting it.
var optionalEnv = map[string]string{
	"REDIS_URL": "set only when the stack has Redis; without it there is no cache",
}

// sdkServices maps an aws-sdk-go-v2 service package to its IAM prefix.
var sdkServices = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/s3":             "s3",
	"github.com/aws/aws-sdk-go-v2/service/firehose":       "firehose",
	"github.com/aws/aws-sdk-go-v2/service/lambda":         "lambda",
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager": "secretsmanager",
	"github.com/aws/aws-sdk-go-v2/service/ssm":            "ssm",
	"github.com/aws/aws-sdk-go-v2/service/sqs":            "sqs",
}

// iamActions maps an SDK operation to the IAM actions it needs where the
// names differ; every other operation needs the action of its own name.
var iamActions = map[string][]string{
	"s3:HeadObject":                   {"s3:GetObject"},
	"s3:ListObjectsV2":                {"s3:ListBucket"},
	"s3:ListObjects":                  {"s3:ListBucket"},
	"s3:HeadBucket":                   {"s3:ListBucket"},
	"s3:CreateMultipartUpload":        {"s3:PutObject"},
	"s3:UploadPart":                   {"s3:PutObject"},
	"s3:CompleteMultipartUpload":      {"s3:PutObject"},
	"s3:CopyObject":                   {"s3:GetObject", "s3:PutObject"},
	"lambda:Invoke":                   {"lambda:InvokeFunction"},
	"lambda:InvokeAsync":              {"lambda:InvokeFunction"},
	"lambda:InvokeWithResponseStream": {"lambda:InvokeFunction"},
}

// versioned operations need the ...Version action too when the code sets
// VersionId.
var versioned = map[string]string{
	"s3:GetObject":  "s3:GetObjectVersion",
	"s3:HeadObject": "s3:GetObjectVersion",
}

// sdkHelpers are functions of SDK helper packages that call operations on
// the code's behalf.
var sdkHelpers = map[string][]string{
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager.NewUploader":   {"s3:PutObject", "s3:AbortMultipartUpload"},
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager.NewDownloader": {"s3:GetObject"},
}

// platformActions are granted to a role for the platform rather than for
// calls in the code, with the reason.
var platformActions = map[string]map[string]string{
	"SplitterFunction": {
		"sqs:ReceiveMessage":     "the SQS event source mapping polls with the function's role",
		"sqs:DeleteMessage":      "the SQS event source mapping deletes handled messages",
		"sqs:GetQueueAttributes": "the SQS event source mapping reads the queue",
		"sqs:SendMessage":        "failed asynchronous invocations go to the dead-letter queue (on-failure destination)",
	},
	"*": {
		"logs:CreateLogStream":           "the runtime writes the function's logs",
		"logs:PutLogEvents":              "the runtime writes the function's logs",
		"ec2:CreateNetworkInterface":     "Lambda attaches the function to its VPC (only with Redis in a VPC)",
		"ec2:DescribeNetworkInterfaces":  "Lambda attaches the function to its VPC",
		"ec2:DescribeSubnets":            "Lambda attaches the function to its VPC",
		"ec2:DeleteNetworkInterface":     "Lambda detaches the function from its VPC",
		"ec2:AssignPrivateIpAddresses":   "Lambda attaches the function to its VPC",
		"ec2:UnassignPrivateIpAddresses": "Lambda detaches the function from its VPC",
	},
}

// impliedActions are granted beside an action the code calls, because the
// called action behaves differently without them, with the reason.
var impliedActions = map[string]map[string]string{
	"s3:GetObject": {
		"s3:ListBucket": "without it S3 answers 403 instead of 404 for a missing key, and an object deleted before it was read is retried until the dead-letter queue",
	},
}

// goPackage is one package to scan.
type goPackage struct{ importPath, dir string }

// codeUse is what a set of packages reads and calls.
type codeUse struct {
	env     map[string][]string // variable -> positions of the reads
	dynamic []string            // positions of reads whose name is not a constant
	expands bool                // os.ExpandEnv or os.Expand: names come from data
	actions map[string][]string // IAM action -> positions of the calls
	starts  []string            // positions of lambda.Start* calls
	metrics map[string][]string // EMF metric names added -> positions
	dims    map[string][]string // "Name=Value" of metrics.Dim literals -> positions
}

const metricsPkg = module + "/internal/metrics"

var buildCtx = func() build.Context {
	c := build.Default
	c.GOOS, c.GOARCH, c.CgoEnabled = "linux", "arm64", false
	c.BuildTags = []string{"lambda.norpc"}
	return c
}()

// parsePackage parses the Go files of dir that build for the Lambda.
func parsePackage(fset *token.FileSet, dir string) ([]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := buildCtx.MatchFile(dir, name); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// scanCode finds the environment reads and SDK operations of pkgs.
func scanCode(pkgs []goPackage) (*codeUse, error) {
	fset := token.NewFileSet()
	parsed := map[string][]*ast.File{}
	consts := map[string]map[string]string{} // import path -> const -> value
	for _, p := range pkgs {
		files, err := parsePackage(fset, p.dir)
		if err != nil {
			return nil, err
		}
		parsed[p.importPath] = files
		consts[p.importPath] = stringConsts(files)
	}
	use := &codeUse{env: map[string][]string{}, actions: map[string][]string{}, metrics: map[string][]string{}, dims: map[string][]string{}}
	for _, p := range pkgs {
		for _, f := range parsed[p.importPath] {
			scanFile(fset, f, consts[p.importPath], consts, use)
		}
	}
	return use, nil
}

func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return out
}

func scanFile(fset *token.FileSet, f *ast.File, local map[string]string, all map[string]map[string]string, use *codeUse) {
	imports := map[string]string{} // local name -> import path
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		name := filepath.Base(path)
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = path
	}
	pkgOf := func(e ast.Expr) (path, sel string, ok bool) {
		s, isSel := e.(*ast.SelectorExpr)
		if !isSel {
			return "", "", false
		}
		id, isID := s.X.(*ast.Ident)
		if !isID {
			return "", "", false
		}
		path, ok = imports[id.Name]
		return path, s.Sel.Name, ok
	}
	constValue := func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
		case *ast.Ident:
			s, ok := local[e.Name]
			return s, ok
		case *ast.SelectorExpr:
			if path, name, ok := pkgOf(e); ok {
				s, ok := all[path][name]
				return s, ok
			}
		}
		return "", false
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			// set.Add("Failed", metrics.Count, n): an EMF metric.
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Add" && len(n.Args) >= 2 {
				if unitPath, _, ok := pkgOf(n.Args[1]); ok && unitPath == metricsPkg {
					if v, ok := constValue(n.Args[0]); ok {
						use.metrics[v] = append(use.metrics[v], fset.Position(n.Pos()).String())
					}
				}
			}
			path, name, ok := pkgOf(n.Fun)
			if !ok {
				return true
			}
			at := fset.Position(n.Pos()).String()
			if path == "os" && (name == "Getenv" || name == "LookupEnv") && len(n.Args) == 1 {
				if v, ok := constValue(n.Args[0]); ok {
					use.env[v] = append(use.env[v], at)
				} else {
					use.dynamic = append(use.dynamic, at)
				}
			}
			if path == "github.com/aws/aws-lambda-go/lambda" && strings.HasPrefix(name, "Start") {
				use.starts = append(use.starts, at)
			}
			if path == "os" && (name == "ExpandEnv" || name == "Expand") {
				use.expands = true
			}
			for _, a := range sdkHelpers[path+"."+name] {
				use.actions[a] = append(use.actions[a], at)
			}
		case *ast.SelectorExpr:
			path, name, ok := pkgOf(n)
			prefix := sdkServices[path]
			if !ok || prefix == "" || !strings.HasSuffix(name, "Input") || !ast.IsExported(name) {
				return true
			}
			op := prefix + ":" + strings.TrimSuffix(name, "Input")
			at := fset.Position(n.Pos()).String()
			actions := iamActions[op]
			if actions == nil {
				actions = []string{op}
			}
			for _, a := range actions {
				use.actions[a] = append(use.actions[a], at)
			}
		case *ast.CompositeLit:
			path, name, ok := pkgOf(n.Type)
			if ok && path == metricsPkg && name == "Dim" {
				if kv := dimOf(n, constValue); kv != "" {
					use.dims[kv] = append(use.dims[kv], fset.Position(n.Pos()).String())
				}
				return true
			}
			if !ok || sdkServices[path] == "" {
				return true
			}
			extra := versioned[sdkServices[path]+":"+strings.TrimSuffix(name, "Input")]
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok && extra != "" {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "VersionId" {
						use.actions[extra] = append(use.actions[extra], fset.Position(kv.Pos()).String())
					}
				}
			}
		case *ast.AssignStmt:
			// in.VersionId = ... on an input built elsewhere in the file.
			for _, lhs := range n.Lhs {
				if s, ok := lhs.(*ast.SelectorExpr); ok && s.Sel.Name == "VersionId" && fileUses(f, imports, "GetObjectInput", "HeadObjectInput") {
					use.actions["s3:GetObjectVersion"] = append(use.actions["s3:GetObjectVersion"], fset.Position(n.Pos()).String())
				}
			}
		}
		return true
	})
}

// dimOf returns "Name=Value" of a metrics.Dim literal, keyed or not.
func dimOf(n *ast.CompositeLit, constValue func(ast.Expr) (string, bool)) string {
	var name, value string
	for i, e := range n.Elts {
		key, val := "", e
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok {
				key = id.Name
			}
			val = kv.Value
		} else if i == 0 {
			key = "Name"
		} else {
			key = "Value"
		}
		v, ok := constValue(val)
		if !ok {
			return ""
		}
		if key == "Name" {
			name = v
		} else {
			value = v
		}
	}
	return name + "=" + value
}

// fileUses reports whether f names one of the s3 input types.
func fileUses(f *ast.File, imports map[string]string, types ...string) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok && imports[id.Name] == "github.com/aws/aws-sdk-go-v2/service/s3" && contains(types, s.Sel.Name) {
				found = true
			}
		}
		return !found
	})
	return found
}

// linkedPackages lists the packages of this module that cmd links.
func linkedPackages(t *testing.T, cmd string) []goPackage {
	t.Helper()
	c := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}\t{{.Dir}}", "./"+cmd)
	c.Dir = ".."
	c.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v\n%s", cmd, err, stderr.String())
	}
	var pkgs []goPackage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, "\t")
		if path == module || strings.HasPrefix(path, module+"/") {
			pkgs = append(pkgs, goPackage{path, dir})
		}
	}
	return pkgs
}

// hasGoFiles reports whether the command exists yet.
func hasGoFiles(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

// templateEnv returns the variables a function's Environment may set.
func templateEnv(f resource) map[string]bool {
	out := map[string]bool{}
	vars, _ := dig(f.props, "Environment", "Variables").(map[string]any)
	for k := range vars {
		out[k] = true
	}
	return out
}

// unusedByConfig lists the actions the code can call but the bundled
// sluice.yaml never makes it call, with the reason. The template grants no
// SSM access: a lookup secret lives in Secrets Manager (LookupSecretArn).
func unusedByConfig(cfg *config.Config) map[string]string {
	for _, e := range cfg.Enrichers {
		if strings.HasPrefix(e.Secret, "ssm:") || strings.Contains(e.Secret, ":ssm:") {
			return nil
		}
	}
	return map[string]string{
		"ssm:GetParameter":  "sluice.yaml names no ssm: secret",
		"ssm:GetParameters": "sluice.yaml names no ssm: secret",
	}
}

// configRefs returns the ${NAME} references in a config file.
func configRefs(t *testing.T, path string) map[string]bool {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllSubmatch(src, -1) {
		out[string(m[1])] = true
	}
	return out
}

func TestTemplatesMatchCode(t *testing.T) {
	names := make([]string, 0, len(lambdas))
	for n := range lambdas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, fn := range names {
		cmd := lambdas[fn]
		t.Run(fn, func(t *testing.T) {
			if !hasGoFiles(filepath.Join("..", cmd)) {
				t.Skipf("%s does not exist yet: nothing to compare %s with", cmd, fn)
			}
			use, err := scanCode(linkedPackages(t, cmd))
			if err != nil {
				t.Fatal(err)
			}
			// provided.al2023 runs bootstrap as the process (Handler is
			// informational): the command must run the runtime loop itself.
			main, err := scanCode([]goPackage{{module + "/" + cmd, filepath.Join("..", cmd)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(main.starts) == 0 {
				t.Errorf("%s never calls lambda.Start: as bootstrap of %s it would exit at once", cmd, fn)
			}
			// pipeline.yaml and the templates generated from the example
			// topologies, each against the config it was generated from.
			eachGenerated(t, func(t *testing.T, tm *template) {
				f, ok := tm.resource(fn)
				if !ok {
					t.Fatalf("%s has no %s", tm.name, fn)
				}
				path := tm.cfg.Path
				t.Run("env", func(t *testing.T) { checkEnv(t, cmd, templateEnv(f), use, configRefs(t, path)) })
				t.Run("metrics", func(t *testing.T) { checkMetrics(t, fn, alarmedMetrics(tm), use) })
				t.Run("iam", func(t *testing.T) {
					role := refName(f.props["Role"])
					checkActions(t, fn, role, tm.roleActions(role), use, unusedByConfig(tm.cfg))
				})
				t.Run("vpc endpoints", func(t *testing.T) { checkEndpoints(t, fn, tm.endpointServices(), use, unusedByConfig(tm.cfg)) })
			})
		})
	}
}

// reporter is the part of testing.T the checks use, so that tests can
// record what they report.
type reporter interface {
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

type recorder struct{ errs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(string, ...any) {}

func checkEnv(t reporter, cmd string, set map[string]bool, use *codeUse, fromConfig map[string]bool) {
	for _, name := range sortedKeys(use.env) {
		at := use.env[name]
		if !set[name] && !runtimeEnv[name] && optionalEnv[name] == "" {
			t.Errorf("%s reads %s (%s) but pipeline.yaml does not set it", cmd, name, at[0])
		}
	}
	for _, name := range sortedKeys(set) {
		if len(use.env[name]) > 0 {
			continue
		}
		if use.expands && fromConfig[name] {
			continue // sluice.yaml names it as ${NAME} and the code expands it
		}
		t.Errorf("pipeline.yaml sets %s for %s, which never reads it", name, cmd)
	}
	for _, at := range use.dynamic {
		t.Logf("%s reads a variable whose name is not a constant at %s", cmd, at)
	}
}

// functionDim is the EMF dimension value each function publishes under.
var functionDim = map[string]string{"SplitterFunction": "splitter", "TransformFunction": "transform"}

// alarmedMetrics returns, per Function dimension value, the sluice metrics
// an alarm watches.
func alarmedMetrics(tm *template) map[string][]string {
	out := map[string][]string{}
	for _, a := range tm.resources("AWS::CloudWatch::Alarm") {
		if a.props["Namespace"] != "sluice" {
			continue
		}
		for _, d := range maps(a.props["Dimensions"]) {
			if d["Name"] == "Function" {
				v := fmt.Sprint(d["Value"])
				out[v] = append(out[v], strs(a.props["MetricName"])...)
			}
		}
	}
	return out
}

// checkMetrics reports alarms that could never fire: the function must
// publish the alarm's metric and label itself Function=<name>.
func checkMetrics(t reporter, fn string, alarmed map[string][]string, use *codeUse) {
	dim := functionDim[fn]
	if len(use.dims["Function="+dim]) == 0 {
		t.Errorf("%s never builds metrics.Dim{Name: \"Function\", Value: %q}: its alarms and dashboard widgets stay empty", fn, dim)
	}
	for _, m := range alarmed[dim] {
		if len(use.metrics[m]) == 0 {
			t.Errorf("an alarm watches sluice/%s for Function=%s, but %s never adds that metric", m, dim, fn)
		}
	}
	for _, m := range sortedKeys(use.metrics) {
		if !contains(emfMetrics, m) {
			t.Logf("%s publishes sluice/%s, which docs/deploy.md and the dashboard do not list", fn, m)
		}
	}
}

func checkActions(t reporter, fn, role string, granted []string, use *codeUse, unused map[string]string) {
	for _, action := range sortedKeys(use.actions) {
		at := use.actions[action]
		if reason := unused[action]; reason != "" && !contains(granted, action) {
			t.Logf("%s can call %s (%s) but %s", fn, action, at[0], reason)
			continue
		}
		if !contains(granted, action) {
			t.Errorf("%s calls %s (%s) but %s does not allow it", fn, action, at[0], role)
		}
		for _, implied := range sortedKeys(impliedActions[action]) {
			if !contains(granted, implied) {
				t.Errorf("%s calls %s (%s) but %s lacks %s: %s", fn, action, at[0], role, implied, impliedActions[action][implied])
			}
		}
	}
	implied := map[string]bool{}
	for action := range use.actions {
		for a := range impliedActions[action] {
			implied[a] = true
		}
	}
	for _, a := range granted {
		if len(use.actions[a]) > 0 || implied[a] || platformActions[fn][a] != "" || platformActions["*"][a] != "" {
			continue
		}
		t.Errorf("%s may %s, which %s never calls: remove it", role, a, fn)
	}
}

// endpointService is the VPC endpoint service (com.amazonaws.<region>.NAME)
// that serves each IAM prefix from inside a VPC.
var endpointService = map[string]string{
	"s3":             "s3",
	"firehose":       "kinesis-firehose",
	"lambda":         "lambda",
	"secretsmanager": "secretsmanager",
	"ssm":            "ssm",
	"sqs":            "sqs",
}

// endpointServices returns the services the template's VPC endpoints serve.
func (tm *template) endpointServices() map[string]bool {
	out := map[string]bool{}
	for _, e := range tm.resources("AWS::EC2::VPCEndpoint") {
		for _, s := range strs(dig(e.props, "ServiceName", "Fn::Sub")) {
			out[strings.TrimPrefix(s, "com.amazonaws.${AWS::Region}.")] = true
		}
	}
	return out
}

// checkEndpoints reports AWS services the code calls that a Lambda in the
// VPC could not reach through the template's endpoints.
func checkEndpoints(t reporter, fn string, endpoints map[string]bool, use *codeUse, unused map[string]string) {
	for _, action := range sortedKeys(use.actions) {
		if unused[action] != "" {
			continue
		}
		prefix, _, _ := strings.Cut(action, ":")
		svc := endpointService[prefix]
		if svc == "" {
			t.Errorf("%s calls %s (%s), a service with no known VPC endpoint", fn, action, use.actions[action][0])
			continue
		}
		if !endpoints[svc] {
			t.Errorf("%s calls %s (%s), but no VPC endpoint serves com.amazonaws.<region>.%s: in a VPC without NAT the call times out", fn, action, use.actions[action][0], svc)
		}
	}
}

func TestCheckEndpoints(t *testing.T) {
	use := &codeUse{actions: map[string][]string{"s3:GetObject": {"a.go:1"}, "firehose:PutRecordBatch": {"a.go:2"}, "ssm:GetParameter": {"a.go:3"}}}
	rec := &recorder{}
	checkEndpoints(rec, "F", map[string]bool{"s3": true}, use, map[string]string{"ssm:GetParameter": "no ssm: secret"})
	want := []string{"F calls firehose:PutRecordBatch (a.go:2), but no VPC endpoint serves com.amazonaws.<region>.kinesis-firehose: in a VPC without NAT the call times out"}
	if fmt.Sprint(rec.errs) != fmt.Sprint(want) {
		t.Errorf("errors = %q, want %q", rec.errs, want)
	}
}

func TestScanCode(t *testing.T) {
	use, err := scanCode([]goPackage{
		{"example.com/fixture/a", "testdata/codescan/a"},
		{"example.com/fixture/b", "testdata/codescan/b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	env := sortedKeys(use.env)
	if got, want := fmt.Sprint(env), "[DEAD_LETTER_BUCKET LITERAL_VAR SLUICE_CONFIG]"; got != want {
		t.Errorf("env = %s, want %s", got, want)
	}
	if got := fmt.Sprint(sortedKeys(use.metrics)); got != "[Failed RecordsIn]" {
		t.Errorf("metrics = %s, want [Failed RecordsIn]", got)
	}
	if got := fmt.Sprint(sortedKeys(use.dims)); got != "[Function=transform Stage=x]" {
		t.Errorf("dims = %s, want [Function=transform Stage=x]", got)
	}
	if len(use.starts) != 1 {
		t.Errorf("starts = %v, want the lambda.Start in put.go", use.starts)
	}
	if len(use.dynamic) != 1 || !use.expands {
		t.Errorf("dynamic = %v, expands = %v; want one dynamic read and expands", use.dynamic, use.expands)
	}
	actions := sortedKeys(use.actions)
	want := "[firehose:PutRecordBatch lambda:InvokeFunction s3:AbortMultipartUpload s3:GetObject s3:GetObjectVersion s3:PutObject secretsmanager:GetSecretValue]"
	if got := fmt.Sprint(actions); got != want {
		t.Errorf("actions = %s, want %s", got, want)
	}
}

func TestCheckActionsFindsBothWays(t *testing.T) {
	use := &codeUse{actions: map[string][]string{"s3:GetObject": {"x.go:1"}, "s3:GetObjectVersion": {"x.go:2"}}}
	rec := &recorder{}
	checkActions(rec, "SplitterFunction", "Role", []string{"s3:GetObject", "logs:PutLogEvents", "s3:DeleteObject"}, use, nil)
	want := []string{
		"SplitterFunction calls s3:GetObject (x.go:1) but Role lacks s3:ListBucket: " + impliedActions["s3:GetObject"]["s3:ListBucket"],
		"SplitterFunction calls s3:GetObjectVersion (x.go:2) but Role does not allow it",
		"Role may s3:DeleteObject, which SplitterFunction never calls: remove it",
	}
	if fmt.Sprint(rec.errs) != fmt.Sprint(want) {
		t.Errorf("errors = %q, want %q", rec.errs, want)
	}
	// s3:ListBucket granted with s3:GetObject is expected, not unused.
	rec = &recorder{}
	checkActions(rec, "SplitterFunction", "Role", []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}, use, nil)
	if len(rec.errs) != 0 {
		t.Errorf("errors = %q, want none", rec.errs)
	}
}

func TestCheckMetrics(t *testing.T) {
	alarmed := map[string][]string{"transform": {"Failed"}}
	use := &codeUse{metrics: map[string][]string{"RecordsIn": {"m.go:1"}}, dims: map[string][]string{"Function=splitter": {"m.go:2"}}}
	rec := &recorder{}
	checkMetrics(rec, "TransformFunction", alarmed, use)
	want := []string{
		`TransformFunction never builds metrics.Dim{Name: "Function", Value: "transform"}: its alarms and dashboard widgets stay empty`,
		"an alarm watches sluice/Failed for Function=transform, but TransformFunction never adds that metric",
	}
	if fmt.Sprint(rec.errs) != fmt.Sprint(want) {
		t.Errorf("errors = %q, want %q", rec.errs, want)
	}
}

func TestCheckEnvFindsBothWays(t *testing.T) {
	use := &codeUse{env: map[string][]string{"SLUICE_CONFIG": {"a.go:1"}, "AWS_LAMBDA_FUNCTION_NAME": {"a.go:2"}, "NEW_VAR": {"a.go:3"}, "REDIS_URL": {"a.go:4"}}}
	set := map[string]bool{"SLUICE_CONFIG": true, "STALE_VAR": true, "SLUICE_ENRICH_SECRET_ARN": true}
	rec := &recorder{}
	checkEnv(rec, "cmd/x", set, use, map[string]bool{"SLUICE_ENRICH_SECRET_ARN": true})
	want := []string{
		"cmd/x reads NEW_VAR (a.go:3) but pipeline.yaml does not set it",
		"pipeline.yaml sets SLUICE_ENRICH_SECRET_ARN for cmd/x, which never reads it",
		"pipeline.yaml sets STALE_VAR for cmd/x, which never reads it",
	}
	if fmt.Sprint(rec.errs) != fmt.Sprint(want) {
		t.Errorf("errors = %q, want %q", rec.errs, want)
	}
	// With os.ExpandEnv in the code, a ${NAME} in sluice.yaml is a read.
	use.expands = true
	rec = &recorder{}
	checkEnv(rec, "cmd/x", set, use, map[string]bool{"SLUICE_ENRICH_SECRET_ARN": true})
	if len(rec.errs) != 2 {
		t.Errorf("errors = %q, want NEW_VAR and STALE_VAR only", rec.errs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
