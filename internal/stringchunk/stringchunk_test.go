package stringchunk

import (
	"testing"
)

// TestCopiesKeepTheirText: each copy reads what its source read when
// copied, after the source's memory is written over, across many chunks,
// long and empty strings included, and whatever the chunk size.
func TestCopiesKeepTheirText(t *testing.T) {
	for _, size := range []int{0, 64, 32 << 10} {
		c := Chunks{Size: size}
		src := make([]byte, 2*DefaultSize+1000)
		var copies, want []string
		for i := range 500 {
			n := (i * 37) % (DefaultSize / 4)
			if i%50 == 0 {
				n = DefaultSize + i // longer than a chunk's share
			}
			for j := range n {
				src[j] = byte('a' + (i+j)%26)
			}
			want = append(want, string(src[:n]))
			if i%2 == 0 {
				copies = append(copies, c.Bytes(src[:n]))
			} else {
				copies = append(copies, c.String(string(src[:n])))
			}
		}
		for j := range src {
			src[j] = '!'
		}
		for i := range copies {
			if copies[i] != want[i] {
				t.Fatalf("size %d: copy %d reads %.20q…, want %.20q…", size, i, copies[i], want[i])
			}
		}
	}
}

// TestOneAllocationForManyStrings: short strings share a chunk.
func TestOneAllocationForManyStrings(t *testing.T) {
	var c Chunks
	id := []byte("49546986683135544286507457936321625675700788-0000")
	allocs := testing.AllocsPerRun(100, func() {
		for range 60 {
			c.Bytes(id)
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocations for 60 short strings, want at most one chunk", allocs)
	}
}
