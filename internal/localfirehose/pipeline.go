package localfirehose

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/firehose"
)

// WithPipeline runs up to workers invocations of the processor at once,
// while the producers go on putting records: a full buffer is handed over
// instead of being processed by the call that filled it. Deliveries still
// happen one at a time, in the order the buffers were cut, so the output is
// the same whatever the scheduling: the same objects with the same names
// and contents for the same puts (with WithIDs and WithClock).
//
// Invocation ids are then derived from the stream, the batch's first
// record and the attempt (and, without WithIDs, a random salt) rather than
// drawn from the id generator, which only names objects; a retried
// invocation runs in delivery order. PutRecordBatch waits while workers
// batches are cut but not yet delivered, which bounds memory; a call made by
// the processor itself (the transform putting records back) never waits.
//
// Records the processor puts back do not join the stream's buffer when
// their call is made, which would place them among the producers' records
// by how far the producers had got: they wait with their batch and, once
// it is delivered, join a buffer of the stream's own for records put
// back, processed when it fills (by the buffer size hint) and at the end
// of the input. So they too reach the same objects whatever the
// scheduling, and the producers' batches stay the same.
func WithPipeline(workers int) Option {
	return func(e *Emulator) {
		e.pipe = &pipeline{workers: max(workers, 1)}
	}
}

// invocationKey marks the context of a processor invocation; its value is
// the *putBacks that holds the records the processor puts back.
type invocationKey struct{}

// putBacks are the records the processor put back during one batch's
// invocations, in the order it put them, until the batch is delivered.
type putBacks struct {
	mu   sync.Mutex // the processor may put from several goroutines
	recs []putBack
}

type putBack struct {
	s *stream
	b buffered // without its id, given when it joins s.back
}

// take returns the records held and holds none.
func (pb *putBacks) take() []putBack {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	recs := pb.recs
	pb.recs = nil
	return recs
}

// pipeline holds batches between the call that cuts them, the workers that
// invoke the processor and the one goroutine that delivers them in order.
type pipeline struct {
	workers int
	salt    [16]byte

	mu      sync.Mutex
	cond    sync.Cond
	queue   []*job // cut, waiting for a worker
	order   []*job // cut and not yet delivered, oldest first
	err     error  // the first delivery fault: later calls return it
	started bool
	stopped bool
	wg      sync.WaitGroup
}

// job is one batch on its way through the pipeline.
type job struct {
	ctx     context.Context // carries back (invocationKey)
	back    *putBacks
	s       *stream
	batch   []buffered
	resp    firehose.Response
	arena   *firehose.Arena // resp's data
	err     error
	invoked bool
}

func (p *pipeline) init(fixedIDs bool) {
	p.cond.L = &p.mu
	if !fixedIDs {
		_, _ = rand.Read(p.salt[:])
	}
}

// invocationID is a version 4 UUID derived from the batch and attempt:
// unique per invocation, and the same whatever the scheduling.
func (p *pipeline) invocationID(s *stream, batch []buffered, attempt int) string {
	h := sha256.New()
	h.Write(p.salt[:])
	fmt.Fprintf(h, "%s\x00%s\x00%d", s.name, batch[0].id, attempt)
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// submit hands a cut batch to the workers. It returns an earlier delivery
// fault, if any, so that the producer stops.
func (p *pipeline) submit(ctx context.Context, e *Emulator, s *stream, batch []buffered) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.stopped {
		return fmt.Errorf("localfirehose: put after the pipeline stopped: %w", context.Cause(ctx))
	}
	if !p.started {
		p.started = true
		p.wg.Add(p.workers + 1)
		for range p.workers {
			go p.work(e)
		}
		go p.deliver(e)
	}
	back := &putBacks{}
	j := &job{ctx: context.WithValue(ctx, invocationKey{}, back), back: back, s: s, batch: batch}
	p.queue = append(p.queue, j)
	p.order = append(p.order, j)
	p.cond.Broadcast()
	return nil
}

// work invokes the processor on queued batches.
func (p *pipeline) work(e *Emulator) {
	defer p.wg.Done()
	p.mu.Lock()
	for {
		for len(p.queue) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		ar := e.arena()
		resp, err := e.invoke(j.ctx, j.s, j.batch, 1, ar)
		p.mu.Lock()
		j.resp, j.arena, j.err, j.invoked = resp, ar, err, true
		p.cond.Broadcast()
	}
}

// deliver judges, retries and delivers batches in the order they were cut.
func (p *pipeline) deliver(e *Emulator) {
	defer p.wg.Done()
	p.mu.Lock()
	for {
		for (len(p.order) == 0 || !p.order[0].invoked) && !p.stopped {
			p.cond.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		j := p.order[0]
		p.mu.Unlock()
		err := e.finishBatch(j.ctx, j.s, j.batch, j.resp, j.err, j.arena)
		if err == nil {
			err = e.returnPutBacks(j.ctx, j.back)
		}
		p.mu.Lock()
		p.order[0] = nil
		p.order = p.order[1:]
		if err != nil && p.err == nil {
			p.err = err
		}
		p.cond.Broadcast()
	}
}

// waitRoom waits while workers batches are cut but not delivered: one per
// core, transformed or being delivered. One more would keep the cores no
// busier (the putting call needs one too) and would only hold more memory:
// on two cores, 200,000 listings took 27 garbage collections instead of 34,
// and 1.22 to 1.26 s of user CPU instead of 1.28 to 1.50.
func (p *pipeline) waitRoom() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.order) >= p.workers && p.err == nil && !p.stopped {
		p.cond.Wait()
	}
	return p.err
}

// drain waits until every cut batch is delivered.
func (p *pipeline) drain() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.order) > 0 && p.err == nil && !p.stopped {
		p.cond.Wait()
	}
	return p.err
}

// stop ends the workers; batches not yet delivered are abandoned.
func (p *pipeline) stop() {
	p.mu.Lock()
	p.stopped = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// Stop ends a pipelined emulator's workers without delivering what is
// left, after a fault, and discards what the destination buffers hold;
// Close stops the workers too, once everything is delivered.
func (e *Emulator) Stop() {
	if e.pipe != nil {
		e.pipe.stop()
	}
	e.abandonDestinations()
}

// returnPutBacks adds the records put back during a delivered batch to
// their streams' put-back buffers, in the order they were put, and
// processes each buffer that fills, at once, on the delivering goroutine:
// they join the output at the same place whatever the scheduling. Records
// put back while those are processed follow.
func (e *Emulator) returnPutBacks(ctx context.Context, pb *putBacks) error {
	for recs := pb.take(); len(recs) > 0; recs = pb.take() {
		for _, r := range recs {
			s := r.s
			reqSize := base64Len(len(r.b.data)) + eventOverhead
			s.mu.Lock()
			if len(s.back) > 0 && s.backReq+reqSize > MaxInvocationBytes {
				batch := s.cutBack()
				s.mu.Unlock()
				if err := e.processBack(ctx, s, batch, pb); err != nil {
					return err
				}
				s.mu.Lock()
			}
			if len(s.back) == 0 {
				s.backReq = 512 // the event's own fields
			}
			s.backSeq++
			var id strings.Builder
			appendRecordID(&id, putBackSeq+s.backSeq)
			r.b.id = id.String()
			s.back = append(s.back, r.b)
			s.backBytes += len(r.b.data)
			s.backReq += reqSize
			var batch []buffered
			if s.backBytes >= s.sizeHint {
				batch = s.cutBack()
			}
			s.mu.Unlock()
			if batch != nil {
				if err := e.processBack(ctx, s, batch, pb); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// putBackSeq numbers the records put back apart from the producers' (from
// 2^63), so that neither takes numbers from the other.
const putBackSeq = 1 << 63

// cutBack takes s's put-back buffer; s.mu is held.
func (s *stream) cutBack() []buffered {
	batch := s.back
	s.back, s.backBytes, s.backReq = nil, 0, 0
	return batch
}

// processBack processes a batch of records put back, on the calling
// goroutine; the records its invocations put back go to pb.
func (e *Emulator) processBack(ctx context.Context, s *stream, batch []buffered, pb *putBacks) error {
	return e.processBatch(context.WithValue(ctx, invocationKey{}, pb), s, batch)
}

// flushBack processes every stream's put-back buffer and what is put back
// meanwhile, once the pipeline is empty (Drain).
func (e *Emulator) flushBack(ctx context.Context) error {
	for _, name := range e.names {
		s := e.streams[name]
		s.mu.Lock()
		batch := s.cutBack()
		s.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		pb := &putBacks{}
		if err := e.processBack(ctx, s, batch, pb); err != nil {
			return err
		}
		if err := e.returnPutBacks(ctx, pb); err != nil {
			return err
		}
	}
	return nil
}
