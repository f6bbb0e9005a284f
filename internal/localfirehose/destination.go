package localfirehose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// destination is a stream's S3 destination buffer: the Ok records of its
// delivered batches, in delivery order, on their way into one object.
// Firehose writes the object when the buffer holds SizeInMBs or its
// oldest record is IntervalInSeconds old, whichever comes first, and
// names it (prefix and object name) after that oldest record's arrival,
// so records of a later hour may share an earlier hour's object. Only a
// prefix that is the same for every record of a batch (no partition keys,
// no random string) is buffered: those objects are written per batch, as
// are error records.
type destination struct {
	mu     sync.Mutex // guards everything below
	part   Part       // nil while empty
	oldest time.Time
	bytes  int
}

// memoryPart is an object for a Writer that is not an Appender, held in
// memory until it is committed.
type memoryPart struct {
	e   *Emulator
	buf *bytes.Buffer
}

func (p *memoryPart) Write(b []byte) error {
	p.buf.Write(b)
	return nil
}

// Commit gives the object to the Writer, and its memory back for reuse
// (a Writer keeps no bytes it is given).
func (p *memoryPart) Commit(ctx context.Context, key string) error {
	err := p.e.out.WriteObject(ctx, key, p.buf.Bytes())
	p.e.keepBody(p.buf)
	return err
}

func (p *memoryPart) Abort() { p.e.keepBody(p.buf) }

// begin starts an object for a destination buffer.
func (e *Emulator) begin(ctx context.Context) (Part, error) {
	if a, ok := e.out.(Appender); ok {
		return a.Begin(ctx)
	}
	return &memoryPart{e: e, buf: e.body()}, nil
}

// due reports whether the buffer's oldest record is interval old at now.
func (d *destination) due(now time.Time, interval time.Duration) bool {
	return d.part != nil && !now.Before(d.oldest.Add(interval))
}

// toDestination adds a delivered batch's Ok records (body, the oldest of
// them arrived at oldest) to the stream's destination buffer, and writes
// the buffer's object when it is full or due.
func (e *Emulator) toDestination(ctx context.Context, s *stream, body []byte, oldest time.Time) error {
	d := &s.dest
	d.mu.Lock()
	defer d.mu.Unlock()
	now := e.now()
	if d.due(now, s.destInterval) {
		if err := e.commitLocked(ctx, s); err != nil {
			return err
		}
	}
	if d.part == nil {
		p, err := e.begin(ctx)
		if err != nil {
			return fmt.Errorf("localfirehose: stream %s: %w", s.name, err)
		}
		d.part, d.oldest, d.bytes = p, oldest, 0
	}
	if err := d.part.Write(body); err != nil {
		d.part.Abort()
		d.part = nil
		return fmt.Errorf("localfirehose: stream %s: %w", s.name, err)
	}
	d.bytes += len(body)
	if oldest.Before(d.oldest) {
		d.oldest = oldest
	}
	if d.bytes >= s.destSize || d.due(now, s.destInterval) {
		return e.commitLocked(ctx, s)
	}
	return nil
}

// commitLocked writes the stream's destination buffer as one object. It
// is called with s.dest.mu held.
func (e *Emulator) commitLocked(ctx context.Context, s *stream) error {
	d := &s.dest
	if d.part == nil {
		return nil
	}
	p, n := d.part, d.bytes
	d.part, d.bytes = nil, 0
	pfx, _ := s.prefix.eval(d.oldest, nil, nil)
	key := pfx + objectName(s.name, d.oldest, e.newID())
	if err := p.Commit(ctx, key); err != nil {
		return fmt.Errorf("localfirehose: stream %s: write %s: %w", s.name, key, err)
	}
	s.mu.Lock()
	s.stats.Files++
	s.stats.BytesOut += int64(n)
	s.mu.Unlock()
	return nil
}

// commitDue writes every destination buffer whose interval has passed at
// now, or every one when all is set (the end of the input).
func (e *Emulator) commitDue(ctx context.Context, now time.Time, all bool) error {
	var errs []error
	for _, name := range e.names {
		s := e.streams[name]
		s.dest.mu.Lock()
		if all || s.dest.due(now, s.destInterval) {
			if err := e.commitLocked(ctx, s); err != nil {
				errs = append(errs, err)
			}
		}
		s.dest.mu.Unlock()
	}
	return errors.Join(errs...)
}

// abandonDestinations discards what the destination buffers hold (a run
// stopped before its end).
func (e *Emulator) abandonDestinations() {
	for _, name := range e.names {
		s := e.streams[name]
		s.dest.mu.Lock()
		if s.dest.part != nil {
			s.dest.part.Abort()
			s.dest.part = nil
		}
		s.dest.mu.Unlock()
	}
}
