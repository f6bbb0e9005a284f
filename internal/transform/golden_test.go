package transform

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/schema"
)

var update = flag.Bool("update", false, "rewrite the golden expected.json files")

// goldenRecord is one record's expected outcome.
type goldenRecord struct {
	RecordID  string            `json:"recordId"`
	Result    string            `json:"result"`
	Documents []json.RawMessage `json:"documents,omitempty"`
	Class     string            `json:"class,omitempty"`
	Field     string            `json:"field,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Position  string            `json:"position,omitempty"`
}

func loadShipped(t testing.TB) (*config.Config, *schema.Registry) {
	t.Helper()
	cfg, reg, err := config.LoadAll("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, reg
}

func quietHandler(t testing.TB, cfg *config.Config, reg *schema.Registry, opts ...Option) *Handler {
	t.Helper()
	opts = append([]Option{
		WithMetrics(metrics.New(io.Discard)),
		WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))),
		WithClock(func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }),
	}, opts...)
	h, err := New(cfg, reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func eventOf(stream string, records []string) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "00000000-0000-4000-8000-000000000000",
		DeliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/" + stream,
		Region:            "eu-west-1",
	}
	for i, r := range records {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("r%03d", i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714557600000 + int64(i)).UTC()},
			Data:                        []byte(r),
		})
	}
	return ev
}

func TestGolden(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg)
	dirs, _ := filepath.Glob("../../testdata/transform/*/*")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, dir := range dirs {
		name := strings.TrimPrefix(dir, "../../testdata/transform/")
		t.Run(name, func(t *testing.T) {
			var records []string
			mustJSON(t, filepath.Join(dir, "records.json"), &records)
			stream, err := os.ReadFile(filepath.Join(dir, "stream"))
			if err != nil {
				t.Fatal(err)
			}
			ev := eventOf(strings.TrimSpace(string(stream)), records)
			h := h
			// A case may bring its own config (routes with their own locale...).
			if own := filepath.Join(dir, "sluice.yaml"); fileExists(own) {
				cfg, reg, err := config.LoadAll(own)
				if err != nil {
					t.Fatal(err)
				}
				h = quietHandler(t, cfg, reg)
			}
			compareGolden(t, h, reg, ev, strings.Split(name, "/")[0], filepath.Join(dir, "expected.json"))
		})
	}
}

// compareGolden runs ev through h and compares every record's outcome and
// documents with the golden file at path (rewritten with -update). Each Ok
// document must also decode back into schemaName.
func compareGolden(t *testing.T, h *Handler, reg *schema.Registry, ev events.KinesisFirehoseEvent, schemaName, path string) {
	t.Helper()
	resp, outcomes, err := h.Process(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	checkContract(t, ev, resp)
	got := make([]goldenRecord, len(resp.Records))
	for i, r := range resp.Records {
		got[i] = goldenRecord{RecordID: r.RecordID, Result: r.Result, Class: outcomes[i].Class, Field: outcomes[i].Field, Reason: outcomes[i].Reason, Position: outcomes[i].Position}
		for _, doc := range bytes.SplitAfter(r.Data, []byte("\n")) {
			if len(doc) > 0 {
				got[i].Documents = append(got[i].Documents, json.RawMessage(bytes.TrimSuffix(doc, []byte("\n"))))
				checkRevalidates(t, reg, schemaName, doc)
			}
		}
	}
	gotJSON, _ := json.MarshalIndent(got, "", "  ")
	gotJSON = append(gotJSON, '\n')
	if *update {
		if err := os.WriteFile(path, gotJSON, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(gotJSON, want) {
		t.Errorf("output differs from %s (run with -update after checking):\n%s", path, gotJSON)
	}
}

// checkContract asserts Firehose's response rules: every record id once, in
// order, an exact result string, newline-terminated Ok data, size cap.
func checkContract(t *testing.T, ev events.KinesisFirehoseEvent, resp firehose.Response) {
	t.Helper()
	if len(resp.Records) != len(ev.Records) {
		t.Fatalf("response has %d records for %d in", len(resp.Records), len(ev.Records))
	}
	for i, r := range resp.Records {
		if r.RecordID != ev.Records[i].RecordID {
			t.Fatalf("record %d has id %q, want %q (input order)", i, r.RecordID, ev.Records[i].RecordID)
		}
		switch r.Result {
		case firehose.Ok:
			if len(r.Data) == 0 || r.Data[len(r.Data)-1] != '\n' {
				t.Fatalf("record %d: Ok data is not newline-terminated", i)
			}
		case firehose.Dropped, firehose.ProcessingFailed:
		default:
			t.Fatalf("record %d: result %q", i, r.Result)
		}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 6_000_000 {
		t.Fatalf("response is %d bytes", len(b))
	}
	if bytes.Contains(b, []byte(`"data":null`)) {
		t.Fatal(`response has "data":null; Firehose requires data`)
	}
}

// checkRevalidates decodes a document back into its schema, encodes it as
// Avro, has hamba/avro decode that, and writes the JSON again: the document
// must come back the same (map keys may come back in another order: Avro
// maps are unordered).
func checkRevalidates(t *testing.T, reg *schema.Registry, name string, doc []byte) {
	t.Helper()
	s, _ := reg.Latest(name)
	v, err := s.DecodeDocument(doc)
	if err != nil {
		t.Fatalf("document does not decode into %s: %v\n%s", name, err, doc)
	}
	bin, err := schema.NewEncoder().Encode(s, &v)
	if err != nil {
		t.Fatalf("document does not encode as %s: %v", name, err)
	}
	read, err := s.DecodeAvroValue(bin)
	if err != nil {
		t.Fatalf("hamba/avro cannot read the encoding of %s: %v", doc, err)
	}
	if back := schema.AppendJSON(nil, s.Type, &read); !sameJSON(back, doc) {
		t.Fatalf("document changed in the round trip through Avro:\n got %s\nwant %s", back, doc)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func mustJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	return da.Decode(&x) == nil && db.Decode(&y) == nil && reflect.DeepEqual(x, y)
}
