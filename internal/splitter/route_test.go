package splitter

import (
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

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
		re, err := compileGlob(tc.glob)
		if err != nil {
			t.Fatalf("%q: %v", tc.glob, err)
		}
		if got := re.MatchString(tc.s); got != tc.want {
			t.Errorf("glob %q on %q = %v, want %v", tc.glob, tc.s, got, tc.want)
		}
	}
	if _, err := compileGlob("a[b"); err == nil {
		t.Error("unclosed class: want an error")
	}
}

func TestRouterFirstMatchWins(t *testing.T) {
	r, err := newRouter([]config.Route{
		{Bucket: "special", Key: "**", Format: "lines", Stream: "s1"},
		{Bucket: "*", Key: "listings/**", Format: "csv", Stream: "s2"},
		{Bucket: "*", Key: "**", Format: "jsonl", Stream: "s3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ bucket, key, stream string }{
		{"special", "listings/a.csv", "s1"},
		{"other", "listings/a.csv", "s2"},
		{"other", "x/y.json", "s3"},
	} {
		got, ok := r.match(tc.bucket, tc.key)
		if !ok || got.Stream != tc.stream {
			t.Errorf("%s/%s -> %q, %v; want %q", tc.bucket, tc.key, got.Stream, ok, tc.stream)
		}
	}
	r, _ = newRouter([]config.Route{{Bucket: "*", Key: "listings/*"}})
	if _, ok := r.match("b", "alb/x"); ok {
		t.Error("unrouted key matched")
	}
}
