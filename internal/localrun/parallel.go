package localrun

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/splitter"
)

// How a run uses the cores: split several objects at once, transform
// while splitting, deliver while transforming. The Firehose emulator sees
// the same puts in the same order whatever the scheduling, so the output
// is the same files with the same contents on one core or many:
//
//   - workers split objects, taken in order, each handing its
//     PutRecordBatch calls to its own queue, one at a time;
//   - one feeder puts the queues into the emulator object by object, in
//     the objects' order;
//   - the emulator (WithPipeline) invokes the transform on several cut
//     buffers at once and delivers them in the order they were cut.
//
// Memory stays bounded: at most splitWorkers objects are split at once,
// each at most one call ahead of the feeder, and the emulator holds at most
// one batch per transform invocation (transformWorkers) between cutting
// and delivery.

// A split worker's producer fills its next call while the feeder puts the
// last one: the call is copied only when the feeder takes it, so an
// object is at most one call ahead, and no copy waits (up to
// splitCallBytes, which copies made early kept the collector busy on two
// cores).

// cores is the run's parallelism, before memory bounds it.
func cores() int { return runtime.GOMAXPROCS(0) }

// Memory bounds the parallelism: each transform invocation at once holds
// its batch, its documents and its response (a few MB each with packed
// records), so a run with one per core outgrew its memory budget on many
// cores: with 8, 1 GiB of listings peaked at 91 MiB, and 122 MiB packed,
// against the 64 MiB `sluice run` keeps to. Under its 40 MiB soft limit
// (MemoryLimit) two invocations fit (55 and 58 MiB with 8 cores); a third
// took packed runs to 68 MiB. A larger limit (GOMEMLIMIT) makes room for
// one more per workerBytes, up to one per core.
const (
	// MemoryLimit is the soft memory limit `sluice run` sets (unless
	// GOGC or GOMEMLIMIT is set): with it, a run keeps to 64 MiB of RSS.
	MemoryLimit     = 40 << 20
	workersAtLimit  = 2
	workerBytes     = 16 << 20
	maxSplitWorkers = 8 // however many cores and however much memory
)

// transformWorkers is how many transform invocations run at once: one per
// core, as many as the memory limit in force has room for.
func transformWorkers() int {
	return max(1, min(cores(), workersFor(debug.SetMemoryLimit(-1))))
}

// workersFor is how many transform invocations a memory limit has room
// for: one below MemoryLimit, any number without a limit (math.MaxInt64).
func workersFor(limit int64) int {
	if limit == math.MaxInt64 {
		return math.MaxInt32
	}
	switch {
	case limit < MemoryLimit:
		return 1
	case limit == MemoryLimit:
		return workersAtLimit
	}
	return workersAtLimit + int(min((limit-MemoryLimit)/workerBytes, math.MaxInt32/2))
}

// maxDocumentPool bounds each of the two pools of large buffers a run
// keeps idle for reuse.
const maxDocumentPool = 8 << 20

// documentPool is how many bytes of large buffers a run keeps idle between
// batches in each of its two pools: packed records' documents, which the
// transform then hands to the response instead of copying
// (localfirehose.WithDocumentPool), and the copies of packed records the
// feeder puts (localfirehose.Copier's Large). It is half the room the
// memory limit leaves beyond the transform invocations running at once
// (workerBytes each), up to maxDocumentPool. At sluice run's limit on two
// cores or more there is none: kept idle there, document buffers took the
// collector from 50 to 91 runs over 200,000 packed listings. On one core
// it runs 11 times instead of 27.
func documentPool() int {
	room := workersFor(debug.SetMemoryLimit(-1)) - transformWorkers()
	if room <= 0 {
		return 0
	}
	return int(min(int64(room)*workerBytes/2, maxDocumentPool))
}

// splitWorkers is how many objects are split at once: half the transform
// workers, rounded up. Splitting takes about a ninth of a run's CPU, so
// one splitter keeps two transform workers busy, and each splitter more
// holds its producer's batch (4 MiB with packed records then, before
// splitCallBytes): on two cores, one splitter instead of two ran 1 GiB of
// packed listings in 17 s instead of 24 s, peaking at 59 MiB instead of
// 65 MiB.
func splitWorkers(objects int) int {
	return max(1, min((transformWorkers()+1)/2, objects, maxSplitWorkers))
}

// splitCallBytes bounds a split worker's PutRecordBatch call: each call
// is held twice until the feeder has copied it (the producer's buffer and
// the copy), and the copy until its records are delivered, so calls of
// Firehose's 4 MiB (four packed records) kept the collector busy under
// the memory limit.
const splitCallBytes = 1 << 20

// objectQueue is one object's PutRecordBatch calls, in order.
type objectQueue chan queuedPut

// queuedPut is a call waiting for the feeder, which copies its records
// and then sends on taken: until then the producer keeps its buffers.
type queuedPut struct {
	in    *awsfirehose.PutRecordBatchInput
	taken chan<- struct{}
}

// take copies the call's records with c and lets the producer go on; it
// returns the copy and the release that gives its memory back to c.
func (qp queuedPut) take(c *localfirehose.Copier) (*awsfirehose.PutRecordBatchInput, func()) {
	records, release := c.Copy(qp.in.Records)
	in := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: qp.in.DeliveryStreamName, Records: records}
	qp.taken <- struct{}{}
	return in, release
}

// queueClient is the Firehose client a split worker's sink puts into: it
// hands each call to the current object's queue, waits until the feeder
// has copied it, and answers that every record was accepted (the
// emulator refuses nothing that a splitter's producer sends; a delivery
// fault ends the run).
type queueClient struct {
	q     objectQueue
	ctx   context.Context // the run's: its end unblocks a full queue
	taken chan struct{}
	// entries answers every call: all accepted, so never written, and
	// read by the producer before its next call.
	entries []types.PutRecordBatchResponseEntry
}

func (c *queueClient) PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, _ ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	// The producer reuses its buffers when the call returns: the feeder
	// copies them first. Once it has taken the call it copies at once,
	// so the wait for that heeds no context: returning earlier would let
	// the producer write over what is being copied.
	select {
	case c.q <- queuedPut{in: in, taken: c.taken}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, context.Cause(c.ctx)
	}
	<-c.taken
	if cap(c.entries) < len(in.Records) {
		c.entries = make([]types.PutRecordBatchResponseEntry, len(in.Records))
	}
	return &awsfirehose.PutRecordBatchOutput{
		FailedPutCount:   aws.Int32(0),
		Encrypted:        aws.Bool(false),
		RequestResponses: c.entries[:len(in.Records)],
	}, nil
}

// splitAll splits objects on splitWorkers goroutines, each with its own
// splitter from newSplitter, and puts their records into put in object
// order, handing the copies over with the release that gives their memory
// back once they are delivered (localfirehose's PutOwnedRecordBatchThen).
// It returns each object's result; the first error (a split's, naming the
// file under roots, or a put's) ends the run. finished is called as each
// object's split ends.
func splitAll(ctx context.Context, objects []object, roots map[string]string, newSplitter func(splitter.PutRecordBatchAPI) (*splitter.Handler, error),
	faults Faults, put func(context.Context, *awsfirehose.PutRecordBatchInput, func()) error,
	finished func(splitter.Result)) ([]splitter.Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queues := make([]objectQueue, len(objects))
	for i := range queues {
		queues[i] = make(objectQueue)
	}
	results := make([]splitter.Result, len(objects))
	var next atomic.Int64 // the next object to split
	var wg sync.WaitGroup
	defer wg.Wait()
	for range splitWorkers(len(objects)) {
		client := &queueClient{ctx: ctx, taken: make(chan struct{})}
		sp, err := newSplitter(client)
		if err != nil {
			cancel(err)
			return nil, err
		}
		// route is the route of the object being split: set for an object a
		// stage delivered, nil for the routing table to decide.
		var route *config.Route
		split := func(ctx context.Context, o splitter.Object) (splitter.Result, error) { return sp.Split(ctx, o, route) }
		if faults != nil {
			split = faults.Split(split) // retried as SQS redelivers
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objects) || ctx.Err() != nil {
					return
				}
				o := objects[i]
				client.q = queues[i]
				route = o.route
				res, err := split(ctx, splitter.Object{Bucket: o.bucket, Key: o.key, Size: o.size})
				close(queues[i])
				if err != nil {
					cancel(fmt.Errorf("localrun: %s: %w", filepath.Join(roots[o.bucket], o.key), err))
					return
				}
				results[i] = res
				finished(res)
			}
		}()
	}

	// The feeder: each object's calls in turn, in the objects' order. A
	// worker blocked on a full queue returns when ctx ends. Each call is
	// copied into the memory of calls already delivered: put releases it
	// once the call's records are.
	var copier localfirehose.Copier
	if most := documentPool(); most > 0 {
		copier.Large = &firehose.BufferPool{Most: most}
	}
	for _, q := range queues {
		for qp := range q {
			in, release := qp.take(&copier)
			if err := put(ctx, in, release); err != nil {
				cancel(fmt.Errorf("localrun: %w", err))
				break
			}
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
	}
	return results, nil
}
