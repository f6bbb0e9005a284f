package localfirehose

import (
	"strings"
	"testing"
	"time"
)

func FuzzPrefix(f *testing.F) {
	for _, s := range []string{
		"", "listings/", "data/dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH}/",
		"errors/!{firehose:error-output-type}/!{timestamp:yyyy'/'MM}/",
		"p/!{partitionKeyFromLambda:city}/!{firehose:random-string}/", "!{", "!{a:}", "!{timestamp:''''}",
	} {
		f.Add(s, "e/!{firehose:error-output-type}/")
	}
	f.Fuzz(func(t *testing.T, prefix, errorPrefix string) {
		ok, failed, key, err := streamPrefixes(prefix, errorPrefix)
		if err != nil {
			if key != "prefix" && key != "error_prefix" {
				t.Fatalf("error %v names key %q", err, key)
			}
			return
		}
		at := time.Date(2024, 11, 22, 10, 10, 0, 0, time.UTC)
		keys := map[string]string{}
		for _, k := range ok.keys {
			keys[k] = "v"
		}
		random := func() string { return "r" }
		got, missing := ok.eval(at, keys, random)
		if missing != "" {
			t.Fatalf("key %q missing though supplied", missing)
		}
		if !ok.hasExpr {
			t.Fatal("a resolved prefix always has the time or the user's expressions")
		}
		if !strings.Contains(prefix, "!{") && got != prefix+"2024/11/22/10/" {
			t.Fatalf("static prefix %q became %q", prefix, got)
		}
		gotErr, missing := failed.eval(at, nil, random)
		if missing != "" || !failed.hasErrorType || !strings.Contains(gotErr, errorOutputType) {
			t.Fatalf("error prefix %q became %q (missing %q)", errorPrefix, gotErr, missing)
		}
	})
}
