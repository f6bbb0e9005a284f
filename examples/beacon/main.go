// Command beacon writes a day of Application Load Balancer access logs of
// a beacon (events as query strings: event, user, utm_source...) with
// health checks, other paths, malformed lines and missing parameters: the
// input of the rollup example. The output is the same on every run.
//
//	go run ./examples/beacon -out examples/beacon/input
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sluicehq/sluice/internal/rollup/beacon"
)

func main() {
	out := flag.String("out", "examples/beacon/input", "folder to write the logs into")
	perFile := flag.Int("lines", 40, "lines per 5-minute log file")
	flag.Parse()
	lines, err := beacon.Day(*out, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), *perFile, 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "beacon:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d lines in 288 files under %s\n", len(lines), *out)
}
