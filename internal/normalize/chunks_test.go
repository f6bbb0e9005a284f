package normalize

import (
	"testing"

	"github.com/sluicehq/sluice/schema"
)

// Slices handed out between rewinds never overlap and are always zero, and
// after a rewind the same memory is handed out again, with nothing of what
// it held before.
func TestChunksReuseAfterRewind(t *testing.T) {
	var c chunks[schema.Value]
	first := map[*schema.Value]bool{}
	for round := range 3 {
		seen := map[*schema.Value]bool{}
		for i := range 3000 {
			n := 1 + i%40
			if i == 1500 {
				n = 5000 // larger than a chunk
			}
			out := c.take(n, 4096)
			if len(out) != n || cap(out) != n {
				t.Fatalf("take(%d): len %d cap %d", n, len(out), cap(out))
			}
			for j := range out {
				v := &out[j]
				if seen[v] {
					t.Fatalf("round %d: a Value handed out twice before a rewind", round)
				}
				seen[v] = true
				if v.Kind != 0 || v.Str != "" || v.Items != nil {
					t.Fatalf("round %d: a Value handed out holds %+v", round, *v)
				}
				*v = schema.Value{Kind: schema.String, Str: "old", Items: []schema.Value{{}}}
			}
			if round == 0 {
				for j := range out {
					first[&out[j]] = true
				}
			}
		}
		if round > 0 {
			reused := 0
			for v := range seen {
				if first[v] {
					reused++
				}
			}
			if reused < len(seen)/2 {
				t.Fatalf("round %d reused %d of %d Values", round, reused, len(seen))
			}
		}
		c.rewind()
	}
}
