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

// arenaChunk is the size of an arena's chunks; larger data has its own.
const arenaChunk = 64 << 10

// Copy returns a copy of b in the arena's memory, with no room after it.
func (a *Arena) Copy(b []byte) []byte {
	for ; a.cur < len(a.chunks); a.cur++ {
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= len(b) {
			start := len(c)
			c = append(c, b...)
			a.chunks[a.cur] = c
			return c[start:len(c):len(c)]
		}
	}
	c := append(make([]byte, 0, max(arenaChunk, len(b))), b...)
	a.chunks = append(a.chunks, c)
	a.cur = len(a.chunks) - 1
	return c[:len(c):len(c)]
}

// Reset makes the arena's memory free for the next batch: every slice Copy
// returned is overwritten by later copies.
func (a *Arena) Reset() {
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
