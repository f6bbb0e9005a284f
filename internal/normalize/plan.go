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

// Options tune how values are read. The zero value is the default; a
// route may have its own (routes[].day_first, locale, timezone, trim).
type Options struct {
	// Location is the zone for naive dates and times. Default: UTC.
	Location *time.Location
	// DayFirst reads 03/04/2024 as 3 April rather than March 4. Default: false.
	DayFirst bool
	// Locale, when set, says which separator is the decimal mark in a
	// number that does not show it itself ("1.299", "1,299") and adds its
	// language's words for true and false. Default: none: such a number
	// is read by the other values of its column, else the record fails.
	Locale *Locale
	// KeepSpaces keeps whitespace around text values. Default: false:
	// text values are trimmed.
	KeepSpaces bool
	// DateLayouts are Go time layouts tried first for dates and
	// timestamps: the only way a number such as a bare year ("2006") is
	// read as a date. Default: none.
	DateLayouts []string
	// EpochFrom and EpochUntil are the years within which a number in a
	// date or timestamp field is read as epoch seconds, milliseconds or
	// microseconds (the first that lands in the window). Defaults: 1990
	// and 2100.
	EpochFrom, EpochUntil int
}

// epochYears returns the plausible epoch years, defaults applied.
func (o *Options) epochYears() (from, until int) {
	from, until = o.EpochFrom, o.EpochUntil
	if from == 0 {
		from = 1990
	}
	if until == 0 {
		until = 2100
	}
	return from, until
}

// epochWindow returns the plausible epoch range in seconds.
func (o *Options) epochWindow() (from, until int64) {
	y0, y1 := o.epochYears()
	return daysFromCivil(y0, 1, 1) * 86400, daysFromCivil(y1+1, 1, 1)*86400 - 1
}

// daysFromCivil is the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm), without time.Date's cost.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Columns tells, for a column of the record's source object, the decimal
// mark its values show by themselves ('.' or ','), or 0 when none shows
// one or they disagree. The transform answers it from the batch.
type Columns interface {
	Decimal(column string) byte
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
	prov     []provPart                 // for the provenance field: what each of its fields holds
}

// provPart is what a field of the provenance record holds.
type provPart uint8

const (
	provOther provPart = iota // none sluice fills: its default, else null
	provRecordID
	provBucket
	provKey
	provVersion
	provETag
	provFormat
	provLine
	provOffset
	provIngestedAt
)

var provenanceParts = map[string]provPart{
	"record_id": provRecordID, "bucket": provBucket, "key": provKey, "version": provVersion, "etag": provETag,
	"format": provFormat, "line": provLine, "offset": provOffset, "ingested_at": provIngestedAt,
}

type typePlan struct {
	enum map[string]int
	rec  *recordPlan
}

// defaults fills what is unset.
func (o *Options) defaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
}

// CheckSchema reports what would make s lose input: an extra field that
// is not a map of strings is an error (values that are not of its type
// would be dropped); no extra field at all is a warning (columns that
// match no field are discarded, counted as FieldsDiscarded).
func CheckSchema(s *schema.Schema) (warning string, err error) {
	if _, err := Compile(s, Options{}); err != nil {
		return "", err
	}
	if _, ok := s.Field(ExtraField); !ok {
		return fmt.Sprintf("%s v%d has no %q map<string> field: input columns that match no field will be discarded (counted, and named by sluice run); add one to keep them", s.Name, s.Version, ExtraField), nil
	}
	return "", nil
}

// Compile compiles s.
func Compile(s *schema.Schema, opts Options) (*Plan, error) {
	opts.defaults()
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
		case top && f.Name == ExtraField:
			if inner.Kind != schema.Map || inner.Values.Kind != schema.String {
				return nil, fmt.Errorf("field %s is %s; it must be a map of strings (map<string>) to keep input columns that match no field", ExtraField, f.Type)
			}
			rp.extra = i
			fp.required = false
		case top && f.Name == ProvenanceField && inner.Kind == schema.Record:
			rp.prov = i
			for _, pf := range inner.Fields {
				fp.prov = append(fp.prov, provenanceParts[pf.Name])
			}
		}
		fp.nested = map[*schema.Type]*typePlan{}
		if err := compileNested(f.Type, fp.nested); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		rp.fields = append(rp.fields, fp)
		if i == rp.extra || i == rp.prov {
			continue
		}
		names := append(append([]string{f.Name}, f.Aliases...), f.InputAliases...)
		for _, name := range names {
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

// Canonical is name lower-cased, with accents folded ("é" is "e", "ß" is
// "ss") and everything but letters and digits removed: "Shop Name",
// "shop_name" and "SHOP-NAME" are all "shopname"; "Catégorie" and
// "CATEGORIE" are both "categorie".
func Canonical(name string) string {
	var buf [64]byte
	return string(AppendCanonical(buf[:0], name))
}

// IsCanonical reports whether Canonical(name) is canon, without writing
// it: a name that differs is mostly told at its first letter.
func IsCanonical(name, canon string) bool {
	j := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			var buf [64]byte
			return string(AppendCanonical(buf[:0], name)) == canon
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			continue
		}
		if j == len(canon) || canon[j] != c {
			return false
		}
		j++
	}
	return j == len(canon)
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
			dst = appendFolded(dst, r)
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
	// Options, when set, replace the plan's (the record's route has its own).
	Options *Options
	// Columns, when set, tells the convention of the record's columns.
	Columns Columns
}

// ExtraIndex returns the index of the schema's extra map field, or -1.
func (p *Plan) ExtraIndex() int { return p.rec.extra }

// Lookup returns the schema field index for an input field name, or -1.
func (p *Plan) Lookup(name string) int {
	var buf [64]byte
	if i, ok := p.rec.byName[string(AppendCanonical(buf[:0], name))]; ok {
		return i
	}
	return -1
}
