package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// ValidationError says which field of a record does not conform and why.
type ValidationError struct {
	// Field is the dotted path of the offending value, e.g. "tags[2]".
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "schema: " + e.Reason
	}
	return "schema: " + e.Field + ": " + e.Reason
}

// Encoder writes Values as Avro binary with hamba/avro's Writer, checking
// each value against its type as it goes. Encoding is how sluice validates
// a record: a Value that encodes is a conformant record. An Encoder is not
// safe for concurrent use; reuse one per goroutine.
type Encoder struct {
	w *avro.Writer
}

// NewEncoder returns an Encoder with a reusable buffer.
func NewEncoder() *Encoder {
	return &Encoder{w: avro.NewWriter(nil, 1024)}
}

// Encode validates v as a record of s and returns its Avro binary encoding.
// The bytes are valid until the next call.
func (e *Encoder) Encode(s *Schema, v *Value) ([]byte, error) {
	e.w.Reset(nil)
	if err := e.encode(s.Type, v); err != nil {
		return nil, err
	}
	if e.w.Error != nil {
		return nil, fmt.Errorf("schema: %w", e.w.Error)
	}
	return e.w.Buffer(), nil
}

// within prefixes a nested failure's field path with the outer element.
func within(err error, elem string, index bool) error {
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	switch {
	case ve.Field == "":
		ve.Field = elem
	case index || strings.HasPrefix(ve.Field, "["):
		ve.Field = elem + ve.Field
	default:
		ve.Field = elem + "." + ve.Field
	}
	return ve
}

func (e *Encoder) encode(t *Type, v *Value) error {
	const at = ""
	w := e.w
	if t.Kind == Union {
		for i, b := range t.Branches {
			if b.Kind == v.Kind || (b.Kind == Fixed && v.Kind == Bytes && b.Logical == Decimal) {
				w.WriteLong(int64(i))
				return e.encode(b, v)
			}
		}
		if v.Kind == Null {
			return &ValidationError{Field: at, Reason: "is required (null is not allowed)"}
		}
		return &ValidationError{Field: at, Reason: fmt.Sprintf("a %s is not allowed by %s", v.Kind, t)}
	}
	if v.Kind != t.Kind && !(t.Kind == Fixed && v.Kind == Bytes) {
		if v.Kind == Null {
			return &ValidationError{Field: at, Reason: "is required (null is not allowed)"}
		}
		return &ValidationError{Field: at, Reason: fmt.Sprintf("a %s is not a %s", v.Kind, t)}
	}
	switch t.Kind {
	case Null:
	case Boolean:
		w.WriteBool(v.Int != 0)
	case Int:
		if v.Int < math.MinInt32 || v.Int > math.MaxInt32 {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("%d is out of range for %s", v.Int, t)}
		}
		w.WriteInt(int32(v.Int))
	case Long:
		w.WriteLong(v.Int)
	case Float:
		w.WriteFloat(float32(v.Float))
	case Double:
		w.WriteDouble(v.Float)
	case String:
		if !utf8.ValidString(v.Str) {
			return &ValidationError{Field: at, Reason: "is not valid UTF-8"}
		}
		w.WriteString(v.Str)
	case Bytes, Fixed:
		b := []byte(v.Str)
		if t.Logical == Decimal {
			if err := checkPrecision(v, t.Precision); err != nil {
				return &ValidationError{Field: at, Reason: err.Error()}
			}
			b = decimalBytes(v)
			if t.Kind == Fixed {
				b = signExtend(b, t.Size)
			}
		}
		if t.Kind == Fixed {
			if len(b) != t.Size {
				return &ValidationError{Field: at, Reason: fmt.Sprintf("is %d bytes; %s needs %d", len(b), t, t.Size)}
			}
			_, _ = w.Write(b)
		} else {
			w.WriteBytes(b)
		}
	case Enum:
		if v.Int < 0 || v.Int >= int64(len(t.Symbols)) {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("symbol index %d is out of range for %s", v.Int, t)}
		}
		w.WriteInt(int32(v.Int))
	case Array:
		if len(v.Items) > 0 {
			w.WriteBlockHeader(int64(len(v.Items)), -1)
			for i := range v.Items {
				if err := e.encode(t.Items, &v.Items[i]); err != nil {
					return within(err, "["+strconv.Itoa(i)+"]", true)
				}
			}
		}
		w.WriteLong(0)
	case Map:
		if len(v.Keys) != len(v.Items) {
			return &ValidationError{Field: at, Reason: "map keys and values differ in number"}
		}
		if len(v.Items) > 0 {
			w.WriteBlockHeader(int64(len(v.Items)), -1)
			for i := range v.Items {
				w.WriteString(v.Keys[i])
				if err := e.encode(t.Values, &v.Items[i]); err != nil {
					return within(err, v.Keys[i], false)
				}
			}
		}
		w.WriteLong(0)
	case Record:
		if len(v.Items) != len(t.Fields) {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("has %d fields; %s has %d", len(v.Items), t.Name, len(t.Fields))}
		}
		for i := range t.Fields {
			if err := e.encode(t.Fields[i].Type, &v.Items[i]); err != nil {
				return within(err, t.Fields[i].Name, false)
			}
		}
	}
	return nil
}

func checkPrecision(v *Value, precision int) error {
	var digits int
	if v.Big != nil {
		digits = len(new(bigAbs).of(v).String())
	} else {
		n := v.Int
		if n < 0 {
			n = -n
		}
		for ; n > 0; n /= 10 {
			digits++
		}
	}
	if digits > precision {
		return fmt.Errorf("has %d digits; the decimal's precision is %d", digits, precision)
	}
	return nil
}

func signExtend(b []byte, size int) []byte {
	if len(b) >= size {
		return b
	}
	pad := byte(0)
	if len(b) > 0 && b[0]&0x80 != 0 {
		pad = 0xff
	}
	out := make([]byte, size-len(b), size)
	for i := range out {
		out[i] = pad
	}
	return append(out, b...)
}
