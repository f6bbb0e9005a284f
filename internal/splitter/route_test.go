package splitter

import (
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

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
		got, _, ok := r.match(tc.bucket, tc.key)
		if !ok || got.Stream != tc.stream {
			t.Errorf("%s/%s -> %q, %v; want %q", tc.bucket, tc.key, got.Stream, ok, tc.stream)
		}
	}
	r, _ = newRouter([]config.Route{{Bucket: "*", Key: "listings/*"}})
	if _, _, ok := r.match("b", "alb/x"); ok {
		t.Error("unrouted key matched")
	}
}
