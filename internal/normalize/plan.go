package normalize

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// ExtraField and ProvenanceField are the field names with special meaning:
// a map<string> "extra" receives input fields that match no schema field,
// and a "provenance" record receives where the record came from.
const (
	ExtraField      = "extra"
	ProvenanceField = "provenance"
)

// Options tune coercion.
type Options struct {
	// Location is the zone for naive dates and times. Default: UTC.
	Location *time.Location
	// DayFirst reads 03/04/2024 as 3 April rather than March 4. Default: false.
	DayFirst bool
}

// Class groups failure reasons for metrics and logs.
type Class string

// The failure classes.
const (
	ClassCoerce   Class = "coerce"   // a value cannot be read as its field's type
	ClassRequired Class = "required" // a required field is missing
	ClassInvalid  Class = "invalid"  // the record is not a readable object
	ClassSchema   Class = "schema"   // no schema for the record
	ClassValidate Class = "validate" // the normalised record does not encode
	ClassEnrich   Class = "enrich"   // an enrichment failed with on_error: fail
	ClassDeadline Class = "deadline" // the invocation's deadline arrived first
	ClassTooLarge Class = "too_large"
)

// Failure says why a record cannot be made to conform. Reasons never
// contain record values, so they are safe to log.
type Failure struct {
	Field  string
	Reason string
	Class  Class
}

func (f *Failure) Error() string {
	if f.Field == "" {
		return f.Reason
	}
	return f.Field + ": " + f.Reason
}

// Plan is a schema compiled for normalisation. It is immutable and safe for
// concurrent use.
type Plan struct {
	Schema *schema.Schema
	rec    *recordPlan
	opts   Options
}

type recordPlan struct {
	t      *schema.Type
	fields []fieldPlan
	byName map[string]int // canonical name or alias → field index
	extra  int            // index of the extra map field, or -1
	prov   int            // index of the provenance field, or -1
}

type fieldPlan struct {
	name     string
	t        *schema.Type
	required bool
	sub      *recordPlan                // for record-typed fields (or nullable records)
	enum     map[string]int             // canonical symbol → index, for enum types
	nested   map[*schema.Type]*typePlan // enums and records inside arrays, maps, unions
}

type typePlan struct {
	enum map[string]int
	rec  *recordPlan
}

// Compile compiles s.
func Compile(s *schema.Schema, opts Options) (*Plan, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	rec, err := compileRecord(s.Type, true)
	if err != nil {
		return nil, fmt.Errorf("normalize: %s: %w", s.Name, err)
	}
	return &Plan{Schema: s, rec: rec, opts: opts}, nil
}

func compileRecord(t *schema.Type, top bool) (*recordPlan, error) {
	rp := &recordPlan{t: t, byName: map[string]int{}, extra: -1, prov: -1}
	for i, f := range t.Fields {
		fp := fieldPlan{name: f.Name, t: f.Type, required: !f.HasDefault && !f.Type.Nullable()}
		inner, _ := f.Type.NonNull()
		switch {
		case top && f.Name == ExtraField && inner.Kind == schema.Map && inner.Values.Kind == schema.String:
			rp.extra = i
			fp.required = false
		case top && f.Name == ProvenanceField && inner.Kind == schema.Record:
			rp.prov = i
		}
		fp.nested = map[*schema.Type]*typePlan{}
		if err := compileNested(f.Type, fp.nested); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		rp.fields = append(rp.fields, fp)
		if i == rp.extra || i == rp.prov {
			continue
		}
		for _, name := range append([]string{f.Name}, f.Aliases...) {
			key := Canonical(name)
			if _, dup := rp.byName[key]; !dup && key != "" {
				rp.byName[key] = i
			}
		}
	}
	return rp, nil
}

func compileNested(t *schema.Type, into map[*schema.Type]*typePlan) error {
	switch t.Kind {
	case schema.Enum:
		m := map[string]int{}
		for i, s := range t.Symbols {
			if _, dup := m[Canonical(s)]; !dup {
				m[Canonical(s)] = i
			}
		}
		into[t] = &typePlan{enum: m}
	case schema.Record:
		rp, err := compileRecord(t, false)
		if err != nil {
			return err
		}
		into[t] = &typePlan{rec: rp}
	case schema.Array:
		return compileNested(t.Items, into)
	case schema.Map:
		return compileNested(t.Values, into)
	case schema.Union:
		for _, b := range t.Branches {
			if err := compileNested(b, into); err != nil {
				return err
			}
		}
	}
	return nil
}

// Canonical is name lower-cased with everything but letters and digits
// removed: "Shop Name", "shop_name" and "SHOP-NAME" are all "shopname".
func Canonical(name string) string {
	var buf [64]byte
	return string(AppendCanonical(buf[:0], name))
}

// AppendCanonical appends Canonical(name) to dst.
func AppendCanonical(dst []byte, name string) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				dst = append(dst, c)
			case c >= 'A' && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(name[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += size
	}
	return dst
}

// Meta is what the normaliser knows about a record besides its fields.
type Meta struct {
	RecordID string
	Source   *envelope.Source
	Flags    []string
	// Arrival is used as ingested_at when the source has none.
	Arrival time.Time
}

// Lookup returns the schema field index for an input field name, or -1.
func (p *Plan) Lookup(name string) int {
	var buf [64]byte
	if i, ok := p.rec.byName[string(AppendCanonical(buf[:0], name))]; ok {
		return i
	}
	return -1
}
