package localrun

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/splitter"
)

// How a run uses the cores: split several objects at once, transform
// while splitting, deliver while transforming. The Firehose emulator sees
// the same puts in the same order whatever the scheduling, so the output
// is the same files with the same contents on one core or many:
//
//   - workers split objects, taken in order, each into its own queue of
//     PutRecordBatch calls (at most queueDepth waiting per object);
//   - one feeder puts the queues into the emulator object by object, in
//     the objects' order;
//   - the emulator (WithPipeline) invokes the transform on several cut
//     buffers at once and delivers them in the order they were cut.
//
// Memory stays bounded: at most splitWorkers objects are split at once,
// each a batch or two ahead of the feeder, and the emulator holds at most
// as many batches between cutting and delivery as there are cores.

// queueDepth is how many PutRecordBatch calls an object may have waiting.
const queueDepth = 0

// maxSplitWorkers bounds the objects split at once (and so the batches
// waiting), however many cores there are.
const maxSplitWorkers = 8

// cores is the run's parallelism: the transform's invocations at once.
func cores() int { return runtime.GOMAXPROCS(0) }

// splitWorkers is how many objects are split at once: half the cores,
// rounded up. Splitting takes about a ninth of a run's CPU, so one
// splitter keeps two transform workers busy, and each splitter more holds
// its producer's batch and a queued copy of it (4 MiB each with packed
// records): on two cores, one splitter instead of two ran 1 GiB of packed
// listings in 17 s instead of 24 s, peaking at 59 MiB instead of 65 MiB.
func splitWorkers(objects int) int { return max(1, min((cores()+1)/2, objects, maxSplitWorkers)) }

// objectQueue is one object's PutRecordBatch calls, in order.
type objectQueue chan *awsfirehose.PutRecordBatchInput

// queueClient is the Firehose client a split worker's sink puts into: it
// copies each call into the current object's queue and answers at once
// that every record was accepted (the emulator refuses nothing that a
// splitter's producer sends; a delivery fault ends the run).
type queueClient struct {
	q   objectQueue
	ctx context.Context // the run's: its end unblocks a full queue
}

func (c *queueClient) PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, _ ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	// The producer reuses its buffers when the call returns: keep a copy.
	cp := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: in.DeliveryStreamName, Records: localfirehose.CopyRecords(in.Records)}
	select {
	case c.q <- cp:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, context.Cause(c.ctx)
	}
	return &awsfirehose.PutRecordBatchOutput{
		FailedPutCount:   aws.Int32(0),
		Encrypted:        aws.Bool(false),
		RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records)),
	}, nil
}

// splitAll splits objects on splitWorkers goroutines, each with its own
// splitter from newSplitter, and puts their records into put in object
// order, handing the queued copies over (put may keep them). It returns each object's result; the first error (a split's,
// naming the file under roots, or a put's) ends the run. finished is called
// as each object's split ends.
func splitAll(ctx context.Context, objects []object, roots map[string]string, newSplitter func(splitter.PutRecordBatchAPI) (*splitter.Handler, error),
	faults Faults, put func(context.Context, *awsfirehose.PutRecordBatchInput) (*awsfirehose.PutRecordBatchOutput, error),
	finished func(splitter.Result)) ([]splitter.Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queues := make([]objectQueue, len(objects))
	for i := range queues {
		queues[i] = make(objectQueue, queueDepth)
	}
	results := make([]splitter.Result, len(objects))
	var next atomic.Int64 // the next object to split
	var wg sync.WaitGroup
	defer wg.Wait()
	for range splitWorkers(len(objects)) {
		client := &queueClient{ctx: ctx}
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
	// worker blocked on a full queue returns when ctx ends.
	for _, q := range queues {
		for in := range q {
			if _, err := put(ctx, in); err != nil {
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
