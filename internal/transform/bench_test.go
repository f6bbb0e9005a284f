package transform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
)

// benchEvent builds a Firehose event of at most size bytes of listing
// envelopes as the splitter writes them from scraped CSVs: varied header
// spellings, currency formats and dates, an unmatched column now and then.
func benchEvent(size int) ([]byte, int) {
	return benchEventWith(size, []string{"£1,299.00", "$ 845", "12.50", "1.234,56 €", "99", "(4.10)"})
}

// benchEventWith is benchEvent with its own price texts.
func benchEventWith(size int, prices []string) ([]byte, int) {
	rng := rand.New(rand.NewSource(1))
	names := [][]string{
		{"Shop Name", "Address", "Price", "Listed", "URL", "Rating", "Tags"},
		{"shop_name", "address", "price", "listed_on", "link", "stars", "categories"},
		{"SHOP-NAME", "Location", "Cost", "Date Listed", "href", "score", "labels"},
	}
	dates := []string{"2024-05-01", "01/05/2024", "28 April 2024", "2024-04-30T10:00:00Z", "1714557600"}
	ratings := []string{"4.5", "N/A", "-", "3", ""}
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "00000000-0000-4000-8000-000000000000",
		DeliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings",
		Region:            "eu-west-1",
	}
	// Written as Firehose writes a Direct PUT event (no Kinesis metadata).
	out := []byte(`{"invocationId":"` + ev.InvocationID + `","deliveryStreamArn":"` + ev.DeliveryStreamArn + `","region":"eu-west-1","records":[`)
	total := 0
	for i := 0; ; i++ {
		n := names[i%len(names)]
		r := envelope.Record{
			ID:     envelope.RecordID("in", "listings/shops.csv", "v1", "", int64(i)),
			Schema: "listing",
			Source: envelope.Source{Bucket: "in", Key: "listings/shops.csv", Version: "v1", Format: "csv", Line: int64(i + 2), Offset: int64(i * 160),
				IngestedAt: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
			Fields: []envelope.Field{
				{Name: n[0], Value: fmt.Sprintf("Shop number %d", rng.Intn(100000))},
				{Name: n[1], Value: fmt.Sprintf("%d High Street, Bristol BS1 %dAA", rng.Intn(300), rng.Intn(9))},
				{Name: n[2], Value: prices[rng.Intn(len(prices))]},
				{Name: n[3], Value: dates[rng.Intn(len(dates))]},
				{Name: n[4], Value: "https://example.com/shops/" + strconv.Itoa(i)},
				{Name: n[5], Value: ratings[rng.Intn(len(ratings))]},
				{Name: n[6], Value: "books; cafe; gifts"},
			},
		}
		if i%5 == 0 {
			r.Fields = append(r.Fields, envelope.Field{Name: "Opening Hours", Value: "9-17"})
		}
		data := envelope.Append(nil, &r)
		entry := fmt.Sprintf(`{"recordId":"%056d","approximateArrivalTimestamp":1714557600000,"data":"%s"}`, i, base64.StdEncoding.EncodeToString(data))
		if len(out)+len(entry)+2 > size {
			break
		}
		if len(ev.Records) > 0 {
			out = append(out, ',')
		}
		out = append(out, entry...)
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{})
		total += len(data)
	}
	return append(out, "]}"...), total
}

// benchSize is the event's size: 3 MB, the processor buffer maximum.
const benchSize = 3 << 20

// BenchmarkTransform runs the Lambda entry point from the event's bytes to
// the response's bytes.
func BenchmarkTransform(b *testing.B) {
	raw, dataBytes := benchEvent(benchSize)
	benchTransform(b, raw, dataBytes)
}

// evidencePrices are benchEvent's prices with one that needs its column's
// evidence (1,050: 1050 or 1.05?), as bench/gen writes them: every batch
// then gathers the evidence.
var evidencePrices = []string{"£1,299.00", "$ 845", "12.50", "99", "£4.10", "1,050"}

// BenchmarkTransformColumnEvidence is BenchmarkTransform on listings one
// in six of whose prices reads by its column's evidence.
func BenchmarkTransformColumnEvidence(b *testing.B) {
	raw, dataBytes := benchEventWith(benchSize, evidencePrices)
	benchTransform(b, raw, dataBytes)
}

func benchTransform(b *testing.B, raw []byte, dataBytes int) {
	cfg, reg := loadShipped(b)
	// As the Lambda runs it, one invocation at a time (cmd/transform).
	h := quietHandler(b, cfg, reg, WithReusedResponse())
	out, err := h.Invoke(context.Background(), raw)
	if err != nil {
		b.Fatal(err)
	}
	var resp firehose.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		b.Fatal(err)
	}
	for _, r := range resp.Records {
		if r.Result != firehose.Ok {
			b.Fatalf("benchmark record not Ok: %s", r.Result)
		}
	}
	records := len(resp.Records)
	b.SetBytes(int64(dataBytes))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Invoke(context.Background(), raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNaiveBaseline is the same event through the Go everyone writes
// first: encoding/json into map[string]any, the same renames and coercions
// by hand, no schema, encoding/json out.
func BenchmarkNaiveBaseline(b *testing.B) {
	raw, dataBytes := benchEvent(benchSize)
	var records int
	b.SetBytes(int64(dataBytes))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ev events.KinesisFirehoseEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
		resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(ev.Records))}
		for j, rec := range ev.Records {
			out, ok := naiveTransform(rec.Data)
			resp.Records[j] = events.KinesisFirehoseResponseRecord{RecordID: rec.RecordID, Result: "Ok", Data: out}
			if !ok {
				resp.Records[j].Result = "ProcessingFailed"
			}
		}
		if _, err := json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
		records = len(ev.Records)
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

var naiveNames = map[string]string{
	"shopname": "shop_name", "shop": "shop_name", "store": "shop_name", "address": "address", "location": "address",
	"price": "price", "cost": "price", "listed": "listed", "listedon": "listed", "datelisted": "listed",
	"url": "url", "link": "url", "href": "url", "rating": "rating", "stars": "rating", "score": "rating",
	"tags": "tags", "categories": "tags", "labels": "tags",
}

func naiveKey(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func naiveNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")
	s = strings.Trim(s, "()$£€ %")
	if strings.Contains(s, ",") && strings.LastIndex(s, ",") > strings.LastIndex(s, ".") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	} else {
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, " ", ""), 64)
	if neg {
		f = -f
	}
	return f, err == nil
}

func naiveDate(s string) (string, bool) {
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2 January 2006", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC().Format("2006-01-02"), true
	}
	return "", false
}

func naiveTransform(data []byte) ([]byte, bool) {
	var env map[string]any
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, false
	}
	fields, _ := env["fields"].(map[string]any)
	out := map[string]any{"extra": map[string]any{}}
	for k, v := range fields {
		s, _ := v.(string)
		name, ok := naiveNames[naiveKey(k)]
		if !ok {
			out["extra"].(map[string]any)[k] = s
			continue
		}
		switch name {
		case "price":
			f, ok := naiveNumber(s)
			if !ok {
				return nil, false
			}
			out[name] = f
		case "rating":
			if s == "" || s == "N/A" || s == "-" {
				out[name] = nil
			} else if f, ok := naiveNumber(s); ok {
				out[name] = f
			}
		case "listed":
			d, ok := naiveDate(s)
			if !ok {
				return nil, false
			}
			out[name] = d
		case "tags":
			var tags []string
			for _, t := range strings.Split(s, ";") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			out[name] = tags
		default:
			out[name] = s
		}
	}
	out["provenance"] = map[string]any{"record_id": env["id"], "source": env["source"]}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), true
}

// TestTransformPeakHeap checks that a 3 MB event needs a peak heap under
// 4x its size. It bounds the peak from above: the event itself plus every
// byte the handler allocates, as if nothing were ever freed.
func TestTransformPeakHeap(t *testing.T) {
	raw, _ := benchEvent(benchSize)
	t.Run("plain", func(t *testing.T) { checkPeakHeap(t, raw) })
	// As the Lambda runs: the response's memory is kept between
	// invocations, and counts.
	t.Run("reused response", func(t *testing.T) { checkPeakHeap(t, raw, WithReusedResponse()) })
	// Records wait for the whole batch's evidence: their documents are
	// held until the pass ends.
	raw, _ = benchEventWith(benchSize, evidencePrices)
	t.Run("column evidence", func(t *testing.T) { checkPeakHeap(t, raw) })
}

func checkPeakHeap(t *testing.T, raw []byte, opts ...Option) {
	cfg, reg := loadShipped(t)
	h := quietHandler(t, cfg, reg, opts...)
	if _, err := h.Invoke(context.Background(), raw); err != nil { // warm the worker pool
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := h.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	peak := uint64(len(raw)) + after.TotalAlloc - before.TotalAlloc + uint64(cap(h.response))
	t.Logf("event %d bytes, response %d bytes, peak heap at most %d bytes (%.2fx)", len(raw), len(out), peak, float64(peak)/float64(len(raw)))
	if peak > 4*uint64(len(raw)) {
		t.Fatalf("peak heap may reach %d bytes for a %d-byte event: over 4x", peak, len(raw))
	}
}
