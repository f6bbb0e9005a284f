package schema

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// parseDecimalJoined is ParseDecimal the general way, its digits joined
// into one string and then read, whatever their number: the reference
// smallDecimal is held to.
func parseDecimalJoined(s string, precision, scale int) (Value, error) {
	return parseDecimal(s, precision, scale, false)
}

// decimalText is a decimal's text by math/big: the reference appendDecimal
// is held to.
func decimalText(v *Value, scale int) string {
	n := v.Big
	if n == nil {
		n = big.NewInt(v.Int)
	}
	return strconv.Quote(new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).FloatString(scale))
}

func sameDecimal(a, b Value) bool {
	if (a.Big == nil) != (b.Big == nil) {
		return false
	}
	if a.Big != nil {
		return a.Big.Cmp(b.Big) == 0 && a.Kind == b.Kind
	}
	return a.Kind == b.Kind && a.Int == b.Int
}

// checkDecimal holds ParseDecimal to the joined reading, error text
// included, and its JSON text to math/big's.
func checkDecimal(t *testing.T, s string, precision, scale int) {
	t.Helper()
	got, gerr := ParseDecimal(s, precision, scale)
	want, werr := parseDecimalJoined(s, precision, scale)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !sameDecimal(got, want) {
		t.Fatalf("ParseDecimal(%q, %d, %d) = %+v, %v; want %+v, %v", s, precision, scale, got, gerr, want, werr)
	}
	if gerr != nil {
		return
	}
	if a, b := string(appendDecimal([]byte("x"), &got, scale)), "x"+decimalText(&got, scale); a != b {
		t.Fatalf("appendDecimal(%q, scale %d) wrote %s, want %s", s, scale, a, b)
	}
}

func TestParseDecimalInPlace(t *testing.T) {
	for _, s := range []string{"0", "-0", "+0.00", "1", "-1234.50", "1234.5", "0.05", ".5", "5.", ".", "-", "", " 12.30 ",
		"1.234", "1.2x", "1x.2", "12a", "000000000000000000000123.45", "999999999999999999", "9999999999999999.99",
		"99999999999999999.9", "-9223372036854775808", "9223372036854775807", "12345678901234567890.12", "0.000000000000000001"} {
		for _, ps := range [][2]int{{10, 2}, {18, 2}, {38, 9}, {4, 0}, {20, 18}, {18, 0}, {30, 16}} {
			checkDecimal(t, s, ps[0], ps[1])
		}
	}
	// Values of every length at the int64 edge.
	for digits := 1; digits <= 20; digits++ {
		n := strings.Repeat("9", digits)
		for scale := 0; scale <= 19; scale++ {
			checkDecimal(t, n, 38, scale)
			checkDecimal(t, "-"+n+".5", 38, scale)
		}
	}
	v := Value{Kind: Bytes, Int: math.MinInt64}
	if got, want := string(appendDecimal(nil, &v, 3)), decimalText(&v, 3); got != want {
		t.Fatalf("appendDecimal(MinInt64) = %s, want %s", got, want)
	}
}

func FuzzParseDecimal(f *testing.F) {
	f.Add("-1234.50", 10, 2)
	f.Add("000.000100", 18, 4)
	f.Add("99999999999999999.99", 38, 2)
	f.Fuzz(func(t *testing.T, s string, precision, scale int) {
		if precision < 1 || precision > 76 || scale < 0 || scale > precision {
			return
		}
		checkDecimal(t, s, precision, scale)
	})
}

// TestDecimalTextAllocatesNothing: a decimal that fits an int64 is read
// and written without allocating.
func TestDecimalTextAllocatesNothing(t *testing.T) {
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		v, err := ParseDecimal("-1234.50", 10, 2)
		if err != nil {
			t.Fatal(err)
		}
		dst = appendDecimal(dst[:0], &v, 2)
	})
	if allocs != 0 || string(dst) != `"-1234.50"` {
		t.Fatalf("%v allocations, wrote %s", allocs, dst)
	}
}
