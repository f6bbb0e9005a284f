package localfirehose

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/firehose"
)

// failure is why a record goes to the error prefix.
type failure struct {
	code, message string
}

// verdict is one record's fate after processing.
type verdict struct {
	result string // firehose.Ok, Dropped or ProcessingFailed
	data   []byte
	keys   map[string]string
	fail   *failure
}

// processBatch invokes the processor on batch (retrying an invocation
// failure NumberOfRetries times, each attempt with a fresh invocation id),
// enforces Firehose's response contract, and delivers the outcome. Only a
// fault writing the output is returned: every record ends delivered,
// dropped or in the error prefix.
func (e *Emulator) processBatch(ctx context.Context, s *stream, batch []buffered) error {
	ar := e.arena()
	resp, err := e.invoke(ctx, s, batch, 1, ar)
	return e.finishBatch(ctx, s, batch, resp, err, ar)
}

// arena returns memory for a batch's responses (firehose.Arena): a
// delivered batch's, or new.
func (e *Emulator) arena() *firehose.Arena {
	if ar, ok := e.arenas.Get().(*firehose.Arena); ok {
		return ar
	}
	return &firehose.Arena{Pool: e.docs}
}

// finishBatch judges the first attempt's answer, retries as Firehose
// does, and delivers. Every attempt's response is in ar, which is reused
// once the batch is delivered.
func (e *Emulator) finishBatch(ctx context.Context, s *stream, batch []buffered, resp firehose.Response, err error, ar *firehose.Arena) error {
	var (
		verdicts []verdict
		whole    *failure
		attempts int
		d        StreamStats // merged into the stream's counters at the end
	)
	s.mu.Lock()
	room := s.spareVerdicts
	s.spareVerdicts = nil
	s.mu.Unlock()
	defer func() {
		// Nothing refers to the batch's memory once it is delivered (the
		// processor was given its records' ids and data, not the batch),
		// nor to the verdicts': the stream's next buffer and next
		// delivery may use them. The callers that handed records over
		// (PutOwnedRecordBatchThen) hear that these are delivered.
		for i := range batch {
			if o := batch[i].owner; o != nil {
				o.done()
			}
		}
		clear(batch)
		clear(verdicts)
		ar.Reset()
		e.arenas.Put(ar)
		s.mu.Lock()
		s.stats.add(d)
		if cap(batch) > cap(s.spare) {
			s.spare = batch[:0]
		}
		if cap(verdicts) > cap(s.spareVerdicts) {
			s.spareVerdicts = verdicts[:0]
		}
		s.mu.Unlock()
	}()
	for attempts = 1; ; attempts++ {
		d.Invocations++
		if attempts > 1 {
			resp, err = e.invoke(ctx, s, batch, attempts, ar)
		}
		verdicts, whole = judge(batch, resp, err, room)
		retryable := whole != nil && whole.code == CodeFunctionError
		if retryable {
			d.FailedInvocations++
		}
		if !retryable || attempts > e.retries || ctx.Err() != nil {
			break
		}
	}
	ending := e.now()
	if whole != nil {
		verdicts = slices.Grow(room[:0], len(batch))[:len(batch)]
		for i := range verdicts {
			verdicts[i] = verdict{result: firehose.ProcessingFailed, fail: whole}
		}
	}
	return e.deliver(ctx, s, &d, batch, verdicts, attempts, ending)
}

// invoke calls the processor once, turning a panic into an error as the
// Lambda runtime does. A processor that copies its answers' data into the
// context's arena (firehose.ArenaFrom) copies them into ar.
func (e *Emulator) invoke(ctx context.Context, s *stream, batch []buffered, attempt int, ar *firehose.Arena) (resp firehose.Response, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.invocation)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("localfirehose: processor panicked: %v", p)
		}
	}()
	ev := e.event(s, batch, attempt)
	ctx = firehose.WithArena(ctx, ar)
	resp, err = e.process(ctx, ev)
	e.releaseEvent(ev) // not after a panic: the processor may still hold it
	return resp, err
}

// The failures judge finds: shared, as nothing changes a failure.
var (
	failFunctionError    = &failure{CodeFunctionError, msgFunctionError}
	failInvalidResponse  = &failure{CodeFunctionError, msgInvalidResponse}
	failDuplicatedID     = &failure{CodeDuplicatedID, msgDuplicatedID}
	failMissingRecordID  = &failure{CodeMissingRecordID, msgMissingRecordID}
	failProcessingFailed = &failure{CodeProcessingFailed, msgProcessingFailed}
)

// judge applies Firehose's response contract. A non-nil whole failure
// applies to every record of the batch; otherwise verdicts line up with
// batch, written into room's memory when it has enough.
func judge(batch []buffered, resp firehose.Response, err error, room []verdict) ([]verdict, *failure) {
	if err != nil {
		return nil, failFunctionError
	}
	// Lambda refuses a synchronous response over its payload cap; Firehose
	// sees a function error.
	if n := responseSize(resp); n > MaxInvocationBytes {
		return nil, failFunctionError
	}
	// A transform usually answers the batch's records in their order: each
	// record then finds its answer at its own index, and as the batch's
	// ids are unique, so are the answer's. Otherwise the answers are found
	// by id.
	var byID map[string]int
	inOrder := len(resp.Records) == len(batch)
	for i := 0; inOrder && i < len(batch); i++ {
		inOrder = resp.Records[i].RecordID == batch[i].id
	}
	if !inOrder {
		byID = make(map[string]int, len(resp.Records))
	}
	for i, r := range resp.Records {
		switch r.Result {
		case firehose.Ok, firehose.Dropped, firehose.ProcessingFailed:
		default:
			return nil, failInvalidResponse
		}
		// A nil Data marshals as JSON null, which Firehose does not accept.
		if r.RecordID == "" || r.Data == nil {
			return nil, failInvalidResponse
		}
		if byID == nil {
			continue
		}
		if _, dup := byID[r.RecordID]; dup {
			return nil, failDuplicatedID
		}
		byID[r.RecordID] = i
	}
	out := slices.Grow(room[:0], len(batch))[:len(batch)]
	for i, b := range batch {
		j, ok := i, true
		if byID != nil {
			j, ok = byID[b.id]
		}
		if !ok {
			out[i] = verdict{result: firehose.ProcessingFailed, fail: failMissingRecordID}
			continue
		}
		r := &resp.Records[j]
		v := verdict{result: r.Result, data: r.Data}
		if r.Metadata != nil {
			v.keys = r.Metadata.PartitionKeys
		}
		if r.Result == firehose.ProcessingFailed {
			v.fail = failProcessingFailed
		}
		out[i] = v
	}
	return out, nil
}

// responseSize is the response's size as the Lambda runtime would send it.
func responseSize(resp firehose.Response) int { return firehose.ResponseSize(&resp) }

// object is one S3 object being assembled.
type object struct {
	key    string
	oldest time.Time
	body   *bytes.Buffer
	count  int
}

// freeList keeps values for reuse, safe for concurrent use. Unlike a
// sync.Pool, which every garbage collection empties, it keeps what it is
// given: object bodies of megabytes would otherwise be grown from nothing
// (cleared and copied at every doubling) after each collection, and handed
// back to the operating system soon after.
type freeList[T any] struct {
	mu   sync.Mutex
	free []T
}

// take removes and returns the value kept last for which fits is true (any
// value, when fits is nil); ok is false when there is none.
func (l *freeList[T]) take(fits func(T) bool) (v T, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.free) - 1; i >= 0; i-- {
		if fits == nil || fits(l.free[i]) {
			v = l.free[i]
			l.free = slices.Delete(l.free, i, i+1)
			return v, true
		}
	}
	return v, false
}

// keep keeps v, unless most values are kept already.
func (l *freeList[T]) keep(v T, most int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < most {
		l.free = append(l.free, v)
	}
}

// Object bodies kept (a Writer does not keep the bytes it is given, and a
// batch's objects are about the same size every time): a few per
// delivering goroutine, none larger than a processor's whole response
// could make them.
const (
	keptBodies   = 4
	maxKeptBytes = 16 << 20
)

// body returns an empty object body, a kept one when there is one.
func (e *Emulator) body() *bytes.Buffer {
	if buf, ok := e.bodies.take(nil); ok {
		buf.Reset()
		return buf
	}
	return new(bytes.Buffer)
}

// keepBody keeps a written object's body for a later object.
func (e *Emulator) keepBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxKeptBytes {
		e.bodies.keep(buf, keptBodies)
	}
}

// deliver writes Ok records under the prefix and failed records as
// error-record JSON lines under the error prefix. Objects are named
// <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid> after their oldest
// record's arrival. A prefix the same for the whole batch collects the
// Ok records in the stream's destination buffer (destination.go); one
// with partition keys or a random string gets an object per evaluated
// prefix, as does each batch's error records.
func (e *Emulator) deliver(ctx context.Context, s *stream, d *StreamStats, batch []buffered, vs []verdict, attempts int, ending time.Time) error {
	var okObjects, errObjects []*object
	okByPrefix := map[string]*object{}
	errByPrefix := map[string]*object{}
	// The Ok records' bytes: the first object is given room for them all
	// at once, as a batch usually goes to one prefix.
	okBytes := 0
	for i := range vs {
		if vs[i].result == firehose.Ok {
			okBytes += len(vs[i].data)
		}
	}
	add := func(objs *[]*object, by map[string]*object, pfx string, arrival time.Time) *object {
		o, ok := by[pfx]
		if !ok {
			o = &object{key: pfx, oldest: arrival, body: e.body()}
			if objs == &okObjects && len(okObjects) == 0 {
				o.body.Grow(okBytes)
			}
			by[pfx] = o
			*objs = append(*objs, o)
		}
		if arrival.Before(o.oldest) {
			o.oldest = arrival
		}
		o.count++
		return o
	}
	random := func() string { return randomString(e.newID()) }

	// The object's prefix is evaluated at the oldest arrival of the batch,
	// as Firehose evaluates it for the oldest record in the object.
	oldest := batch[0].arrival
	for _, b := range batch[1:] {
		if b.arrival.Before(oldest) {
			oldest = b.arrival
		}
	}
	var failed []int
	// A prefix of only the time is the same for every record of the
	// batch: the records make one object, unnamed, for the destination
	// buffer, which evaluates the prefix for its own oldest record.
	perRecord := s.prefix.perRecord()
	for i, v := range vs {
		switch v.result {
		case firehose.Ok:
			pfx, missing := "", ""
			if perRecord {
				pfx, missing = s.prefix.eval(oldest, v.keys, random)
			}
			if missing != "" {
				vs[i] = verdict{result: firehose.ProcessingFailed, fail: &failure{CodeMissingPartitionKey,
					fmt.Sprintf("The record has no partition key %q, which the prefix needs.", missing)}}
				failed = append(failed, i)
				continue
			}
			o := add(&okObjects, okByPrefix, pfx, batch[i].arrival)
			o.body.Write(v.data)
			d.Ok++
			if len(v.data) > 0 && v.data[len(v.data)-1] != '\n' {
				d.Undelimited++
			}
		case firehose.Dropped:
			d.Dropped++
		default:
			failed = append(failed, i)
		}
	}
	// The error prefix and the Lambda's ARN are the same for every failed
	// record, unless the prefix draws a random string for each.
	var errPrefix, arn string
	errPerRecord := s.errorPrefix.perRecord()
	if len(failed) > 0 {
		arn = e.LambdaArn()
		if !errPerRecord {
			errPrefix, _ = s.errorPrefix.eval(oldest, nil, random)
		}
	}
	for _, i := range failed {
		v := vs[i]
		pfx := errPrefix
		if errPerRecord {
			pfx, _ = s.errorPrefix.eval(oldest, nil, random)
		}
		o := add(&errObjects, errByPrefix, pfx, batch[i].arrival)
		line, err := deadletter.Marshal(&deadletter.Record{
			AttemptsMade:           int64(attempts),
			ArrivalTimestamp:       batch[i].arrival.UnixMilli(),
			ErrorCode:              v.fail.code,
			ErrorMessage:           v.fail.message,
			AttemptEndingTimestamp: ending.UnixMilli(),
			RawData:                batch[i].data,
			LambdaArn:              arn,
		})
		if err != nil {
			return fmt.Errorf("localfirehose: error record: %w", err)
		}
		o.body.Write(line)
		d.Failed++
		if d.FailedByCode == nil {
			d.FailedByCode = map[string]int64{}
		}
		d.FailedByCode[v.fail.code]++
	}
	defer func() {
		for _, objs := range [][]*object{okObjects, errObjects} {
			for _, o := range objs {
				e.keepBody(o.body)
			}
		}
	}()
	perBatch := okObjects
	if !perRecord {
		if len(okObjects) > 0 && okObjects[0].body.Len() > 0 {
			if err := e.toDestination(ctx, s, okObjects[0].body.Bytes(), okObjects[0].oldest); err != nil {
				return err
			}
		}
		perBatch = nil
	}
	for _, group := range []struct {
		objs  []*object
		files *int64
	}{{perBatch, &d.Files}, {errObjects, &d.ErrorFiles}} {
		sort.SliceStable(group.objs, func(i, j int) bool { return group.objs[i].key < group.objs[j].key })
		for _, o := range group.objs {
			if o.body.Len() == 0 {
				continue // nothing to write: every Ok record was empty
			}
			key := o.key + objectName(s.name, o.oldest, e.newID())
			if err := e.out.WriteObject(ctx, key, o.body.Bytes()); err != nil {
				return fmt.Errorf("localfirehose: stream %s: write %s: %w", s.name, key, err)
			}
			*group.files++
			if group.files == &d.Files {
				d.BytesOut += int64(o.body.Len())
			} else {
				d.ErrorBytes += int64(o.body.Len())
			}
		}
	}
	return nil
}

// objectName is Firehose's object suffix:
// <stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>.
func objectName(stream string, t time.Time, uuid string) string {
	return fmt.Sprintf("%s-%d-%s-%s", stream, streamVersion, t.UTC().Format("2006-01-02-15-04-05"), uuid)
}

// randomString is !{firehose:random-string}: 11 alphanumeric characters.
func randomString(seed string) string {
	out := make([]byte, 0, 11)
	for i := 0; i < len(seed) && len(out) < 11; i++ {
		c := seed[i]
		if isLetter(c) || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	for len(out) < 11 {
		out = append(out, '0')
	}
	return string(out)
}
