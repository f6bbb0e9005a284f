package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"

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
	if err := encode(e.w, s.Type, v); err != nil {
		return nil, err
	}
	if e.w.Error != nil {
		return nil, fmt.Errorf("schema: %w", e.w.Error)
	}
	return e.w.Buffer(), nil
}

// Validate reports whether v is a record of s, with the error Encode would
// give, without writing the encoding: it is Encode's own walk with the
// writes left out, so a Value that validates is one that encodes.
func Validate(s *Schema, v *Value) error {
	return encode(nil, s.Type, v)
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

// encode checks v against t and writes its Avro encoding to w; with a nil
// w it only checks.
func encode(w *avro.Writer, t *Type, v *Value) error {
	const at = ""
	if t.Kind == Union {
		for i, b := range t.Branches {
			if b.Kind == v.Kind || (b.Kind == Fixed && v.Kind == Bytes && b.Logical == Decimal) {
				if w != nil {
					w.WriteLong(int64(i))
				}
				return encode(w, b, v)
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
		if w != nil {
			w.WriteBool(v.Int != 0)
		}
	case Int:
		if v.Int < math.MinInt32 || v.Int > math.MaxInt32 {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("%d is out of range for %s", v.Int, t)}
		}
		if w != nil {
			w.WriteInt(int32(v.Int))
		}
	case Long:
		if w != nil {
			w.WriteLong(v.Int)
		}
	case Float:
		if w != nil {
			w.WriteFloat(float32(v.Float))
		}
	case Double:
		if w != nil {
			w.WriteDouble(v.Float)
		}
	case String:
		if !ValidUTF8(v.Str) {
			return &ValidationError{Field: at, Reason: "is not valid UTF-8"}
		}
		if w != nil {
			w.WriteString(v.Str)
		}
	case Bytes, Fixed:
		if w == nil && t.Logical != Decimal && t.Kind == Bytes {
			break
		}
		b := []byte(v.Str)
		if t.Logical == Decimal {
			if err := checkPrecision(v, t.Precision); err != nil {
				return &ValidationError{Field: at, Reason: err.Error()}
			}
			if w == nil && t.Kind == Bytes {
				break // checked: a bytes decimal has no size to check
			}
			b = decimalBytes(v)
			if t.Kind == Fixed {
				b = signExtend(b, t.Size)
			}
		}
		switch {
		case t.Kind == Fixed && len(b) != t.Size:
			return &ValidationError{Field: at, Reason: fmt.Sprintf("is %d bytes; %s needs %d", len(b), t, t.Size)}
		case w == nil:
		case t.Kind == Fixed:
			_, _ = w.Write(b)
		default:
			w.WriteBytes(b)
		}
	case Enum:
		if v.Int < 0 || v.Int >= int64(len(t.Symbols)) {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("symbol index %d is out of range for %s", v.Int, t)}
		}
		if w != nil {
			w.WriteInt(int32(v.Int))
		}
	case Array:
		if w != nil && len(v.Items) > 0 {
			w.WriteBlockHeader(int64(len(v.Items)), -1)
		}
		for i := range v.Items {
			if err := encode(w, t.Items, &v.Items[i]); err != nil {
				return within(err, "["+strconv.Itoa(i)+"]", true)
			}
		}
		if w != nil {
			w.WriteLong(0)
		}
	case Map:
		if len(v.Keys) != len(v.Items) {
			return &ValidationError{Field: at, Reason: "map keys and values differ in number"}
		}
		if w != nil && len(v.Items) > 0 {
			w.WriteBlockHeader(int64(len(v.Items)), -1)
		}
		for i := range v.Items {
			if w != nil {
				w.WriteString(v.Keys[i])
			}
			if err := encode(w, t.Values, &v.Items[i]); err != nil {
				return within(err, v.Keys[i], false)
			}
		}
		if w != nil {
			w.WriteLong(0)
		}
	case Record:
		if len(v.Items) != len(t.Fields) {
			return &ValidationError{Field: at, Reason: fmt.Sprintf("has %d fields; %s has %d", len(v.Items), t.Name, len(t.Fields))}
		}
		for i := range t.Fields {
			if err := encode(w, t.Fields[i].Type, &v.Items[i]); err != nil {
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

// AppendRecord checks v as a record of s, with the error Validate gives,
// and appends it as AppendJSON writes it, in one walk. On an error dst is
// returned as it was given.
func AppendRecord(dst []byte, s *Schema, v *Value) ([]byte, error) {
	out, err := appendChecked(dst, s.Type, v)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// appendChecked is encode's checks with AppendJSON's writing.
func appendChecked(dst []byte, t *Type, v *Value) ([]byte, error) {
	const at = ""
	if t.Kind == Union {
		if v.Kind == Null {
			// The common union, a nullable field that is null: what the
			// walk below writes, without it.
			for _, b := range t.Branches {
				if b.Kind == Null {
					return append(dst, "null"...), nil
				}
			}
		}
		// Validate and AppendJSON choose a branch alike but for bytes in a
		// union with a fixed that is not a decimal; then each does its own.
		for _, b := range t.Branches {
			if b.Kind == v.Kind || (b.Kind == Fixed && v.Kind == Bytes && b.Logical == Decimal) {
				if !(b.Kind == Fixed && v.Kind == Bytes) && jsonBranch(t, v) == b {
					return appendChecked(dst, b, v)
				}
				if err := encode(nil, b, v); err != nil {
					return dst, err
				}
				return AppendJSON(dst, t, v), nil
			}
		}
		if v.Kind == Null {
			return dst, &ValidationError{Field: at, Reason: "is required (null is not allowed)"}
		}
		return dst, &ValidationError{Field: at, Reason: fmt.Sprintf("a %s is not allowed by %s", v.Kind, t)}
	}
	if v.Kind != t.Kind && !(t.Kind == Fixed && v.Kind == Bytes) {
		if v.Kind == Null {
			return dst, &ValidationError{Field: at, Reason: "is required (null is not allowed)"}
		}
		return dst, &ValidationError{Field: at, Reason: fmt.Sprintf("a %s is not a %s", v.Kind, t)}
	}
	switch t.Kind {
	case String:
		if v.Plain {
			return appendPlain(dst, v.Str), nil
		}
		out, ok := appendString(dst, v.Str, true)
		if !ok {
			return dst, &ValidationError{Field: at, Reason: "is not valid UTF-8"}
		}
		return out, nil
	case Array:
		dst = append(dst, '[')
		for i := range v.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendChecked(dst, t.Items, &v.Items[i]); err != nil {
				return dst, within(err, "["+strconv.Itoa(i)+"]", true)
			}
		}
		return append(dst, ']'), nil
	case Map:
		if len(v.Keys) != len(v.Items) {
			return dst, &ValidationError{Field: at, Reason: "map keys and values differ in number"}
		}
		dst = append(dst, '{')
		for i := range v.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, v.Keys[i])
			dst = append(dst, ':')
			var err error
			if dst, err = appendChecked(dst, t.Values, &v.Items[i]); err != nil {
				return dst, within(err, v.Keys[i], false)
			}
		}
		return append(dst, '}'), nil
	case Record:
		if len(v.Items) != len(t.Fields) {
			return dst, &ValidationError{Field: at, Reason: fmt.Sprintf("has %d fields; %s has %d", len(v.Items), t.Name, len(t.Fields))}
		}
		dst = append(dst, '{')
		out := t.out[:len(t.Fields)]
		items := v.Items[:len(out)]
		for i := range out {
			f := &out[i]
			dst = append(dst, f.key...)
			var err error
			if dst, err = appendChecked(dst, f.t, &items[i]); err != nil {
				return dst, within(err, t.Fields[i].Name, false)
			}
		}
		return append(dst, '}'), nil
	case Null, Boolean, Long, Float, Double:
		return AppendJSON(dst, t, v), nil // encode checks nothing of these
	}
	// The other kinds hold no values within: checked, then written.
	if err := encode(nil, t, v); err != nil {
		return dst, err
	}
	return AppendJSON(dst, t, v), nil
}

// jsonBranch is the union branch AppendJSON writes v as, or nil.
func jsonBranch(t *Type, v *Value) *Type {
	for _, b := range t.Branches {
		if b.Kind == v.Kind || (b.Kind == Fixed && v.Kind == Bytes) {
			return b
		}
	}
	return nil
}
