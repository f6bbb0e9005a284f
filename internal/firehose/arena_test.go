package firehose

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

func TestArenaCopiesAndReuses(t *testing.T) {
	var a Arena
	var got [][]byte
	var want []string
	for i := range 3000 {
		b := []byte(fmt.Sprintf("document %d %s", i, bytes.Repeat([]byte{'x'}, i%97)))
		c := a.Copy(b)
		if cap(c) != len(c) {
			t.Fatalf("copy %d has room after it (len %d cap %d)", i, len(c), cap(c))
		}
		got, want = append(got, c), append(want, string(b))
	}
	big := bytes.Repeat([]byte("y"), 3*arenaChunk)
	for _, b := range [][]byte{big, big[:arenaChunk/4], big[:arenaChunk+5]} {
		if c := a.Copy(b); !bytes.Equal(c, b) || cap(c) != len(c) {
			t.Fatalf("a copy of %d bytes, a quarter chunk or more, differs or has room after it (cap %d)", len(b), cap(c))
		}
	}
	for i := range got {
		if string(got[i]) != want[i] {
			t.Fatalf("copy %d = %q, want %q: a later copy wrote over it", i, got[i], want[i])
		}
	}
	chunks := len(a.chunks)
	a.Reset()
	for i := range 3000 {
		a.Copy([]byte(want[i]))
	}
	a.Copy(big)
	if len(a.chunks) != chunks || chunks > arenaKept {
		t.Fatalf("after Reset the same copies took %d chunks, want the %d kept", len(a.chunks), chunks)
	}
	for range 200 * arenaChunk / 1000 {
		a.Copy(make([]byte, 1000))
	}
	a.Reset()
	if len(a.chunks) > arenaKept {
		t.Fatalf("an arena keeps %d chunks after Reset, more than %d", len(a.chunks), arenaKept)
	}
}

func TestArenaFromContext(t *testing.T) {
	if ArenaFrom(context.Background()) != nil {
		t.Fatal("a context without an arena gave one")
	}
	a := new(Arena)
	if ArenaFrom(WithArena(context.Background(), a)) != a {
		t.Fatal("the arena given is not the one returned")
	}
}

// TestArenaSwapPassesBuffersOn: a buffer given with Swap is the arena's
// (Holds) until Reset, then goes to the pool, which gives its largest
// buffer to the next Swap, and keeps no more than Most bytes.
func TestArenaSwapPassesBuffersOn(t *testing.T) {
	pool := &BufferPool{Most: 3 << 20}
	a := &Arena{Pool: pool}
	big := append(make([]byte, 0, 2<<20), "documents of a packed record"...)
	small := append(make([]byte, 0, 1<<20), "more documents"...)
	other := []byte("documents elsewhere")
	if next := a.Swap(big); next != nil {
		t.Fatal("an empty pool gave a buffer")
	}
	if next := a.Swap(small); next != nil {
		t.Fatal("the pool gave a buffer before the arena was reset")
	}
	if !a.Holds(big[10:20]) || !a.Holds(small) || a.Holds(other) || a.Holds(big[:cap(big)][20:40]) {
		t.Fatal("Holds answers wrong: want the given buffers' documents, not other memory nor beyond their length")
	}
	a.Reset()
	if a.Holds(big) {
		t.Fatal("after Reset the arena still holds a given buffer")
	}
	// Both kept (3 MiB), the largest given first, emptied.
	if next := pool.TakeLargest(); cap(next) != 2<<20 || len(next) != 0 {
		t.Fatalf("the pool gave %d bytes (len %d) first, want the 2 MiB buffer, empty", cap(next), len(next))
	}
	if next := pool.TakeLargest(); cap(next) != 1<<20 {
		t.Fatalf("then %d bytes, want the 1 MiB buffer", cap(next))
	}
	if pool.TakeLargest() != nil {
		t.Fatal("an empty pool gave a buffer")
	}
	// Over Most, a buffer is let go.
	pool.Keep(make([]byte, 0, 2<<20))
	pool.Keep(make([]byte, 0, 2<<20))
	if pool.bytes != 2<<20 || len(pool.free) != 1 {
		t.Fatalf("the pool keeps %d bytes in %d buffers, want one of 2 MiB under its 3 MiB", pool.bytes, len(pool.free))
	}
}

// Records gives a batch's response the memory of the last batch's, once
// per Reset (a retried invocation's response gets memory of its own, as
// the first one's may still be read), and Reset drops what the records
// referred to.
func TestArenaRecordsReused(t *testing.T) {
	var a Arena
	first := a.Records(3)
	first = append(first, ResponseRecord{RecordID: "a", Data: a.Copy([]byte("doc"))}, ResponseRecord{RecordID: "b"})
	retry := a.Records(3)
	if cap(retry) < 3 || len(retry) != 0 || &retry[:1][0] == &first[0] {
		t.Fatal("a second response before the Reset shares the first one's memory")
	}
	a.Reset()
	if first[0].RecordID != "" || first[0].Data != nil {
		t.Fatalf("Reset kept %+v: the records' ids and data stay reachable", first[0])
	}
	next := a.Records(2)
	if len(next) != 0 || &next[:1][0] != &first[0] {
		t.Fatal("the next batch's response does not reuse the last one's memory")
	}
	a.Reset()
	if bigger := a.Records(10); cap(bigger) < 10 || len(bigger) != 0 {
		t.Fatalf("Records(10) has room for %d", cap(bigger))
	}
}
