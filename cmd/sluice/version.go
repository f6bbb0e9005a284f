package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
)

// pseudoVersion matches a Go pseudo-version (v0.0.0-20240501102030-0123456789ab).
var pseudoVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-(?:[0-9A-Za-z.]+\.)?(?:0\.)?[0-9]{14}-([0-9a-f]{12})(?:\+incompatible)?$`)

// readBuildInfo is debug.ReadBuildInfo; tests swap it.
var readBuildInfo = debug.ReadBuildInfo

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "version", `
Prints sluice's version (the module version "go install ...@vX" recorded,
else "(devel)"), the commit it was built from and the Go version.`, stderr)
	pos, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "sluice version: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	fmt.Fprintln(stdout, versionLine())
	return exitOK
}

// versionLine is "sluice v1.2.3 (commit 0123abcd, go1.26.8)", from the
// build information the Go toolchain embeds.
func versionLine() string {
	bi, ok := readBuildInfo()
	if !ok {
		return "sluice (unknown version: built without module information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	commit, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		// go install ...@version builds from the module zip, which records
		// no VCS data; a pseudo-version ends with the commit.
		if m := pseudoVersion.FindStringSubmatch(version); m != nil {
			commit = m[1]
		}
	}
	switch {
	case commit == "":
		commit = "unknown"
	case modified:
		commit += ", modified"
	}
	return fmt.Sprintf("sluice %s (commit %s, %s)", version, commit, bi.GoVersion)
}
