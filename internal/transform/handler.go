package transform

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/schema"
)

// Reingester puts records back into a delivery stream (PutRecordBatch);
// the transform uses it for the part of a batch that would push the
// response over Firehose's 6 MB limit.
type Reingester interface {
	Reingest(ctx context.Context, stream string, records [][]byte) error
}

// Handler is the transform Lambda's handler. Build it once at cold start.
type Handler struct {
	cfg      *config.Config
	reg      *schema.Registry
	plans    map[string]*normalize.Plan
	drops    []dropRule
	reingest Reingester
	metrics  *metrics.Set
	log      *slog.Logger
	now      func() time.Time
	workers  sync.Pool
}

type dropRule struct {
	name   string
	schema string
	field  string // canonical
	match  *regexp.Regexp
}

// Option configures a Handler.
type Option func(*Handler)

// WithReingester sets where response overflow goes. Without one, a batch
// whose response would be too large fails its overflow records instead.
func WithReingester(r Reingester) Option { return func(h *Handler) { h.reingest = r } }

// WithMetrics sets the EMF metrics sink. Default: EMF lines on stdout.
func WithMetrics(m *metrics.Set) Option { return func(h *Handler) { h.metrics = m } }

// WithLogger sets the logger for per-record failure lines. Default: JSON
// on stderr.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New compiles every schema version in use and the drop rules.
func New(cfg *config.Config, reg *schema.Registry, opts ...Option) (*Handler, error) {
	if err := cfg.CheckSchemas(reg.Has); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, reg: reg, plans: map[string]*normalize.Plan{}, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	if h.metrics == nil {
		h.metrics = metrics.New(stdout, metrics.Dim{Name: "Function", Value: "transform"})
	}
	if h.log == nil {
		h.log = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	nopts := normalize.Options{Location: cfg.Location(), DayFirst: cfg.Transform.DayFirst}
	for _, name := range reg.Names() {
		s, _ := reg.Latest(name)
		p, err := normalize.Compile(s, nopts)
		if err != nil {
			return nil, err
		}
		h.plans[name] = p
	}
	for _, d := range cfg.Drop {
		h.drops = append(h.drops, dropRule{name: d.Name, schema: d.Schema, field: normalize.Canonical(d.Field), match: regexp.MustCompile(d.Match)})
	}
	h.workers.New = func() any { return &worker{enc: schema.NewEncoder()} }
	return h, nil
}

// worker holds one goroutine's reusable memory.
type worker struct {
	sc    normalize.Scratch
	enc   *schema.Encoder
	dec   envelope.Decoded
	items []item
	out   []byte
	key   []byte
}

// item is one record (or one part of a packed record) in flight.
type item struct {
	rec     int // index into the event's records
	plan    *normalize.Plan
	id      string
	val     schema.Value
	fail    *normalize.Failure
	dropped string // the drop rule's name
}

// result is the outcome for one Firehose record.
type result struct {
	status string
	data   []byte
	fail   *normalize.Failure
	keys   map[string]string
	// whole marks a failure of the record as a whole (not of one part).
	whole bool
}

// Invoke is the Lambda entry point (aws-lambda-go's lambda.Handler): it
// reads the event and writes the response itself, which is several times
// faster than encoding/json for base64-heavy payloads, and calls Handle's
// logic in between.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.KinesisFirehoseEvent
	if err := firehose.DecodeEvent(payload, &ev); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	resp, _, err := h.Process(ctx, ev)
	if err != nil {
		return nil, err
	}
	return firehose.AppendResponse(make([]byte, 0, responseEstimate(&resp)), &resp), nil
}

func responseEstimate(resp *firehose.Response) int {
	n := 16
	for i := range resp.Records {
		r := &resp.Records[i]
		n += 64 + len(r.RecordID) + base64.StdEncoding.EncodedLen(len(r.Data))
	}
	return n
}

// Handle transforms one Firehose batch. It returns an error only for a
// systemic fault (overflow that cannot be re-ingested); bad records are
// answered ProcessingFailed.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, error) {
	resp, _, err := h.Process(ctx, ev)
	return resp, err
}

// Outcome is what happened to one Firehose record, with the reason a
// ProcessingFailed or Dropped record got (Firehose itself keeps no reason).
type Outcome struct {
	Result string
	Class  string
	Field  string
	Reason string
}

// Process is Handle that also returns each record's Outcome, in input order.
func (h *Handler) Process(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, []Outcome, error) {
	start := h.now()
	w := h.workers.Get().(*worker)
	defer h.workers.Put(w)
	defer w.sc.Reset()

	stream, _, _ := h.cfg.StreamFor(ev.DeliveryStreamArn)
	cutoff, hasDeadline := ctx.Deadline()
	cutoff = cutoff.Add(-h.cfg.Transform.DeadlineMargin)

	// Each record is normalised, validated and written before the next, so
	// one record's worth of Values is reused for the whole batch.
	w.items = w.items[:0]
	w.out = make([]byte, 0, outputEstimate(ev))
	results := make([]result, len(ev.Records))
	for i := range ev.Records {
		if hasDeadline && i%64 == 0 && h.now().After(cutoff) {
			for j := i; j < len(ev.Records); j++ {
				w.items = append(w.items, item{rec: j, fail: deadlineFailure})
				results[j] = result{status: firehose.ProcessingFailed, fail: deadlineFailure}
			}
			break
		}
		first := len(w.items)
		h.normaliseRecord(w, ev, i, stream)
		results[i] = h.encodeRecord(w, w.items[first:])
		for k := first; k < len(w.items); k++ {
			w.items[k].val = schema.Value{}
		}
		w.sc.Rewind()
	}

	resp, err := h.respond(ctx, ev, stream, results)
	if err != nil {
		return resp, nil, err
	}
	h.account(ev, w.items, results, start)
	return resp, outcomes(w.items, results), nil
}

func outcomes(items []item, results []result) []Outcome {
	out := make([]Outcome, len(results))
	for i, r := range results {
		out[i].Result = r.status
		if r.fail != nil {
			out[i] = Outcome{Result: r.status, Class: string(r.fail.Class), Field: r.fail.Field, Reason: r.fail.Reason}
		}
	}
	for _, it := range items {
		if it.dropped != "" && out[it.rec].Result == firehose.Dropped && out[it.rec].Reason == "" {
			out[it.rec].Class, out[it.rec].Reason = "drop_rule", "dropped by rule "+it.dropped
		}
	}
	return out
}

// outputEstimate sizes the document buffer: documents run a little larger
// than their envelopes (every schema field is written, nulls included).
func outputEstimate(ev events.KinesisFirehoseEvent) int {
	n := 0
	for i := range ev.Records {
		n += len(ev.Records[i].Data)
	}
	return n + n/4 + 4096
}

var deadlineFailure = &normalize.Failure{Reason: "the invocation's deadline arrived before the record was processed", Class: normalize.ClassDeadline}

// normaliseRecord decodes record i (each part, if packed) into items.
func (h *Handler) normaliseRecord(w *worker, ev events.KinesisFirehoseEvent, i int, stream string) {
	rec := &ev.Records[i]
	data := rec.Data
	part := 0
	for len(data) > 0 || part == 0 {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 && (part > 0 || len(data) > 0) {
			continue // blank lines between packed records
		}
		it := item{rec: i}
		h.normalisePart(w, rec, line, stream, part, &it)
		w.items = append(w.items, it)
		part++
	}
}

func (h *Handler) normalisePart(w *worker, rec *events.KinesisFirehoseEventRecord, data []byte, stream string, part int, it *item) {
	d := &w.dec
	if err := envelope.Decode(data, d); err != nil {
		it.fail = &normalize.Failure{Reason: "not a JSON object: " + err.Error(), Class: normalize.ClassInvalid}
		return
	}
	name := d.Schema
	if d.Bare {
		name = h.cfg.SchemaForStream(stream)
		if name == "" {
			it.fail = &normalize.Failure{Reason: fmt.Sprintf("bare record on stream %q, which has no schema, and there is no default_schema", stream), Class: normalize.ClassSchema}
			return
		}
	}
	plan, ok := h.plans[name]
	if !ok {
		it.fail = &normalize.Failure{Reason: fmt.Sprintf("unknown schema %q", name), Class: normalize.ClassSchema}
		return
	}
	it.plan = plan
	it.id = d.ID
	if it.id == "" {
		it.id = rec.RecordID
		if part > 0 {
			it.id = fmt.Sprintf("%s#%d", rec.RecordID, part)
		}
	}
	if rule := h.dropRule(w, name, d.Fields); rule != "" {
		it.dropped = rule
		return
	}
	meta := normalize.Meta{RecordID: it.id, Flags: d.Flags, Arrival: rec.ApproximateArrivalTimestamp.Time}
	if !d.Bare {
		meta.Source = &d.Source
	}
	it.fail = plan.Normalize(&w.sc, d.Fields, &meta, &it.val)
	if it.fail == nil && meta.Source != nil {
		// The Value may alias the decoded source; copy what outlives d.
		src := d.Source
		meta.Source = &src
	}
}

func (h *Handler) dropRule(w *worker, schemaName string, fields []envelope.Field) string {
	for _, r := range h.drops {
		if r.schema != "" && r.schema != schemaName {
			continue
		}
		for i := range fields {
			f := &fields[i]
			if f.Kind == envelope.Null {
				continue
			}
			w.key = normalize.AppendCanonical(w.key[:0], f.Name)
			if string(w.key) == r.field && r.match.MatchString(f.Value) {
				return r.name
			}
		}
	}
	return ""
}

// encodeRecord validates and writes the documents of one Firehose record.
// A packed record is Ok only if every part is Ok or Dropped.
func (h *Handler) encodeRecord(w *worker, items []item) result {
	start := len(w.out)
	dropped := 0
	for i := range items {
		it := &items[i]
		if it.fail != nil {
			return result{status: firehose.ProcessingFailed, fail: it.fail}
		}
		if it.dropped != "" {
			dropped++
			continue
		}
		if _, err := w.enc.Encode(it.plan.Schema, &it.val); err != nil {
			var ve *schema.ValidationError
			f := &normalize.Failure{Reason: err.Error(), Class: normalize.ClassValidate}
			if errors.As(err, &ve) {
				f.Field, f.Reason = ve.Field, ve.Reason
			}
			it.fail = f
			w.out = w.out[:start]
			return result{status: firehose.ProcessingFailed, fail: f}
		}
		w.out = schema.AppendJSON(w.out, it.plan.Schema.Type, &it.val)
		w.out = append(w.out, '\n')
	}
	if dropped == len(items) {
		return result{status: firehose.Dropped}
	}
	// Three-index slice: later appends must not write into this record.
	return result{status: firehose.Ok, data: w.out[start:len(w.out):len(w.out)]}
}

// respond builds the response in input order, keeping it under the size
// cap: records that do not fit are re-ingested and answered Dropped.
func (h *Handler) respond(ctx context.Context, ev events.KinesisFirehoseEvent, stream string, results []result) (firehose.Response, error) {
	limit := h.cfg.Transform.MaxResponseBytes
	size := len(`{"records":[]}`)
	entry := func(i int) int {
		n := len(`{"recordId":"","result":"","data":""},`) + len(ev.Records[i].RecordID) + len(results[i].status) + base64.StdEncoding.EncodedLen(len(results[i].data))
		if results[i].keys != nil {
			n += len(`,"metadata":{"partitionKeys":{}}`)
			for k, v := range results[i].keys {
				n += len(k) + len(v) + 6
			}
		}
		return n
	}
	droppedEntry := func(i int) int {
		return len(`{"recordId":"","result":"Dropped","data":""},`) + len(ev.Records[i].RecordID)
	}
	for i := range results {
		if results[i].status == firehose.Ok && entry(i)+len(`{"records":[]}`) > limit {
			results[i] = result{status: firehose.ProcessingFailed, whole: true, fail: &normalize.Failure{
				Reason: fmt.Sprintf("its transformed form alone would exceed the %d-byte response limit", limit), Class: normalize.ClassTooLarge}}
		}
		size += entry(i)
	}
	var overflow []int
	for i := len(results) - 1; i >= 0 && size > limit; i-- {
		if results[i].status != firehose.Ok {
			continue
		}
		size += droppedEntry(i) - entry(i)
		overflow = append(overflow, i)
	}
	if len(overflow) > 0 {
		if h.reingest == nil {
			return firehose.Response{}, fmt.Errorf("transform: response of %d records exceeds %d bytes and no re-ingestion is configured", len(results), limit)
		}
		batch := make([][]byte, len(overflow))
		for j, i := range overflow {
			batch[len(overflow)-1-j] = ev.Records[i].Data
		}
		if err := h.reingest.Reingest(ctx, stream, batch); err != nil {
			return firehose.Response{}, fmt.Errorf("transform: re-ingest %d overflow records into %s: %w", len(batch), stream, err)
		}
		for _, i := range overflow {
			results[i] = result{status: firehose.Dropped, fail: reingested}
		}
	}
	resp := firehose.Response{Records: make([]firehose.ResponseRecord, len(results))}
	for i, r := range results {
		rr := &resp.Records[i]
		rr.RecordID, rr.Result, rr.Data = ev.Records[i].RecordID, r.status, r.data
		if rr.Data == nil {
			rr.Data = []byte{} // "data" is required: "" rather than null
		}
		if r.keys != nil {
			rr.Metadata = &firehose.Metadata{PartitionKeys: r.keys}
		}
	}
	return resp, nil
}

// reingested marks a record that went back into the stream.
var reingested = &normalize.Failure{Reason: "re-ingested: the response would have exceeded Firehose's limit", Class: "reingested"}

// account logs each failure (without payload) and adds the batch's metrics.
func (h *Handler) account(ev events.KinesisFirehoseEvent, items []item, results []result, start time.Time) {
	var bytesIn, bytesOut int
	for i := range ev.Records {
		bytesIn += len(ev.Records[i].Data)
		bytesOut += len(results[i].data)
	}
	h.metrics.Add("BytesIn", metrics.Bytes, float64(bytesIn))
	h.metrics.Add("BytesOut", metrics.Bytes, float64(bytesOut))
	h.metrics.Add("DurationMs", metrics.Milliseconds, float64(h.now().Sub(start).Milliseconds()))

	// Count per (metric, schema, dimension) first: one Add per group.
	type group struct{ metric, schema, dim, value string }
	counts := map[group]int{}
	for i := range items {
		it := &items[i]
		schemaName := "unknown"
		if it.plan != nil {
			schemaName = it.plan.Schema.Name
		}
		counts[group{"RecordsIn", schemaName, "", ""}]++
		r := results[it.rec]
		switch {
		case it.fail != nil:
			counts[group{"Failed", schemaName, "Reason", string(it.fail.Class)}]++
			h.logFailure(ev, it, schemaName, it.fail)
		case r.whole:
			counts[group{"Failed", schemaName, "Reason", string(r.fail.Class)}]++
			h.logFailure(ev, it, schemaName, r.fail)
		case r.status == firehose.ProcessingFailed:
			// a sibling part of a packed record failed; this part goes to the error prefix with it
			counts[group{"Failed", schemaName, "Reason", "packed_sibling"}]++
		case r.fail == reingested:
			counts[group{"Reingested", schemaName, "", ""}]++
		case it.dropped != "":
			counts[group{"Dropped", schemaName, "Rule", it.dropped}]++
		default:
			counts[group{"Ok", schemaName, "", ""}]++
		}
	}
	for g, n := range counts {
		dims := []metrics.Dim{{Name: "Schema", Value: g.schema}}
		if g.dim != "" {
			dims = append(dims, metrics.Dim{Name: g.dim, Value: g.value})
		}
		h.metrics.Add(g.metric, metrics.Count, float64(n), dims...)
	}
	_ = h.metrics.Flush()
}

// logFailure writes one structured line per failed record: ids, schema,
// field and reason; the payload only when log_payloads is set.
func (h *Handler) logFailure(ev events.KinesisFirehoseEvent, it *item, schemaName string, f *normalize.Failure) {
	attrs := []any{"record_id", it.id, "firehose_record_id", ev.Records[it.rec].RecordID, "schema", schemaName,
		"field", f.Field, "reason", f.Reason, "class", string(f.Class)}
	if h.cfg.Transform.LogPayloads {
		attrs = append(attrs, "payload", string(ev.Records[it.rec].Data))
	}
	h.log.Warn("record failed", attrs...)
}

// stdout and stderr are where EMF and logs go by default.
var stdout, stderr io.Writer = os.Stdout, os.Stderr
