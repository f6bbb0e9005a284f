package splitter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/rollup"
	"github.com/sluicehq/sluice/internal/splitter/decompress"
)

// Status is what became of one object in one invocation.
type Status string

// The statuses of Result.
const (
	StatusDone        Status = "done"         // every record delivered or dead-lettered
	StatusContinue    Status = "continue"     // stopped at the deadline; resume from the checkpoint
	StatusAlreadyDone Status = "already-done" // a redelivered event for a finished object
	StatusUnrouted    Status = "unrouted"     // no route matches
	StatusMissing     Status = "missing"      // 404: the object or version is gone
	StatusChanged     Status = "changed"      // 412: the object is no longer the announced one
)

// Result is the outcome of Split for one object.
type Result struct {
	Status Status
	// Sent and DeadLettered count this invocation's records. A forked
	// route counts a record once per branch it is sent to.
	Sent, DeadLettered int64
	// Filtered counts, by stream, the records a branch's where kept out of
	// that stream (nil when none).
	Filtered map[string]int64
	// Progress is the object's checkpoint after this invocation.
	Progress Progress
	// Rollup counts what a rollup route did with this invocation's lines;
	// nil for other routes.
	Rollup *RollupCounts
}

// RollupCounts are a rollup route's lines, for one invocation's segments.
// Over an object's invocations, Lines = Aggregated + the sum of Excluded +
// the object's dead letters.
type RollupCounts struct {
	Name string
	// Lines counts the lines (records and unparseable lines) covered by
	// the segments emitted.
	Lines, Aggregated int64
	// Excluded counts lines by the first where rule they failed.
	Excluded map[string]int64
	// Records counts the rollup records emitted (one per group and window
	// per segment).
	Records int64
	// BranchDeadLetters counts, for a fork with a rollup branch, the dead
	// letters of its other branches (records too large for a stream): they
	// are in Result.DeadLettered but are no line's fate in the rollup.
	BranchDeadLetters int64
}

// Dead-letter classes, written as errorCode "Splitter.<Class>".
const (
	ClassParseError         = "ParseError"
	ClassRecordTooLarge     = "RecordTooLarge"
	ClassDecompressionLimit = "DecompressionLimit"
	ClassCorruptCompression = "CorruptCompression"
	ClassUnreadable         = "Unreadable"
	ClassRollupValue        = "RollupValue"
)

// Split splits one object. route nil means the config's routing table
// decides. It stops at ctx's deadline less the margin with StatusContinue.
// An error is systemic (AWS unreachable, Redis down): the object may be
// retried and resumes from its checkpoint.
func (h *Handler) Split(ctx context.Context, o Object, route *config.Route) (Result, error) {
	return h.split(ctx, o, route, h.stopAt(ctx))
}

func (h *Handler) split(ctx context.Context, o Object, route *config.Route, stopAt time.Time) (Result, error) {
	var branches []branch
	if route == nil {
		r, br, ok := h.router.match(o.Bucket, o.Key)
		if !ok {
			h.log.Warn("no route for object", "bucket", o.Bucket, "key", o.Key)
			h.metrics.Add("Unrouted", metrics.Count, 1)
			return Result{Status: StatusUnrouted}, nil
		}
		route, branches = &r, br
	} else {
		br, err := compileBranches("route for s3://"+o.Bucket+"/"+o.Key, *route)
		if err != nil {
			return Result{}, err
		}
		branches = br
	}
	id := ObjectID(o)
	prog, done, err := h.checkpoints.Load(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if done {
		h.log.Info("object already split", "bucket", o.Bucket, "key", o.Key)
		h.metrics.Add("AlreadyDone", metrics.Count, 1)
		return Result{Status: StatusAlreadyDone}, nil
	}
	body, size, key, status, err := h.get(ctx, o)
	if err != nil || status != "" {
		return Result{Status: status, Progress: prog}, err
	}
	defer body.Close()
	o.Key = key // ids and provenance carry the key that was read
	if o.Size == 0 {
		o.Size = size
	}
	h.metrics.Add("Objects", metrics.Count, 1)
	prog.Invocations++
	run := &objectRun{h: h, o: o, id: id, route: route, branches: branches, prog: prog, start: prog, stopAt: stopAt, ingestedAt: h.now()}
	return run.do(ctx, body)
}

// get opens the object: at the event's version, else only while its ETag
// is the announced one. A 404 or 412 is a status, not an error. It returns
// the key it read. An EventBridge key can be read more than one way (see
// readings); the first reading that has the announced object wins, and the
// object counts as changed only when no reading has it, so a 412 on one
// reading never hides the object under another.
func (h *Handler) get(ctx context.Context, o Object) (io.ReadCloser, int64, string, Status, error) {
	status := StatusMissing
	var last error
	for _, key := range readings(o) {
		out, err := h.getKey(ctx, o, key)
		switch code, httpStatus := apiError(err); {
		case err == nil:
			return out.Body, aws.ToInt64(out.ContentLength), key, "", nil
		case missing(err):
		case code == "PreconditionFailed" || httpStatus == http.StatusPreconditionFailed:
			status = StatusChanged
		default:
			return nil, 0, "", "", fmt.Errorf("splitter: GetObject s3://%s/%s: %w", o.Bucket, key, err)
		}
		last = err
	}
	if status == StatusChanged {
		h.metrics.Add("ObjectsChanged", metrics.Count, 1)
	} else {
		h.metrics.Add("ObjectsMissing", metrics.Count, 1)
	}
	h.log.Warn("object not read", "status", string(status), "bucket", o.Bucket, "key", o.Key, "raw_key", o.RawKey, "version", o.Version, "etag", o.ETag, "err", last)
	return nil, 0, "", status, nil
}

// readings lists the keys an event's key may stand for, most likely first:
// the form-URL-decoded key, then, for an EventBridge key that decoding
// changed, the key with only its %XX escapes decoded ("+" kept) and the key
// exactly as sent. EventBridge's encoding of keys is not documented and
// reports disagree, so each is tried.
func readings(o Object) []string {
	keys := []string{o.Key}
	if o.RawKey == "" {
		return keys
	}
	if k, err := url.PathUnescape(o.RawKey); err == nil && k != o.Key && k != o.RawKey {
		keys = append(keys, k)
	}
	if o.RawKey != o.Key {
		keys = append(keys, o.RawKey)
	}
	return keys
}

func (h *Handler) getKey(ctx context.Context, o Object, key string) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)}
	switch {
	case o.Version != "":
		in.VersionId = aws.String(o.Version)
	case o.ETag != "":
		in.IfMatch = aws.String(quoteETag(o.ETag))
	}
	return h.s3.GetObject(ctx, in)
}

func missing(err error) bool {
	code, status := apiError(err)
	return code == "NoSuchKey" || code == "NoSuchVersion" || status == http.StatusNotFound
}

func apiError(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func quoteETag(e string) string {
	if strings.HasPrefix(e, `"`) {
		return e
	}
	return `"` + e + `"`
}

// objectRun is one invocation's work on one object.
type objectRun struct {
	h          *Handler
	o          Object
	id         string
	route      *config.Route
	branches   []branch
	prog       Progress // advances as batches are acknowledged
	start      Progress // as loaded
	stopAt     time.Time
	ingestedAt time.Time

	index int64 // index of the record being read
	// unacked holds the records put since the last Flush, in Put order.
	unacked []putRecord
	acked   int64 // how many of unacked are acknowledged

	dl      bytes.Buffer // pending dead-letter lines
	dlFirst int64        // index of the first pending dead letter
	dlCount int64

	sent, failed int64
	buf          []byte
	scratch      []byte // field names for where
	slab         []byte // records handed to the Sink are carved from it

	// A rollup route aggregates into agg; segStart is the index of the
	// current segment's first line.
	agg      *rollup.Aggregator
	segStart int64
	rollup   *RollupCounts
	// rollupRoute is the route as its rollup sees it (for a fork, the
	// rollup branch's stream and schema); rollupEnc renders a line the
	// rollup dead-letters.
	rollupRoute *config.Route
	rollupEnc   *envelope.Encoder
}

type putRecord struct{ index, offset int64 }

// do reads the object to its end or the deadline. Records before the
// checkpoint are read and skipped: they are already acknowledged.
func (r *objectRun) do(ctx context.Context, body io.Reader) (Result, error) {
	h := r.h
	src := &ioErrReader{r: body}
	dr, err := decompress.Open(src, r.o.Size, decompress.Limits{MaxBytes: h.cfg.Limits.MaxDecompressedBytes, MaxRatio: h.cfg.Limits.MaxRatio})
	if err != nil {
		return r.fatal(ctx, src, err, 0, 0)
	}
	defer func() { h.metrics.Add("BytesRead", metrics.Bytes, float64(dr.CompressedRead())) }()
	in := &touchReader{r: dr}
	sc, err := h.openFormat(r.route.Format, in, h.formatOptions(r.route))
	if err != nil {
		if !in.touched {
			// It failed without looking at the data: the route is wrong
			// (an unknown format or option), not the object.
			return r.abort(ctx, fmt.Errorf("splitter: route for s3://%s/%s: %w", r.o.Bucket, r.o.Key, err))
		}
		return r.fatal(ctx, src, err, 0, 0)
	}
	maxRecord := h.cfg.Limits.MaxRecordBytes
	if maxRecord <= 0 || maxRecord > config.MaxFirehoseRecordBytes {
		maxRecord = config.MaxFirehoseRecordBytes
	}
	var lastLine, lastOffset int64
	var re *format.RecordError
	if rr := r.route.RollupRoute(); rr != nil {
		r.rollupRoute = rr
		r.agg = rollup.New(rr)
		r.segStart = r.start.Next
		r.rollup = &RollupCounts{Name: r.route.Rollup.Name, Excluded: map[string]int64{}}
	}
	if b, ok := sc.(format.Borrower); ok && r.agg == nil {
		// Each record is filtered and encoded before the next is read, and
		// nothing of it is kept: its text need not be copied. A rollup
		// keeps values (group keys) past the record.
		b.Borrow()
	}
	next := sc.Next
	if rs, ok := sc.(format.RawScanner); ok && r.agg == nil && !r.filters() {
		// Only the envelope reads the fields: a record whose text is
		// already its "fields" object is copied, not read and quoted again.
		next = rs.NextRaw
	}
	for ; ; r.index++ {
		// Skipping records before the checkpoint is cheap: look at the
		// clock less often there.
		mask := int64(63)
		if r.index < r.start.Next {
			mask = 4095
		}
		if r.index&mask == 0 && !r.stopAt.IsZero() && h.now().After(r.stopAt) {
			return r.stop(ctx)
		}
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &re) {
			if r.index >= r.start.DeadLettered {
				s := r.source(re.Line, re.Offset, nil)
				if err := r.deadLetter(ctx, ClassParseError, re.Reason, re.Raw, &s); err != nil {
					return r.abort(ctx, err)
				}
			}
			continue
		}
		if err != nil {
			return r.fatal(ctx, src, err, lastLine, lastOffset)
		}
		lastLine, lastOffset = rec.Line, rec.Offset
		if r.index < r.start.Next {
			continue
		}
		if r.agg != nil {
			if err := r.aggregate(ctx, rec); err != nil {
				return r.abort(ctx, err)
			}
			if !r.route.Forks() {
				continue
			}
			// A fork's other branches get the record as well; the
			// checkpoint still moves only at the end of a segment, when
			// the segment's records of every branch are acknowledged.
		}
		for b := range r.branches {
			br := &r.branches[b]
			if !br.admits(rec.Fields, &r.scratch) {
				br.filtered++
				continue
			}
			if enc := br.encoder(r.source(0, 0, nil)); rec.Raw != nil {
				r.buf = enc.AppendRaw(r.buf[:0], r.index, rec.Line, rec.Offset, rec.Flags, rec.Raw)
			} else {
				r.buf = enc.Append(r.buf[:0], r.index, rec.Line, rec.Offset, rec.Flags, rec.Fields)
			}
			if len(r.buf) > maxRecord {
				if r.index >= r.start.DeadLettered {
					reason := fmt.Sprintf("record of %d bytes is over the %d-byte record limit", len(r.buf), maxRecord)
					s := r.source(rec.Line, rec.Offset, rec.Flags)
					if err := r.deadLetter(ctx, ClassRecordTooLarge, reason, r.buf, &s); err != nil {
						return r.abort(ctx, err)
					}
					if r.rollup != nil {
						r.rollup.BranchDeadLetters++
					}
				}
				continue
			}
			if err := r.put(ctx, br.stream, r.buf, rec.Offset); err != nil {
				return r.abort(ctx, err)
			}
		}
	}
	return r.finish(ctx)
}

// filters reports whether a branch has where rules, which read the
// records' fields.
func (r *objectRun) filters() bool {
	for _, b := range r.branches {
		if len(b.where) > 0 {
			return true
		}
	}
	return false
}

func (r *objectRun) source(line, offset int64, flags []string) envelope.Source {
	return envelope.Source{
		Bucket: r.o.Bucket, Key: r.o.Key, Version: r.o.Version, ETag: r.o.ETag,
		Format: r.route.Format, Line: line, Offset: offset, IngestedAt: r.ingestedAt, Flags: flags,
	}
}

// put sends one envelope and checkpoints when the acknowledged prefix grows.
func (r *objectRun) put(ctx context.Context, stream string, data []byte, offset int64) error {
	r.unacked = append(r.unacked, putRecord{index: r.index, offset: offset})
	acked, err := r.h.sink.Put(ctx, stream, data)
	if err != nil {
		return err
	}
	if err := r.ack(ctx, acked); err != nil {
		return err
	}
	if len(r.unacked) >= r.h.flushEvery {
		return r.flush(ctx)
	}
	return nil
}

// flush waits for every record put to be acknowledged.
func (r *objectRun) flush(ctx context.Context) error {
	acked, err := r.h.sink.Flush(ctx)
	if ackErr := r.ack(ctx, acked); err == nil {
		err = ackErr
	}
	// Flush starts a new run of the Sink: what was not acknowledged is
	// abandoned and will be sent again from the checkpoint.
	r.unacked, r.acked = r.unacked[:0], 0
	return err
}

// ack moves the checkpoint to the end of the acknowledged prefix.
func (r *objectRun) ack(ctx context.Context, acked int64) error {
	if acked <= r.acked {
		return nil
	}
	if acked > int64(len(r.unacked)) {
		return fmt.Errorf("splitter: sink acknowledged %d records of %d put", acked, len(r.unacked))
	}
	r.sent += acked - r.acked
	r.h.metrics.Add("Records", metrics.Count, float64(acked-r.acked))
	r.acked = acked
	if r.agg != nil {
		// A rollup's checkpoint moves, and its Sent with it, only when a
		// whole segment is acknowledged (emitSegment): the records a
		// fork's other branches were sent since are sent again after a
		// stop, with the same ids.
		return nil
	}
	last := r.unacked[acked-1]
	r.prog.Next, r.prog.Offset = last.index+1, last.offset
	if acked < int64(len(r.unacked)) && r.unacked[acked].index == last.index {
		// A fork's record is done only when every branch has it: resume
		// at the record (its acknowledged branches are sent again, with
		// the same ids).
		r.prog.Next = last.index
	}
	r.prog.Sent = r.start.Sent + r.sent
	return r.h.checkpoints.Save(ctx, r.id, r.prog)
}

// deadLetter queues one dead-letter line, writing a part when it is full.
func (r *objectRun) deadLetter(ctx context.Context, class, reason string, raw []byte, src *envelope.Source) error {
	now := r.h.now().UnixMilli()
	line, err := deadletter.Marshal(&deadletter.Record{
		ArrivalTimestamp:       r.ingestedAt.UnixMilli(),
		AttemptEndingTimestamp: now,
		ErrorCode:              "Splitter." + class,
		ErrorMessage:           reason,
		RawData:                raw,
		Reason:                 reason,
		Source:                 src,
		RecordID:               envelope.RecordID(r.o.Bucket, r.o.Key, r.o.Version, r.o.ETag, r.index),
	})
	if err != nil {
		return fmt.Errorf("splitter: dead letter: %w", err)
	}
	if r.dl.Len() == 0 {
		r.dlFirst = r.index
	}
	r.dl.Write(line)
	r.dlCount++
	r.h.metrics.Add("DeadLetters", metrics.Count, 1, metrics.Dim{Name: "Reason", Value: class})
	if r.dl.Len() >= deadLetterPartBytes {
		return r.writeDeadLetters(ctx, r.index+1)
	}
	return nil
}

// writeDeadLetters writes the pending part and records that every dead
// letter of a record before upTo is safe.
func (r *objectRun) writeDeadLetters(ctx context.Context, upTo int64) error {
	if r.dl.Len() > 0 {
		if err := r.h.deadLetters.WriteDeadLetters(ctx, deadLetterName(r.o, r.dlFirst), r.dl.Bytes()); err != nil {
			return err
		}
		r.failed += r.dlCount
		r.dl.Reset()
		r.dlCount = 0
	}
	r.prog.DeadLettered = max(r.prog.DeadLettered, upTo)
	r.prog.Failed = r.start.Failed + r.failed
	return r.h.checkpoints.Save(ctx, r.id, r.prog)
}

// fatal handles a scan that cannot go on. A read error of the body is
// systemic; bad data (a gzip bomb, corrupt gzip, a format that gives up)
// dead-letters the rest of the object with its reason, and what was sent
// stays sent.
func (r *objectRun) fatal(ctx context.Context, src *ioErrReader, err error, line, offset int64) (Result, error) {
	if src.err != nil {
		return r.abort(ctx, fmt.Errorf("splitter: reading s3://%s/%s: %w", r.o.Bucket, r.o.Key, err))
	}
	class := ClassUnreadable
	var le *decompress.LimitError
	var ce *decompress.CorruptError
	switch {
	case errors.As(err, &le):
		class = ClassDecompressionLimit
	case errors.As(err, &ce):
		class = ClassCorruptCompression
	}
	reason := fmt.Sprintf("%v; the rest of the object from record %d is not split", err, r.index)
	s := r.source(line, offset, nil)
	h := r.h
	// A format's message may quote the data: log only its type.
	h.log.Warn("object dead-lettered", "class", class, "bucket", r.o.Bucket, "key", r.o.Key, "record", r.index, "error_type", fmt.Sprintf("%T", err))
	if r.index >= r.start.DeadLettered {
		if err := r.deadLetter(ctx, class, reason, nil, &s); err != nil {
			return r.abort(ctx, err)
		}
	}
	if r.agg != nil {
		r.index++ // a rollup's last segment covers the dead letter for the rest
	}
	return r.finish(ctx)
}

// finish flushes, writes the dead letters and marks the object done.
func (r *objectRun) finish(ctx context.Context) (Result, error) {
	if r.agg != nil && r.index > r.segStart {
		if err := r.emitSegment(ctx, r.index); err != nil {
			return r.abort(ctx, err)
		}
	}
	if err := r.flush(ctx); err != nil {
		return r.abort(ctx, err)
	}
	r.prog.Next = r.index
	if err := r.writeDeadLetters(ctx, r.index); err != nil {
		return r.result(StatusDone), err
	}
	if err := r.h.checkpoints.Finish(ctx, r.id); err != nil {
		return r.result(StatusDone), err
	}
	r.h.log.Info("object split", "bucket", r.o.Bucket, "key", r.o.Key, "sent", r.sent, "dead_lettered", r.failed, "records", r.index, "invocations", r.prog.Invocations)
	return r.result(StatusDone), nil
}

// stop ends the invocation's work at the deadline with a checkpoint.
func (r *objectRun) stop(ctx context.Context) (Result, error) {
	if err := r.flush(ctx); err != nil {
		return r.abort(ctx, err)
	}
	if len(r.unacked) == 0 && r.index > r.prog.Next && r.agg == nil {
		// Everything read is delivered or dead-lettered (after the write).
		r.prog.Next = r.index
	}
	if err := r.writeDeadLetters(ctx, r.index); err != nil {
		return r.result(StatusContinue), err
	}
	r.h.log.Info("deadline near, object continues later", "bucket", r.o.Bucket, "key", r.o.Key, "next", r.prog.Next, "offset", r.prog.Offset)
	return r.result(StatusContinue), nil
}

// abort saves what is safe and returns a systemic error: the object is
// retried and resumes from the checkpoint.
func (r *objectRun) abort(ctx context.Context, cause error) (Result, error) {
	acked, _ := r.h.sink.Flush(ctx)
	_ = r.ack(ctx, acked)
	r.unacked, r.acked = r.unacked[:0], 0
	// The pending dead letters are not written: the retry reads them again.
	return r.result(StatusContinue), cause
}

func (r *objectRun) result(s Status) Result {
	res := Result{Status: s, Sent: r.sent, DeadLettered: r.failed, Progress: r.prog, Rollup: r.rollup}
	for _, b := range r.branches {
		if b.filtered > 0 {
			if res.Filtered == nil {
				res.Filtered = map[string]int64{}
			}
			res.Filtered[b.stream] += b.filtered
			// Dropped by a configured rule, under Function alone (the
			// dashboard's series), and by stream.
			r.h.metrics.Add("Dropped", metrics.Count, float64(b.filtered))
			r.h.metrics.Add("Filtered", metrics.Count, float64(b.filtered), metrics.Dim{Name: "Stream", Value: b.stream})
		}
	}
	return res
}

// ioErrReader remembers the body's first read error other than EOF, so a
// scan failure can be told apart: the network (retry) or the data (dead
// letter).
type ioErrReader struct {
	r   io.Reader
	err error
}

func (e *ioErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// touchReader records whether anything was read through it.
type touchReader struct {
	r       io.Reader
	touched bool
}

func (t *touchReader) Read(p []byte) (int, error) {
	t.touched = true
	return t.r.Read(p)
}

// formatOptions are the route's options, with limits.max_record_bytes as
// the format's record cap unless the route sets its own.
func (h *Handler) formatOptions(r *config.Route) format.Options {
	opts := format.Options{"max_record_bytes": strconv.Itoa(h.cfg.Limits.MaxRecordBytes)}
	if h.cfg.Limits.MaxRecordBytes <= 0 {
		delete(opts, "max_record_bytes")
	}
	for k, v := range r.Options {
		opts[k] = v
	}
	return opts
}
