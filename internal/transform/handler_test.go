package transform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/schema"
)

type fakeReingester struct {
	stream  string
	records [][]byte
	err     error
}

func (f *fakeReingester) Reingest(_ context.Context, stream string, records [][]byte) error {
	f.stream = stream
	f.records = append(f.records, records...)
	return f.err
}

func listingRecords(n int) []string {
	out := make([]string, n)
	for i := range out {
		r := envelope.Record{ID: fmt.Sprintf("id-%d", i), Schema: "listing", Fields: []envelope.Field{
			{Name: "Shop Name", Value: fmt.Sprintf("Shop %d", i)}, {Name: "price", Value: "1.50"},
			{Name: "listed", Value: "2024-05-01"}, {Name: "url", Value: "https://example.com/" + strings.Repeat("x", 100)},
		}}
		out[i] = string(envelope.Append(nil, &r))
	}
	return out
}

func configWith(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte("streams:\n  listings:\n    schema: listing\n"+yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOverflowIsReingestedAndDropped(t *testing.T) {
	_, reg := loadShipped(t)
	cfg := configWith(t, "transform:\n  max_response_bytes: 12000\n")
	re := &fakeReingester{}
	h := quietHandler(t, cfg, reg, WithReingester(re))
	records := listingRecords(40)
	ev := eventOf("listings", records)

	for name, invoke := range map[string]func() firehose.Response{
		"Handle": func() firehose.Response {
			resp, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		},
		"Invoke": func() firehose.Response {
			payload, _ := json.Marshal(ev)
			out, err := h.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > 12000 {
				t.Fatalf("response is %d bytes, over the 12000 limit", len(out))
			}
			var resp firehose.Response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			return resp
		},
	} {
		t.Run(name, func(t *testing.T) {
			re.records = nil
			resp := invoke()
			checkContract(t, ev, resp)
			b, _ := json.Marshal(resp)
			if len(b) > 12000 {
				t.Fatalf("response is %d bytes, over the 12000 limit", len(b))
			}
			ok, dropped := 0, 0
			var droppedData []string
			for i, r := range resp.Records {
				switch r.Result {
				case firehose.Ok:
					ok++
				case firehose.Dropped:
					dropped++
					droppedData = append(droppedData, records[i])
				default:
					t.Fatalf("record %d: %s", i, r.Result)
				}
			}
			if ok == 0 || dropped == 0 {
				t.Fatalf("want some Ok and some overflow, got %d Ok and %d Dropped", ok, dropped)
			}
			if re.stream != "listings" || len(re.records) != dropped {
				t.Fatalf("re-ingested %d records into %q, want the %d Dropped into listings", len(re.records), re.stream, dropped)
			}
			for i, d := range droppedData {
				if string(re.records[i]) != d {
					t.Fatalf("re-ingested record %d is not the original input", i)
				}
			}
		})
	}
}

func TestRecordTooLargeAloneFails(t *testing.T) {
	_, reg := loadShipped(t)
	cfg := configWith(t, "transform:\n  max_response_bytes: 300\n")
	re := &fakeReingester{}
	h := quietHandler(t, cfg, reg, WithReingester(re))
	resp, out, err := h.Process(context.Background(), eventOf("listings", listingRecords(2)))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.Records {
		if r.Result != firehose.ProcessingFailed || out[i].Class != "too_large" {
			t.Fatalf("record %d: %s %+v, want ProcessingFailed too_large", i, r.Result, out[i])
		}
	}
	if len(re.records) != 0 {
		t.Fatal("a record too large on its own was re-ingested: it would loop")
	}
}

func TestOverflowWithoutReingestionIsSystemic(t *testing.T) {
	_, reg := loadShipped(t)
	cfg := configWith(t, "transform:\n  max_response_bytes: 12000\n")
	h := quietHandler(t, cfg, reg)
	if _, err := h.Handle(context.Background(), eventOf("listings", listingRecords(40))); err == nil {
		t.Fatal("overflow with nowhere to go must fail the invocation")
	}
	h = quietHandler(t, cfg, reg, WithReingester(&fakeReingester{err: errors.New("throttled")}))
	if _, err := h.Handle(context.Background(), eventOf("listings", listingRecords(40))); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Fatalf("a failed re-ingestion must fail the invocation, got %v", err)
	}
}

func TestDeadlineFailsTheRestNotTheInvocation(t *testing.T) {
	cfg, reg := loadShipped(t)
	clock := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	calls := 0
	h := quietHandler(t, cfg, reg, WithClock(func() time.Time {
		calls++
		if calls > 5 { // time runs out after a few records
			return clock.Add(time.Hour)
		}
		return clock
	}))
	ctx, cancel := context.WithDeadline(context.Background(), clock.Add(10*time.Second))
	defer cancel()
	resp, out, err := h.Process(ctx, eventOf("listings", listingRecords(20)))
	if err != nil {
		t.Fatalf("the deadline must not fail the invocation: %v", err)
	}
	checkContract(t, eventOf("listings", listingRecords(20)), resp)
	var ok, late int
	for i, r := range resp.Records {
		switch {
		case r.Result == firehose.Ok:
			ok++
		case r.Result == firehose.ProcessingFailed && out[i].Class == "deadline":
			late++
		default:
			t.Fatalf("record %d: %s %+v", i, r.Result, out[i])
		}
	}
	if ok == 0 || late == 0 || ok+late != 20 {
		t.Fatalf("%d Ok and %d deadline failures", ok, late)
	}
}

func TestFailureLogsCarryNoPayload(t *testing.T) {
	cfg, reg := loadShipped(t)
	var logs bytes.Buffer
	secret := `{"shop_name":"SECRET-SHOP","price":"call us","listed":"2024-05-01","url":"u"}`
	h := quietHandler(t, cfg, reg, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if _, err := h.Handle(context.Background(), eventOf("listings", []string{secret})); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q", logs.String())
	}
	if line["record_id"] != "r000" || line["schema"] != "listing" || line["field"] != "price" || line["reason"] == "" {
		t.Fatalf("log line lacks id, schema, field or reason: %v", line)
	}
	if strings.Contains(logs.String(), "SECRET") || strings.Contains(logs.String(), "call us") {
		t.Fatalf("log line carries the payload: %s", logs.String())
	}

	logs.Reset()
	cfg.Transform.LogPayloads = true
	h = quietHandler(t, cfg, reg, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if _, err := h.Handle(context.Background(), eventOf("listings", []string{secret})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "SECRET-SHOP") {
		t.Fatal("log_payloads: true did not log the payload")
	}
}

func TestMetricsAreEMF(t *testing.T) {
	cfg, reg := loadShipped(t)
	var out bytes.Buffer
	m := metrics.New(&out, metrics.Dim{Name: "Function", Value: "transform"})
	h := quietHandler(t, cfg, reg, WithMetrics(m))
	records := append(listingRecords(3), "not json", `{"shop_name":"x","price":"?","listed":"2024-05-01","url":"u"}`)
	if _, err := h.Handle(context.Background(), eventOf("listings", records)); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if _, ok := doc["_aws"]; !ok {
			t.Fatalf("not EMF: %s", line)
		}
		for _, name := range []string{"RecordsIn", "Ok", "Failed", "BytesIn", "BytesOut", "DurationMs"} {
			if v, ok := doc[name].(float64); ok {
				key := name
				if r, ok := doc["Reason"].(string); ok {
					key += "/" + r
				}
				if s, ok := doc["Schema"].(string); ok {
					key += "@" + s
				}
				got[key] += v
			}
		}
	}
	want := map[string]float64{"RecordsIn@listing": 4, "RecordsIn@unknown": 1, "Ok@listing": 3, "Failed/coerce@listing": 1, "Failed/invalid@unknown": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metric %s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if got["BytesIn"] == 0 || got["BytesOut"] == 0 {
		t.Errorf("bytes metrics missing: %v", got)
	}
}

// Invoke, which reads and writes bytes itself, answers exactly what Handle
// answers through encoding/json.
func TestInvokeMatchesHandle(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg)
	var records []string
	mustJSON(t, "../../testdata/transform/listing/failures/records.json", &records)
	records = append(records, listingRecords(5)...)
	ev := eventOf("listings", records)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(resp)
	payload, _ := json.Marshal(ev)
	got, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Invoke answered\n%s\nHandle answered\n%s", got, want)
	}
}

// TestReusedResponse: with WithReusedResponse each response is written
// into the last one's memory and says what a handler without it says; an
// Invoke that overlaps another writes into memory of its own.
func TestReusedResponse(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg, WithReusedResponse())
	plain := quietHandler(t, cfg, reg)
	var failing []string
	mustJSON(t, "../../testdata/transform/listing/failures/records.json", &failing)
	large, _ := json.Marshal(eventOf("listings", append(failing, listingRecords(20)...)))
	small, _ := json.Marshal(eventOf("listings", listingRecords(2)))
	var first *byte
	for i, payload := range [][]byte{large, small, large, small} {
		got, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("invocation %d answered\n%s\nwithout reuse\n%s", i, got, want)
		}
		if i == 0 {
			first = &got[0]
		} else if &got[0] != first {
			t.Fatalf("invocation %d did not reuse the first response's memory", i)
		}
	}
	// Another Invoke under way: this one must not write into the memory
	// that one is writing.
	h.invoking.Store(true)
	got, err := h.Invoke(context.Background(), small)
	h.invoking.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] == first {
		t.Fatal("an overlapping Invoke wrote into the reused response")
	}
	if again, _ := h.Invoke(context.Background(), small); &again[0] != first || !bytes.Equal(again, got) {
		t.Fatal("after the overlap, Invoke no longer reuses its response")
	}
}

// TestInvokeLeavesAnEarlierEventAlone: a typed event's data belongs to its
// caller, so a later Invoke on the same handler must not decode into it.
func TestInvokeLeavesAnEarlierEventAlone(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg)
	ev := eventOf("listings", listingRecords(3))
	var before [][]byte
	for _, r := range ev.Records {
		before = append(before, bytes.Clone(r.Data))
	}
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(eventOf("listings", []string{`{"shop_name":"Z","title":"overwrite","price":"1"}`}))
	for i := 0; i < 4; i++ {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range ev.Records {
		if !bytes.Equal(r.Data, before[i]) {
			t.Fatalf("record %d of the earlier event changed:\n%s\nwas\n%s", i, r.Data, before[i])
		}
	}
}

// FuzzTransform: whatever a record holds, it comes back exactly once, either
// Ok with documents that conform to their schema, Dropped, or
// ProcessingFailed with a reason; the invocation itself never fails.
func FuzzTransform(f *testing.F) {
	for _, r := range listingRecords(2) {
		f.Add(r, "listings")
	}
	f.Add(`{"id":"evt","type":"t","created_at":"2024-05-01T00:00:00Z","amount":"1.5","status":"failed"}`, "webhooks")
	f.Add(`{"v":1,"schema":"page_view","fields":{"e":"x","time":"1714557600","user_agent":"ELB-HealthChecker/2.0"}}`, "page_views")
	f.Add(`{"shop_name":["a"],"price":{"x":1},"listed":1e400,"tags":"a|b","extra":null}`, "listings")
	cfg, reg := loadShipped(f)
	h := quietHandler(f, cfg, reg)
	f.Fuzz(func(t *testing.T, data, stream string) {
		ev := eventOf(stream, []string{data, data + "\n" + data})
		resp, out, err := h.Process(context.Background(), ev)
		if err != nil {
			t.Fatalf("invocation failed: %v", err)
		}
		checkContract(t, ev, resp)
		for i, r := range resp.Records {
			switch r.Result {
			case firehose.Ok:
				for _, doc := range bytes.SplitAfter(r.Data, []byte("\n")) {
					if len(doc) > 0 && !conformsToSome(reg, doc) {
						t.Fatalf("Ok document conforms to no schema: %s", doc)
					}
				}
			case firehose.ProcessingFailed:
				if out[i].Reason == "" {
					t.Fatalf("record %d failed without a reason", i)
				}
			}
		}
	})
}

func conformsToSome(reg *schema.Registry, doc []byte) bool {
	for _, name := range reg.Names() {
		s, _ := reg.Latest(name)
		v, err := s.DecodeDocument(doc)
		if err != nil {
			continue
		}
		if _, err := schema.NewEncoder().Encode(s, &v); err == nil {
			return true
		}
	}
	return false
}

func TestPartitionKeysWhenTheStreamAsksForThem(t *testing.T) {
	_, reg := loadShipped(t)
	for _, on := range []bool{false, true} {
		cfg := configWith(t, "")
		s := cfg.Streams["listings"]
		s.PartitionKeys = on
		cfg.Streams["listings"] = s
		h := quietHandler(t, cfg, reg)
		ev := eventOf("listings", append(listingRecords(2), "not json"))
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resp.Records {
			switch {
			case r.Result != firehose.Ok && r.Metadata != nil:
				t.Fatalf("record %d (%s) has metadata", i, r.Result)
			case r.Result == firehose.Ok && on && (r.Metadata == nil || r.Metadata.PartitionKeys["schema"] != "listing"):
				t.Fatalf("record %d: metadata %+v, want partition key schema=listing", i, r.Metadata)
			case r.Result == firehose.Ok && !on && r.Metadata != nil:
				t.Fatalf("record %d: metadata without partition_keys", i)
			}
		}
		payload, _ := json.Marshal(ev)
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(resp)
		if string(out) != string(want) {
			t.Fatalf("Invoke and Handle differ:\n%s\n%s", out, want)
		}
	}
}

// One record whose data is not base64 fails alone, ProcessingFailed with
// its reason, on every decoding path: the plain event and the events whose
// unusual parts (Kinesis-source metadata, an escaped recordId, a fractional
// arrival time) the fast reader leaves to encoding/json. The other records
// answer exactly what Handle answers for them.
func TestOneBadRecordNeverFailsTheInvocation(t *testing.T) {
	cfg, reg := loadShipped(t)
	var logs bytes.Buffer
	h := quietHandler(t, cfg, reg, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	ev := eventOf("listings", listingRecords(3))
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(resp.Records)
	want := `{"records":[` + string(good[1:len(good)-1]) + `,{"recordId":"bad","result":"ProcessingFailed","data":""}]}`

	// As Firehose sends a Direct PUT batch (json.Marshal of the
	// aws-lambda-go type would add an empty kinesisRecordMetadata).
	base := fmt.Sprintf(`{"invocationId":%q,"deliveryStreamArn":%q,"region":%q,"records":[`, ev.InvocationID, ev.DeliveryStreamArn, ev.Region)
	for i, r := range ev.Records {
		if i > 0 {
			base += ","
		}
		base += fmt.Sprintf(`{"recordId":%q,"approximateArrivalTimestamp":%d,"data":%q}`, r.RecordID, r.ApproximateArrivalTimestamp.UnixMilli(), base64.StdEncoding.EncodeToString(r.Data))
	}
	badRecord := `{"recordId":"bad","approximateArrivalTimestamp":1714557600009,"data":"!!!!"}`
	for name, in := range map[string]string{
		"fast path":                    base + "," + badRecord + "]}",
		"kinesisRecordMetadata":        strings.Replace(base, `"data":`, `"kinesisRecordMetadata":{"shardId":"shardId-000000000000","partitionKey":"pk","approximateArrivalTimestamp":1714557600000,"sequenceNumber":"49","subsequenceNumber":0},"data":`, 1) + "," + badRecord + "]}",
		"escaped recordId":             strings.Replace(base, `"recordId":"r000"`, `"recordId":"r\u0030\u00300"`, 1) + "," + badRecord + "]}",
		"fractional arrival":           base + "," + strings.Replace(badRecord, "1714557600009", "1714557600009.5", 1) + "]}",
		"unpadded base64 on slow path": base + "," + strings.Replace(badRecord, `"!!!!"`, `"aGk"`, 1) + "]}",
	} {
		t.Run(name, func(t *testing.T) {
			logs.Reset()
			got, err := h.Invoke(context.Background(), []byte(in))
			if err != nil {
				t.Fatalf("the invocation failed: %v", err)
			}
			if string(got) != want {
				t.Fatalf("Invoke answered\n%s\nwant\n%s", got, want)
			}
			if !strings.Contains(logs.String(), `"firehose_record_id":"bad"`) || !strings.Contains(logs.String(), "base64") {
				t.Fatalf("the failure's reason was not logged with the record id: %s", logs.String())
			}
		})
	}
}

// A packed record with a failed part: the other parts are delivered and
// the failed one goes back into the stream alone, where it fails by itself.
// Without a re-ingester the record fails whole, as before.
func TestPackedRecordFailedPartsAreReingestedAlone(t *testing.T) {
	cfg, reg := loadShipped(t)
	good := listingRecords(2)
	bad := envelope.Record{ID: "id-bad", Schema: "listing", Fields: []envelope.Field{
		{Name: "Shop Name", Value: "Bad"}, {Name: "price", Value: "call us"}, {Name: "listed", Value: "2024-05-01"}, {Name: "url", Value: "https://example.com/b"}}}
	badLine := string(envelope.Append(nil, &bad))
	packed := good[0] + "\n" + badLine + "\n" + good[1] + "\n"
	ev := eventOf("listings", []string{packed})

	re := &fakeReingester{}
	h := quietHandler(t, cfg, reg, WithReingester(re))
	resp, out, err := h.Process(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Records[0]
	if r.Result != firehose.Ok || bytes.Count(r.Data, []byte("\n")) != 2 || !bytes.Contains(r.Data, []byte(`"record_id":"id-0"`)) || !bytes.Contains(r.Data, []byte(`"record_id":"id-1"`)) {
		t.Fatalf("answered %s %s, want Ok with the two good documents", r.Result, r.Data)
	}
	if out[0].Parts != 3 || out[0].SplitParts != 1 {
		t.Fatalf("outcome %+v, want 3 parts, 1 split", out[0])
	}
	if re.stream != "listings" || len(re.records) != 1 || string(re.records[0]) != badLine {
		t.Fatalf("re-ingested %q into %q, want the bad line alone", re.records, re.stream)
	}
	// It comes back alone and fails alone.
	resp, out, err = h.Process(context.Background(), eventOf("listings", []string{string(re.records[0])}))
	if err != nil || resp.Records[0].Result != firehose.ProcessingFailed || out[0].Field != "price" {
		t.Fatalf("the re-ingested part answered %+v %+v %v, want ProcessingFailed on price", resp.Records[0].Result, out[0], err)
	}

	h = quietHandler(t, cfg, reg)
	resp, err = h.Handle(context.Background(), ev)
	if err != nil || resp.Records[0].Result != firehose.ProcessingFailed {
		t.Fatalf("without a re-ingester: %s %v, want the record ProcessingFailed whole", resp.Records[0].Result, err)
	}
}

// The column evidence reads the batch through the same decoding whether
// its data is still base64 (Invoke) or not (Handle), and answers alike.
func TestColumnEvidenceInvokeMatchesHandle(t *testing.T) {
	cfg, reg, err := config.LoadAll("../../testdata/transform/listing/values-rule/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := quietHandler(t, cfg, reg)
	var records []string
	mustJSON(t, "../../testdata/transform/listing/values-rule/records.json", &records)
	ev := eventOf("listings", records)
	for round := 0; round < 2; round++ { // the second round reuses the worker's buffers
		resp, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(resp)
		payload, _ := json.Marshal(ev)
		got, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: Invoke answered\n%s\nHandle answered\n%s", round, got, want)
		}
		if !bytes.Contains(want, []byte(`"result":"Ok"`)) || !bytes.Contains(want, []byte(`"result":"ProcessingFailed"`)) {
			t.Fatalf("the case should deliver and fail records: %s", want)
		}
	}
}

// TestEntrySizeIsExact: the size run counts for a response entry, with the
// id's length taken from emptyEntrySize as run takes it, is the length of
// the entry as written, comma included, for ids that need escaping too.
func TestEntrySizeIsExact(t *testing.T) {
	ids := []string{"49546986683135544286507457936321625675700192471156785154", "a", "q\"uote", "back\\slash", "é\u2028", "\x01ctl", strings.Repeat("x", 300)}
	for _, id := range ids {
		idLen := emptyEntrySize(id) - emptyEntrySize("")
		for _, result := range []string{firehose.Ok, firehose.Dropped, firehose.ProcessingFailed} {
			for _, data := range [][]byte{{}, []byte("x"), []byte("{\"a\":1}\n"), make([]byte, 1000)} {
				for _, keys := range []map[string]string{nil, {"day": "2024-05-01", "q\"": "v"}} {
					r := firehose.ResponseRecord{RecordID: id, Result: result, Data: data}
					if keys != nil {
						r.Metadata = &firehose.Metadata{PartitionKeys: keys}
					}
					want := len(firehose.AppendResponseRecord(nil, &r)) + 1
					if got := entrySize(&r, idLen); got != want {
						t.Fatalf("id %q, %s, %d bytes, keys %v: entrySize %d, written %d", id, result, len(data), keys, got, want)
					}
				}
			}
		}
	}
}

func TestIsPacked(t *testing.T) {
	for _, s := range []string{"", "\n", "a", "a\n", "a \r\n\t ", "a\nb", "a\nb\n", "\na", "a\n\n", "a\n \n", "a\n b", " \n\t"} {
		if got, want := isPacked([]byte(s)), bytes.IndexByte(bytes.TrimRight([]byte(s), " \t\r\n"), '\n') >= 0; got != want {
			t.Errorf("isPacked(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestProcessIntoReusesOutcomes: outcomes written into the memory of an
// earlier batch's (failures, discarded columns, more records) are those a
// fresh Process gives, with nothing left over from the earlier batch.
func TestProcessIntoReusesOutcomes(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg)
	var failures []string
	mustJSON(t, "../../testdata/transform/listing/failures/records.json", &failures)
	first := eventOf("listings", append(append([]string{}, failures...), listingRecords(20)...))
	second := eventOf("listings", listingRecords(3))
	_, outs, err := h.Process(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := h.Process(context.Background(), second)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := h.ProcessInto(context.Background(), second, outs)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &outs[0] {
		t.Error("ProcessInto did not write into the memory it was given")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ProcessInto gave\n%+v\nProcess gave\n%+v", got, want)
	}
}

// TestArenaTakesLargeDocumentsWithoutCopy: with an arena whose pool passes
// document buffers from one delivered batch to the next (as sluice run's
// local Firehose gives when memory allows), the response is the same as
// without, batch after batch, with packed records both written at once
// and waiting for their column's evidence ("1,050" asks it), and large
// documents are not copied.
func TestArenaTakesLargeDocumentsWithoutCopy(t *testing.T) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg)
	pack := func(lines []string) string { return strings.Join(lines, "\n") + "\n" }
	asking := listingRecords(300)
	for i := range asking {
		asking[i] = strings.Replace(asking[i], `"price":"1.50"`, `"price":"1,050"`, 1)
	}
	var records []string
	for k := range 4 {
		records = append(records, pack(listingRecords(300)), listingRecords(1)[0])
		if k%2 == 1 {
			records = append(records, pack(asking))
		}
	}
	ev := eventOf("listings", records)
	want, _, err := h.Process(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want.Records[len(want.Records)-1].Data, []byte(`"price":1050`)) {
		t.Fatal(`the waiting records should read "1,050" as 1050`)
	}
	ar := &firehose.Arena{Pool: &firehose.BufferPool{Most: 64 << 20}}
	var allocated uint64
	var last *firehose.ResponseRecord
	for round := range 4 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, _, err := h.ProcessInto(firehose.WithArena(context.Background(), ar), ev, nil)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		// The response's records are in the arena's memory, the last
		// round's (firehose.Arena.Records).
		if round > 0 && &got.Records[0] != last {
			t.Fatalf("round %d: the response's records are not in the last batch's memory", round)
		}
		last = &got.Records[0]
		if len(got.Records) != len(want.Records) {
			t.Fatalf("round %d: %d records, want %d", round, len(got.Records), len(want.Records))
		}
		for i := range want.Records {
			g, w := got.Records[i], want.Records[i]
			if g.RecordID != w.RecordID || g.Result != w.Result || !bytes.Equal(g.Data, w.Data) {
				t.Fatalf("round %d: record %d is %s %q..., without the arena %s %q...", round, i, g.Result, g.Data[:min(len(g.Data), 80)], w.Result, w.Data[:min(len(w.Data), 80)])
			}
		}
		allocated = after.TotalAlloc - before.TotalAlloc
		ar.Reset() // delivered: its buffers go to the pool
	}
	docs := 0
	for _, r := range want.Records {
		docs += len(r.Data)
	}
	// Copied, the documents alone would be allocated again every round.
	if allocated >= uint64(docs)/2 {
		t.Fatalf("a round allocated %d bytes for %d bytes of documents: the large ones are copied, not given", allocated, docs)
	}
}
