package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// exitStatusHelp ends every command's -h.
const exitStatusHelp = "Exit status: 0 all good, 1 some records dead-lettered or some test failed, 2 usage or config error."

// newFlags returns the flag set of "sluice <name>". Its -h prints, for
// every command in the same layout, the synopsis, what the command does,
// the flags and the exit statuses.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sluice "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: sluice %s\n", synopsis)
		if about = strings.TrimSpace(about); about != "" {
			fmt.Fprintf(w, "\n%s\n", about)
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\n%s\n", exitStatusHelp)
	}
	return fs
}

// parseFlags parses flags wherever they are among the positional
// arguments ("split FILE -format csv" as well as "split -format csv FILE");
// "--" ends the flags. When ok is false the command returns exit: 0 after
// -h, 2 after a bad flag (the flag package has printed the problem).
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, exit int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
