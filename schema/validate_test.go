package schema

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// validateSchema has every kind Validate checks: unions, an int's range,
// strings, decimals as bytes and as fixed, fixed, enums, arrays, maps and
// nested records.
const validateSchema = `{"type":"record","name":"r","fields":[
	{"name":"i","type":"int"},
	{"name":"l","type":["null","long"]},
	{"name":"b","type":"boolean"},
	{"name":"f","type":"float"},
	{"name":"d","type":["null","double","string"]},
	{"name":"s","type":"string"},
	{"name":"by","type":"bytes"},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}},
	{"name":"fdec","type":["null",{"type":"fixed","name":"fd","size":4,"logicalType":"decimal","precision":8,"scale":1}]},
	{"name":"fx","type":{"type":"fixed","name":"fx","size":3}},
	{"name":"e","type":{"type":"enum","name":"e","symbols":["A","B","C"]}},
	{"name":"a","type":{"type":"array","items":["null","string"]}},
	{"name":"m","type":{"type":"map","values":{"type":"record","name":"inner","fields":[{"name":"x","type":"long"}]}}},
	{"name":"date","type":{"type":"int","logicalType":"date"}},
	{"name":"u","type":[{"type":"fixed","name":"f3","size":3},{"type":"bytes","logicalType":"decimal","precision":5,"scale":1}]},
	{"name":"u2","type":["null",{"type":"fixed","name":"f2","size":2},"bytes"]},
	{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}]}]}`

// randomValue is a Value for t that is often right and sometimes wrong in
// each of the ways Encode rejects.
func randomValue(r *rand.Rand, t *Type, bad bool) Value {
	// pick is an index into a list whose first ok entries are valid.
	pick := func(n, ok int) int {
		if bad {
			return r.IntN(n)
		}
		return r.IntN(ok)
	}
	if bad && r.IntN(12) == 0 {
		kinds := []Kind{Null, Boolean, Int, Long, Float, Double, Bytes, String, Enum, Array, Map, Record}
		k := kinds[r.IntN(len(kinds))]
		if k == Array || k == Map || k == Record {
			return Value{Kind: k, Items: make([]Value, r.IntN(2))}
		}
		return Value{Kind: k}
	}
	if t.Kind == Union {
		return randomValue(r, t.Branches[r.IntN(len(t.Branches))], bad)
	}
	v := Value{Kind: t.Kind}
	if t.Kind == Fixed {
		v.Kind = Bytes
	}
	switch t.Kind {
	case Boolean:
		v.Int = int64(r.IntN(2))
	case Int, Long:
		v.Int = []int64{0, 1, -1, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, 1 << 40}[pick(8, 5)]
		if t.Kind == Long && r.IntN(2) == 0 {
			v.Int = 1 << 40
		}
	case Enum:
		v.Int = []int64{0, 1, 2, 3, -1}[pick(5, 3)]
	case Float, Double:
		v.Float = r.NormFloat64()
	case String:
		v.Str = []string{"", "abc", "é", "ok\x00", "\xff", "a\xc3"}[pick(6, 4)]
	case Bytes, Fixed:
		if t.Logical == Decimal {
			v.Int = []int64{0, 12345, -99999, 5, 1234567, -99999999}[pick(6, 4)]
			if bad && r.IntN(8) == 0 {
				v.Big = new(big.Int).Lsh(big.NewInt(int64(r.IntN(3))+1), 70)
			}
		} else {
			v.Str = []string{"abc", "", "ab", "abcd"}[pick(4, 1)]
			if t.Kind == Bytes {
				v.Str = []string{"", "ab", "abc", "abcd"}[r.IntN(4)]
			}
		}
	case Array:
		v.Items = make([]Value, r.IntN(4))
		for i := range v.Items {
			v.Items[i] = randomValue(r, t.Items, bad)
		}
	case Map:
		n := r.IntN(3)
		v.Items = make([]Value, n)
		v.Keys = make([]string, n)
		if bad && r.IntN(8) == 0 {
			v.Keys = append(v.Keys, "surplus")
		}
		for i := range v.Items {
			v.Items[i] = randomValue(r, t.Values, bad)
		}
	case Record:
		n := len(t.Fields)
		if bad && r.IntN(20) == 0 {
			n = r.IntN(n + 2)
		}
		v.Items = make([]Value, n)
		for i := range v.Items {
			if i < len(t.Fields) {
				v.Items[i] = randomValue(r, t.Fields[i].Type, bad)
			}
		}
	}
	return v
}

// TestValidateMatchesEncode: Validate accepts exactly the Values Encode
// encodes, and rejects the others with Encode's error.
func TestValidateMatchesEncode(t *testing.T) {
	s, err := Parse("r", 1, []byte(validateSchema))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	enc := NewEncoder()
	var valid, invalid int
	for range 20000 {
		v := randomValue(r, s.Type, r.IntN(2) == 0)
		_, encErr := enc.Encode(s, &v)
		valErr := Validate(s, &v)
		if (encErr == nil) != (valErr == nil) || encErr != nil && encErr.Error() != valErr.Error() {
			t.Fatalf("value %+v: Encode says %v, Validate says %v", v, encErr, valErr)
		}
		if encErr == nil {
			valid++
		} else {
			invalid++
		}
	}
	t.Logf("%d valid, %d invalid", valid, invalid)
	// Both outcomes must be common, or the comparison proves little.
	if valid < 1000 || invalid < 1000 {
		t.Fatalf("%d valid and %d invalid values: the generator does not cover both", valid, invalid)
	}
}

// TestAppendRecordMatchesValidateAndAppendJSON: AppendRecord gives
// Validate's error, leaving dst as it was, or AppendJSON's bytes.
func TestAppendRecordMatchesValidateAndAppendJSON(t *testing.T) {
	s, err := Parse("r", 1, []byte(validateSchema))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	prefix := []byte("before:")
	var valid, invalid int
	for range 20000 {
		v := randomValue(r, s.Type, r.IntN(2) == 0)
		valErr := Validate(s, &v)
		got, err := AppendRecord(append([]byte(nil), prefix...), s, &v)
		if (err == nil) != (valErr == nil) || err != nil && err.Error() != valErr.Error() {
			t.Fatalf("value %+v: AppendRecord says %v, Validate says %v", v, err, valErr)
		}
		want := prefix
		if err == nil {
			want = AppendJSON(append([]byte(nil), prefix...), s.Type, &v)
			valid++
		} else {
			invalid++
		}
		if string(got) != string(want) {
			t.Fatalf("value %+v: AppendRecord wrote %s, want %s", v, got, want)
		}
	}
	if valid < 1000 || invalid < 1000 {
		t.Fatalf("%d valid and %d invalid values: the generator does not cover both", valid, invalid)
	}
}

func BenchmarkValidate(b *testing.B) {
	s, err := Parse("r", 1, []byte(validateSchema))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var vals []Value
	for len(vals) < 64 {
		v := randomValue(r, s.Type, false)
		if Validate(s, &v) == nil {
			vals = append(vals, v)
		}
	}
	enc := NewEncoder()
	b.Run("validate", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = Validate(s, &vals[i%len(vals)])
		}
	})
	b.Run("encode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, _ = enc.Encode(s, &vals[i%len(vals)])
		}
	})
}
