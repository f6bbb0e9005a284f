package firehose

import (
	"context"
	"sync"
	"unsafe"
)

// Arena is memory for the record data of one batch's responses, for a
// caller that invokes a processor in process and delivers what it answers
// (the local Firehose): the processor copies its documents into the
// arena, and the caller resets it once the batch is delivered, so the
// next batch reuses the memory instead of allocating its own. Nothing may
// keep a response's data after the Reset. The zero Arena is ready to use;
// it is not safe for concurrent use.
type Arena struct {
	chunks [][]byte
	cur    int // the chunk being filled

	// Pool, when set, takes the buffers given with Swap once the arena is
	// Reset, and gives them out again from Swap: arenas sharing one pass
	// large documents' memory from a delivered batch to the next.
	Pool  *BufferPool
	given [][]byte // the buffers given with Swap since the last Reset

	// records is the memory Records gives out, kept across Reset;
	// recordsOut marks it given since the last Reset.
	records    []ResponseRecord
	recordsOut bool
}

// Records returns an empty slice with room for n response records, for
// the batch's response: the arena's own memory, kept from the last batch,
// the first time after a Reset; new memory after that (a retried
// invocation's). Like the data, nothing may keep it after the Reset.
func (a *Arena) Records(n int) []ResponseRecord {
	if a.recordsOut {
		return make([]ResponseRecord, 0, n)
	}
	a.recordsOut = true
	if cap(a.records) < n {
		a.records = make([]ResponseRecord, 0, n)
	}
	return a.records[:0]
}

// arenaChunk is the size of an arena's chunks. Data of a quarter chunk or
// more (a packed record's documents, up to 1,000 KiB) gets memory of its
// own, which the arena does not keep: chunks of one size are reused
// whatever the sizes of the next batch's records.
const arenaChunk = 64 << 10

// arenaKept bounds the chunks an arena keeps from one batch to the next.
const arenaKept = 128

// SwapBytes is the size from which documents are better given to an
// arena with Swap than copied with Copy.
const SwapBytes = arenaChunk / 4

// Copy returns a copy of b in the arena's memory, with no room after it.
func (a *Arena) Copy(b []byte) []byte {
	if len(b) >= arenaChunk/4 {
		// Appended to nil, not to make's memory: make would zero it all
		// first, and a packed record's documents are up to 1,000 KiB.
		c := append([]byte(nil), b...)
		return c[:len(c):len(c)]
	}
	if a.cur < len(a.chunks) && cap(a.chunks[a.cur])-len(a.chunks[a.cur]) < len(b) {
		a.cur++ // the rest of this chunk is too small: the next
	}
	if a.cur == len(a.chunks) {
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
	}
	c := a.chunks[a.cur]
	start := len(c)
	c = append(c, b...)
	a.chunks[a.cur] = c
	return c[start:len(c):len(c)]
}

// Swap takes buf, a buffer of documents its caller gives up, as response
// memory without a copy (Holds reports what lies in it): nothing writes to
// it until Reset. It returns an empty buffer from the pool for the
// caller's next documents (the largest it keeps), or nil when it has none.
func (a *Arena) Swap(buf []byte) (next []byte) {
	a.given = append(a.given, buf)
	if a.Pool != nil {
		next = a.Pool.TakeLargest()
	}
	return next
}

// Holds reports whether b lies in a buffer given with Swap since the last
// Reset: memory the arena has already, which b needs no copy into (the
// buffer given last is looked at first).
func (a *Arena) Holds(b []byte) bool {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for i := len(a.given) - 1; i >= 0; i-- {
		g := a.given[i]
		start := uintptr(unsafe.Pointer(unsafe.SliceData(g)))
		if p >= start && p+uintptr(len(b)) <= start+uintptr(len(g)) {
			return true
		}
	}
	return false
}

// Reset makes the arena's memory free for the next batch: every slice Copy
// returned is overwritten by later copies, and the buffers given with Swap
// go to the pool.
func (a *Arena) Reset() {
	for i, b := range a.given {
		if a.Pool != nil {
			a.Pool.Keep(b)
		}
		a.given[i] = nil
	}
	a.given = a.given[:0]
	if len(a.chunks) > arenaKept {
		clear(a.chunks[arenaKept:])
		a.chunks = a.chunks[:arenaKept]
	}
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
	clear(a.records[:cap(a.records)]) // the ids and data they held
	a.recordsOut = false
}

// BufferPool keeps buffers for reuse, up to Most bytes of them; it is safe
// for concurrent use. Unlike a sync.Pool, a garbage collection does not
// empty it; and unlike memory in use, what it keeps idle still counts as
// live against a soft memory limit, which is what Most is for.
type BufferPool struct {
	Most int

	mu    sync.Mutex
	free  [][]byte
	bytes int
}

// TakeLargest returns the largest kept buffer, emptied, or nil.
func (p *BufferPool) TakeLargest() []byte {
	return p.take(func(b, best []byte) bool { return cap(b) > cap(best) }, 0)
}

// TakeFit returns the smallest kept buffer of at least size bytes'
// capacity, emptied, or nil.
func (p *BufferPool) TakeFit(size int) []byte {
	return p.take(func(b, best []byte) bool { return cap(b) < cap(best) }, size)
}

// take removes and returns the kept buffer of at least size bytes that
// better puts first, emptied, or nil.
func (p *BufferPool) take(better func(b, best []byte) bool, size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := -1
	for i, b := range p.free {
		if cap(b) >= size && (at < 0 || better(b, p.free[at])) {
			at = i
		}
	}
	if at < 0 {
		return nil
	}
	b := p.free[at]
	last := len(p.free) - 1
	p.free[at], p.free[last] = p.free[last], nil
	p.free = p.free[:last]
	p.bytes -= cap(b)
	return b[:0]
}

// Keep keeps b when that keeps the pool within Most bytes.
func (p *BufferPool) Keep(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+cap(b) <= p.Most {
		p.free = append(p.free, b)
		p.bytes += cap(b)
	}
}

type arenaKey struct{}

// WithArena returns ctx carrying a, for the processor to copy its
// response's data into.
func WithArena(ctx context.Context, a *Arena) context.Context {
	return context.WithValue(ctx, arenaKey{}, a)
}

// ArenaFrom returns the arena ctx carries, or nil.
func ArenaFrom(ctx context.Context) *Arena {
	a, _ := ctx.Value(arenaKey{}).(*Arena)
	return a
}
