package schema

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkAppendFloat writes doubles as AppendJSON does: the prices and
// ratings of scraped listings, and doubles of full precision (computed
// values such as averages and conversions).
func BenchmarkAppendFloat(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	computed := make([]float64, 16)
	for i := range computed {
		computed[i] = r.Float64() * math.Pow(10, float64(r.IntN(8)))
	}
	for _, c := range []struct {
		name   string
		values []float64
	}{
		{"listings", []float64{1299, 845, 12.5, 99, 4.1, 1050, 4.5, 3, 0.99, 19.95, 250000, 3.75}},
		{"computed", computed},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf = buf[:0]
				for _, f := range c.values {
					buf = appendFloat(buf, f, Double)
				}
			}
		})
	}
}
