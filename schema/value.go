package schema

import (
	"fmt"
	"math"
	"math/big"
	"time"
)

// Value is one normalised value, typed against a schema Type. It is a plain
// struct rather than an interface so that a record's values can be reused
// from batch to batch without allocating per field.
type Value struct {
	// Kind is the concrete kind (never Union); Null for null.
	Kind Kind
	// Plain marks a string whose Str is printable ASCII with no quote or
	// backslash (PlainASCII holds), which JSON writes as it is: the
	// writers copy it without looking at it again. Whoever sets it has
	// checked; a Value whose Str changes must have it cleared.
	Plain bool
	// Int holds boolean (0 or 1), int, long, an enum's symbol index, a
	// date's days since the epoch, a timestamp's millis or micros, or a
	// decimal's unscaled value when Big is nil.
	Int int64
	// Float holds float and double.
	Float float64
	// Str holds string, bytes and fixed.
	Str string
	// Big holds a decimal's unscaled value when it does not fit in Int.
	Big *big.Int
	// Items holds array items, map values (paired with Keys) and record
	// fields (in schema order).
	Items []Value
	Keys  []string
}

// Reset makes v null, keeping its slices' capacity.
func (v *Value) Reset() {
	*v = Value{Items: v.Items[:0], Keys: v.Keys[:0]}
}

// NullValue is the null value.
var NullValue = Value{Kind: Null}

// FromNative converts a Go value, as decoded from JSON (encoding/json's
// types, or json.Number) or from an Avro default, into a Value of type t.
// Strings for logical types use the document forms written by AppendJSON.
func FromNative(t *Type, x any) (Value, error) {
	switch t.Kind {
	case Union:
		if x == nil {
			if t.Nullable() {
				return NullValue, nil
			}
			return Value{}, fmt.Errorf("null is not allowed by %s", t)
		}
		// hamba/avro's generic form of a union value: {"branch name": value}.
		if m, ok := x.(map[string]any); ok && len(m) == 1 {
			for name, inner := range m {
				for _, b := range t.Branches {
					if b.Name == name || (b.Name == "" && b.Kind.String() == name) {
						return FromNative(b, inner)
					}
				}
			}
		}
		var firstErr error
		for _, b := range t.Branches {
			if b.Kind == Null {
				continue
			}
			v, err := FromNative(b, x)
			if err == nil {
				return v, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return Value{}, firstErr
	case Null:
		if x == nil {
			return NullValue, nil
		}
	case Boolean:
		if b, ok := x.(bool); ok {
			v := Value{Kind: Boolean}
			if b {
				v.Int = 1
			}
			return v, nil
		}
	case Int, Long:
		if t.Logical == Date {
			if s, ok := x.(string); ok {
				d, err := time.Parse(time.DateOnly, s)
				if err != nil {
					return Value{}, err
				}
				return Value{Kind: Int, Int: d.Unix() / 86400}, nil
			}
			if tm, ok := x.(time.Time); ok {
				return Value{Kind: Int, Int: DaysOf(tm)}, nil
			}
		}
		if t.Logical == TimestampMillis || t.Logical == TimestampMicros {
			var tm time.Time
			switch s := x.(type) {
			case string:
				var err error
				if tm, err = time.Parse(time.RFC3339Nano, s); err != nil {
					return Value{}, err
				}
			case time.Time:
				tm = s
			}
			if !tm.IsZero() {
				if t.Logical == TimestampMillis {
					return Value{Kind: Long, Int: tm.UnixMilli()}, nil
				}
				return Value{Kind: Long, Int: tm.UnixMicro()}, nil
			}
		}
		n, ok := toInt64(x)
		if !ok {
			break
		}
		if t.Kind == Int && (n < math.MinInt32 || n > math.MaxInt32) {
			return Value{}, fmt.Errorf("%d is out of range for int", n)
		}
		return Value{Kind: t.Kind, Int: n}, nil
	case Float, Double:
		if f, ok := toFloat64(x); ok {
			return Value{Kind: t.Kind, Float: f}, nil
		}
	case String:
		if s, ok := x.(string); ok {
			return Value{Kind: String, Str: s}, nil
		}
	case Bytes, Fixed:
		if t.Logical == Decimal {
			var s string
			switch d := x.(type) {
			case *big.Rat:
				s = d.FloatString(t.Scale)
			case string:
				s = d
			case interface{ String() string }:
				s = d.String()
			case float64:
				s = fmt.Sprint(d)
			}
			if v, err := ParseDecimal(s, t.Precision, t.Scale); err == nil {
				return v, nil
			} else if s != "" {
				return Value{}, err
			}
			break
		}
		switch b := x.(type) {
		case string:
			return Value{Kind: t.Kind, Str: b}, nil
		case []byte:
			return Value{Kind: t.Kind, Str: string(b)}, nil
		}
	case Enum:
		if s, ok := x.(string); ok {
			for i, sym := range t.Symbols {
				if sym == s {
					return Value{Kind: Enum, Int: int64(i)}, nil
				}
			}
			return Value{}, fmt.Errorf("%q is not a symbol of %s", s, t)
		}
	case Array:
		if list, ok := x.([]any); ok {
			v := Value{Kind: Array, Items: make([]Value, 0, len(list))}
			for i, item := range list {
				iv, err := FromNative(t.Items, item)
				if err != nil {
					return Value{}, fmt.Errorf("[%d]: %w", i, err)
				}
				v.Items = append(v.Items, iv)
			}
			return v, nil
		}
	case Map:
		if m, ok := x.(map[string]any); ok {
			v := Value{Kind: Map}
			for _, k := range sortedMapKeys(m) {
				iv, err := FromNative(t.Values, m[k])
				if err != nil {
					return Value{}, fmt.Errorf("%s: %w", k, err)
				}
				v.Keys = append(v.Keys, k)
				v.Items = append(v.Items, iv)
			}
			return v, nil
		}
	case Record:
		if m, ok := x.(map[string]any); ok {
			v := Value{Kind: Record, Items: make([]Value, len(t.Fields))}
			for i, f := range t.Fields {
				raw, present := m[f.Name]
				switch {
				case present:
					fv, err := FromNative(f.Type, raw)
					if err != nil {
						return Value{}, fmt.Errorf("%s: %w", f.Name, err)
					}
					v.Items[i] = fv
				case f.HasDefault:
					v.Items[i] = f.Default
				default:
					return Value{}, fmt.Errorf("%s: missing and has no default", f.Name)
				}
			}
			return v, nil
		}
	}
	return Value{}, fmt.Errorf("%v (%T) is not a %s", x, x, t)
}

// DaysOf returns the days since the Unix epoch of tm's calendar date.
func DaysOf(tm time.Time) int64 {
	y, m, d := tm.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func toInt64(x any) (int64, bool) {
	switch n := x.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<63 {
			return int64(n), true
		}
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func toFloat64(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
