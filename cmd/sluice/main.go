// Command sluice runs sluice's pipeline and tools on one machine: the same
// handlers as the Lambdas, with local or AWS clients.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Exit statuses shared by every command.
const (
	exitOK         = 0
	exitDeadLetter = 1 // some records were dead-lettered
	exitUsage      = 2 // usage or configuration error
)

// command is one subcommand: run takes its arguments (without the command
// name) and returns the exit status.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand.
var commands = map[string]command{
	"graph":     {"print the routes, streams and prefixes the config describes (text, or Graphviz DOT with -dot)", runGraph},
	"init":      {"write a starting project: a commented sluice.yaml, a schema, sample input and a test case", runInit},
	"run":       {"run the whole pipeline on local files (input/ or the shipped example by default); writes report.html", runRun},
	"transform": {"run the transform handler on a Firehose event file", runTransform},
	"schema":    {"infer a schema from sample files, check schemas and config, compare versions, write Redshift/OpenSearch/Glue definitions", runSchema},
	"redrive":   {"explain or put dead-lettered records back into a stream", runRedrive},
	"split":     {"split a file or S3 object into envelope records (JSON lines on stdout)", runSplit},
	"replay":    {"re-send existing S3 objects through the splitter", runReplay},
	"rollup":    {"query a rollup: merge its partial aggregates into final numbers", runRollup},
	"test":      {"run your pipeline's test cases (input, expected documents and failures) and show the differences", runTest},
	"version":   {"print sluice's version, commit and Go version", runVersion},
	"deploy":    {"write the CloudFormation template that deploys the config as one stack", runDeploy},
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-version" || args[0] == "--version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sluice: unknown command %q (run 'sluice help' for the list)\n", args[0])
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sluice: lean serverless data pipelines on Kinesis Data Firehose and Lambda.")
	fmt.Fprintln(w, "\nUsage: sluice <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'sluice <command> -h' for a command's flags.")
	fmt.Fprintln(w, "Every command reads sluice.yaml (or the file named by SLUICE_CONFIG, or --config).")
	fmt.Fprintln(w, exitStatusHelp)
}

// loadAWSConfig is the CLI's AWS configuration: the SDK's default chain
// (environment, shared profiles, SSO, assume-role...). The Lambdas use
// awsenv.Load instead.
func loadAWSConfig(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx)
}
