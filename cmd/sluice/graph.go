package main

import (
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/topology"
)

func runGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("graph", "graph [-config sluice.yaml] [-dot]", `
Prints the pipeline the config describes: routes, stage by stage, with the
streams they send to, and every stream with the prefix it delivers under and
the routes that read it (a chain). -dot prints it in Graphviz's DOT language:
sluice graph -dot | dot -Tsvg > graph.svg
The graph is checked as sluice schema check and sluice run check it: no cycle,
every stream with a prefix of its own read by a route or marked final.`, stderr)
	cfgPath := fs.String("config", config.PathFromEnv(), "the sluice.yaml to read (env SLUICE_CONFIG)")
	dot := fs.Bool("dot", false, "print Graphviz DOT instead of text")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "sluice graph: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		err = cfg.CheckStreams()
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice graph: %v\n", err)
		return exitUsage
	}
	g, err := topology.Build(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sluice graph: %v\n", err)
		return exitUsage
	}
	if *dot {
		err = g.WriteDOT(stdout)
	} else {
		err = g.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice graph: %v\n", err)
		return exitDeadLetter
	}
	return exitOK
}
