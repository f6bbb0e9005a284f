package schema

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// shortDecimal reports whether f is a double appendShortDouble must write
// itself: 1e-6 <= |f| < 1e15 and at most 15 significant digits in its
// shortest decimal.
func shortDecimal(f float64) bool {
	abs := math.Abs(f)
	if !(abs >= 1e-6 && abs < 1e15) {
		return false
	}
	mant, _, _ := strings.Cut(strconv.FormatFloat(abs, 'e', -1, 64), "e")
	return len(strings.Replace(mant, ".", "", 1)) <= 15
}

// checkAppendFloat holds appendFloat to the reference for f as a double
// and as a float, and appendShortDouble to writing exactly the short
// decimals; the two neighbouring doubles are checked too, as they are
// what the fast path must turn down.
func checkAppendFloat(t *testing.T, f float64) {
	t.Helper()
	for _, x := range []float64{f, math.Nextafter(f, math.Inf(1)), math.Nextafter(f, math.Inf(-1))} {
		for _, k := range []Kind{Double, Float} {
			if got, want := appendFloat([]byte("x"), x, k), appendFloatStrconv([]byte("x"), x, k); string(got) != string(want) {
				t.Fatalf("appendFloat(%v (%#x), %s) = %s, want %s", x, math.Float64bits(x), k, got[1:], want[1:])
			}
		}
		if _, ok := appendShortDouble(nil, x); ok != shortDecimal(x) {
			t.Fatalf("appendShortDouble(%v (%#x)) takes it: %v, want %v", x, math.Float64bits(x), ok, !ok)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables: Go's constant arithmetic is exact
	for _, c := range []struct {
		f    float64
		k    Kind
		want string
	}{
		{0, Double, "0"},
		{math.Copysign(0, -1), Double, "-0"},
		{0.1, Double, "0.1"},
		{0.3, Double, "0.3"},
		{tenth + fifth, Double, "0.30000000000000004"},
		{1e-6, Double, "0.000001"},
		{-1e-6, Double, "-0.000001"},
		{9.999999e-7, Double, "9.999999e-07"},
		{1.5e-6, Double, "0.0000015"},
		{1e15 - 1, Double, "999999999999999"},
		{999999999999999.9, Double, "999999999999999.9"},
		{1e15, Double, "1000000000000000"},
		{1e14, Double, "100000000000000"},
		{12.5, Double, "12.5"},
		{1299, Double, "1299"},
		{4.5, Double, "4.5"},
		{-845, Double, "-845"},
		{19.95, Double, "19.95"},
		{123456.789012345, Double, "123456.789012345"},
		{0.000001, Double, "0.000001"},
		{0.000123456789012345, Double, "0.000123456789012345"},
		{1.0000000000000002, Double, "1.0000000000000002"},
		{9007199254740993, Double, "9007199254740992"},
		{1e20, Double, "100000000000000000000"},
		{1e21, Double, "1e+21"},
		{5e-324, Double, "5e-324"},
		{math.MaxFloat64, Double, "1.7976931348623157e+308"},
		{math.NaN(), Double, "null"},
		{math.Inf(1), Double, "null"},
		{math.Inf(-1), Double, "null"},
		{float64(float32(0.1)), Float, "0.1"},
		{float64(float32(12.5)), Float, "12.5"},
		{float64(float32(4.1)), Float, "4.1"},
		{float64(float32(0.1)), Double, "0.10000000149011612"},
		{float64(float32(1e-7)), Float, "1e-07"},
		{math.MaxFloat32, Float, "3.4028235e+38"},
		{math.NaN(), Float, "null"},
	} {
		if got := string(appendFloat(nil, c.f, c.k)); got != c.want {
			t.Errorf("appendFloat(%v, %s) = %s, want %s", c.f, c.k, got, c.want)
		}
		if ref := string(appendFloatStrconv(nil, c.f, c.k)); ref != c.want {
			t.Errorf("strconv writes %v as %s, the table says %s", c.f, ref, c.want)
		}
		checkAppendFloat(t, c.f)
	}
	// Where the fast path's choice of scale changes: the powers of ten and
	// of two, and (by checkAppendFloat) their neighbours.
	for n := -8; n <= 16; n++ {
		checkAppendFloat(t, math.Pow10(n))
		checkAppendFloat(t, 9.99999999999999*math.Pow10(n))
	}
	for e := -24; e <= 54; e++ {
		checkAppendFloat(t, math.Ldexp(1, e))
	}
	// AppendJSON and AppendRecord write doubles with appendFloat.
	dbl := &Type{Kind: Double}
	if got := string(AppendJSON(nil, &Type{Kind: Union, Branches: []*Type{{Kind: Null}, dbl}}, &Value{Kind: Double, Float: -12.5})); got != "-12.5" {
		t.Errorf("AppendJSON of -12.5 in a union writes %s", got)
	}
}

// TestAppendShortDouble checks decimals of every length up to 17 digits at
// every place of the point the fast path covers, and their neighbours.
func TestAppendShortDouble(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for digits := 1; digits <= 17; digits++ {
		for scale := 0; scale <= 22; scale++ {
			for range 40 {
				d := r.Int64N(int64(math.Pow10(digits)))
				f, err := strconv.ParseFloat(strconv.FormatInt(d, 10)+"e-"+strconv.Itoa(scale), 64)
				if err != nil {
					t.Fatal(err)
				}
				checkAppendFloat(t, f)
				checkAppendFloat(t, -f)
			}
		}
	}
	for range 20000 {
		checkAppendFloat(t, math.Float64frombits(r.Uint64()))
	}
}

// FuzzAppendFloat holds appendFloat to strconv on arbitrary doubles, on
// the decimal d·10^-scale, on it cut to at most 15 digits (which the
// fast path takes), and on s when it reads as a number.
func FuzzAppendFloat(f *testing.F) {
	f.Add(math.Float64bits(12.5), int64(1299), uint8(2), "4.5")
	f.Add(uint64(0x3fd3333333333334), int64(999999999999999), uint8(21), "0.000001") // 0.1 + 0.2 in doubles
	f.Add(math.Float64bits(5e-324), int64(-123456789012345), uint8(9), "1e15")
	f.Add(uint64(0x7ff8000000000001), int64(1<<53+1), uint8(0), "-845")
	f.Fuzz(func(t *testing.T, bits uint64, d int64, scale uint8, s string) {
		checkAppendFloat(t, math.Float64frombits(bits))
		for _, d := range []int64{d % 1e16, d % int64(math.Pow10(1+int(bits%15)))} {
			x, err := strconv.ParseFloat(strconv.FormatInt(d, 10)+"e-"+strconv.Itoa(int(scale%24)), 64)
			if err != nil {
				t.Fatal(err)
			}
			checkAppendFloat(t, x)
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			checkAppendFloat(t, x)
		}
	})
}

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
