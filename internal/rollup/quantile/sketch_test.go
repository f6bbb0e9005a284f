package quantile

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/DataDog/sketches-go/ddsketch"
	ddstore "github.com/DataDog/sketches-go/ddsketch/store"
)

// The bytes are sketches-go's for the same values added in the same order,
// whatever the distribution: buffered indexes, pages created left and right
// of others, compaction at every buffer size, zeros, negatives, values too
// small to index, and encoding again after more values.
func TestEncodeMatchesSketchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() float64{
		"uniform":     func() float64 { return r.Float64() * 10 },
		"integers":    func() float64 { return float64(r.IntN(1000)) },
		"exponential": func() float64 { return r.ExpFloat64() / 20 },
		"lognormal":   func() float64 { return math.Exp(r.NormFloat64()*4 - 3) },
		"wide":        func() float64 { return math.Pow(10, r.Float64()*600-300) },
		"signed":      func() float64 { return r.NormFloat64() * 100 },
		"zeros and negatives": func() float64 {
			if r.IntN(10) == 0 {
				return -1
			}
			return float64(r.IntN(100)) / 1000
		},
		"tiny": func() float64 { return (r.Float64() - 0.5) * 1e-307 },
		"descending": func() func() float64 {
			v := 1e12
			return func() float64 { v *= 0.97; return v }
		}(),
		"ascending": func() func() float64 {
			v := 1e-12
			return func() float64 { v *= 1.05; return v }
		}(),
	}
	for name, gen := range dists {
		for _, n := range []int{0, 1, 3, 31, 64, 65, 100, 1000, 20000} {
			ours, err := New(0.01)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := ddsketch.NewDefaultDDSketch(0.01)
			if err != nil {
				t.Fatal(err)
			}
			add := func(k int) {
				for range k {
					v := gen()
					errOurs, errTheirs := ours.Add(v), theirs.Add(v)
					if (errOurs == nil) != (errTheirs == nil) {
						t.Fatalf("%s: Add(%v): %v, sketches-go %v", name, v, errOurs, errTheirs)
					}
				}
			}
			compare := func(when string) {
				t.Helper()
				var want []byte
				theirs.Encode(&want, false)
				if got := ours.Encode([]byte("prefix")); !bytes.Equal(got[6:], want) || string(got[:6]) != "prefix" {
					t.Fatalf("%s, %d values, %s: encoded\n%x\nsketches-go\n%x", name, n, when, got, want)
				}
			}
			add(n)
			compare("first")
			add(n/2 + 1)
			compare("after more values")
		}
	}
}

// Values the mapping cannot index fail as in sketches-go.
func TestAddRefusesWhatSketchesGoRefuses(t *testing.T) {
	ours, _ := New(0.01)
	theirs, _ := ddsketch.NewDefaultDDSketch(0.01)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, 1e308, -1e308, 0, math.SmallestNonzeroFloat64} {
		errOurs, errTheirs := ours.Add(v), theirs.Add(v)
		if (errOurs == nil) != (errTheirs == nil) {
			t.Errorf("Add(%v): %v, sketches-go %v", v, errOurs, errTheirs)
		}
	}
	var want []byte
	theirs.Encode(&want, false)
	if got := ours.Encode(nil); !bytes.Equal(got, want) {
		t.Errorf("encoded %x, sketches-go %x", got, want)
	}
	for _, a := range []float64{0, 1, -0.5} {
		if _, err := New(a); err == nil {
			t.Errorf("New(%v): no error", a)
		}
	}
}

// What this package encodes, sketches-go decodes to the same quantiles as its own
// sketch of the same values.
func TestDecodesToSameQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ours, _ := New(0.01)
	theirs, _ := ddsketch.NewDefaultDDSketch(0.01)
	for range 50000 {
		v := math.Exp(r.NormFloat64()*2) - 1
		_ = ours.Add(v)
		_ = theirs.Add(v)
	}
	decoded, err := ddsketch.DecodeDDSketch(ours.Encode(nil), ddstore.DefaultProvider, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 1} {
		got, err1 := decoded.GetValueAtQuantile(q)
		want, err2 := theirs.GetValueAtQuantile(q)
		if got != want || err1 != nil || err2 != nil {
			t.Errorf("q%v: %v (%v), sketches-go %v (%v)", q, got, err1, want, err2)
		}
	}
}
