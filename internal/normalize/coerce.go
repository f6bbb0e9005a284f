package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/schema"
)

// errMissing marks an empty value for a field that is not a string: it
// counts as absent, so the field's default applies.
var errMissing = errors.New("missing")

var errNull = errors.New("is null but the field does not allow null")

// validUTF8 replaces each invalid byte sequence with U+FFFD: Avro strings
// are UTF-8, and a replacement shows where the input was broken. The
// record is then flagged replaced (extra's _flags), so that the change
// leaves a trace beyond the character.
func (sc *Scratch) validUTF8(s string) string {
	if schema.ValidUTF8(s) {
		return s
	}
	sc.replaced = true
	return strings.ToValidUTF8(s, "\uFFFD")
}

// str is s as a string value: marked Plain when JSON writes it as it is
// (so the writer copies it without looking again), else with any text
// that is not UTF-8 replaced, and the record flagged (validUTF8).
func (sc *Scratch) str(s string) schema.Value {
	var v schema.Value
	sc.strInto(&v, s)
	return v
}

// text is a string field's text: trimmed, unless keep_spaces is set.
func (sc *Scratch) text(s string) string {
	if !sc.opts.KeepSpaces {
		s = trimSpace(s)
	}
	return s
}

// strInto is str written into dst.
func (sc *Scratch) strInto(dst *schema.Value, s string) {
	if schema.PlainASCII(s) {
		*dst = schema.Value{Kind: schema.String, Str: s, Plain: true}
		return
	}
	*dst = schema.Value{Kind: schema.String, Str: sc.validUTF8(s)}
}

// isNullToken reports the strings that mean "no value" where null is allowed.
func isNullToken(s string) bool {
	s = trimSpace(s)
	switch len(s) {
	case 0:
		return true
	case 1:
		return s == "-"
	case 3:
		return strings.EqualFold(s, "n/a")
	case 4:
		return strings.EqualFold(s, "null")
	}
	return false
}

// coerceInto is coerce for a record's field, written into dst (left as
// it was on an error): a string, the commonest field, without passing
// the value back and copying it.
func (p *Plan) coerceInto(dst *schema.Value, sc *Scratch, fp *fieldPlan, f *envelope.Field) error {
	t := fp.t
	if t.Kind == schema.Union && f.Kind == envelope.String {
		if inner, nullable := t.NonNull(); nullable && inner != t && inner.Kind == schema.String {
			if isNullToken(f.Value) {
				*dst = schema.NullValue
				return nil
			}
			t = inner
		}
	}
	if t.Kind == schema.String && f.Kind == envelope.String {
		sc.strInto(dst, sc.text(f.Value))
		return nil
	}
	v, err := p.coerce(sc, fp, t, f)
	if err == nil {
		*dst = v
	}
	return err
}

func (p *Plan) coerce(sc *Scratch, fp *fieldPlan, t *schema.Type, f *envelope.Field) (schema.Value, error) {
	if t.Kind == schema.Union {
		inner, nullable := t.NonNull()
		if f.Kind == envelope.Null || (nullable && f.Kind == envelope.String && isNullToken(f.Value)) {
			if nullable {
				return schema.NullValue, nil
			}
			return schema.Value{}, errNull
		}
		if inner != t {
			return p.coerce(sc, fp, inner, f)
		}
		var first error
		for _, b := range t.Branches {
			if b.Kind == schema.Null {
				continue
			}
			v, err := p.coerce(sc, fp, b, f)
			if err == nil {
				return v, nil
			}
			if first == nil {
				first = err
			}
		}
		return schema.Value{}, first
	}
	if f.Kind == envelope.Null {
		return schema.Value{}, errNull
	}
	if f.Kind == envelope.String && t.Kind != schema.String && trimSpace(f.Value) == "" {
		return schema.Value{}, errMissing
	}
	switch t.Kind {
	case schema.String:
		return sc.str(sc.text(f.Value)), nil
	case schema.Boolean:
		return coerceBool(sc, f)
	case schema.Int, schema.Long:
		switch t.Logical {
		case schema.Date:
			return coerceDate(sc, f)
		case schema.TimestampMillis, schema.TimestampMicros:
			return coerceTimestamp(sc, f, t.Logical)
		}
		return coerceInt(sc, f, t.Kind)
	case schema.Float, schema.Double:
		x, err := parseNumber(sc, f)
		if err != nil {
			return schema.Value{}, err
		}
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return schema.Value{}, errors.New("is not a finite number")
		}
		if t.Kind == schema.Float && math.Abs(x) > math.MaxFloat32 {
			return schema.Value{}, errors.New("is out of range for float")
		}
		return schema.Value{Kind: t.Kind, Float: x}, nil
	case schema.Bytes, schema.Fixed:
		if t.Logical == schema.Decimal {
			s, err := cleanNumber(sc, f)
			if err != nil {
				return schema.Value{}, err
			}
			v, err := schema.ParseDecimal(s, t.Precision, t.Scale)
			if err != nil {
				return schema.Value{}, fmt.Errorf("is not a %s: %w", t, redact(err))
			}
			return v, nil
		}
		if f.Kind != envelope.String {
			return schema.Value{}, fmt.Errorf("is not a string of bytes")
		}
		if t.Kind == schema.Fixed && len(f.Value) != t.Size {
			return schema.Value{}, fmt.Errorf("is %d bytes; %s needs %d", len(f.Value), t, t.Size)
		}
		return schema.Value{Kind: t.Kind, Str: f.Value}, nil
	case schema.Enum:
		return p.coerceEnum(sc, fp.nested[t], t, f)
	case schema.Array:
		return p.coerceArray(sc, fp, t, f)
	case schema.Map:
		return p.coerceMap(sc, fp, t, f)
	case schema.Record:
		if f.Kind != envelope.Raw || !strings.HasPrefix(f.Value, "{") {
			return schema.Value{}, fmt.Errorf("is not an object for record %s", t.Name)
		}
		fields, err := rawMembers(f.Value)
		if err != nil {
			return schema.Value{}, err
		}
		var v schema.Value
		if fail := p.normalizeRecord(sc, fp.nested[t].rec, fields, nil, &v, fp.name+"."); fail != nil {
			return schema.Value{}, errors.New(fail.Error())
		}
		return v, nil
	}
	return schema.Value{}, fmt.Errorf("cannot be read as %s", t)
}

// redact drops the value from a schema error so reasons stay payload-free.
func redact(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, " has "); i >= 0 {
		return errors.New("it has " + msg[i+5:])
	}
	if i := strings.LastIndex(msg, " needs "); i >= 0 {
		return errors.New("it needs " + msg[i+7:])
	}
	return errors.New("not a plain decimal")
}

func coerceBool(sc *Scratch, f *envelope.Field) (schema.Value, error) {
	s := trimSpace(f.Value)
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "t":
		return schema.Value{Kind: schema.Boolean, Int: 1}, nil
	case "false", "no", "n", "0", "f":
		return schema.Value{Kind: schema.Boolean}, nil
	}
	if l := sc.opts.Locale; l != nil {
		for _, w := range l.True {
			if strings.EqualFold(s, w) {
				return schema.Value{Kind: schema.Boolean, Int: 1}, nil
			}
		}
		for _, w := range l.False {
			if strings.EqualFold(s, w) {
				return schema.Value{Kind: schema.Boolean}, nil
			}
		}
		return schema.Value{}, fmt.Errorf("is not a boolean (true/false, yes/no, y/n, 1/0, or in %s: %s/%s)", l.Name, strings.Join(l.True, ", "), strings.Join(l.False, ", "))
	}
	return schema.Value{}, errors.New("is not a boolean (true/false, yes/no, y/n, 1/0; set locale on the route for other languages)")
}

func coerceInt(sc *Scratch, f *envelope.Field, k schema.Kind) (schema.Value, error) {
	s := trimSpace(f.Value)
	if isDigits(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return checkIntRange(n, k)
		}
	}
	x, err := parseNumber(sc, f)
	if err != nil {
		return schema.Value{}, err
	}
	if x != math.Trunc(x) {
		return schema.Value{}, fmt.Errorf("is not a whole number for %s", k)
	}
	if x >= 1<<63 || x < -(1<<63) {
		return schema.Value{}, fmt.Errorf("is out of range for %s", k)
	}
	return checkIntRange(int64(x), k)
}

func checkIntRange(n int64, k schema.Kind) (schema.Value, error) {
	if k == schema.Int && (n < math.MinInt32 || n > math.MaxInt32) {
		return schema.Value{}, errors.New("is out of range for int")
	}
	return schema.Value{Kind: k, Int: n}, nil
}

// isPlainNumber rejects what ParseFloat accepts but people don't mean as a
// number: "Inf", "NaN", hex and underscores.
func isPlainNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// coerceEnum reads a symbol. An unknown one becomes the enum's default
// only where the original text can be kept in extra beside it.
func (p *Plan) coerceEnum(sc *Scratch, tp *typePlan, t *schema.Type, f *envelope.Field) (schema.Value, error) {
	sc.key = AppendCanonical(sc.key[:0], f.Value)
	if i, ok := tp.enum[string(sc.key)]; ok {
		return schema.Value{Kind: schema.Enum, Int: int64(i)}, nil
	}
	switch {
	case t.EnumDefault < 0:
		return schema.Value{}, fmt.Errorf("is not a symbol of %s and the enum has no default", t)
	case !sc.keep():
		return schema.Value{}, fmt.Errorf("is not a symbol of %s, and its default would replace it with nothing to keep the original (the schema has no extra map)", t)
	}
	return schema.Value{Kind: schema.Enum, Int: int64(t.EnumDefault)}, nil
}

// listSep returns the first of , ; | that occurs in s, or 0.
func listSep(s string) byte {
	for _, c := range []byte{',', ';', '|'} {
		if strings.IndexByte(s, c) >= 0 {
			return c
		}
	}
	return 0
}

// nextListItem returns the first trimmed, non-empty item of a delimited
// string and the rest, or ok false when there is none.
func nextListItem(s string, sep byte) (item, rest string, ok bool) {
	for s != "" {
		item = s
		if i := strings.IndexByte(s, sep); sep != 0 && i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if item = trimSpace(item); item != "" {
			return item, s, true
		}
	}
	return "", "", false
}

func (p *Plan) coerceArray(sc *Scratch, fp *fieldPlan, t *schema.Type, f *envelope.Field) (schema.Value, error) {
	var items []envelope.Field
	switch {
	case f.Kind == envelope.Raw && strings.HasPrefix(f.Value, "["):
		var err error
		if items, err = rawElements(f.Value); err != nil {
			return schema.Value{}, err
		}
	case f.Kind == envelope.String:
		sep := listSep(f.Value)
		n := 0
		for _, rest, ok := nextListItem(f.Value, sep); ok; _, rest, ok = nextListItem(rest, sep) {
			n++
		}
		v := schema.Value{Kind: schema.Array, Items: sc.values(n)}
		var elem envelope.Field
		i := 0
		for item, rest, ok := nextListItem(f.Value, sep); ok; item, rest, ok = nextListItem(rest, sep) {
			elem.Value = item
			iv, err := p.coerce(sc, fp, t.Items, &elem)
			if err != nil {
				return schema.Value{}, fmt.Errorf("item %d %w", i, err)
			}
			v.Items[i] = iv
			i++
		}
		return v, nil
	default:
		items = []envelope.Field{*f}
	}
	v := schema.Value{Kind: schema.Array, Items: sc.values(len(items))}
	for i := range items {
		iv, err := p.coerce(sc, fp, t.Items, &items[i])
		if err != nil {
			return schema.Value{}, fmt.Errorf("item %d %w", i, err)
		}
		v.Items[i] = iv
	}
	return v, nil
}

func (p *Plan) coerceMap(sc *Scratch, fp *fieldPlan, t *schema.Type, f *envelope.Field) (schema.Value, error) {
	if f.Kind != envelope.Raw || !strings.HasPrefix(f.Value, "{") {
		return schema.Value{}, errors.New("is not a JSON object for a map")
	}
	members, err := rawMembers(f.Value)
	if err != nil {
		return schema.Value{}, err
	}
	for i := 1; i < len(members); i++ {
		if members[i].Name == members[i-1].Name {
			// A map holds one value a key: neither is dropped unseen.
			return schema.Value{}, errors.New("has a key more than once")
		}
	}
	v := schema.Value{Kind: schema.Map, Keys: sc.strings(len(members)), Items: sc.values(len(members))}
	for i := range members {
		iv, err := p.coerce(sc, fp, t.Values, &members[i])
		if err != nil {
			return schema.Value{}, fmt.Errorf("key %d %w", i, err)
		}
		v.Keys[i], v.Items[i] = sc.validUTF8(members[i].Name), iv
	}
	return v, nil
}

// rawElements splits a JSON array into fields (strings unquoted).
func rawElements(raw string) ([]envelope.Field, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &elems); err != nil {
		return nil, errors.New("is not a valid JSON array")
	}
	out := make([]envelope.Field, len(elems))
	for i, e := range elems {
		out[i] = rawField("", e)
	}
	return out, nil
}

// rawMembers splits a JSON object into fields (strings unquoted), sorted
// by key, a repeated key's members in their order: each is kept, for the
// caller to place or refuse, never one dropped for another.
func rawMembers(raw string) ([]envelope.Field, error) {
	p := jsonx.Scanner{Data: []byte(raw)}
	var out []envelope.Field
	err := p.Object(func(key string, kind jsonx.Kind, val string) error {
		f := envelope.Field{Name: key, Value: val, Kind: envelope.FieldKind(kind)} // the same kinds
		out = append(out, f)
		return nil
	})
	if p.WS(); err != nil || p.I != len(p.Data) {
		return nil, errors.New("is not a valid JSON object")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func rawField(name string, e json.RawMessage) envelope.Field {
	switch {
	case len(e) > 0 && e[0] == '"':
		// Read as the record's top-level strings are: bytes that are not
		// UTF-8 stay for the field's coercion to replace and flag.
		p := jsonx.Scanner{Data: e}
		s, _ := p.Str()
		return envelope.Field{Name: name, Value: s}
	case string(e) == "null":
		return envelope.Field{Name: name, Kind: envelope.Null}
	}
	return envelope.Field{Name: name, Value: string(e), Kind: envelope.Raw}
}
