package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/location"
	"github.com/sluicehq/sluice/internal/rollup"
)

func runRollup(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && args[0] == "query":
		args = args[1:]
	case len(args) == 0 || !strings.HasPrefix(args[0], "-"):
		fmt.Fprintln(stderr, "sluice rollup: want the subcommand query (sluice rollup query -h)")
		return exitUsage
	}
	fs := newFlags("rollup query", "rollup query -name NAME [-by DIMS] [-since T] [-until T] [-format csv|json] SRC", `
Reads a rollup's partial aggregates from SRC (a folder of delivered output, read recursively,
or s3://bucket/prefix; gzip or not), merges them, each rollup_id once, and prints one row per
group: the dimensions, window_start, count, sum_F, min_F, max_F, distinct_F and pNN_F.
-by groups by some dimensions only (window_start is then kept only when listed).
A time is RFC 3339, YYYY-MM-DD or a duration ago such as 24h; windows starting in [since, until).`, stderr)
	configPath := fs.String("config", config.PathFromEnv(), "the sluice.yaml that defines the rollup")
	name := fs.String("name", "", "the rollup's name (routes[].rollup.name)")
	by := fs.String("by", "", "comma-separated dimensions to group by (default: all of them and window_start)")
	since := fs.String("since", "", "keep windows starting at or after this time")
	until := fs.String("until", "", "keep windows starting before this time")
	outFormat := fs.String("format", "csv", "csv or json (one JSON object per line)")
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "sluice rollup query: name one SRC: a folder or s3://bucket/prefix (see sluice rollup query -h)")
		return exitUsage
	}
	if *outFormat != "csv" && *outFormat != "json" {
		fmt.Fprintf(stderr, "sluice rollup query: -format must be csv or json, not %q\n", *outFormat)
		return exitUsage
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: %v\n", err)
		return exitUsage
	}
	route, names := findRollup(cfg, *name)
	if route == nil {
		fmt.Fprintf(stderr, "sluice rollup query: -name: no rollup %q in %s (rollups: %s)\n", *name, *configPath, strings.Join(names, ", "))
		return exitUsage
	}
	q := rollup.Query{}
	if *by != "" {
		q.By = []string{}
		for _, d := range strings.Split(*by, ",") {
			if d = strings.TrimSpace(d); d != "" {
				q.By = append(q.By, d)
			}
		}
	}
	now := time.Now()
	if q.Since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: -since: %v\n", err)
		return exitUsage
	}
	if q.Until, err = parseWhen(*until, now); err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: -until: %v\n", err)
		return exitUsage
	}
	m, err := rollup.NewMerger(route, q)
	if err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: -by: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var client rollup.S3API
	if location.IsS3(pos[0]) {
		s3c, _, err := awsClients(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "sluice rollup query: AWS configuration: %v (set AWS_REGION and credentials)\n", err)
			return exitUsage
		}
		client = s3c
	}
	if err := rollup.ReadDocuments(ctx, pos[0], client, m.Add); err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: %v\n", err)
		if errors.Is(err, os.ErrNotExist) {
			return exitUsage
		}
		return exitDeadLetter
	}
	if err := writeRows(stdout, *outFormat, m.Columns(), m.Rows()); err != nil {
		fmt.Fprintf(stderr, "sluice rollup query: %v\n", err)
		return exitDeadLetter
	}
	fmt.Fprintf(stderr, "sluice rollup query: %d partial aggregates merged, %d duplicates dropped\n", m.Partials, m.Duplicates)
	return exitOK
}

// findRollup returns the route of the named rollup (for a fork's rollup
// branch, the route as the rollup sees it), and the names of all.
func findRollup(cfg *config.Config, name string) (*config.Route, []string) {
	var names []string
	for i := range cfg.Routes {
		if r := cfg.Routes[i].Rollup; r != nil {
			if r.Name == name {
				return cfg.Routes[i].RollupRoute(), nil
			}
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	return nil, names
}

func writeRows(w io.Writer, format string, cols []string, rows [][]any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(orderedRow{cols, r}); err != nil {
				return err
			}
		}
		return nil
	}
	return rollup.WriteCSV(w, cols, rows)
}

// orderedRow writes a row as a JSON object with the columns in order.
type orderedRow struct {
	cols []string
	vals []any
}

func (o orderedRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, c := range o.cols {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
