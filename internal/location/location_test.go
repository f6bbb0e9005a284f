package location

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/testenv"
)

// walked lists name=content of every object Walk reads.
func walked(t *testing.T, w Walker, loc string) []string {
	t.Helper()
	var got []string
	err := w.Walk(context.Background(), loc, func(name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		got = append(got, name+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWalkFolder(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"b/2.jsonl": "two", "a.jsonl": "one", "b/.partial-x": "hidden", "parked/p.jsonl": "parked", "b/1.jsonl": "one-b",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	skip := func(name string) bool { return name == filepath.Join(dir, "parked") }
	got := strings.Join(walked(t, Walker{What: "test", Skip: skip}, dir), " ")
	want := strings.Join([]string{
		filepath.Join(dir, "a.jsonl") + "=one", filepath.Join(dir, "b/1.jsonl") + "=one-b", filepath.Join(dir, "b/2.jsonl") + "=two",
	}, " ")
	if got != want {
		t.Fatalf("walked %s\nwant   %s", got, want)
	}
	// A file names itself alone; a missing one is an error with its name.
	if got := walked(t, Walker{What: "test"}, filepath.Join(dir, "b/.partial-x")); len(got) != 1 || !strings.HasSuffix(got[0], "=hidden") {
		t.Fatalf("a file given by name: %v", got)
	}
	err := Walker{What: "test"}.Walk(context.Background(), filepath.Join(dir, "none"), func(string, io.Reader) error { return nil })
	if err == nil || !strings.HasPrefix(err.Error(), "test: ") || !strings.Contains(err.Error(), "none") {
		t.Fatalf("missing path: %v", err)
	}
}

func TestS3LocationErrors(t *testing.T) {
	for loc, want := range map[string]string{
		"s3:///prefix": `test: "s3:///prefix" names no bucket`,
		"s3://bucket/": "test: an s3:// location needs an S3 client",
	} {
		err := Walker{What: "test"}.Walk(context.Background(), loc, func(string, io.Reader) error { return nil })
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s", loc, err, want)
		}
	}
	if b, p, err := SplitS3("test", "s3://b/x/y"); b != "b" || p != "x/y" || err != nil {
		t.Fatalf("SplitS3: %q %q %v", b, p, err)
	}
}

// Against moto_server (the fuller suite): keys in order, folder markers and
// skipped keys left out, and more keys than one listing page holds.
func TestWalkS3FromMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("out")}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("out"), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}); err != nil {
			t.Fatal(err)
		}
	}
	put("rollups/", "")
	put("rollups/skip.jsonl", "skipped")
	put("other/x.jsonl", "elsewhere")
	for i := range 1005 { // a listing page holds 1,000 keys
		put(fmt.Sprintf("n/%04d", i), "")
	}
	put("rollups/b.jsonl", "b")
	put("rollups/a.jsonl", "a")
	w := Walker{What: "test", S3: client, Skip: func(name string) bool { return name == "s3://out/rollups/skip.jsonl" }}
	if got, want := strings.Join(walked(t, w, "s3://out/rollups/"), " "), "s3://out/rollups/a.jsonl=a s3://out/rollups/b.jsonl=b"; got != want {
		t.Fatalf("walked %s, want %s", got, want)
	}
	n := 0
	if err := w.Walk(ctx, "s3://out/n/", func(string, io.Reader) error { n++; return nil }); err != nil || n != 1005 {
		t.Fatalf("walked %d objects over several pages (%v), want 1005", n, err)
	}
}
