package transform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/stringchunk"
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
	cfg       *config.Config
	reg       *schema.Registry
	plans     map[string]*normalize.Plan
	read      *readOptions
	drops     []dropRule
	reingest  Reingester
	enrichers []Enricher
	metrics   *metrics.Set
	// partitions holds, per schema, the partition keys of its records.
	partitions map[string]map[string]string
	log        *slog.Logger
	now        func() time.Time
	// workers keeps reusable memory between invocations. Not a sync.Pool:
	// a batch's own garbage collections would empty it every time.
	workers chan *worker
	// observe, when set, sees every normalised record (WithObserver);
	// tallier, when set, gives each worker a tally that does, and takes
	// those observed once their batch is settled (WithTallier).
	observe func(Observation)
	tallier Tallier
	// evidenceAhead gathers a column's evidence ahead of the pass, as the
	// lookups need; tests compare the two ways with it.
	evidenceAhead bool
	// reuseResponse: Invoke writes each response into the last one's
	// memory (WithReusedResponse); response is that memory, and invoking
	// marks an Invoke under way.
	reuseResponse bool
	response      []byte
	invoking      atomic.Bool
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

// WithReusedResponse makes Invoke write each response into the memory of
// the one before, so that a warm Lambda does not allocate (and collect) a
// response of the batch's size every invocation. The caller must be done
// with a response before it calls Invoke again. aws-lambda-go's invoke
// loop is, when it runs one invocation at a time: it sends the response
// before it asks for the next event. It is not when it runs several at once
// (lambdacontext.MaxConcurrency above 1), and an Invoke that overlaps another
// allocates its own response, but cannot tell whether the last one has
// been sent.
func WithReusedResponse() Option { return func(h *Handler) { h.reuseResponse = true } }

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
	read, err := newReadOptions(cfg)
	if err != nil {
		return nil, err
	}
	h.read = read
	for _, name := range reg.Names() {
		s, _ := reg.Latest(name)
		p, err := normalize.Compile(s, *read.defaults)
		if err != nil {
			return nil, err
		}
		h.plans[name] = p
	}
	h.partitions = map[string]map[string]string{}
	for name := range h.plans {
		h.partitions[name] = map[string]string{"schema": name}
	}
	for _, d := range cfg.Drop {
		h.drops = append(h.drops, dropRule{name: d.Name, schema: d.Schema, field: normalize.Canonical(d.Field), match: regexp.MustCompile(d.Match)})
	}
	h.workers = make(chan *worker, runtime.GOMAXPROCS(0))
	return h, nil
}

func (h *Handler) getWorker() *worker {
	select {
	case w := <-h.workers:
		return w
	default:
		return &worker{}
	}
}

func (h *Handler) putWorker(w *worker) {
	w.sc.Rewind()
	select {
	case h.workers <- w:
	default:
	}
}

// worker holds one goroutine's reusable memory.
type worker struct {
	// packed: the record being normalised holds several parts.
	packed bool
	// lookingUp: the batch is being normalised to find its lookup keys
	// (lookupBatch), not to be written; nothing is observed then.
	lookingUp bool
	sc        normalize.Scratch
	// plan is the plan of the last record's schema, planName its name.
	plan     *normalize.Plan
	planName string
	dec      envelope.Decoded
	items    []item
	out      []byte // the current record's documents
	data     []byte // the current record's decoded data
	meta     normalize.Meta
	// results holds each record's outcome, reused between batches, and
	// so do reserve and pending (run's).
	results []result
	reserve []int
	pending []pendingRecord
	// route caches the last source object's route options.
	route struct {
		bucket, key string
		opts        *normalize.Options
	}
	cols columns
	// batch wraps the event Process was given, its memory reused.
	batch firehose.Batch
	// ids holds the copies of records' ids.
	ids stringchunk.Chunks
	// tally counts the worker's observations (WithTallier).
	tally Tally
}

// item is one record (or one part of a packed record) in flight.
type item struct {
	rec     int // index into the event's records
	plan    *normalize.Plan
	id      string
	val     schema.Value
	fail    *normalize.Failure
	dropped string // the drop rule's name
	// discarded counts input fields lost for want of an "extra" field;
	// discardedNames names them.
	discarded      int
	discardedNames []string
	// kept counts fields delivered with their original kept in extra.
	kept int
	// position is where a failed record came from: "s3://bucket/key line N".
	position string
	// at and end bound the part's line in its Firehose record's data; split
	// marks a failed part of a packed record sent back into the stream
	// alone (see record).
	at, end int
	split   bool
	// asked: the part asked for a column's evidence (normalize.Columns).
	asked bool
	// held is the part's ticket with the worker's tally, plus one, while
	// its observation waits for its answers to be known to stand.
	held int
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

// Invoke is the Lambda entry point (aws-lambda-go's lambda.Handler). It
// reads the event and writes the response itself: each record is decoded
// from base64 only when its turn comes and its documents are encoded
// straight into the response, so the batch is never held twice.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w := h.getWorker()
	defer h.putWorker(w)
	b := &w.batch
	if err := b.Decode(payload); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	defer b.Release() // the worker keeps none of the payload
	buf, owned := h.responseBuffer(len(payload) + len(payload)/4 + 1024)
	out := &jsonSink{buf: append(buf, `{"records":[`...)}
	_, _, err := h.run(ctx, w, b, out)
	out.buf = append(out.buf, "]}"...)
	if owned {
		h.response = out.buf[:0]
		h.invoking.Store(false)
	}
	if err != nil {
		return nil, err
	}
	return out.buf, nil
}

// responseBuffer returns empty memory of at least size bytes for a
// response. With WithReusedResponse it is the last response's memory, and
// owned, when no other Invoke is under way; the caller then keeps what it
// wrote in h.response and clears h.invoking.
func (h *Handler) responseBuffer(size int) (buf []byte, owned bool) {
	if !h.reuseResponse || !h.invoking.CompareAndSwap(false, true) {
		return make([]byte, 0, size), false
	}
	if cap(h.response) < size {
		h.response = make([]byte, 0, size)
	}
	return h.response[:0], true
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
	// Position is where a failed record came from, when its envelope says:
	// "s3://bucket/key line N".
	Position string
	// Parts is how many records the Firehose record held (more than one
	// when packed); DroppedParts how many of them a drop rule dropped.
	Parts, DroppedParts int
	// SplitParts is how many failed parts of a packed record went back
	// into the stream alone; they are answered when they come back.
	SplitParts int
	// Schema is the record's schema, when known; Discarded names the input
	// fields it lost for want of an "extra" map field; Kept counts the
	// fields delivered with their original text kept in extra.
	Schema    string
	Discarded []string
	Kept      int
}

// Process is Handle that also returns each record's Outcome, in input order.
func (h *Handler) Process(ctx context.Context, ev events.KinesisFirehoseEvent) (firehose.Response, []Outcome, error) {
	return h.ProcessInto(ctx, ev, nil)
}

// ProcessInto is Process writing the outcomes into outs' memory when it
// has room: a caller that reads each batch's outcomes before the next
// batch's can reuse one slice.
func (h *Handler) ProcessInto(ctx context.Context, ev events.KinesisFirehoseEvent, outs []Outcome) (firehose.Response, []Outcome, error) {
	out := &typedSink{arena: firehose.ArenaFrom(ctx)}
	if out.arena != nil {
		out.resp.Records = out.arena.Records(len(ev.Records))
	} else {
		out.resp.Records = make([]firehose.ResponseRecord, 0, len(ev.Records))
	}
	// The items and results are the worker's: read them before it goes
	// back to the pool, where a concurrent call may take it.
	w := h.getWorker()
	defer h.putWorker(w)
	w.batch.Reset(ev)
	defer w.batch.Release() // the worker keeps none of the event
	items, results, err := h.run(ctx, w, &w.batch, out)
	if err != nil {
		return firehose.Response{}, nil, err
	}
	return out.resp, outcomes(outs, items, results), nil
}

// sink receives the response records, in input order.
type sink interface {
	add(r *firehose.ResponseRecord)
	// give offers buf, documents of records about to be added, which
	// the caller gives up: a sink that takes it keeps the data of later
	// adds that lie in buf without a copy, and returns a buffer (empty,
	// or nil) for the caller to go on with and true; otherwise it
	// returns false, and buf stays the caller's.
	give(buf []byte) ([]byte, bool)
}

// jsonSink writes the response JSON as it goes.
type jsonSink struct {
	buf []byte
	n   int
}

func (s *jsonSink) give([]byte) ([]byte, bool) { return nil, false }

func (s *jsonSink) add(r *firehose.ResponseRecord) {
	if s.n > 0 {
		s.buf = append(s.buf, ',')
	}
	s.n++
	s.buf = firehose.AppendResponseRecord(s.buf, r)
}

// typedSink keeps the response records; their data is copied, as the
// worker's document buffer is reused: into the caller's arena when the
// context carries one (firehose.WithArena), else into memory of its own.
type typedSink struct {
	resp  firehose.Response
	arena *firehose.Arena
	own   []byte
}

// give hands buf to the arena (firehose.Arena.Swap) when the arena has a
// pool to take buffers back from: the data of the records added after it
// that lies in buf stays there (firehose.Arena.Holds).
func (s *typedSink) give(buf []byte) ([]byte, bool) {
	if s.arena == nil || s.arena.Pool == nil {
		return nil, false
	}
	return s.arena.Swap(buf), true
}

func (s *typedSink) add(r *firehose.ResponseRecord) {
	rr := *r
	if len(r.Data) > 0 {
		switch {
		case s.arena != nil && s.arena.Holds(r.Data):
			rr.Data = r.Data[:len(r.Data):len(r.Data)]
		case s.arena != nil:
			rr.Data = s.arena.Copy(r.Data)
		default:
			if cap(s.own)-len(s.own) < len(r.Data) {
				s.own = make([]byte, 0, max(64<<10, len(r.Data)))
			}
			start := len(s.own)
			s.own = append(s.own, r.Data...)
			rr.Data = s.own[start:len(s.own):len(s.own)]
		}
	}
	s.resp.Records = append(s.resp.Records, rr)
}

// run is the transform itself: every record in order, each normalised,
// validated and written before the next, within the deadline and the
// response size limit.
// It returns every item and result, which are w's: valid while the caller
// holds w.
func (h *Handler) run(ctx context.Context, w *worker, b *firehose.Batch, out sink) ([]item, []result, error) {
	start := h.now()

	stream, streamCfg, _ := h.cfg.StreamFor(b.DeliveryStreamArn)
	cutoff, hasDeadline := ctx.Deadline()
	cutoff = cutoff.Add(-h.cfg.Transform.DeadlineMargin)

	n := b.Len()
	limit := h.cfg.Transform.MaxResponseBytes
	// reserve[i] is what the records after i need at least: an entry with
	// empty data each. Ok records are written only while that still fits.
	reserve := slices.Grow(w.reserve[:0], n+1)[:n+1]
	w.reserve = reserve
	reserve[n] = 0
	for i := n - 1; i >= 0; i-- {
		reserve[i] = reserve[i+1] + emptyEntrySize(b.IDs[i])
	}
	size := len(`{"records":[]}`)

	w.items = w.items[:0]
	if h.tallier != nil && w.tally == nil {
		w.tally = h.tallier.NewTally()
	}
	// A column's evidence is gathered along the pass, except when the
	// lookups normalise the batch ahead of it: then it is gathered ahead.
	w.cols.reset(b, len(h.enrichers) == 0 && !h.evidenceAhead)
	defer w.cols.reset(nil, false)
	late := func() bool { return hasDeadline && h.now().After(cutoff) }
	lctx := ctx
	if hasDeadline {
		var cancel context.CancelFunc
		lctx, cancel = context.WithDeadline(ctx, cutoff)
		defer cancel()
	}
	found := h.lookupBatch(lctx, w, b, stream, late)
	if cap(w.results) < n {
		w.results = make([]result, n)
	}
	results := w.results[:n]
	var overflow []int
	var split partList // failed parts of packed records, to re-ingest alone
	var bytesIn, bytesOut int
	// emit writes record i's response entry, in input order, within the
	// response size limit.
	// rr is the entry being written, one for the batch: the sink takes its
	// address, so a variable of each record's would be an allocation each.
	var rr firehose.ResponseRecord
	// giveOut hands w.out to the sink, when it takes it, and goes on with
	// the buffer the sink gives back, or one of w.out's size: the next
	// record's documents are likely as large, and growing a buffer to
	// that size by append would copy them over and over.
	giveOut := func() {
		n := len(w.out)
		if next, ok := out.give(w.out); ok {
			if cap(next) < n {
				next = make([]byte, 0, n)
			}
			w.out = next
		}
	}
	emit := func(i int) {
		r := results[i]
		rr = firehose.ResponseRecord{RecordID: b.IDs[i], Result: r.status, Data: empty}
		idLen := reserve[i] - reserve[i+1] - emptyEntrySize("") // measured once, for reserve
		if r.status == firehose.Ok {
			rr.Data = r.data
			if r.keys != nil {
				rr.Metadata = &firehose.Metadata{PartitionKeys: r.keys}
			}
			e := entrySize(&rr, idLen)
			switch {
			case e+len(`{"records":[]}`) > limit:
				r = result{status: firehose.ProcessingFailed, whole: true, fail: &normalize.Failure{
					Reason: fmt.Sprintf("its transformed form alone would exceed the %d-byte response limit", limit), Class: normalize.ClassTooLarge}}
				rr = firehose.ResponseRecord{RecordID: b.IDs[i], Result: r.status, Data: empty}
			case size+e+reserve[i+1] > limit:
				// Over the response limit: back into the stream, answered Dropped.
				overflow = append(overflow, i)
				r = result{status: firehose.Dropped, fail: reingested}
				rr = firehose.ResponseRecord{RecordID: b.IDs[i], Result: r.status, Data: empty}
			}
		}
		bytesOut += len(rr.Data)
		size += entrySize(&rr, idLen)
		if len(rr.Data) >= firehose.SwapBytes && len(rr.Data) == len(w.out) && &rr.Data[0] == &w.out[0] {
			// A packed record's documents, all of w.out: given to the
			// response rather than copied, when the sink takes them.
			giveOut()
		}
		out.add(&rr)
		r.data = nil
		results[i] = r
	}
	// Records whose column answers the rest of the batch may change wait,
	// and so do the records after them: their documents stay in w.out.
	pending := w.pending[:0]
	defer func() { w.pending = pending[:0] }()
	var unread []int // records the deadline kept the pass from reading
	emitted := 0
	w.out = w.out[:0]
	for i := 0; i < n; i++ {
		switch {
		case late():
			w.items = append(w.items, item{rec: i, fail: deadlineFailure})
			results[i] = result{status: firehose.ProcessingFailed, fail: deadlineFailure}
			unread = append(unread, i)
		default:
			data, err := b.Data(i, w.data[:0])
			if err != nil {
				f := &normalize.Failure{Reason: err.Error(), Class: normalize.ClassInvalid}
				w.items = append(w.items, item{rec: i, fail: f})
				results[i] = result{status: firehose.ProcessingFailed, fail: f}
				break
			}
			if b.DecodesIntoBuf() {
				w.data = data
			}
			bytesIn += len(data)
			first, asked := len(w.items), len(w.cols.asks)
			w.cols.cur = i
			results[i] = h.record(w, b, i, data, stream, streamCfg.PartitionKeys, found, &split)
			if len(w.cols.asks) > asked {
				pending = append(pending, pendingRecord{rec: i, first: first, end: len(w.items), asks: asked, asksEnd: len(w.cols.asks)})
			}
		}
		if len(pending) == 0 {
			emit(i)
			emitted = i + 1
			w.out = w.out[:0]
		}
	}
	if len(pending) > 0 {
		h.settle(w, b, pending, unread, stream, streamCfg.PartitionKeys, found, &split)
		// The waiting records' documents are all in w.out: given to the
		// response at once when they are large, rather than copied.
		if len(w.out) >= firehose.SwapBytes {
			giveOut()
		}
		for i := emitted; i < n; i++ {
			emit(i)
		}
	}
	if err := h.reingestOverflow(ctx, b, stream, overflow); err != nil {
		return h.failed(w, err)
	}
	if len(split.data) > 0 {
		if err := h.reingest.Reingest(ctx, stream, split.data); err != nil {
			return h.failed(w, fmt.Errorf("transform: re-ingest %d failed parts of packed records into %s: %w", len(split.data), stream, err))
		}
	}
	h.account(b, w.items, results, start, bytesIn, bytesOut)
	if w.tally != nil {
		w.tally.Flush()
	}
	return w.items, results, nil
}

// failed ends a run that fails its batch: the batch comes again, so its
// observations are forgotten rather than counted twice.
func (h *Handler) failed(w *worker, err error) ([]item, []result, error) {
	if w.tally != nil {
		w.tally.Reset()
	}
	return nil, nil, err
}

// record normalises, enriches and encodes record i, whose data is read:
// its documents are appended to w.out, its items to w.items.
func (h *Handler) record(w *worker, b *firehose.Batch, i int, data []byte, stream string, partitionKeys bool, found lookups, split *partList) result {
	first, start := len(w.items), len(w.out)
	// Each part is enriched, validated and written as soon as it is
	// normalised, and its values let go: a packed record of thousands of
	// lines never holds more than one line's values.
	var failed *normalize.Failure // the first part's to fail, in order
	written, dropped := 0, 0
	h.normaliseRecord(w, b, i, data, stream, func(k int) {
		h.applyEnrichment(w, w.items[k:k+1], found)
		it := &w.items[k]
		switch {
		case it.fail != nil:
		case it.dropped != "":
			dropped++
		default:
			out, err := schema.AppendRecord(w.out, it.plan.Schema, &it.val)
			if err != nil {
				it.fail = validationFailure(err)
				break
			}
			w.out = append(out, '\n')
			written++
		}
		if it.fail != nil && failed == nil {
			failed = it.fail
		}
		it.val = schema.Value{}
		w.sc.Rewind()
	})
	parts := w.items[first:]
	var r result
	switch {
	case failed == nil && dropped == len(parts):
		r = result{status: firehose.Dropped}
	case failed == nil:
		r = result{status: firehose.Ok, data: w.out[start:]}
	case h.reingest != nil && len(parts) > 1:
		// The parts that did not fail are delivered (Ok) or dropped by
		// their rules, and each failed part goes back into the stream as a
		// record of its own, to fail there alone, so that one bad record
		// never takes the good ones of its Firehose record to the error
		// prefix.
		for k := range parts {
			if it := &parts[k]; it.fail != nil {
				it.split = true
				split.data = append(split.data, bytes.Clone(data[it.at:it.end]))
				split.rec = append(split.rec, it.rec)
			}
		}
		r = result{status: firehose.Ok, data: w.out[start:]}
		if written == 0 {
			r = result{status: firehose.Dropped, fail: splitParts}
		}
	default:
		w.out = w.out[:start]
		r = result{status: firehose.ProcessingFailed, fail: failed}
	}
	if r.status == firehose.Ok && partitionKeys {
		for _, it := range w.items[first:] {
			if !it.split {
				r.keys = h.partitions[it.plan.Schema.Name]
				break
			}
		}
	}
	return r
}

// pendingRecord is a record normalised with column answers given before
// the pass had seen the whole batch: its items are w.items[first:end], its
// answers w.cols.asks[asks:asksEnd].
type pendingRecord struct {
	rec, first, end int
	asks, asksEnd   int
}

// partList is the failed parts of packed records to re-ingest alone, each
// with the record it came from.
type partList struct {
	data [][]byte
	rec  []int
}

// settle completes a column's evidence once the pass is over, with the
// records the deadline left unread, and normalises again each pending
// record that the whole batch's evidence answers otherwise, so that every
// record reads as if the batch had been read ahead. Its documents and
// split parts replace those of the pass.
func (h *Handler) settle(w *worker, b *firehose.Batch, pending []pendingRecord, unread []int, stream string, partitionKeys bool, found lookups, split *partList) {
	for _, i := range unread {
		w.cols.scan(i, i+1)
	}
	w.cols.final = true
	redone := false
	for _, p := range pending {
		settled := w.cols.settled(p.asks, p.asksEnd)
		if settled && w.tally != nil {
			for k := p.first; k < p.end; k++ {
				if held := w.items[k].held; held > 0 {
					w.tally.Count(held - 1)
					w.items[k].held = 0
				}
			}
			continue
		}
		if settled && h.observe == nil {
			continue
		}
		data, err := b.Data(p.rec, w.data[:0])
		if err != nil {
			continue // read once already: never
		}
		if b.DecodesIntoBuf() {
			w.data = data
		}
		if settled {
			h.observeAsked(w, b, &p, data, stream)
			continue
		}
		kept := 0
		for k := range split.data {
			if split.rec[k] != p.rec {
				split.data[kept], split.rec[kept] = split.data[k], split.rec[k]
				kept++
			}
		}
		split.data, split.rec = split.data[:kept], split.rec[:kept]
		first := len(w.items)
		w.cols.cur = p.rec
		w.results[p.rec] = h.record(w, b, p.rec, data, stream, partitionKeys, found, split)
		copy(w.items[p.first:p.end], w.items[first:])
		w.items = w.items[:first]
		redone = true
	}
	if redone {
		sort.Stable(split)
	}
}

// observeAsked shows an observer that cannot hold them (WithObserver) the
// parts of pending record p that asked for a column's evidence (the others
// were observed in the pass): its answers stand, so only they are
// normalised again, and nothing else of the record changes.
func (h *Handler) observeAsked(w *worker, b *firehose.Batch, p *pendingRecord, data []byte, stream string) {
	w.packed = isPacked(data)
	for k := p.first; k < p.end; k++ {
		it := &w.items[k]
		if !it.asked {
			continue
		}
		w.items = append(w.items, item{rec: it.rec, at: it.at, end: it.end})
		h.normalisePart(w, b, p.rec, data[it.at:it.end], stream, k-p.first, &w.items[len(w.items)-1])
		w.items = w.items[:len(w.items)-1]
		w.sc.Rewind()
	}
}

func (l *partList) Len() int           { return len(l.data) }
func (l *partList) Less(i, j int) bool { return l.rec[i] < l.rec[j] }
func (l *partList) Swap(i, j int) {
	l.data[i], l.data[j] = l.data[j], l.data[i]
	l.rec[i], l.rec[j] = l.rec[j], l.rec[i]
}

// empty is the data of a Dropped or ProcessingFailed record: Firehose
// requires the key and keeps the original record itself.
var empty = []byte{}

// entrySize is the exact size of r in the response, with its comma; idLen
// is its record id's length as a JSON string, less the quotes.
func entrySize(r *firehose.ResponseRecord, idLen int) int {
	n := len(`{"recordId":"","result":"","data":""},`) + idLen + len(r.Result) + base64.StdEncoding.EncodedLen(len(r.Data))
	if r.Metadata != nil {
		meta, _ := json.Marshal(r.Metadata)
		n += len(`,"metadata":`) + len(meta)
	}
	return n
}

// emptyEntrySize is the size of a record's entry with no data, whatever
// its result.
func emptyEntrySize(id string) int {
	return len(`{"recordId":"","result":"ProcessingFailed","data":""},`) + jsonStringLen(id)
}

func jsonStringLen(s string) int {
	return schema.StringLen(s)
}

func (h *Handler) reingestOverflow(ctx context.Context, b *firehose.Batch, stream string, overflow []int) error {
	if len(overflow) == 0 {
		return nil
	}
	if h.reingest == nil {
		return fmt.Errorf("transform: %d records do not fit the %d-byte response and no re-ingestion is configured", len(overflow), h.cfg.Transform.MaxResponseBytes)
	}
	batch := make([][]byte, len(overflow))
	for j, i := range overflow {
		data, err := b.Data(i, nil)
		if err != nil {
			return fmt.Errorf("transform: %w", err)
		}
		batch[j] = data
	}
	if err := h.reingest.Reingest(ctx, stream, batch); err != nil {
		return fmt.Errorf("transform: re-ingest %d overflow records into %s: %w", len(batch), stream, err)
	}
	return nil
}

func outcomes(out []Outcome, items []item, results []result) []Outcome {
	if cap(out) < len(results) {
		out = make([]Outcome, len(results))
	} else {
		out = out[:len(results)]
		clear(out)
	}
	for i, r := range results {
		out[i].Result = r.status
		if r.fail != nil {
			out[i] = Outcome{Result: r.status, Class: string(r.fail.Class), Field: r.fail.Field, Reason: r.fail.Reason}
		}
	}
	for _, it := range items {
		o := &out[it.rec]
		o.Parts++
		if it.plan != nil {
			o.Schema = it.plan.Schema.Name
		}
		o.Discarded = append(o.Discarded, it.discardedNames...)
		o.Kept += it.kept
		if it.fail != nil && it.fail == results[it.rec].fail {
			o.Position = it.position
		}
		if it.split {
			o.SplitParts++
		}
		if it.dropped != "" {
			o.DroppedParts++
			if o.Result == firehose.Dropped && o.Reason == "" {
				o.Class, o.Reason = "drop_rule", "dropped by rule "+it.dropped
			}
		}
	}
	return out
}

var deadlineFailure = &normalize.Failure{Reason: "the invocation's deadline arrived before the record was processed", Class: normalize.ClassDeadline}

// normaliseRecord decodes record i (each part, if packed) into items;
// each, when set, is called with a part's index in w.items as soon as the
// part is normalised.
func (h *Handler) normaliseRecord(w *worker, b *firehose.Batch, i int, data []byte, stream string, each func(k int)) {
	part, at, whole := 0, 0, len(data)
	w.packed = isPacked(data)
	for len(data) > 0 || part == 0 {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		start := at
		at = whole - len(data)
		if len(bytes.TrimSpace(line)) == 0 && (part > 0 || len(data) > 0) {
			continue // blank lines between packed records
		}
		// Normalised in place: an item of its own would escape to the
		// heap (the observer sees its value), one allocation per record.
		w.items = append(w.items, item{rec: i, at: start, end: start + len(line)})
		h.normalisePart(w, b, i, line, stream, part, &w.items[len(w.items)-1])
		if each != nil {
			each(len(w.items) - 1)
		}
		part++
	}
}

// isPacked reports whether data holds more than one line: a newline
// before its trailing spaces.
func isPacked(data []byte) bool {
	end := len(data)
	for end > 0 && (data[end-1] == ' ' || data[end-1] == '\t' || data[end-1] == '\r' || data[end-1] == '\n') {
		end--
	}
	return bytes.IndexByte(data[:end], '\n') >= 0
}

func (h *Handler) normalisePart(w *worker, b *firehose.Batch, rec int, data []byte, stream string, part int, it *item) {
	d := &w.dec
	if err := envelope.Decode(data, d); err != nil {
		it.fail = &normalize.Failure{Reason: "not a JSON object: " + err.Error(), Class: normalize.ClassInvalid}
		return
	}
	if w.cols.noting(rec) {
		w.cols.note(d)
	}
	name := d.Schema
	if d.Bare {
		name = h.cfg.SchemaForStream(stream)
		if name == "" {
			it.fail = &normalize.Failure{Reason: fmt.Sprintf("bare record on stream %q, which has no schema, and there is no default_schema", stream), Class: normalize.ClassSchema}
			return
		}
	}
	plan, ok := w.plan, w.plan != nil && name == w.planName
	if !ok {
		// Records of a batch mostly share a schema: the last one's plan is
		// kept, by a copy of its name (name aliases the record).
		if plan, ok = h.plans[name]; ok {
			w.plan, w.planName = plan, strings.Clone(name)
		}
	}
	if !ok {
		it.fail = &normalize.Failure{Reason: fmt.Sprintf("unknown schema %q", name), Class: normalize.ClassSchema}
		return
	}
	it.plan = plan
	it.id = d.ID
	if it.id != "" {
		it.id = w.ids.String(it.id) // d.ID aliases the record's data, which is reused
	} else {
		it.id = b.IDs[rec]
		if part > 0 {
			it.id = fmt.Sprintf("%s#%d", b.IDs[rec], part)
		}
	}
	if rule := h.dropRule(w, name, d.Fields); rule != "" {
		it.dropped = rule
		return
	}
	w.meta = normalize.Meta{RecordID: it.id, Flags: d.Flags, Arrival: b.Arrivals[rec], Columns: &w.cols}
	w.cols.src = nil
	if !d.Bare {
		w.meta.Source = &d.Source
		w.cols.src = &d.Source
		w.meta.Options = h.read.forSource(w, &d.Source)
	}
	w.sc.Discarded, w.sc.DiscardedNames = 0, w.sc.DiscardedNames[:0]
	asked := w.cols.asked
	it.fail = plan.Normalize(&w.sc, d.Fields, &w.meta, &it.val)
	it.discarded = w.sc.Discarded
	if it.fail == nil {
		it.kept = w.sc.Kept()
	}
	for _, n := range w.sc.DiscardedNames {
		it.discardedNames = append(it.discardedNames, strings.Clone(n)) // names alias the record's data
	}
	if it.fail != nil && !d.Bare && d.Source.Key != "" {
		it.position = fmt.Sprintf("s3://%s/%s line %d", d.Source.Bucket, d.Source.Key, d.Source.Line)
	}
	// A failed part of a packed record comes back alone (see record) and
	// is observed then; one that asked for a column's evidence before the
	// pass had seen the whole batch, once settled.
	it.asked = w.cols.asked > asked
	if (h.observe != nil || w.tally != nil) && !w.lookingUp && !(it.fail != nil && w.packed && h.reingest != nil) {
		o := Observation{Plan: plan, Fields: d.Fields, Matched: w.sc.Matched(), Meta: &w.meta, Value: &it.val, Failure: it.fail}
		switch {
		case w.cols.observeNow(it.asked) && w.tally != nil:
			w.tally.Observe(o)
		case w.cols.observeNow(it.asked):
			h.observe(o)
		case it.asked && w.tally != nil:
			// Normalised as settle would normalise it again, if its
			// answers stand.
			it.held = w.tally.Hold(o) + 1
		}
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
			if normalize.IsCanonical(f.Name, r.field) && r.match.MatchString(f.Value) {
				return r.name
			}
		}
	}
	return ""
}

// validationFailure is the failure of a record its schema refuses.
func validationFailure(err error) *normalize.Failure {
	f := &normalize.Failure{Reason: err.Error(), Class: normalize.ClassValidate}
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		f.Field, f.Reason = ve.Field, ve.Reason
	}
	return f
}

// reingested marks a record that went back into the stream.
var reingested = &normalize.Failure{Reason: "re-ingested: the response would have exceeded Firehose's limit", Class: "reingested"}

// splitParts marks a packed record answered without some of its parts:
// they failed and went back into the stream alone.
var splitParts = &normalize.Failure{Reason: "its failed parts were re-ingested alone", Class: "reingested-parts"}

// account logs each failure (without payload) and adds the batch's metrics.
func (h *Handler) account(b *firehose.Batch, items []item, results []result, start time.Time, bytesIn, bytesOut int) {
	h.metrics.Add("BytesIn", metrics.Bytes, float64(bytesIn))
	h.metrics.Add("BytesOut", metrics.Bytes, float64(bytesOut))
	h.metrics.Add("DurationMs", metrics.Milliseconds, float64(h.now().Sub(start).Milliseconds()))

	// Count per (metric, schema, dimension) first: one Add per group.
	var counts groupCounts
	for i := range items {
		it := &items[i]
		schemaName := "unknown"
		if it.plan != nil {
			schemaName = it.plan.Schema.Name
		}
		counts.add(group{"RecordsIn", schemaName, "", ""}, 1)
		if it.discarded > 0 {
			counts.add(group{"FieldsDiscarded", schemaName, "", ""}, it.discarded)
		}
		if it.kept > 0 {
			counts.add(group{"ValuesKept", schemaName, "", ""}, it.kept)
		}
		r := results[it.rec]
		switch {
		case it.split:
			counts.add(group{"Reingested", schemaName, "", ""}, 1)
		case it.fail != nil:
			counts.add(group{"Failed", schemaName, "Reason", string(it.fail.Class)}, 1)
			h.logFailure(b, it, schemaName, it.fail)
		case r.whole:
			counts.add(group{"Failed", schemaName, "Reason", string(r.fail.Class)}, 1)
			h.logFailure(b, it, schemaName, r.fail)
		case r.status == firehose.ProcessingFailed:
			// a sibling part of a packed record failed; this part goes to the error prefix with it
			counts.add(group{"Failed", schemaName, "Reason", "packed_sibling"}, 1)
		case r.fail == reingested:
			counts.add(group{"Reingested", schemaName, "", ""}, 1)
		case it.dropped != "":
			counts.add(group{"Dropped", schemaName, "Rule", it.dropped}, 1)
		default:
			counts.add(group{"Ok", schemaName, "", ""}, 1)
		}
	}
	// Totals under the Function dimension alone, which the alarms watch.
	totals := map[string]int{}
	for _, c := range counts {
		totals[c.g.metric] += c.n
	}
	h.metrics.Add("RecordsIn", metrics.Count, float64(totals["RecordsIn"]))
	h.metrics.Add("Ok", metrics.Count, float64(totals["Ok"]))
	h.metrics.Add("Dropped", metrics.Count, float64(totals["Dropped"]))
	h.metrics.Add("Failed", metrics.Count, float64(totals["Failed"]))
	h.metrics.Add("Reingested", metrics.Count, float64(totals["Reingested"]))
	for _, c := range counts {
		g, n := c.g, c.n
		dims := []metrics.Dim{{Name: "Schema", Value: g.schema}}
		if g.dim != "" {
			dims = append(dims, metrics.Dim{Name: g.dim, Value: g.value})
		}
		h.metrics.Add(g.metric, metrics.Count, float64(n), dims...)
	}
	_ = h.metrics.Flush()
}

// group is one metric's count for a schema and a dimension's value.
type group struct{ metric, schema, dim, value string }

// groupCounts counts per group: a batch has a few groups, each counted for
// many records, found faster in a list than by hashing four strings.
type groupCounts []struct {
	g group
	n int
}

func (c *groupCounts) add(g group, n int) {
	for i := range *c {
		if (*c)[i].g == g {
			(*c)[i].n += n
			return
		}
	}
	*c = append(*c, struct {
		g group
		n int
	}{g, n})
}

// logFailure writes one structured line per failed record: ids, schema,
// field and reason; the payload only when log_payloads is set.
func (h *Handler) logFailure(b *firehose.Batch, it *item, schemaName string, f *normalize.Failure) {
	attrs := []any{"record_id", it.id, "firehose_record_id", b.IDs[it.rec], "schema", schemaName,
		"field", f.Field, "reason", f.Reason, "class", string(f.Class)}
	if it.position != "" {
		attrs = append(attrs, "position", it.position)
	}
	if h.cfg.Transform.LogPayloads {
		if data, err := b.Data(it.rec, nil); err == nil {
			attrs = append(attrs, "payload", string(data))
		}
	}
	h.log.Warn("record failed", attrs...)
}

// stdout and stderr are where EMF and logs go by default.
var stdout, stderr io.Writer = os.Stdout, os.Stderr
