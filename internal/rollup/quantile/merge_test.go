package quantile

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/DataDog/sketches-go/ddsketch"
	enc "github.com/DataDog/sketches-go/ddsketch/encoding"
	ddmapping "github.com/DataDog/sketches-go/ddsketch/mapping"
	ddstore "github.com/DataDog/sketches-go/ddsketch/store"
)

var qs = []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1}

// sameQuantiles fails unless ours and sketches-go's sketch report the very
// same value (or both none) at every quantile.
func sameQuantiles(t *testing.T, what string, ours *Sketch, theirs *ddsketch.DDSketch) {
	t.Helper()
	for _, q := range qs {
		got, err1 := ours.Quantile(q)
		want, err2 := theirs.GetValueAtQuantile(q)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && got != want) {
			t.Fatalf("%s: q%v = %v (%v), sketches-go %v (%v)", what, q, got, err1, want, err2)
		}
	}
}

// Merging partials, whichever store wrote them and with any counts, gives
// the quantiles sketches-go gives for the same merge (as rollup query did
// with sketches-go: DecodeDDSketch, then MergeWith into a default sketch).
func TestMergeMatchesSketchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	gens := []func() float64{
		func() float64 { return r.Float64() * 10 },
		func() float64 { return math.Exp(r.NormFloat64()*3) - 2 },
		func() float64 { return float64(r.IntN(50)) - 10 },
		func() float64 { return r.ExpFloat64() / 20 },
	}
	m, _ := ddmapping.NewLogarithmicMapping(0.01)
	stores := map[string]func() *ddsketch.DDSketch{
		"default": func() *ddsketch.DDSketch { dd, _ := ddsketch.NewDefaultDDSketch(0.01); return dd },
		"dense": func() *ddsketch.DDSketch {
			return ddsketch.NewDDSketch(m, ddstore.NewDenseStore(), ddstore.NewDenseStore())
		},
		"sparse": func() *ddsketch.DDSketch {
			return ddsketch.NewDDSketch(m, ddstore.NewSparseStore(), ddstore.NewSparseStore())
		},
		"paginated": func() *ddsketch.DDSketch { return ddsketch.NewDDSketchFromStoreProvider(m, ddstore.DefaultProvider) },
	}
	for name, newPart := range stores {
		for gi, gen := range gens {
			ours, _ := New(0.01)
			theirs, _ := ddsketch.NewDefaultDDSketch(0.01)
			sameQuantiles(t, "empty", ours, theirs)
			for part := range 6 {
				p := newPart()
				for i := range part * part * 300 {
					v := gen()
					if i%7 == 0 {
						_ = p.AddWithCount(v, float64(1+r.IntN(5)))
					} else {
						_ = p.Add(v)
					}
				}
				var b []byte
				p.Encode(&b, false)
				if err := ours.Merge(b); err != nil {
					t.Fatalf("%s %d: %v", name, gi, err)
				}
				dec, err := ddsketch.DecodeDDSketch(b, ddstore.DefaultProvider, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := theirs.MergeWith(dec); err != nil {
					t.Fatal(err)
				}
				sameQuantiles(t, name, ours, theirs)
			}
			// What ours encodes after merging, sketches-go reads back to
			// the same quantiles.
			back, err := ddsketch.DecodeDDSketch(ours.Encode(nil), ddstore.DefaultProvider, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameQuantiles(t, name+" re-encoded", ours, back)
		}
	}
}

// A sketch that cannot be read, or of another accuracy, is an error and
// leaves the merge as it was.
func TestMergeRefusesAndKeeps(t *testing.T) {
	ours, _ := New(0.01)
	theirs, _ := ddsketch.NewDefaultDDSketch(0.01)
	for i := range 1000 {
		_ = ours.Add(float64(i))
		_ = theirs.Add(float64(i))
	}
	var good []byte
	theirs.Encode(&good, false)
	coarse, _ := ddsketch.NewDefaultDDSketch(0.02)
	_ = coarse.Add(5)
	var other []byte
	coarse.Encode(&other, false)
	linear, _ := ddmapping.NewLinearlyInterpolatedMapping(0.01)
	lin := ddsketch.NewDDSketch(linear, ddstore.NewDenseStore(), ddstore.NewDenseStore())
	_ = lin.Add(5)
	var linb []byte
	lin.Encode(&linb, false)
	bins := func(index int64, count float64) []byte {
		var b []byte
		enc.EncodeFlag(&b, enc.NewFlag(enc.FlagTypePositiveStore, enc.BinEncodingIndexDeltasAndCounts))
		enc.EncodeUvarint64(&b, 1)
		enc.EncodeVarint64(&b, index)
		enc.EncodeVarfloat64(&b, count)
		return b
	}
	if err := ours.Merge(bins(0, 0)); err != nil { // the bins helper is right
		t.Fatal(err)
	}
	laxer := map[string]bool{"truncated": true, "far index": true, "negative count": true, "NaN count": true}
	for name, b := range map[string][]byte{
		"far index":       bins(1<<40, 2),
		"negative count":  bins(100, -1),
		"NaN count":       bins(100, math.NaN()),
		"truncated":       good[:len(good)-3],
		"unknown flag":    append(append([]byte{}, good...), 0xfc),
		"other accuracy":  other,
		"linear mapping":  linb,
		"unknown binning": {0x01 | 0x3c, 1, 2},
	} {
		if err := ours.Merge(b); err == nil {
			t.Errorf("%s: no error", name)
		}
		// sketches-go refuses these as well, but for a truncated store,
		// whose error it drops, keeping the bins read before it, and for
		// bins Add cannot make (it would add a far index's pages).
		if _, err := ddsketch.DecodeDDSketch(b, ddstore.DefaultProvider, m001()); err == nil && !laxer[name] {
			t.Errorf("%s: sketches-go decodes it", name)
		}
	}
	sameQuantiles(t, "after refusals", ours, theirs)
	if _, err := ours.Quantile(1.5); err == nil {
		t.Error("quantile 1.5: no error")
	}
}

func m001() ddmapping.IndexMapping {
	m, _ := ddmapping.NewLogarithmicMapping(0.01)
	return m
}
