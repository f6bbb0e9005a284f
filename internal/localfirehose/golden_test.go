package localfirehose

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
)

var update = flag.Bool("update", false, "rewrite the golden output folders")

// goldenProcessor stands in for the transform: a record whose data
// contains "fail" is ProcessingFailed, "drop" Dropped; others are Ok with
// a newline, and a JSON "city" becomes the partition key.
func goldenProcessor(_ context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
	var r firehose.Response
	for _, rec := range ev.Records {
		out := firehose.ResponseRecord{RecordID: rec.RecordID, Result: firehose.Ok, Data: append(append([]byte{}, rec.Data...), '\n')}
		switch {
		case bytes.Contains(rec.Data, []byte("fail")):
			out.Result, out.Data = firehose.ProcessingFailed, []byte{}
		case bytes.Contains(rec.Data, []byte("drop")):
			out.Result, out.Data = firehose.Dropped, []byte{}
		}
		var doc struct{ City string }
		if json.Unmarshal(rec.Data, &doc) == nil && doc.City != "" {
			out.Metadata = &firehose.Metadata{PartitionKeys: map[string]string{"city": doc.City}}
		}
		r.Records = append(r.Records, out)
	}
	return r, nil
}

// TestGolden runs each testdata/localfirehose/<case>: sluice.yaml, and
// input.jsonl lines {"stream","at" (offset from 2024-11-22T10:10:00Z),
// "data"}, each one PutRecordBatch call. The output folder must equal
// <case>/expected (go test -update rewrites it).
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("../../testdata/localfirehose/*/sluice.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, cfgPath := range cases {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			clock := &fakeClock{t: t0}
			out := t.TempDir()
			e, err := New(cfg, goldenProcessor, Dir(out), WithClock(clock.now), WithIDs(counterIDs()))
			if err != nil {
				t.Fatal(err)
			}
			in, err := os.Open(filepath.Join(dir, "input.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			sc := bufio.NewScanner(in)
			ctx := context.Background()
			for sc.Scan() {
				var line struct{ Stream, At, Data string }
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatal(err)
				}
				at, err := time.ParseDuration(line.At)
				if err != nil {
					t.Fatal(err)
				}
				clock.t = t0.Add(at)
				if _, err := e.PutRecordBatch(ctx, &awsfirehose.PutRecordBatchInput{
					DeliveryStreamName: aws.String(line.Stream), Records: []types.Record{{Data: []byte(line.Data)}}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Close(ctx); err != nil {
				t.Fatal(err)
			}
			st := e.Stats().Total()
			if st.RecordsIn != st.Ok+st.Dropped+st.Failed {
				t.Fatalf("records lost: %+v", st)
			}
			expected := filepath.Join(dir, "expected")
			if *update {
				os.RemoveAll(expected)
				if err := os.CopyFS(expected, os.DirFS(out)); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, want := tree(t, out), tree(t, expected)
			for name, body := range want {
				if got[name] != body {
					t.Errorf("%s:\n got %q\nwant %q", name, got[name], body)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("unexpected object %s", name)
				}
			}
		})
	}
}

func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !strings.Contains(err.Error(), "no such file") {
		t.Fatal(err)
	}
	return out
}
