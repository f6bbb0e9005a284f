package localfirehose

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
)

// Firehose's limits, as the service enforces them.
const (
	// MaxBatchRecords and MaxBatchBytes bound one PutRecordBatch call.
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 << 20
	// MaxRecordBytes bounds one record before base64.
	MaxRecordBytes = config.MaxFirehoseRecordBytes
	// MaxInvocationBytes bounds the transform's request and response
	// (Lambda's synchronous payload cap, kept under 6 MB).
	MaxInvocationBytes = config.MaxResponseBytes
	// DefaultRetries is Firehose's default NumberOfRetries for the processor.
	DefaultRetries = 3
	// DefaultInvocationTimeout is the longest a Firehose processor
	// invocation may run.
	DefaultInvocationTimeout = 5 * time.Minute
	// streamVersion is the delivery stream version in object names; it
	// starts at 1 and a local stream is never updated.
	streamVersion = 1
)

// Error codes and messages Firehose writes into processing-failed records.
const (
	CodeProcessingFailed = "Lambda.ProcessingFailedStatus"
	CodeFunctionError    = "Lambda.FunctionError"
	CodeMissingRecordID  = "Lambda.MissingRecordId"
	CodeDuplicatedID     = "Lambda.DuplicatedRecordId"
	// CodeMissingPartitionKey is the emulator's own code for an Ok record
	// that lacks a key its prefix's !{partitionKeyFromLambda:...} needs.
	CodeMissingPartitionKey = "DynamicPartitioning.MissingPartitionKey"

	msgProcessingFailed = "ProcessingFailed status set for record"
	msgFunctionError    = "The Lambda function was successfully invoked but it returned an error result."
	msgInvalidResponse  = "Check your function and make sure the output is in required format. In addition to that, make sure the processed records contain valid result status of Dropped, Ok, or ProcessingFailed"
	msgMissingRecordID  = "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids."
	msgDuplicatedID     = "Multiple records were returned with the same record ID. Ensure that the Lambda function returns unique record IDs for each record."
)

// Emulator is an in-process Kinesis Data Firehose with a Lambda processor
// and an S3 destination: PutRecordBatch buffers records per stream, a full
// or expired buffer invokes the processor, and the results are written
// through a Writer laid out as Firehose lays out S3.
//
// It is safe for concurrent use. A stream's buffer is processed in the
// order its records were put; like Firehose, the emulator may run several
// invocations of one stream at once when producers put concurrently.
type Emulator struct {
	cfg     *config.Config
	process firehose.Processor
	out     Writer

	now        func() time.Time
	newID      func() string
	fixedIDs   bool // newID is the caller's (WithIDs)
	region     string
	account    string
	function   string
	retries    int
	invocation time.Duration

	streams map[string]*stream
	names   []string // sorted, for deterministic polling

	pipe *pipeline // nil: each batch is processed by the call that cut it

	bodies freeList[*bytes.Buffer] // written objects' bodies, to reuse
	arenas sync.Pool               // *firehose.Arena: delivered batches' response memory
	// docs, with WithDocumentPool, keeps the large document buffers the
	// processor gave its arenas (firehose.Arena.Swap), once their batch
	// is delivered, for the processor's next; nil otherwise.
	docs *firehose.BufferPool
	// events holds answered invocations' records for the next event's,
	// with WithReusedEvents; nil otherwise.
	events *freeList[[]events.KinesisFirehoseEventRecord]

	mu     sync.Mutex // guards closed
	closed bool
}

// Option configures an Emulator.
type Option func(*Emulator)

// WithDocumentPool lets a processor that writes into the context's arena
// give it large document buffers instead of copying them
// (firehose.Arena.Swap), and keeps up to most bytes of them, once their
// batch is delivered, for the processor's next documents. What the pool
// keeps idle counts as live memory, so under a tight soft memory limit
// (two workers at sluice run's) it costs collections it was meant to save.
func WithDocumentPool(most int) Option {
	return func(e *Emulator) {
		if most > 0 {
			e.docs = &firehose.BufferPool{Most: most}
		}
	}
}

// WithReusedEvents promises that the processor keeps nothing of an event's
// Records slice once it has answered (the records' data and ids it may
// keep): the emulator then builds the next event in that slice's memory
// instead of allocating one per invocation. Default: a new slice each
// invocation, which the processor may keep.
func WithReusedEvents() Option {
	return func(e *Emulator) { e.events = new(freeList[[]events.KinesisFirehoseEventRecord]) }
}

// Answered events' records kept for the next events (WithReusedEvents):
// one per invocation that can run at once, and a few more.
const keptRecords = 8

// WithClock sets the clock that stamps arrivals and decides when a buffer
// interval has passed. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(e *Emulator) { e.now = now } }

// WithIDs sets the generator of invocation ids and object-name UUIDs.
// Default: random version 4 UUIDs.
func WithIDs(newID func() string) Option {
	return func(e *Emulator) { e.newID, e.fixedIDs = newID, true }
}

// WithAccount sets the region and account of the ARNs in events and error
// records. Defaults: us-east-1 and 123456789012.
func WithAccount(region, account string) Option {
	return func(e *Emulator) { e.region, e.account = region, account }
}

// WithRetries sets the processor's NumberOfRetries. Default: 3.
func WithRetries(n int) Option { return func(e *Emulator) { e.retries = n } }

// New returns an Emulator for every stream in cfg.Streams, invoking process
// and delivering to out. A stream's prefixes that Firehose would reject
// are a *config.Error naming the key.
func New(cfg *config.Config, process firehose.Processor, out Writer, opts ...Option) (*Emulator, error) {
	e := &Emulator{
		cfg: cfg, process: process, out: out,
		now: time.Now, newID: randomUUID,
		region: "us-east-1", account: "123456789012", function: "sluice-transform",
		retries: DefaultRetries, invocation: DefaultInvocationTimeout,
		streams: map[string]*stream{},
	}
	for _, o := range opts {
		o(e)
	}
	if e.pipe != nil {
		e.pipe.init(e.fixedIDs)
	}
	if e.retries < 0 {
		return nil, errors.New("localfirehose: retries must not be negative")
	}
	for name, sc := range cfg.Streams {
		ok, failed, key, err := streamPrefixes(sc.Prefix, sc.ErrorPrefix)
		if err != nil {
			return nil, &config.Error{Path: cfg.Path, Key: "streams." + name + "." + key, Problem: err.Error()}
		}
		size := int(sc.BufferSizeMB * (1 << 20))
		if size <= 0 {
			size = 1 << 20
		}
		e.streams[name] = &stream{
			name: name, prefix: ok, errorPrefix: failed,
			sizeHint: size, interval: sc.BufferInterval,
			destSize: max(sc.DeliveryBufferSizeMB, 1) << 20, destInterval: sc.DeliveryBufferInterval,
			arn: fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", e.region, e.account, name),
		}
		e.names = append(e.names, name)
	}
	sort.Strings(e.names)
	return e, nil
}

// LambdaArn is the transform's ARN as error records carry it.
func (e *Emulator) LambdaArn() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s:$LATEST", e.region, e.account, e.function)
}

// stream is one delivery stream's processor buffer and counters.
type stream struct {
	name, arn           string
	prefix, errorPrefix *prefix
	sizeHint            int
	interval            time.Duration
	// The destination buffer's hints, and the buffer (its own lock: it is
	// filled by delivery, which runs outside mu).
	destSize     int
	destInterval time.Duration
	dest         destination

	mu       sync.Mutex // guards everything below
	buf      []buffered
	bufBytes int
	reqBytes int // the invocation request's size if the buffer went now
	seq      uint64
	stats    StreamStats

	// back is the buffer of records the processor put back, with a
	// pipeline (WithPipeline): its bytes, its request's size, and the
	// numbers of its records and of the put calls' answers, apart from
	// the producers' (putBackSeq).
	back                []buffered
	backBytes, backReq  int
	backSeq, backAnswer uint64

	// The memory of delivered batches and their verdicts, cleared, for
	// the next buffer and the next delivery; a buffer that finds none is
	// made with room for most records, the most a batch has held.
	spare         []buffered
	spareVerdicts []verdict
	most          int
}

type buffered struct {
	id      string
	arrival time.Time
	data    []byte
	owner   *owner // the call's, with PutOwnedRecordBatchThen; else nil
}

// owner counts a call's records not yet delivered, and releases their
// memory to the caller once none is left.
type owner struct {
	left    atomic.Int64
	release func()
}

// done marks one of the owner's records delivered.
func (o *owner) done() {
	if o.left.Add(-1) == 0 {
		o.release()
	}
}

// eventOverhead is a generous bound on the JSON around one record in the
// processor's request (recordId, approximateArrivalTimestamp, keys).
const eventOverhead = 192

// PutRecordBatch accepts records into a stream's buffer, as Firehose's
// PutRecordBatch does, and answers with Firehose's errors: a
// ValidationException for more than 500 records or a record over 1,000 KiB,
// an InvalidArgumentException for more than 4 MiB in all, a
// ResourceNotFoundException for an unknown stream. Buffers whose interval
// has passed are processed first, a buffer that fills as the records go in
// is processed at once;
// a delivery fault (the output cannot be written) is returned as an error.
func (e *Emulator) PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, _ ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	return e.put(ctx, in, true, nil)
}

// PutOwnedRecordBatch is PutRecordBatch for a caller that hands the
// records' data over: the emulator keeps it without a copy, so the caller
// must never change it afterwards.
func (e *Emulator) PutOwnedRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput) (*awsfirehose.PutRecordBatchOutput, error) {
	return e.put(ctx, in, false, nil)
}

// PutOwnedRecordBatchThen is PutOwnedRecordBatch that calls release once
// every record of the call is delivered (to the output or the error
// prefix) or dropped: nothing refers to the records' data then, and the
// caller may reuse its memory. release runs on the goroutine that
// delivered the last record. It is not called when the call fails, nor
// for records a stopped emulator abandons. The processor must not keep
// the data it was given past its answer (as WithReusedEvents asks). It
// answers no record ids, which a caller handing records over needs not.
func (e *Emulator) PutOwnedRecordBatchThen(ctx context.Context, in *awsfirehose.PutRecordBatchInput, release func()) error {
	if len(in.Records) == 0 {
		_, err := e.put(ctx, in, false, nil)
		if err == nil {
			release()
		}
		return err
	}
	o := &owner{release: release}
	o.left.Store(int64(len(in.Records)))
	_, err := e.put(ctx, in, false, o)
	return err
}

// put buffers in's records; for a call with an owner it answers nothing.
func (e *Emulator) put(ctx context.Context, in *awsfirehose.PutRecordBatchInput, copyData bool, o *owner) (*awsfirehose.PutRecordBatchOutput, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	s, err := e.validate(in)
	if err != nil {
		return nil, err
	}
	answering := o == nil
	records := in.Records
	pb, isPutBack := ctx.Value(invocationKey{}).(*putBacks)
	if !isPutBack {
		// Buffers whose interval ran out before this call are processed
		// first, as Firehose would have processed them then.
		if err := e.Poll(ctx); err != nil {
			return nil, err
		}
		if e.pipe != nil {
			if err := e.pipe.waitRoom(); err != nil {
				return nil, err
			}
		}
	}
	if copyData {
		records = CopyRecords(records)
	}
	now := e.now()
	var answer putIDs
	if answering {
		answer.init(s.name, len(records))
	}
	if isPutBack {
		// The processor putting records back: they wait with its batch
		// (see WithPipeline).
		pb.mu.Lock()
		for _, r := range records {
			pb.recs = append(pb.recs, putBack{s: s, b: buffered{arrival: now, data: recordData(r), owner: o}})
		}
		pb.mu.Unlock()
		s.mu.Lock()
		for _, r := range records {
			s.stats.RecordsIn++
			s.stats.BytesIn += int64(len(r.Data))
			if answering {
				s.backAnswer++
				answer.add(putBackSeq + s.backAnswer)
			}
		}
		s.mu.Unlock()
		return answered(answer, in, answering), nil
	}
	s.mu.Lock()
	// s.buf[named:] are this call's records still without their id: they
	// are named together, with one allocation, whenever the stream is
	// about to be released, so no one ever sees a record without its id.
	named := len(s.buf)
	for _, r := range records {
		data := recordData(r)
		reqSize := base64Len(len(data)) + eventOverhead
		if len(s.buf) > 0 && s.reqBytes+reqSize > MaxInvocationBytes {
			s.nameRecords(named)
			if err := e.flushLocked(ctx, s); err != nil {
				s.mu.Unlock()
				return nil, err
			}
			named = len(s.buf)
		}
		if len(s.buf) == 0 {
			s.reqBytes = 512 // the event's own fields
			if s.buf == nil {
				s.buf, s.spare = s.spare, nil
				if cap(s.buf) < s.most {
					s.buf = make([]buffered, 0, s.most)
				}
			}
		}
		// The sequence number is taken only now: a flush above released
		// the lock, and a producer (or the transform, putting records
		// back) may have taken numbers meanwhile.
		s.seq++
		s.buf = append(s.buf, buffered{arrival: now, data: data, owner: o})
		s.bufBytes += len(data)
		s.reqBytes += reqSize
		s.stats.RecordsIn++
		s.stats.BytesIn += int64(len(data))
		if answering {
			answer.add(s.seq)
		}
		if s.bufBytes >= s.sizeHint {
			s.nameRecords(named)
			if err := e.flushLocked(ctx, s); err != nil {
				s.mu.Unlock()
				return nil, err
			}
			named = len(s.buf)
		}
	}
	s.nameRecords(named)
	s.mu.Unlock()
	return answered(answer, in, answering), nil
}

// recordData is r's data as the processor gets it: Firehose sends empty
// data as "", never null.
func recordData(r types.Record) []byte {
	if r.Data == nil {
		return []byte{}
	}
	return r.Data
}

// answered is the answer to in, every record accepted, or nil when the
// call is not answered.
func answered(answer putIDs, in *awsfirehose.PutRecordBatchInput, answering bool) *awsfirehose.PutRecordBatchOutput {
	if !answering {
		return nil
	}
	out := &awsfirehose.PutRecordBatchOutput{
		FailedPutCount:   aws.Int32(0),
		Encrypted:        aws.Bool(false),
		RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records)),
	}
	answer.fill(out.RequestResponses)
	return out
}

// nameRecords gives s.buf[from:], which hold the sequence numbers up to
// s.seq in order, their record ids, cut from one string. It is called
// with s.mu held.
func (s *stream) nameRecords(from int) {
	recs := s.buf[from:]
	if len(recs) == 0 {
		return
	}
	var b strings.Builder
	b.Grow(len(recs) * recordIDLen)
	seq := s.seq - uint64(len(recs))
	for range recs {
		seq++
		appendRecordID(&b, seq)
	}
	all := b.String()
	for i := range recs {
		recs[i].id = all[i*recordIDLen : (i+1)*recordIDLen]
	}
}

// putIDs builds the ids one PutRecordBatch call answers with in one
// string, cut into one slice of strings, instead of a string and a
// pointer per record.
type putIDs struct {
	stream string
	b      strings.Builder
	n      int
}

func (p *putIDs) init(stream string, records int) {
	p.stream = stream
	p.b.Grow(records * putRecordIDLen(stream))
}

func (p *putIDs) add(seq uint64) {
	appendPutRecordID(&p.b, p.stream, seq)
	p.n++
}

// fill sets the record id of each of the first p.n entries.
func (p *putIDs) fill(entries []types.PutRecordBatchResponseEntry) {
	all, size := p.b.String(), putRecordIDLen(p.stream)
	ids := make([]string, p.n)
	for i := range ids {
		ids[i] = all[i*size : (i+1)*size]
		entries[i].RecordId = &ids[i]
	}
}

// ownCopyBytes is the size from which CopyRecords copies a record alone.
const ownCopyBytes = 64 << 10

// CopyRecords returns records holding a copy of each of in's data, for a
// caller that keeps them after the producer reuses its buffers. Small
// records share one allocation; one of 64 KiB or more (a packed record,
// up to 1,000 KiB) has its own, so that it is freed when its batch is
// delivered, not when the call's last record is: a call of packed records
// holds 4 MiB.
func CopyRecords(in []types.Record) []types.Record {
	small, _ := sizes(in)
	out, _ := copyRecords(in, make([]byte, 0, small), nil, true)
	return out
}

// sizes returns the bytes of in's small records, which CopyRecords puts in
// one slab, and of its large ones.
func sizes(in []types.Record) (small, large int) {
	for _, r := range in {
		if len(r.Data) < ownCopyBytes {
			small += len(r.Data)
		} else {
			large += len(r.Data)
		}
	}
	return small, large
}

// copyRecords is CopyRecords copying the small records into slab, which
// has room for them, and writing the records into out's memory when it
// has room; it returns the slab. Without cloneLarge it leaves the large
// records' data for the caller to set.
func copyRecords(in []types.Record, slab []byte, out []types.Record, cloneLarge bool) ([]types.Record, []byte) {
	if cap(out) < len(in) {
		out = make([]types.Record, len(in))
	}
	out = out[:len(in)]
	slab = copyInto(out, in, slab[:0], false)
	if cloneLarge {
		for i, r := range in {
			if len(r.Data) >= ownCopyBytes {
				out[i].Data = slices.Clip(bytes.Clone(r.Data))
			}
		}
	}
	return out, slab
}

// copyInto appends the data of in's large records (or of its small ones)
// to slab, sets each such record of out to its copy, with no room after
// it, and returns the slab.
func copyInto(out, in []types.Record, slab []byte, large bool) []byte {
	for i, r := range in {
		if (len(r.Data) >= ownCopyBytes) == large {
			at := len(slab)
			slab = append(slab, r.Data...)
			out[i].Data = slab[at:len(slab):len(slab)]
		}
	}
	return slab
}

// Copier copies PutRecordBatch calls for PutOwnedRecordBatchThen, as
// CopyRecords does, into the memory of earlier calls whose records are
// all delivered, so that a run's small records are copied without
// allocating. Copy is for one goroutine; the releases it returns may run
// on any.
type Copier struct {
	// Large, when set, keeps large records' memory (packed records, up to
	// 1,000 KiB each) for reuse as well: a call's large records then share
	// one slab, held until the last of them is delivered. Kept idle, it
	// counts as live memory against a soft limit: its Most bounds it.
	Large *firehose.BufferPool

	slabs freeList[[]byte]
	// records is the slice Copy returns, reused by the next Copy: the
	// emulator keeps the records' data, not the slice.
	records []types.Record
}

// A Copier keeps at most keptSlabs slabs, each of a multiple of slabClass
// bytes: calls of about the same size (a producer's calls of 500 records)
// then fit each other's.
const (
	keptSlabs = 8
	slabClass = 64 << 10
)

// Copy returns a copy of in's records and the release to give
// PutOwnedRecordBatchThen with them, which keeps their memory for a later
// call. The slice it returns (not the records' data) is valid until the
// next Copy.
func (c *Copier) Copy(in []types.Record) ([]types.Record, func()) {
	small, largeBytes := sizes(in)
	slab, ok := c.slabs.take(func(b []byte) bool { return cap(b) >= small })
	if !ok {
		slab = make([]byte, 0, classed(small))
	}
	out, slab := copyRecords(in, slab, c.records, c.Large == nil)
	c.records = out
	large := c.copyLarge(out, in, largeBytes)
	return out, func() {
		c.slabs.keep(slab, keptSlabs)
		if large != nil {
			c.Large.Keep(large)
		}
	}
}

// classed rounds n up to a multiple of slabClass.
func classed(n int) int { return (n + slabClass - 1) / slabClass * slabClass }

// copyLarge, with Large set, copies in's large records (total bytes)
// into one slab, kept or new, sets them in out and returns the slab; else
// nil.
func (c *Copier) copyLarge(out, in []types.Record, total int) []byte {
	if c.Large == nil || total == 0 {
		return nil
	}
	slab := c.Large.TakeFit(total)
	if slab == nil {
		slab = make([]byte, 0, classed(total))
	}
	return copyInto(out, in, slab, true)
}

func (e *Emulator) checkOpen() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("localfirehose: PutRecordBatch after Close")
	}
	return nil
}

func (e *Emulator) validate(in *awsfirehose.PutRecordBatchInput) (*stream, error) {
	if in == nil || in.DeliveryStreamName == nil || *in.DeliveryStreamName == "" {
		return nil, validationError("1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null")
	}
	var problems []string
	if n := len(in.Records); n == 0 {
		problems = append(problems, "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	} else if n > MaxBatchRecords {
		problems = append(problems, fmt.Sprintf("Value '[%d records]' at 'records' failed to satisfy constraint: Member must have length less than or equal to %d", n, MaxBatchRecords))
	}
	total := 0
	for i, r := range in.Records {
		total += len(r.Data)
		if len(r.Data) > MaxRecordBytes {
			problems = append(problems, fmt.Sprintf("Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at 'records.%d.member.data' failed to satisfy constraint: Member must have length less than or equal to %d", len(r.Data), len(r.Data), i+1, MaxRecordBytes))
		}
	}
	if len(problems) > 0 {
		noun := "error"
		if len(problems) > 1 {
			noun = "errors"
		}
		return nil, validationError(fmt.Sprintf("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; ")))
	}
	if total > MaxBatchBytes {
		return nil, &types.InvalidArgumentException{Message: aws.String("Records size exceeds 4 MB limit")}
	}
	s, ok := e.streams[*in.DeliveryStreamName]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String(fmt.Sprintf(
			"Firehose %s under account %s not found.", *in.DeliveryStreamName, e.account))}
	}
	return s, nil
}

func validationError(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: msg, Fault: smithy.FaultClient}
}

// Poll processes every buffer whose interval has passed. PutRecordBatch
// polls at the start of each call; a long-running caller with idle streams may also
// call it on a ticker.
func (e *Emulator) Poll(ctx context.Context) error {
	now := e.now()
	var errs []error
	for _, name := range e.names {
		s := e.streams[name]
		s.mu.Lock()
		if len(s.buf) > 0 && !now.Before(s.buf[0].arrival.Add(s.interval)) {
			errs = append(errs, e.flushLocked(ctx, s))
		}
		s.mu.Unlock()
	}
	errs = append(errs, e.commitDue(ctx, now, false))
	return errors.Join(errs...)
}

// Flush processes and delivers every buffered record now, as Firehose
// eventually does at the end of the input. With a pipeline, the batches
// it cuts are delivered later: Drain waits for them and writes the
// destination buffers.
func (e *Emulator) Flush(ctx context.Context) error {
	var errs []error
	for _, name := range e.names {
		s := e.streams[name]
		s.mu.Lock()
		errs = append(errs, e.flushLocked(ctx, s))
		s.mu.Unlock()
	}
	if e.pipe == nil {
		errs = append(errs, e.commitDue(ctx, time.Time{}, true))
	}
	return errors.Join(errs...)
}

// Drain flushes every stream until nothing is buffered or on its way,
// including records the transform put back while being flushed.
func (e *Emulator) Drain(ctx context.Context) error {
	for first := e.pipe != nil; first || e.buffered() > 0; first = false {
		if err := e.Flush(ctx); err != nil {
			return err
		}
		if e.pipe != nil {
			// Batches cut earlier are still on their way; then the
			// records the transform put back, and what it puts back
			// while they are processed.
			if err := e.pipe.drain(); err != nil {
				return err
			}
			if err := e.flushBack(ctx); err != nil {
				return err
			}
		}
	}
	return e.commitDue(ctx, time.Time{}, true)
}

// Close drains every stream and stops a pipeline's workers; later
// PutRecordBatch calls fail.
func (e *Emulator) Close(ctx context.Context) error {
	if e.pipe != nil {
		defer e.pipe.stop()
	}
	if err := e.Drain(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

func (e *Emulator) buffered() int {
	n := 0
	for _, s := range e.streams {
		s.mu.Lock()
		n += len(s.buf) + len(s.back)
		s.mu.Unlock()
	}
	return n
}

// flushLocked takes the stream's buffer and processes it. It is called
// with s.mu held and releases it while the processor runs, so that a
// transform may put records (its overflow) back into the same stream, and
// holds it again on return.
func (e *Emulator) flushLocked(ctx context.Context, s *stream) error {
	if len(s.buf) == 0 {
		return nil
	}
	batch := s.buf
	s.buf, s.bufBytes, s.reqBytes = nil, 0, 0
	s.most = max(s.most, len(batch))
	s.mu.Unlock()
	defer s.mu.Lock()
	if e.pipe != nil {
		if err := e.pipe.submit(ctx, e, s, batch); err != nil {
			return err
		}
		// One call can cut several batches (four packed records of
		// 1,000 KiB in a 1 MB buffer): each waits for room, as the call
		// did, so that at most workers batches are held.
		return e.pipe.waitRoom()
	}
	return e.processBatch(ctx, s, batch)
}

func base64Len(n int) int { return (n + 2) / 3 * 4 }

// recordIDLen is the length of every record id: "49" and 54 digits.
const recordIDLen = 56

// appendRecordID writes the record id of seq: Firehose's ids are long
// decimal numbers, and the emulator's are unique per stream.
func appendRecordID(b *strings.Builder, seq uint64) {
	const zeros = "49000000000000000000000000000000000000000000000000000000"
	var digits [20]byte // the most a uint64 needs
	d := strconv.AppendUint(digits[:0], seq, 10)
	b.WriteString(zeros[:recordIDLen-len(d)])
	b.Write(d)
}

// putRecordIDLen is the length of every id PutRecordBatch answers with
// for stream: the stream's name, a dash and 16 hexadecimal digits.
func putRecordIDLen(stream string) int { return len(stream) + 1 + 16 }

// appendPutRecordID writes the id PutRecordBatch answers with for the
// record seq of stream; Firehose's differ from the ids the processor sees.
func appendPutRecordID(b *strings.Builder, stream string, seq uint64) {
	const hex = "0123456789abcdef"
	var digits [16]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = hex[seq&0xf]
		seq >>= 4
	}
	b.WriteString(stream)
	b.WriteByte('-')
	b.Write(digits[:])
}

// randomUUID returns a version 4 UUID.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// event builds the processor's request for a batch.
func (e *Emulator) event(s *stream, batch []buffered, attempt int) events.KinesisFirehoseEvent {
	id := ""
	if e.pipe != nil {
		id = e.pipe.invocationID(s, batch, attempt)
	} else {
		id = e.newID()
	}
	var records []events.KinesisFirehoseEventRecord
	if e.events != nil {
		records, _ = e.events.take(func(r []events.KinesisFirehoseEventRecord) bool { return cap(r) >= len(batch) })
	}
	if records == nil {
		records = make([]events.KinesisFirehoseEventRecord, len(batch))
	}
	records = records[:len(batch)]
	ev := events.KinesisFirehoseEvent{
		InvocationID:      id,
		DeliveryStreamArn: s.arn,
		Region:            e.region,
		Records:           records,
	}
	for i, b := range batch {
		ev.Records[i] = events.KinesisFirehoseEventRecord{
			RecordID:                    b.id,
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: b.arrival},
			Data:                        b.data,
		}
	}
	return ev
}

// releaseEvent keeps an answered invocation's records for the next event,
// with WithReusedEvents.
func (e *Emulator) releaseEvent(ev events.KinesisFirehoseEvent) {
	if e.events != nil {
		clear(ev.Records)
		e.events.keep(ev.Records[:0], keptRecords)
	}
}
