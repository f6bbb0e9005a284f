package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/topology"
	"github.com/sluicehq/sluice/schema"
	"github.com/sluicehq/sluice/schema/ddl"
)

// schemaCommand is one subcommand of sluice schema.
type schemaCommand struct {
	usage   string // the synopsis after "sluice schema"
	summary string
	flags   func(stderr io.Writer) (*flag.FlagSet, any)
	run     func(flags *flag.FlagSet, opts any, args []string, stdout, stderr io.Writer) int
}

var schemaCommands = []struct {
	name string
	cmd  schemaCommand
}{
	{"check", schemaCommand{
		usage:   "check [-config F] [-dir D]",
		summary: "parse every schema version, check consecutive versions are backward compatible, and check the config and the schemas it names",
		flags:   checkFlags,
		run:     runSchemaCheck,
	}},
	{"compat", schemaCommand{
		usage:   "compat [-config F] [-dir D] [NAME [OLD NEW]] | compat OLD.avsc NEW.avsc",
		summary: "report whether each version can read data written with the one before (exit 1 if not), and which fields changed",
		flags:   compatFlags,
		run:     runSchemaCompat,
	}},
	{"ddl", schemaCommand{
		usage:   "ddl -target redshift|opensearch|glue [-config F] [-dir D] [-version N] [-table T] [-out DIR] NAME",
		summary: "write the destination's definition for a schema: Redshift table and JSONPaths, OpenSearch index template, or Glue table for Parquet conversion",
		flags:   ddlFlags,
		run:     runSchemaDDL,
	}},
	{"infer", schemaCommand{
		usage:   inferUsage,
		summary: "write a first schema NAME.v1.avsc from sample files (gzip too), and print the route to add to sluice.yaml",
		flags:   inferFlags,
		run:     runSchemaInfer,
	}},
}

func runSchema(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		schemaUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		schemaUsage(stdout)
		return exitOK
	}
	for _, c := range schemaCommands {
		if c.name == args[0] {
			fs, opts := c.cmd.flags(stderr)
			rest, code, ok := parseFlags(fs, args[1:])
			if !ok {
				return code
			}
			return c.cmd.run(fs, opts, rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sluice schema: unknown subcommand %q (want check, compat, ddl or infer; run 'sluice schema -h')\n", args[0])
	return exitUsage
}

func schemaUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: sluice schema <subcommand> [flags] [args]")
	fmt.Fprintln(w, "\nSchemas are <name>.v<N>.avsc files: from -dir, else the config's schemas.dir, else the ones built into sluice.")
	for _, c := range schemaCommands {
		fmt.Fprintf(w, "\nsluice schema %s\n  %s\n", c.cmd.usage, c.cmd.summary)
		fs, _ := c.cmd.flags(w)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprintln(w, "\nExit status: 0 ok, 1 incompatible versions (compat), 2 usage, schema or config error.")
}

// sourceFlags are the flags every schema subcommand takes.
type sourceFlags struct {
	config string
	dir    string
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.config, "config", config.PathFromEnv(), "config file; its schemas.dir locates the schemas (env "+config.EnvPath+")")
	fs.StringVar(&s.dir, "dir", "", "directory of <name>.v<N>.avsc files (default: the config's schemas.dir, else the schemas built into sluice)")
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	return newFlags("schema "+name, "schema "+usage, "", stderr)
}

// loadConfig loads the config named by -config. When required is false, a
// missing file at the default path is not an error: the config only
// locates the schemas there.
func loadConfig(flags *flag.FlagSet, path string, required bool) (*config.Config, error) {
	if path == "" {
		return nil, nil
	}
	explicit := false
	flags.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if !required && !explicit && os.Getenv(config.EnvPath) == "" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return config.Load(path)
}

// loadRegistry loads the schemas from dir, else the config's schemas.dir,
// else the shipped ones, and says which it used.
func loadRegistry(dir string, c *config.Config) (*schema.Registry, string, error) {
	if dir == "" && c != nil && c.Schemas.Dir != "" {
		dir = c.Resolve(c.Schemas.Dir)
	}
	var r *schema.Registry
	var err error
	from := "dir " + dir
	if dir == "" {
		from = "the schemas built into sluice"
		r, err = schema.Shipped()
	} else {
		r, err = schema.LoadDir(dir)
	}
	if err == nil && c != nil {
		err = c.AddRollupSchemas(r)
	}
	if err != nil {
		return nil, from, err
	}
	return r, from, nil
}

func checkFlags(stderr io.Writer) (*flag.FlagSet, any) {
	src := &sourceFlags{}
	fs := newFlagSet("check", "check [-config F] [-dir D]", stderr)
	src.register(fs)
	return fs, src
}

func runSchemaCheck(flags *flag.FlagSet, opts any, args []string, stdout, stderr io.Writer) int {
	src := opts.(*sourceFlags)
	if len(args) > 0 {
		fmt.Fprintf(stderr, "sluice schema check: unexpected argument %q\n", args[0])
		return exitUsage
	}
	var problems []string
	var graph *topology.Graph
	cfg, err := loadConfig(flags, src.config, true)
	if errors.Is(err, fs.ErrNotExist) {
		problems = append(problems, err.Error()+"; or pass -config \"\" to check only the schemas")
	} else if err != nil {
		problems = append(problems, err.Error())
	} else if cfg != nil {
		if err := cfg.CheckStreams(); err != nil {
			problems = append(problems, err.Error())
		} else if graph, err = topology.Build(cfg); err != nil {
			problems = append(problems, err.Error())
		}
	}
	reg, where, err := loadRegistry(src.dir, cfg)
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		if err := reg.CheckVersions(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, line+" (in "+where+")")
			}
		}
		if cfg != nil {
			if err := cfg.CheckSchemas(reg.Has); err != nil {
				problems = append(problems, err.Error()+" (schemas from "+where+": "+strings.Join(reg.Names(), ", ")+")")
			}
		}
		for _, name := range reg.Names() {
			s, _ := reg.Latest(name)
			if _, err := normalize.CheckSchema(s); err != nil {
				problems = append(problems, err.Error()+" (in "+where+")")
			}
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "sluice schema check: %s\n", p)
		}
		return exitUsage
	}
	var list []string
	versions := 0
	for _, name := range reg.Names() {
		vs := reg.Versions(name)
		versions += len(vs)
		if len(vs) == 1 {
			list = append(list, fmt.Sprintf("%s v%d", name, vs[0].Version))
		} else {
			list = append(list, fmt.Sprintf("%s v%d..v%d", name, vs[0].Version, vs[len(vs)-1].Version))
		}
	}
	fmt.Fprintf(stdout, "schemas: %d schemas, %d versions (%s): %s\n", len(list), versions, where, strings.Join(list, ", "))
	fmt.Fprintln(stdout, "versions: each can read data written with the one before")
	if cfg != nil {
		fmt.Fprintf(stdout, "config: %s is valid and every schema it names exists\n", cfg.Path)
		warnings, _ := checkSchemasInUse(cfg, reg)
		for _, w := range warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "graph: %s, %s, %s, no cycle; every stream with a prefix of its own is read or final (sluice graph prints it)\n",
			plural(len(graph.Routes), "route"), plural(len(graph.Streams), "stream"), plural(graph.Stages(), "stage"))
	} else {
		fmt.Fprintln(stdout, "config: not checked (-config \"\")")
	}
	fmt.Fprintln(stdout, "OK")
	return exitOK
}

func compatFlags(stderr io.Writer) (*flag.FlagSet, any) {
	src := &sourceFlags{}
	fs := newFlagSet("compat", "compat [-config F] [-dir D] [NAME [OLD NEW]] | compat OLD.avsc NEW.avsc", stderr)
	src.register(fs)
	return fs, src
}

// pair is two versions to compare.
type pair struct{ older, newer *schema.Schema }

func runSchemaCompat(flags *flag.FlagSet, opts any, args []string, stdout, stderr io.Writer) int {
	src := opts.(*sourceFlags)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sluice schema compat: "+format+"\n", a...)
		return exitUsage
	}
	var pairs []pair
	if len(args) == 2 && strings.HasSuffix(args[0], ".avsc") && strings.HasSuffix(args[1], ".avsc") {
		older, err := parseSchemaFile(args[0], 1)
		if err != nil {
			return fail("%v", err)
		}
		newer, err := parseSchemaFile(args[1], 2)
		if err != nil {
			return fail("%v", err)
		}
		if older.Name != newer.Name {
			return fail("%s is schema %q but %s is %q", args[0], older.Name, args[1], newer.Name)
		}
		pairs = append(pairs, pair{older, newer})
	} else {
		if len(args) == 2 || len(args) > 3 {
			return fail("want NAME, NAME OLD NEW, or OLD.avsc NEW.avsc; got %d arguments", len(args))
		}
		cfg, err := loadConfig(flags, src.config, false)
		if err != nil {
			return fail("%v", err)
		}
		reg, _, err := loadRegistry(src.dir, cfg)
		if err != nil {
			return fail("%v", err)
		}
		names := reg.Names()
		if len(args) > 0 {
			if !reg.Has(args[0]) {
				return fail("no schema %q (have %s)", args[0], strings.Join(names, ", "))
			}
			names = args[:1]
		}
		if len(args) == 3 {
			older, err := findVersion(reg, args[0], args[1])
			if err != nil {
				return fail("%v", err)
			}
			newer, err := findVersion(reg, args[0], args[2])
			if err != nil {
				return fail("%v", err)
			}
			pairs = append(pairs, pair{older, newer})
		} else {
			for _, name := range names {
				vs := reg.Versions(name)
				if len(vs) == 1 && len(args) > 0 {
					fmt.Fprintf(stdout, "%s: only v%d, nothing to compare\n", name, vs[0].Version)
				}
				for i := 1; i < len(vs); i++ {
					pairs = append(pairs, pair{vs[i-1], vs[i]})
				}
			}
		}
	}
	if len(pairs) == 0 && len(args) == 0 {
		fmt.Fprintln(stdout, "nothing to compare: every schema has a single version")
	}
	status := exitOK
	for _, p := range pairs {
		head := fmt.Sprintf("%s v%d -> v%d", p.older.Name, p.older.Version, p.newer.Version)
		if len(args) == 2 {
			head = fmt.Sprintf("%s -> %s", args[0], args[1])
		}
		changes := ddl.Changes(p.older, p.newer)
		if err := schema.CheckCompatible(p.older, p.newer); err != nil {
			status = exitDeadLetter
			var breaking []ddl.Change
			for _, c := range changes {
				if c.Breaking != "" {
					breaking = append(breaking, c)
				}
			}
			switch len(breaking) {
			case 0:
				// A change sluice does not describe: say it in Avro's words.
				fmt.Fprintf(stdout, "%s: INCOMPATIBLE: %s\n", head, strings.TrimPrefix(err.Error(), schema.ErrIncompatible.Error()+": "))
			case 1:
				fmt.Fprintf(stdout, "%s: INCOMPATIBLE: 1 breaking change\n", head)
			default:
				fmt.Fprintf(stdout, "%s: INCOMPATIBLE: %d breaking changes\n", head, len(breaking))
			}
		} else {
			fmt.Fprintf(stdout, "%s: compatible\n", head)
		}
		for _, c := range changes {
			fmt.Fprintf(stdout, "  %s\n", c)
		}
	}
	return status
}

var versionedFile = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.v([0-9]+)\.avsc$`)

// parseSchemaFile reads an .avsc file outside a registry. Its name and
// version come from a <name>.v<N>.avsc file name, else from the record's
// name and the given version.
func parseSchemaFile(path string, version int) (*schema.Schema, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := ""
	if m := versionedFile.FindStringSubmatch(filepath.Base(path)); m != nil {
		name = m[1]
		version, _ = strconv.Atoi(m[2])
	} else if m := regexp.MustCompile(`"name"\s*:\s*"(?:[A-Za-z0-9_]+\.)*([A-Za-z_][A-Za-z0-9_]*)"`).FindSubmatch(src); m != nil {
		// The first "name" in an .avsc is the top-level record's.
		name = string(m[1])
	}
	s, err := schema.Parse(name, version, src)
	var se *schema.SyntaxError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("%s:%w", path, se)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func findVersion(reg *schema.Registry, name, v string) (*schema.Schema, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
	if err != nil {
		return nil, fmt.Errorf("version %q is not a number (e.g. 2 or v2)", v)
	}
	var have []string
	for _, s := range reg.Versions(name) {
		if s.Version == n {
			return s, nil
		}
		have = append(have, "v"+strconv.Itoa(s.Version))
	}
	return nil, fmt.Errorf("%s has no v%d (have %s)", name, n, strings.Join(have, ", "))
}

// ddlOptions are sluice schema ddl's flags.
type ddlOptions struct {
	sourceFlags
	target  string
	version int
	out     string
	ddl.Options
}

func ddlFlags(stderr io.Writer) (*flag.FlagSet, any) {
	o := &ddlOptions{}
	fs := newFlagSet("ddl", "ddl -target redshift|opensearch|glue [-config F] [-dir D] [-version N] [-table T] [-out DIR] NAME", stderr)
	fs.StringVar(&o.target, "target", "", "destination: redshift (CREATE TABLE and JSONPaths), opensearch (index template) or glue (table for Firehose Parquet conversion); required")
	o.sourceFlags.register(fs)
	fs.IntVar(&o.version, "version", 0, "schema version to describe (default: the latest)")
	fs.StringVar(&o.Table, "table", "", "Redshift table (may be schema.table), OpenSearch index or Glue table name (default: the schema's name)")
	fs.StringVar(&o.out, "out", "", "write the files into this directory instead of printing them")
	fs.StringVar(&o.JSONPathsURI, "jsonpaths", "", "redshift: S3 URI the JSONPaths file is uploaded to, written into the COPY options (default: a s3://BUCKET/... placeholder)")
	fs.StringVar(&o.Location, "location", "", "glue: the table's S3 location, the Firehose destination prefix (default: none)")
	return fs, o
}

func runSchemaDDL(flags *flag.FlagSet, opts any, args []string, stdout, stderr io.Writer) int {
	o := opts.(*ddlOptions)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sluice schema ddl: "+format+"\n", a...)
		return exitUsage
	}
	target, err := ddl.ParseTarget(o.target)
	if o.target == "" {
		return fail("-target is required (redshift, opensearch or glue)")
	}
	if err != nil {
		return fail("%v", err)
	}
	if len(args) != 1 {
		return fail("want one schema NAME, got %d arguments", len(args))
	}
	cfg, err := loadConfig(flags, o.config, false)
	if err != nil {
		return fail("%v", err)
	}
	reg, where, err := loadRegistry(o.dir, cfg)
	if err != nil {
		return fail("%v", err)
	}
	name := args[0]
	if !reg.Has(name) {
		return fail("no schema %q among %s (%s)", name, where, strings.Join(reg.Names(), ", "))
	}
	s, _ := reg.Latest(name)
	if o.version != 0 {
		if s, err = findVersion(reg, name, strconv.Itoa(o.version)); err != nil {
			return fail("%v", err)
		}
	}
	files, err := ddl.Generate(target, s, o.Options)
	if err != nil {
		return fail("%v", err)
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return fail("%v", err)
		}
		for _, f := range files {
			path := filepath.Join(o.out, f.Name)
			if err := os.WriteFile(path, f.Data, 0o644); err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
		return exitOK
	}
	stdout.Write(files[0].Data)
	// Redshift's JSONPaths file follows as SQL comments, so that stdout
	// stays one runnable SQL script; -out writes it as its own file.
	for _, f := range files[1:] {
		fmt.Fprintf(stdout, "\n-- %s (upload to S3; -out DIR writes it as a file):\n", f.Name)
		for _, line := range strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n") {
			fmt.Fprintf(stdout, "-- %s\n", line)
		}
	}
	return exitOK
}
