package config

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, s string
		want    bool
	}{
		{"*", "bucket", true},
		{"*", "", true},
		{"*", "a/b", false},
		{"listings/*", "listings/a.csv", true},
		{"listings/*", "listings/2024/a.csv", false},
		{"listings/**", "listings/2024/01/a.csv", true},
		{"listings/**", "listings/", true},
		{"listings/**", "other/a.csv", false},
		{"logs/**/*.gz", "logs/a.gz", true},
		{"logs/**/*.gz", "logs/x/y/a.gz", true},
		{"logs/**/*.gz", "logs/x/y/a.csv", false},
		{"data-?.csv", "data-1.csv", true},
		{"data-?.csv", "data-/.csv", false},
		{"data-[0-9].csv", "data-7.csv", true},
		{"data-[!0-9].csv", "data-7.csv", false},
		{"data-[!0-9].csv", "data-x.csv", true},
		{"a.b", "axb", false},
		{"prod-*", "prod-logs", true},
		{"red flower/*.csv", "red flower/x.csv", true},
		{"k=v/*", "k=v/x", true},
		{"ünïcode/*", "ünïcode/ä.csv", true},
	}
	for _, tc := range tests {
		re, err := CompileGlob(tc.glob)
		if err != nil {
			t.Fatalf("%q: %v", tc.glob, err)
		}
		if got := re.MatchString(tc.s); got != tc.want {
			t.Errorf("glob %q on %q = %v, want %v", tc.glob, tc.s, got, tc.want)
		}
	}
	if _, err := CompileGlob("a[b"); err == nil {
		t.Error("unclosed class: want an error")
	}
}

// FuzzGlob: any glob compiles or fails cleanly; "*" never crosses "/".
func FuzzGlob(f *testing.F) {
	for _, g := range []string{"*", "listings/**", "a/**/b/*.csv", "x[0-9]?", "[!a]", `\*`, "[", "**/"} {
		f.Add(g, "listings/a/b.csv")
	}
	f.Fuzz(func(t *testing.T, glob, s string) {
		re, err := CompileGlob(glob)
		if err != nil {
			return
		}
		re.MatchString(s)
		if glob == "*" && re.MatchString("a/b") {
			t.Fatal(`"*" crossed "/"`)
		}
	})
}
