package topology

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sluicehq/sluice/internal/config"
)

// WriteText prints the graph for people: the routes stage by stage with
// their branches, then every stream with where it delivers and who reads it.
func (g *Graph) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s: %s, %s, %s\n", g.cfg.Path, plural(len(g.Routes), "route"), plural(len(g.Streams), "stream"), plural(g.Stages(), "stage"))
	for stage := 1; stage <= g.Stages(); stage++ {
		fmt.Fprintf(tw, "\nstage %d\n", stage)
		for _, r := range g.Routes {
			if r.Stage != stage {
				continue
			}
			fmt.Fprintf(tw, "  routes[%d] %s (%s)", r.Index, routeSource(r.Config), routeReads(r.Config))
			if len(r.Reads) > 0 {
				fmt.Fprintf(tw, ", reads %s", strings.Join(r.Reads, ", "))
			}
			fmt.Fprintln(tw)
			for _, b := range r.Config.Branches() {
				fmt.Fprintf(tw, "    -> %s\tschema %s%s%s\n", b.Stream, b.Schema, whereText(b.Where, ", where "), branchRollup(b, ", "))
			}
		}
	}
	fmt.Fprintln(tw, "\nstreams")
	for _, s := range g.Streams {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Prefix, g.readers(s))
	}
	return tw.Flush()
}

// readers says what becomes of a stream's objects.
func (g *Graph) readers(s Stream) string {
	var parts []string
	for _, i := range s.ReadBy {
		parts = append(parts, fmt.Sprintf("routes[%d]", i))
	}
	out := ""
	if len(parts) > 0 {
		out = "-> " + strings.Join(parts, ", ")
	}
	if len(parts) == 0 || s.Config.Final {
		out = strings.TrimSpace(out + " final")
	}
	if !s.Declared {
		out += " (not under streams:)"
	}
	return out
}

// WriteDOT prints the graph in Graphviz's DOT language: routes (boxes) send
// to streams (cylinders), which deliver under prefixes (folders; a double
// border for final output) that chained routes read.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph sluice {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, r := range g.Routes {
		fmt.Fprintf(&b, "  %s [shape=box, label=%s];\n", routeNode(r.Index),
			dotQuote(fmt.Sprintf("routes[%d]\n%s\n%s", r.Index, routeSource(r.Config), routeReads(r.Config))))
	}
	for _, s := range g.Streams {
		fmt.Fprintf(&b, "  %s [shape=cylinder, label=%s];\n", dotQuote("stream "+s.Name), dotQuote(s.Name))
		final := ""
		if len(s.ReadBy) == 0 || s.Config.Final {
			final = ", peripheries=2"
		}
		fmt.Fprintf(&b, "  %s [shape=folder, label=%s%s];\n", dotQuote("prefix "+s.Name), dotQuote(s.Prefix), final)
	}
	for _, r := range g.Routes {
		for _, br := range r.Config.Branches() {
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", routeNode(r.Index), dotQuote("stream "+br.Stream),
				dotQuote(br.Schema+whereText(br.Where, "\n")+branchRollup(br, "\n")))
		}
	}
	for _, s := range g.Streams {
		fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote("stream "+s.Name), dotQuote("prefix "+s.Name))
		for _, i := range s.ReadBy {
			fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote("prefix "+s.Name), routeNode(i))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func routeNode(i int) string { return dotQuote(fmt.Sprintf("routes[%d]", i)) }

// routeSource is the route's bucket and key globs.
func routeSource(r config.Route) string {
	if r.Bucket == "" || r.Bucket == "*" {
		return r.Key
	}
	return r.Bucket + ":" + r.Key
}

// routeReads is the route's format, and its rollup when it aggregates.
func routeReads(r config.Route) string {
	if r.Rollup != nil && !r.Forks() {
		return r.Format + ", rollup " + r.Rollup.Name
	}
	return r.Format
}

// branchRollup names a fork branch's rollup after lead, or nothing.
func branchRollup(b config.Branch, lead string) string {
	if b.Rollup == nil {
		return ""
	}
	return lead + "rollup " + b.Rollup.Name
}

// whereText writes a branch's conditions after lead, or nothing.
func whereText(where []config.WhereRule, lead string) string {
	if len(where) == 0 {
		return ""
	}
	parts := make([]string, len(where))
	for i, w := range where {
		parts[i] = w.Name
	}
	return lead + strings.Join(parts, " and ")
}

// dotQuote writes s as a DOT string: quotes and backslashes escaped, a
// newline as DOT's \n line break.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
