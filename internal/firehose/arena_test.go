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
