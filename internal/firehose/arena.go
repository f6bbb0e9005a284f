package firehose

import "context"

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
}

// arenaChunk is the size of an arena's chunks. Data of a quarter chunk or
// more (a packed record's documents, up to 1,000 KiB) gets memory of its
// own, which the arena does not keep: chunks of one size are reused
// whatever the sizes of the next batch's records.
const arenaChunk = 64 << 10

// arenaKept bounds the chunks an arena keeps from one batch to the next.
const arenaKept = 128

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

// Reset makes the arena's memory free for the next batch: every slice Copy
// returned is overwritten by later copies.
func (a *Arena) Reset() {
	if len(a.chunks) > arenaKept {
		clear(a.chunks[arenaKept:])
		a.chunks = a.chunks[:arenaKept]
	}
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
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
