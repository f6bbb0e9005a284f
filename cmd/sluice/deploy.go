package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deploy"
)

func runDeploy(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("deploy", "deploy template [-config sluice.yaml] > stack.yaml", `
Writes the CloudFormation template that deploys the config as one stack:
the input bucket, the splitter, one Firehose delivery stream per stream of
the config sharing one transform, the notifications of every routed prefix
(chained ones included), dead letters, Redis, VPC endpoints, alarms and a
dashboard. make deploy deploys it; docs/deploy.md lists its parameters.
With -previous, the template the stack runs now (aws cloudformation
get-template), it first refuses changes Firehose cannot make to an existing
stream (partition_keys turned on or off).`, stderr)
	path := fs.String("config", config.PathFromEnv(), "config file")
	previous := fs.String("previous", "", "the template the stack runs now, to refuse changes Firehose cannot make")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] != "template" {
		fmt.Fprintln(stderr, "Usage: sluice deploy template [-config sluice.yaml] > stack.yaml (the only deploy subcommand is template)")
		return exitUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, "sluice deploy template:", err)
		return exitUsage
	}
	if *previous != "" {
		old, err := os.ReadFile(*previous)
		if err == nil {
			err = deploy.CheckUpdate(old, cfg)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sluice deploy template:", err)
			return exitUsage
		}
	}
	var buf bytes.Buffer
	if err := deploy.Template(&buf, cfg); err != nil {
		fmt.Fprintln(stderr, "sluice deploy template:", err)
		return exitUsage
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintln(stderr, "sluice deploy template:", err)
		return exitUsage
	}
	return exitOK
}
