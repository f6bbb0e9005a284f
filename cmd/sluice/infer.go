package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/infer"
	"github.com/sluicehq/sluice/internal/normalize"
)

// inferOptions are sluice schema infer's flags.
type inferOptions struct {
	name, format, out, config string
	max                       int
	infer.Options
}

const inferUsage = "infer [-name NAME] [-format csv|jsonl|alb|elb] [-out DIR] [-enum N] [-arrays] [-config F] [-max-records N] FILE|DIR..."

func inferFlags(stderr io.Writer) (*flag.FlagSet, any) {
	o := &inferOptions{}
	fs := newFlagSet("infer", inferUsage, stderr)
	fs.StringVar(&o.name, "name", "", "the schema's name (default: from the first FILE or DIR)")
	fs.StringVar(&o.format, "format", "", "the samples' format: csv, jsonl, alb or elb (default: from each file's extension, .gz ignored)")
	fs.StringVar(&o.out, "out", ".", "directory to write NAME.v1.avsc into")
	fs.StringVar(&o.config, "config", config.PathFromEnv(), "config whose timezone and transform.day_first the coercions use, if it exists")
	fs.IntVar(&o.max, "max-records", 100000, "read at most this many records of each file (0: all)")
	fs.IntVar(&o.Enum, "enum", 0, "make a text column with at most N distinct values (each seen twice on average) an enum (default 0: never)")
	fs.BoolVar(&o.Arrays, "arrays", false, "make a column of lists separated by ';' or '|' (never ','), or of JSON arrays, an array of strings")
	return fs, o
}

func runSchemaInfer(flags *flag.FlagSet, opts any, args []string, stdout, stderr io.Writer) int {
	o := opts.(*inferOptions)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sluice schema infer: "+format+"\n", a...)
		return exitUsage
	}
	if len(args) == 0 {
		return fail("name the sample files or folders (see sluice schema infer -h)")
	}
	if o.format != "" && !slices.Contains(infer.Formats, o.format) {
		return fail("-format %q: want one of %s", o.format, strings.Join(infer.Formats, ", "))
	}
	cfg, err := loadConfig(flags, o.config, false)
	if err != nil {
		return fail("%v", err)
	}
	nopts := normalize.Options{}
	if cfg != nil {
		nopts = normalize.Options{Location: cfg.Location(), DayFirst: cfg.Transform.DayFirst}
	}
	files, err := infer.Files(args)
	if err != nil {
		return fail("%v", err)
	}
	if len(files) == 0 {
		return fail("no files in %s", strings.Join(args, ", "))
	}
	name := o.name
	if name == "" {
		name = infer.NameFor(args[0])
	}
	if !validSchemaName(name) {
		return fail("-name %q: a schema name is letters, digits and _, not starting with a digit", name)
	}
	sampler, err := infer.NewSampler(nopts)
	if err != nil {
		return fail("%v", err)
	}
	// One route per file extension: each names its format.
	type route struct{ glob, format string }
	var routes []route
	for _, f := range files {
		format := o.format
		if format == "" {
			if format = infer.FormatFor(f); format == "" {
				return fail("%s: cannot tell the format from the name: pass -format (%s)", f, strings.Join(infer.Formats, ", "))
			}
		}
		if err := sampler.ReadFile(f, format, o.max); err != nil {
			return fail("%v", err)
		}
		r := route{glob: "**" + extension(f), format: format}
		if !slices.Contains(routes, r) {
			routes = append(routes, r)
		}
	}
	res := sampler.Result(name, o.Options)
	if res.Records == 0 {
		return fail("no records in %s", strings.Join(files, ", "))
	}
	src, err := res.AVSC()
	if err != nil {
		return fail("%v", err)
	}
	path := filepath.Join(o.out, name+".v1.avsc")
	if _, err := os.Stat(path); err == nil {
		return fail("%s exists: not overwritten (remove it, or pass another -out or -name)", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail("%v", err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fail("%v", err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return fail("%v", err)
	}

	fmt.Fprintf(stdout, "wrote %s: %d fields (and extra, provenance) from %d records in %d files", path, len(res.Fields), res.Records, res.Files)
	if res.Unparsed > 0 {
		fmt.Fprintf(stdout, "; %d records could not be parsed (the splitter would dead-letter them)", res.Unparsed)
	}
	fmt.Fprintln(stdout)
	for _, f := range res.Fields {
		t := typeName(f.Type)
		if f.Nullable {
			t += " or null"
		}
		fmt.Fprintf(stdout, "  %-20s %-24s from %s\n", f.Name, t, strings.Join(quoteAll(f.Spellings), ", "))
	}
	if len(res.InExtra) > 0 {
		fmt.Fprintf(stdout, "  %-20s %-24s from %s: no Avro field name can hold their letters\n", "extra", "map<string>", strings.Join(quoteAll(res.InExtra), ", "))
	}
	fmt.Fprintf(stdout, "\nAdd to sluice.yaml (schemas.dir must be the folder holding %s.v1.avsc, here %s):\n\n", name, o.out)
	fmt.Fprintf(stdout, "schemas:\n  dir: %s\nstreams:\n  %s:\n    schema: %s\nroutes:\n", filepath.ToSlash(o.out), name, name)
	for _, r := range routes {
		fmt.Fprintf(stdout, "  - key: %q\n    format: %s\n    schema: %s\n    stream: %s\n", r.glob, r.format, name, name)
	}
	fmt.Fprintf(stdout, "\nThen: sluice schema check && sluice run %s\n", strings.Join(args, " "))
	return exitOK
}

// extension is a file's extension, with .gz kept: ".csv", ".csv.gz".
func extension(path string) string {
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	if strings.EqualFold(ext, ".gz") {
		return filepath.Ext(strings.TrimSuffix(base, ext)) + ext
	}
	return ext
}

func typeName(t any) string {
	if m, ok := t.(map[string]any); ok {
		switch {
		case m["logicalType"] == "decimal":
			return fmt.Sprintf("decimal(%v,%v)", m["precision"], m["scale"])
		case m["type"] == "enum":
			return fmt.Sprintf("enum%v", m["symbols"])
		case m["type"] == "array":
			return fmt.Sprintf("array<%v>", m["items"])
		}
		return fmt.Sprint(m["logicalType"])
	}
	return fmt.Sprint(t)
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func validSchemaName(s string) bool { return versionedFile.MatchString(s + ".v1.avsc") }
