package cloudformation

import (
	"fmt"
	"github.com/sluicehq/sluice/internal/redisx"
	"os"
	"strconv"
	"strings"
	"testing"
)

// redisPorts are the ports of Redis and of ElastiCache Serverless's read
// endpoint.
const redisLow, redisHigh = 6379, 6380

// sgRule is one ingress or egress rule, inline or a resource of its own.
type sgRule struct {
	owner string
	rule  map[string]any
}

// securityGroupRules returns every rule of every security group.
func (tm *template) securityGroupRules() []sgRule {
	var out []sgRule
	for _, g := range tm.resources("AWS::EC2::SecurityGroup") {
		for _, key := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
			for _, r := range maps(g.props[key]) {
				out = append(out, sgRule{g.name, r})
			}
		}
	}
	for _, typ := range []string{"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"} {
		for _, r := range tm.resources(typ) {
			out = append(out, sgRule{r.name, r.props})
		}
	}
	return out
}

func portsCover(rule map[string]any, low, high int) bool {
	from, err1 := strconv.Atoi(fmt.Sprint(rule["FromPort"]))
	to, err2 := strconv.Atoi(fmt.Sprint(rule["ToPort"]))
	if err1 != nil || err2 != nil || from < 0 {
		return rule["IpProtocol"] == "-1"
	}
	return from <= high && to >= low
}

// TestRedisOnlyBetweenGroups checks that no rule opens the Redis ports to
// an address range: the Lambdas reach Redis only in the cache's group.
func TestRedisOnlyBetweenGroups(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		for _, r := range tm.securityGroupRules() {
			if !portsCover(r.rule, redisLow, redisHigh) {
				continue
			}
			if r.rule["CidrIp"] != nil || r.rule["CidrIpv6"] != nil {
				t.Errorf("%s opens Redis (%v-%v) to an address range %v: name the cache's security group instead", r.owner, r.rule["FromPort"], r.rule["ToPort"], r.rule["CidrIp"])
			}
		}
	})
	tm := loadTemplate(t, "pipeline.yaml")
	want := map[string]string{"LambdaToCacheEgress": "CacheSecurityGroup", "LambdaToExistingRedisEgress": "RedisSecurityGroupId"}
	for name, dest := range want {
		r, ok := tm.resource(name)
		if !ok || r.typ != "AWS::EC2::SecurityGroupEgress" {
			t.Errorf("no egress rule %s", name)
			continue
		}
		if refName(r.props["GroupId"]) != "LambdaSecurityGroup" || refName(r.props["DestinationSecurityGroupId"]) != dest || !portsCover(r.props, redisLow, redisHigh) {
			t.Errorf("%s: %v, want LambdaSecurityGroup to %s on %d-%d", name, r.props, dest, redisLow, redisHigh)
		}
	}
}

// TestVpcEndpoints checks the endpoints a Lambda in the VPC needs: an S3
// gateway on the subnets' route tables, interface endpoints with private
// DNS in the subnets behind a group that admits the Lambdas only. Which
// services are needed is checked against the code in TestTemplatesMatchCode.
func TestVpcEndpoints(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	endpoints := tm.resources("AWS::EC2::VPCEndpoint")
	if len(endpoints) == 0 {
		t.Fatal("pipeline.yaml creates no VPC endpoint")
	}
	for _, e := range endpoints {
		if cond, _ := e.body["Condition"].(string); !strings.HasPrefix(cond, "Create") {
			t.Errorf("%s: Condition %q; endpoints exist only when the Lambdas run in a VPC and VpcEndpoints=create", e.name, cond)
		}
		if refName(e.props["VpcId"]) != "VpcId" {
			t.Errorf("%s: not in VpcId", e.name)
		}
		switch e.props["VpcEndpointType"] {
		case "Gateway":
			if refName(e.props["RouteTableIds"]) != "RouteTableIds" {
				t.Errorf("%s: a gateway endpoint must be on RouteTableIds", e.name)
			}
		case "Interface":
			if e.props["PrivateDnsEnabled"] != true {
				t.Errorf("%s: without private DNS the SDK's host names still resolve to public addresses", e.name)
			}
			if refName(e.props["SubnetIds"]) != "SubnetIds" {
				t.Errorf("%s: not in SubnetIds", e.name)
			}
			if sg := list(e.props["SecurityGroupIds"]); len(sg) != 1 || refName(sg[0]) != "EndpointSecurityGroup" {
				t.Errorf("%s: security groups %v, want EndpointSecurityGroup", e.name, sg)
			}
		default:
			t.Errorf("%s: type %v", e.name, e.props["VpcEndpointType"])
		}
	}
	if got := fmt.Sprint(sortedKeys(tm.endpointServices())); got != "[kinesis-firehose lambda s3 secretsmanager]" {
		t.Errorf("endpoint services %s", got)
	}
	sg, _ := tm.resource("EndpointSecurityGroup")
	in := maps(sg.props["SecurityGroupIngress"])
	if len(in) != 1 || refName(in[0]["SourceSecurityGroupId"]) != "LambdaSecurityGroup" || fmt.Sprint(in[0]["FromPort"], in[0]["ToPort"]) != "443 443" {
		t.Errorf("EndpointSecurityGroup admits %v; want HTTPS from LambdaSecurityGroup only", in)
	}
}

// TestQueueVisibilityFollowsSplitterTimeout checks, for every timeout the
// splitter may have, that the input queue hides a received message for at
// least six times that long (Lambda's advice for SQS sources) and at most
// SQS's 12 hours.
func TestQueueVisibilityFollowsSplitterTimeout(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	q, _ := tm.resource("InputQueue")
	find, _ := q.props["VisibilityTimeout"].(map[string]any)
	args, _ := find["Fn::FindInMap"].([]any)
	if len(args) != 3 || refName(args[1]) != "SplitterTimeoutSeconds" {
		t.Fatalf("InputQueue.VisibilityTimeout = %v, want a FindInMap on SplitterTimeoutSeconds", q.props["VisibilityTimeout"])
	}
	mapping, _ := tm.section("Mappings")[fmt.Sprint(args[0])].(map[string]any)
	p, _ := tm.section("Parameters")["SplitterTimeoutSeconds"].(map[string]any)
	allowed := list(p["AllowedValues"])
	if len(allowed) == 0 {
		t.Fatal("SplitterTimeoutSeconds has no AllowedValues: the mapping cannot cover every value")
	}
	for _, v := range allowed {
		timeout, _ := strconv.Atoi(fmt.Sprint(v))
		row, _ := mapping[fmt.Sprint(v)].(map[string]any)
		vis, err := strconv.Atoi(fmt.Sprint(row[fmt.Sprint(args[2])]))
		if err != nil {
			t.Errorf("timeout %d s: no visibility timeout in the mapping", timeout)
			continue
		}
		if vis < 6*timeout || vis > 43200 {
			t.Errorf("timeout %d s: visibility timeout %d s, want 6x (%d) up to 43200", timeout, vis, 6*timeout)
		}
	}
}

func TestSplitterConcurrencyCap(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	m, _ := tm.resource("SplitterQueueMapping")
	if refName(dig(m.props, "ScalingConfig", "MaximumConcurrency")) != "SplitterMaxConcurrency" {
		t.Errorf("SplitterQueueMapping.ScalingConfig = %v, want MaximumConcurrency from SplitterMaxConcurrency", m.props["ScalingConfig"])
	}
	p, _ := tm.section("Parameters")["SplitterMaxConcurrency"].(map[string]any)
	if fmt.Sprint(p["MinValue"], p["MaxValue"]) != "2 1000" {
		t.Errorf("SplitterMaxConcurrency allows %v-%v; Lambda accepts 2-1000", p["MinValue"], p["MaxValue"])
	}
}

// TestSplitterListsInputBucket checks that s3:ListBucket is granted on the
// very bucket whose objects the splitter reads.
func TestSplitterListsInputBucket(t *testing.T) {
	tm := loadTemplate(t, "pipeline.yaml")
	var read, listed string
	for _, p := range tm.identityPolicies() {
		if p.role != "SplitterRole" {
			continue
		}
		for _, st := range statements(p.doc) {
			acts := strs(st["Action"])
			if contains(acts, "s3:GetObject") {
				read = fmt.Sprint(st["Resource"])
			}
			if contains(acts, "s3:ListBucket") {
				listed = fmt.Sprint(st["Resource"])
			}
		}
	}
	if listed == "" || strings.Replace(read, "${Id}/*", "${Id}", 1) != listed {
		t.Errorf("s3:ListBucket on %s, want the bucket the splitter reads (%s)", listed, read)
	}
}

// TestSourceBackup checks that each stream's SourceBackup keeps its
// records as they arrived, in the output bucket under source/<stream>/,
// for the destinations that can, and that it defaults to the config's
// source_backup, else to on exactly for the streams no route feeds (fed
// from outside, e.g. webhooks).
func TestSourceBackup(t *testing.T) {
	eachGenerated(t, func(t *testing.T, tm *template) {
		fed := map[string]bool{}
		for _, r := range tm.cfg.Routes {
			for _, b := range r.Branches() {
				fed[b.Stream] = true
			}
		}
		for name := range tm.cfg.Streams {
			l := logicalOf(name)
			s, _ := tm.resource(l + "Stream")
			for _, key := range []string{"ExtendedS3DestinationConfiguration", "RedshiftDestinationConfiguration"} {
				d := dig(s.props, key)
				if d == nil {
					continue
				}
				mode, _ := dig(d, "S3BackupMode").(map[string]any)
				if fmt.Sprint(mode["Fn::If"]) != "["+l+"Backup Enabled Disabled]" {
					t.Errorf("%s.%s.S3BackupMode = %v, want Enabled when %sBackup", name, key, mode, l)
				}
				b := dig(d, "S3BackupConfiguration")
				if refName(dig(b, "BucketARN")) != "OutputBucket" || !strings.HasPrefix(fmt.Sprint(dig(b, "Prefix")), "source/"+name+"/") {
					t.Errorf("%s.%s.S3BackupConfiguration = %v, want the output bucket under source/%s/", name, key, b, name)
				}
			}
			want := !fed[name]
			if b := tm.cfg.Streams[name].SourceBackup; b != nil {
				want = *b
			}
			if def, _ := tm.parameterDefault(l + "SourceBackup"); def != fmt.Sprint(want) {
				t.Errorf("%sSourceBackup defaults to %s; want %v (a route feeds it: %v, source_backup: %v)", l, def, want, fed[name], tm.cfg.Streams[name].SourceBackup)
			}
		}
	})
}

func TestMakeDeployUploadsTheTemplate(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(mk), "aws cloudformation deploy")
	found := false
	for _, part := range parts[1:] {
		cmd, _, _ := strings.Cut(part, "\n\n")
		if !strings.Contains(cmd, "packaged.yaml") {
			continue // the collector and webhook templates are small
		}
		found = true
		if !strings.Contains(cmd, "--s3-bucket $(BUCKET)") {
			t.Errorf("make deploy runs aws cloudformation deploy without --s3-bucket: a template over 51,200 bytes is refused\n%s", cmd)
		}
	}
	if !found {
		t.Error("no aws cloudformation deploy of the packaged pipeline template in the Makefile")
	}
}

// TestCreatedCacheURLIsACluster checks the REDIS_URL each Lambda gets for
// the ElastiCache Serverless cache the stack creates: TLS, and read by
// sluice's Redis layer as a cluster without asking the server, since
// Serverless is always cluster mode and its endpoint name is the stack's.
func TestCreatedCacheURLIsACluster(t *testing.T) {
	eachTemplate(t, func(t *testing.T, tm *template) {
		if _, ok := tm.resource("Cache"); !ok {
			return
		}
		seen := 0
		for _, fn := range tm.resources("AWS::Lambda::Function") {
			env, _ := fn.props["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			cond, _ := vars["REDIS_URL"].(map[string]any)
			branches, _ := cond["Fn::If"].([]any)
			if len(branches) != 3 || branches[0] != "CreateRedis" {
				continue
			}
			sub, _ := branches[1].(map[string]any)
			raw, _ := sub["Fn::Sub"].(string)
			raw = strings.NewReplacer("${Cache.Endpoint.Address}", "sluice-abc123.serverless.use1.cache.amazonaws.com", "${Cache.Endpoint.Port}", "6379").Replace(raw)
			c, err := redisx.New(raw)
			if err != nil {
				t.Errorf("%s: REDIS_URL %q: %v", fn.name, raw, err)
				continue
			}
			if cluster, known := c.Cluster(); !cluster || !known || !strings.HasPrefix(raw, "rediss://") {
				t.Errorf("%s: REDIS_URL %q: want a TLS cluster known from the URL (cluster=%v known=%v)", fn.name, raw, cluster, known)
			}
			c.Close()
			seen++
		}
		if seen == 0 {
			t.Errorf("the stack creates a cache but no function gets its REDIS_URL")
		}
	})
}
