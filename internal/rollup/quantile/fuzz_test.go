package quantile

import (
	"testing"

	"github.com/DataDog/sketches-go/ddsketch"
	ddstore "github.com/DataDog/sketches-go/ddsketch/store"
)

// FuzzMerge reads any bytes as a partial's sketch: it never panics, a
// refused sketch changes nothing, and what it accepts sketches-go accepts
// too. (Equal quantiles are TestMergeMatchesSketchesGo's: with fractional
// counts the two add them in another order.)
func FuzzMerge(f *testing.F) {
	for _, vals := range [][]float64{nil, {0}, {1, 2, 3}, {-1, 0, 5e-3, 7e9}} {
		s, _ := New(0.01)
		for _, v := range vals {
			_ = s.Add(v)
		}
		f.Add(s.Encode(nil))
	}
	f.Add([]byte{0x02})
	f.Add([]byte{0x0d, 0x02, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, _ := New(0.01)
		_ = ours.Add(3)
		before, _ := ours.Quantile(0.5)
		theirs, _ := ddsketch.NewDefaultDDSketch(0.01)
		_ = theirs.Add(3)
		if err := ours.Merge(b); err != nil {
			if got, _ := ours.Quantile(0.5); got != before {
				t.Fatalf("refused (%v) but changed: median %v, was %v", err, got, before)
			}
			return
		}
		dec, err := ddsketch.DecodeDDSketch(b, ddstore.DefaultProvider, m001())
		if err != nil {
			t.Fatalf("accepted, sketches-go refuses: %v", err)
		}
		if err := theirs.MergeWith(dec); err != nil {
			t.Fatalf("accepted, sketches-go refuses to merge: %v", err)
		}
	})
}
