package main

import (
	"strings"
	"testing"
)

// Every command parses its flags the same way: -h exits 0 with the same
// layout, and flags work after positional arguments.
func TestEveryCommandSharesFlagParsing(t *testing.T) {
	for name := range commands {
		if name == "schema" {
			continue // its subcommands are checked below
		}
		t.Run(name, func(t *testing.T) {
			code, _, errOut := sluice(t, name, "-h")
			if code != exitOK {
				t.Fatalf("-h: exit %d", code)
			}
			for _, w := range []string{"Usage: sluice " + name, "\nFlags:\n", exitStatusHelp} {
				if !strings.Contains(errOut, w) {
					t.Errorf("-h lacks %q:\n%s", w, errOut)
				}
			}
			if code, _, errOut := sluice(t, name, "-no-such-flag"); code != exitUsage || !strings.Contains(errOut, "no-such-flag") {
				t.Errorf("bad flag: exit %d\n%s", code, errOut)
			}
		})
	}
	for _, sub := range []string{"check", "compat", "ddl"} {
		if code, _, errOut := sluice(t, "schema", sub, "-h"); code != exitOK || !strings.Contains(errOut, "Usage: sluice schema "+sub) || !strings.Contains(errOut, exitStatusHelp) {
			t.Errorf("schema %s -h: exit %d\n%s", sub, code, errOut)
		}
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args []string
		pos  string
		out  string
	}{
		{[]string{"a", "-out", "x", "b"}, "a b", "x"},
		{[]string{"-out", "x", "a"}, "a", "x"},
		{[]string{"a", "b", "-out=y"}, "a b", "y"},
		{[]string{"a", "--", "-out", "z"}, "a -out z", ""},
	}
	for _, tt := range tests {
		fs := newFlags("t", "t", "", nil)
		out := fs.String("out", "", "")
		pos, _, ok := parseFlags(fs, tt.args)
		if !ok || strings.Join(pos, " ") != tt.pos || *out != tt.out {
			t.Errorf("%q: positional %q, -out %q; want %q, %q", tt.args, pos, *out, tt.pos, tt.out)
		}
	}
}
