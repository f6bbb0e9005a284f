package normalize

import (
	"encoding/json"
	"strconv"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// Get returns a normalised record's field as text (for building lookup
// keys): strings as they are, numbers and booleans formatted; false when the
// field is null, unknown or not a scalar.
func (p *Plan) Get(v *schema.Value, field string) (string, bool) {
	i := p.fieldIndex(field)
	if i < 0 || i >= len(v.Items) {
		return "", false
	}
	x := &v.Items[i]
	switch x.Kind {
	case schema.String:
		return x.Str, true
	case schema.Int, schema.Long:
		return strconv.FormatInt(x.Int, 10), true
	case schema.Float, schema.Double:
		return strconv.FormatFloat(x.Float, 'g', -1, 64), true
	case schema.Boolean:
		return strconv.FormatBool(x.Int != 0), true
	case schema.Enum:
		t, _ := p.rec.fields[i].t.NonNull()
		return t.Symbols[x.Int], true
	}
	return "", false
}

// Set coerces x, a value decoded from JSON (string, float64, bool, nil,
// []any, map[string]any), into a record's field exactly as an input field
// of that name would be: the schema validates it like any other.
func (p *Plan) Set(sc *Scratch, v *schema.Value, field string, x any) *Failure {
	i := p.fieldIndex(field)
	if i < 0 || i >= len(v.Items) {
		return &Failure{Field: field, Reason: "is not a field of the schema", Class: ClassEnrich}
	}
	f := envelope.Field{Name: field}
	switch t := x.(type) {
	case nil:
		f.Kind = envelope.Null
	case string:
		f.Value = t
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return &Failure{Field: field, Reason: "cannot be written as JSON", Class: ClassEnrich}
		}
		f.Kind, f.Value = envelope.Raw, string(b)
	}
	fp := &p.rec.fields[i]
	sc.cur = -1 // a lookup's value has no input text to keep
	if sc.opts == nil {
		sc.opts = &p.opts
	}
	val, err := p.coerce(sc, fp, fp.t, &f)
	if err == errMissing {
		val = schema.NullValue
		err = nil
		if !fp.t.Nullable() {
			return &Failure{Field: field, Reason: "the lookup returned an empty value for a required field", Class: ClassEnrich}
		}
	}
	if err != nil {
		return &Failure{Field: field, Reason: "the lookup's value " + err.Error(), Class: ClassEnrich}
	}
	v.Items[i] = val
	return nil
}

func (p *Plan) fieldIndex(name string) int {
	for i := range p.rec.fields {
		if p.rec.fields[i].name == name {
			return i
		}
	}
	return -1
}
