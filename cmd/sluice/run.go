package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/chaos"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/localrun"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/report"
	"github.com/sluicehq/sluice/internal/topology"
	"github.com/sluicehq/sluice/schema"
)

// With no arguments, `sluice run` runs projectInput (the sample input of a
// project sluice init wrote), else exampleInput (the shipped example, in
// the repository).
const (
	projectInput = "input"
	exampleInput = "examples/input"
)

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", "run [-config sluice.yaml] [-out DIR] [-progress auto|always|never] [-chaos SEED [-chaos-rate R]] [-cpuprofile FILE] [PATH...]", `
Runs the whole pipeline on local files: route, split, an in-process Firehose, transform,
and delivery into -out. A folder's files are keyed by their path below it, so routes
match as they would in the bucket. With no PATH it runs `+projectInput+`/ (as sluice init writes),
else the shipped example (`+exampleInput+`).
With REDIS_URL set, enrichment caches in Redis; otherwise in memory.
A run that reads no record (every object unrouted, or nothing to read) is an error.
With -chaos SEED it injects faults drawn from the seed and checks that every record id
ends delivered, dropped, failed or dead-lettered (exit 1 naming the ids if not); see RELIABILITY.md.`, stderr)
	cfgPath := fs.String("config", config.PathFromEnv(), "the sluice.yaml to read (env SLUICE_CONFIG)")
	out := fs.String("out", "sluice-out", "output folder, laid out like Firehose's S3 destination")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (on a terminal), always or never")
	chaosSeed := fs.String("chaos", "", "inject faults drawn from this seed (a number) and check conservation by record id")
	chaosRate := fs.Float64("chaos-rate", 0.1, "with -chaos: how often each fault fires at each chance (0 to 1)")
	withReport := fs.Bool("report", true, "write report.json and report.html into -out: where every column went, what every field got, failures by reason")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run into this file, for go tool pprof (scripts/pgo-profile.sh builds sluice's default.pgo from such profiles)")
	paths, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		fmt.Fprintf(stderr, "sluice run: -progress must be auto, always or never, not %q\n", *progress)
		return exitUsage
	}
	if len(paths) == 0 {
		for _, p := range []string{projectInput, exampleInput} {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				paths = []string{p}
				break
			}
		}
		if len(paths) == 0 {
			fmt.Fprintf(stderr, "sluice run: name the files or folders to run (no %s/ here, as sluice init writes, nor the shipped example %s: run from the repository's root)\n", projectInput, exampleInput)
			return exitUsage
		}
	}
	cfg, reg, err := config.LoadAll(*cfgPath)
	if err == nil {
		_, err = topology.Build(cfg) // a cycle would never end
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice run: %v\n", err)
		return exitUsage
	}
	// As schema check: a new version that cannot read the older versions'
	// data is refused, and a schema that would drop input is named.
	warnings, err := checkSchemasInUse(cfg, reg)
	if err != nil {
		fmt.Fprintf(stderr, "sluice run: %v\n", err)
		return exitUsage
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "sluice run: warning: %s\n", w)
	}
	var inj *chaos.Injector
	if *chaosSeed != "" {
		seed, err := strconv.ParseUint(*chaosSeed, 10, 64)
		if err != nil || *chaosRate < 0 || *chaosRate > 1 {
			fmt.Fprintf(stderr, "sluice run: -chaos takes a seed (a number, not %q) and -chaos-rate a rate from 0 to 1 (not %g)\n", *chaosSeed, *chaosRate)
			return exitUsage
		}
		inj = chaos.New(seed, *chaosRate)
	}
	ctx := context.Background()
	enrichOpts := []enrich.Option{enrich.WithMetrics(metrics.New(io.Discard)), enrich.WithAWSConfig(loadAWSConfig)}
	if inj != nil && len(cfg.Enrichers) > 0 {
		cache, err := enrich.NewCacheFromEnv()
		if err != nil {
			fmt.Fprintf(stderr, "sluice run: %v\n", err)
			return exitUsage
		}
		enrichOpts = append(enrichOpts, enrich.WithCache(inj.Cache(cache)),
			enrich.WithHTTPClient(&http.Client{Transport: inj.Transport(http.DefaultTransport), CheckRedirect: sameHostRedirects}))
	}
	enrichers, err := app.Enrichers(ctx, cfg, reg, enrichOpts...)
	if err != nil {
		fmt.Fprintf(stderr, "sluice run: %v\n", err)
		return exitUsage
	}
	opts := localrun.Options{Config: cfg, Registry: reg, Inputs: paths, Out: *out, Enrichers: enrichers}
	if inj != nil {
		opts.Faults = inj
	}
	var collector *report.Collector
	if *withReport {
		collector = report.NewCollector()
		opts.Observer = collector
	}
	if *progress == "always" || (*progress == "auto" && isTerminal(stderr)) {
		opts.Progress = func(p localrun.Progress) { drawProgress(stderr, p) }
	}
	defer tuneGC()()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "sluice run: -cpuprofile: %v\n", err)
			return exitUsage
		}
		defer stop()
	}
	sum, err := localrun.Run(ctx, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice run: %v\n", err)
		if strings.Contains(err.Error(), "no such file") {
			return exitUsage
		}
		return exitDeadLetter
	}
	for _, k := range sum.UnroutedKeys {
		fmt.Fprintf(stderr, "sluice run: no route in %s matches %s: not read (add a route)\n", *cfgPath, k)
	}
	printSummary(stdout, sum, *out, inj != nil)
	if collector != nil {
		path, err := writeReport(collector, sum, cfg, *out)
		if err != nil {
			fmt.Fprintf(stderr, "sluice run: report: %v\n", err)
			return exitDeadLetter
		}
		fmt.Fprintf(stdout, "report         %s (and report.json): where every column went, what every field got\n", path)
	}
	if sum.RecordsIn == 0 {
		fmt.Fprintf(stderr, "sluice run: no record was read from %s (%d objects, %d unrouted): check the paths and the routes' key globs in %s\n",
			strings.Join(paths, ", "), sum.Objects, sum.Unrouted, *cfgPath)
		return exitUsage
	}
	if inj != nil {
		return chaosCheck(inj, *out, *chaosSeed, *chaosRate, stdout, stderr, sum)
	}
	if !sum.Conserved() {
		fmt.Fprintln(stderr, "sluice run: records are unaccounted for (a bug: please report it with the input)")
		return exitDeadLetter
	}
	if sum.Failed > 0 || sum.DeadLettered > 0 {
		return exitDeadLetter
	}
	return exitOK
}

// writeReport writes report.json and report.html into out and returns the
// page's path.
func writeReport(c *report.Collector, sum localrun.Summary, cfg *config.Config, out string) (string, error) {
	r := c.Report()
	r.Totals = report.Totals{RecordsIn: sum.RecordsIn, Ok: sum.Ok, Dropped: sum.Dropped, Failed: sum.Failed,
		DeadLetters: sum.DeadLettered, Objects: sum.Objects, Unrouted: sum.Unrouted}
	dl, err := report.ReadDeadLetters(filepath.Join(out, filepath.FromSlash(cfg.DeadLetter.Prefix)))
	if err != nil {
		return "", err
	}
	r.DeadLetters = dl
	r.NameRoutes(routeNamer(cfg))
	if err := r.WriteJSON(filepath.Join(out, "report.json")); err != nil {
		return "", err
	}
	path := filepath.Join(out, "report.html")
	return path, r.WriteHTML(path)
}

// routeNamer names the first route of cfg that matches an object, as the
// splitter chose it.
func routeNamer(cfg *config.Config) func(bucket, key string) string {
	return func(bucket, key string) string {
		for i, r := range cfg.Routes {
			b, errB := config.CompileGlob(r.Bucket)
			k, errK := config.CompileGlob(r.Key)
			if errB != nil || errK != nil || !b.MatchString(bucket) || !k.MatchString(key) {
				continue
			}
			to := r.Stream
			if r.Forks() {
				var streams []string
				for _, br := range r.Branches() {
					streams = append(streams, br.Stream)
				}
				to = strings.Join(streams, ", ")
			}
			return fmt.Sprintf("routes[%d] (key %q, %s → %s)", i, r.Key, r.Format, to)
		}
		return ""
	}
}

func printSummary(w io.Writer, s localrun.Summary, out string, chaos bool) {
	secs := s.Elapsed.Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	if len(s.Stages) > 1 {
		for i, st := range s.Stages {
			fmt.Fprintf(w, "stage %-8d %s, %d records read: in %d = ok %d + dropped %d + failed %d + dead letters %d",
				i+1, plural(st.Objects, "object"), st.Read, st.RecordsIn, st.Ok, st.Dropped, st.Failed, st.DeadLettered)
			if st.HandedOn > 0 {
				fmt.Fprintf(w, "; %d handed on", st.HandedOn)
			}
			if !st.Conserved() {
				fmt.Fprint(w, ": RECORDS UNACCOUNTED FOR")
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "objects        %d (%d unrouted, %d missing)\n", s.Objects, s.Unrouted, s.Missing)
	fmt.Fprintf(w, "records in     %d\n", s.RecordsIn)
	fmt.Fprintf(w, "  ok           %d\n", s.Ok)
	fmt.Fprintf(w, "  dropped      %d%s\n", s.Dropped, byCode(s.DroppedByRule))
	fmt.Fprintf(w, "  failed       %d%s\n", s.Failed, byCode(s.FailedByReason))
	fmt.Fprintf(w, "  dead letters %d (lines the splitter could not parse)\n", s.DeadLettered)
	verdict := "every record is accounted for"
	if len(s.Stages) > 1 {
		verdict += ", in every stage, and each stage read what the one before handed on"
	}
	switch {
	case chaos:
		verdict = "with -chaos the counts include retried invocations and duplicates: checked by record id below"
	case !s.Conserved():
		verdict = "RECORDS UNACCOUNTED FOR"
	}
	fmt.Fprintf(w, "in = ok + dropped + failed + dead letters: %d = %d + %d + %d + %d: %s\n",
		s.RecordsIn, s.Ok, s.Dropped, s.Failed, s.DeadLettered, verdict)
	if s.Kept > 0 {
		fmt.Fprintf(w, "kept           %d values delivered with their original text in extra (an unknown enum symbol, a time cut to the field's precision)\n", s.Kept)
	}
	for _, schemaName := range sortedKeys(s.Discarded) {
		cols := s.Discarded[schemaName]
		var list []string
		for _, c := range sortedKeys(cols) {
			list = append(list, fmt.Sprintf("%q (%d)", c, cols[c]))
		}
		fmt.Fprintf(w, "discarded      columns of %s, which has no extra map: %s\n", schemaName, strings.Join(list, ", "))
	}
	for _, name := range sortedKeys(s.Rollups) {
		r := s.Rollups[name]
		var excluded int64
		for _, n := range r.Excluded {
			excluded += n
		}
		verdict := "every line is accounted for"
		if !r.Conserved() {
			verdict = "LINES UNACCOUNTED FOR"
		}
		fmt.Fprintf(w, "rollup %s: lines in %d = aggregated %d + excluded %d%s + dead letters %d: %s; %d partial aggregates\n",
			name, r.Lines, r.Aggregated, excluded, byCode(r.Excluded), r.DeadLettered, verdict, r.Records)
	}
	fmt.Fprintf(w, "files written  %d delivered, %d processing-failed, in %s\n", s.Files, s.ErrorFiles, out)
	fmt.Fprintf(w, "throughput     %.0f records/s, %.1f MB/s (%s)\n", float64(s.RecordsIn)/secs, float64(s.BytesIn)/1e6/secs, s.Elapsed.Round(time.Millisecond))
}

// checkSchemasInUse refuses incompatible schema versions and a malformed
// extra field, and warns of each schema a route or stream uses that has no
// extra map, whose unmatched columns would be discarded.
func checkSchemasInUse(cfg *config.Config, reg *schema.Registry) ([]string, error) {
	if err := reg.CheckVersions(); err != nil {
		return nil, err
	}
	var warnings []string
	for _, name := range schemasInUse(cfg) {
		s, ok := reg.Latest(name)
		if !ok {
			continue
		}
		warning, err := normalize.CheckSchema(s)
		if err != nil {
			return nil, err
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}
	return warnings, nil
}

// schemasInUse lists the schemas routes, streams and default_schema name.
func schemasInUse(cfg *config.Config) []string {
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" {
			seen[name] = true
		}
	}
	add(cfg.DefaultSchema)
	for _, s := range cfg.Streams {
		add(s.Schema)
	}
	for _, r := range cfg.Routes {
		for _, b := range r.Branches() {
			add(b.Schema)
		}
	}
	return sortedKeys(seen)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// drawProgress redraws one line: a bar, bytes, records and speed.
func drawProgress(w io.Writer, p localrun.Progress) {
	frac := 1.0
	if p.BytesTotal > 0 {
		frac = float64(p.BytesRead) / float64(p.BytesTotal)
	}
	if frac > 1 {
		frac = 1
	}
	const width = 30
	filled := int(frac * width)
	secs := p.Elapsed.Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	fmt.Fprintf(w, "\r[%s%s] %3.0f%%  %d/%d objects  %d records  %.1f MB/s ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100,
		p.Objects, p.ObjectsTotal, p.Records, float64(p.BytesRead)/1e6/secs)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// sameHostRedirects refuses a redirect to another host, as the enrichers'
// own client does.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Host != via[0].URL.Host || len(via) >= 3 {
		return http.ErrUseLastResponse
	}
	return nil
}

// chaosCheck prints the faults injected and checks conservation by record
// id: exit 1 naming the ids when it breaks, else as a plain run would.
func chaosCheck(inj *chaos.Injector, out, seed string, rate float64, stdout, stderr io.Writer, sum localrun.Summary) int {
	fmt.Fprintf(stdout, "chaos          seed %s, rate %g: %d faults injected\n", seed, rate, inj.Total())
	for _, c := range inj.Counts() {
		fmt.Fprintf(stdout, "  %-34s %d\n", c.Fault, c.N)
	}
	if err := inj.Ledger().ReadOutput(out); err != nil {
		fmt.Fprintf(stderr, "sluice run: chaos: %v\n", err)
		return exitDeadLetter
	}
	r := inj.Ledger().Check()
	fmt.Fprintf(stdout, "by record id   %d ids: %d delivered, %d dropped, %d failed, %d dead-lettered; %d duplicates (same id, same document)\n",
		r.IDs, r.Delivered, r.Dropped, r.Failed, r.DeadLetter, r.Duplicates)
	if !r.Conserved() {
		fmt.Fprintf(stderr, "sluice run: chaos: conservation broken: %s\n", r.Broken(20))
		return exitDeadLetter
	}
	fmt.Fprintln(stdout, "conservation   every record id is accounted for")
	if sum.Failed > 0 || sum.DeadLettered > 0 {
		return exitDeadLetter
	}
	return exitOK
}

// plural is "1 object" or "n objects".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// tuneGC collects garbage less often during a run, unless GOGC or
// GOMEMLIMIT says otherwise: a run's live heap is small and bounded (a few
// batches in flight), so a goal of 5x it costs little memory and saves
// most collections, and a soft limit keeps the heap within a run's memory
// budget (a 1 GiB input under 64 MiB of RSS). It returns the undo.
func tuneGC() func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(400)
	limit := debug.SetMemoryLimit(localrun.MemoryLimit)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// startCPUProfile profiles the process into a new file at path until the
// returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
