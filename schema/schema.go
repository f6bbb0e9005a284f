package schema

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/hamba/avro/v2"
)

// Kind is an Avro type.
type Kind uint8

// The Avro kinds sluice handles. Fixed is read as bytes.
const (
	Null Kind = iota
	Boolean
	Int
	Long
	Float
	Double
	Bytes
	String
	Enum
	Array
	Map
	Record
	Union
	Fixed
)

var kindNames = [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string", "enum", "array", "map", "record", "union", "fixed"}

func (k Kind) String() string { return kindNames[k] }

// Logical is an Avro logical type.
type Logical uint8

// The logical types sluice coerces to.
const (
	NoLogical Logical = iota
	Date
	TimestampMillis
	TimestampMicros
	Decimal
	UUID
)

// Type describes one Avro type.
type Type struct {
	Kind    Kind
	Logical Logical
	// Name is the full name of a record, enum or fixed.
	Name string
	// Precision and Scale describe a decimal.
	Precision, Scale int
	// Size is a fixed's size in bytes.
	Size int
	// Symbols and EnumDefault describe an enum (EnumDefault is -1 if none).
	Symbols     []string
	EnumDefault int
	// Items is an array's item type; Values a map's value type.
	Items, Values *Type
	// Fields are a record's fields.
	Fields []Field
	// Branches are a union's types.
	Branches []*Type

	// out is a record's fields as the JSON writers walk them, side by
	// side in one list: each one's key (with the comma before it, for all
	// but the first) and type. Parse makes every record type with it.
	out []fieldOut
}

// fieldOut is one record field for the JSON writer.
type fieldOut struct {
	key []byte // ,"name": (no comma for the first field)
	t   *Type
}

// Field is one record field.
type Field struct {
	Name    string
	Aliases []string
	// InputAliases are further input names from the field's "sluice.aliases"
	// property: names Avro cannot hold ("Catégorie", "Цена", "Prix (€)"),
	// matched only against input, never by Avro schema resolution.
	InputAliases []string
	Doc          string
	Type         *Type
	// HasDefault reports whether Default is set; Default is the field's
	// default as a Value.
	HasDefault bool
	Default    Value
}

// InputAliasesProperty is the field property listing input names Avro's
// aliases cannot hold.
const InputAliasesProperty = "sluice.aliases"

// NonNull returns the single non-null branch of a ["null", T] union and
// true, or t itself and false.
func (t *Type) NonNull() (*Type, bool) {
	if t.Kind != Union {
		return t, false
	}
	var inner *Type
	nullable := false
	for _, b := range t.Branches {
		if b.Kind == Null {
			nullable = true
		} else if inner == nil {
			inner = b
		} else {
			return t, nullable
		}
	}
	if inner == nil {
		return t, nullable
	}
	return inner, nullable
}

// Nullable reports whether null is a valid value of t.
func (t *Type) Nullable() bool {
	if t.Kind == Null {
		return true
	}
	if t.Kind != Union {
		return false
	}
	for _, b := range t.Branches {
		if b.Kind == Null {
			return true
		}
	}
	return false
}

// String describes t for error messages, e.g. "double" or "int (date)".
func (t *Type) String() string {
	switch {
	case t.Kind == Union:
		s := "union["
		for i, b := range t.Branches {
			if i > 0 {
				s += ","
			}
			s += b.String()
		}
		return s + "]"
	case t.Logical == Date:
		return "date"
	case t.Logical == TimestampMillis:
		return "timestamp-millis"
	case t.Logical == TimestampMicros:
		return "timestamp-micros"
	case t.Logical == Decimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case t.Kind == Array:
		return "array<" + t.Items.String() + ">"
	case t.Kind == Map:
		return "map<" + t.Values.String() + ">"
	case t.Kind == Enum || t.Kind == Record:
		return t.Kind.String() + " " + t.Name
	}
	return t.Kind.String()
}

// Schema is one version of a named record schema.
type Schema struct {
	// Name is the schema's name as used in config and envelopes.
	Name string
	// Version is the N of <name>.v<N>.avsc.
	Version int
	Doc     string
	// Type is the record type; Fields is Type.Fields.
	Type   *Type
	Fields []Field
	// Source is the .avsc text.
	Source []byte

	avro avro.Schema
}

// Parse parses an .avsc document as version version of schema name.
func Parse(name string, version int, src []byte) (_ *Schema, err error) {
	// hamba/avro panics on some malformed schemas (an empty union with a
	// default); a bad .avsc must be an error naming the file, not a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schema: %s v%d: not a valid Avro schema (%v)", name, version, r)
		}
	}()
	if err := checkJSON(src); err != nil {
		return nil, fmt.Errorf("schema: %s v%d: %w", name, version, err)
	}
	as, err := avro.ParseBytesWithCache(src, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("schema: %s v%d: %w", name, version, explainDefault(src, err))
	}
	rec, ok := as.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("schema: %s v%d: top level must be a record, got %s", name, version, as.Type())
	}
	if rec.Name() != name {
		return nil, fmt.Errorf("schema: %s v%d: record is named %q; it must match its file name %q", name, version, rec.Name(), name)
	}
	t, err := convert(as)
	if err != nil {
		return nil, fmt.Errorf("schema: %s v%d: %w", name, version, err)
	}
	return &Schema{Name: name, Version: version, Doc: rec.Doc(), Type: t, Fields: t.Fields, Source: src, avro: as}, nil
}

// Field returns the field called name.
func (s *Schema) Field(name string) (*Field, bool) {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i], true
		}
	}
	return nil, false
}

// String returns the schema's canonical form.
func (s *Schema) String() string { return s.avro.String() }

func convert(as avro.Schema) (*Type, error) {
	switch s := as.(type) {
	case *avro.RefSchema:
		return convert(s.Schema())
	case *avro.NullSchema:
		// hamba/avro gives null its own type, not a PrimitiveSchema.
		return &Type{Kind: Null}, nil
	case *avro.PrimitiveSchema:
		t := &Type{}
		switch s.Type() {
		case avro.Null:
			t.Kind = Null
		case avro.Boolean:
			t.Kind = Boolean
		case avro.Int:
			t.Kind = Int
		case avro.Long:
			t.Kind = Long
		case avro.Float:
			t.Kind = Float
		case avro.Double:
			t.Kind = Double
		case avro.Bytes:
			t.Kind = Bytes
		case avro.String:
			t.Kind = String
		}
		if l := s.Logical(); l != nil {
			switch l.Type() {
			case avro.Date:
				t.Logical = Date
			case avro.TimestampMillis:
				t.Logical = TimestampMillis
			case avro.TimestampMicros:
				t.Logical = TimestampMicros
			case avro.UUID:
				t.Logical = UUID
			case avro.Decimal:
				d := l.(*avro.DecimalLogicalSchema)
				t.Logical, t.Precision, t.Scale = Decimal, d.Precision(), d.Scale()
			}
		}
		return t, nil
	case *avro.EnumSchema:
		t := &Type{Kind: Enum, Name: s.FullName(), Symbols: s.Symbols(), EnumDefault: -1}
		if s.HasDefault() {
			for i, sym := range t.Symbols {
				if sym == s.Default() {
					t.EnumDefault = i
				}
			}
		}
		return t, nil
	case *avro.FixedSchema:
		return &Type{Kind: Fixed, Name: s.FullName(), Size: s.Size()}, nil
	case *avro.ArraySchema:
		items, err := convert(s.Items())
		return &Type{Kind: Array, Items: items}, err
	case *avro.MapSchema:
		vals, err := convert(s.Values())
		return &Type{Kind: Map, Values: vals}, err
	case *avro.UnionSchema:
		t := &Type{Kind: Union}
		for _, b := range s.Types() {
			bt, err := convert(b)
			if err != nil {
				return nil, err
			}
			t.Branches = append(t.Branches, bt)
		}
		return t, nil
	case *avro.RecordSchema:
		t := &Type{Kind: Record, Name: s.FullName()}
		for _, f := range s.Fields() {
			ft, err := convert(f.Type())
			if err != nil {
				return nil, err
			}
			field := Field{Name: f.Name(), Aliases: f.Aliases(), Doc: f.Doc(), Type: ft}
			if prop := f.Prop(InputAliasesProperty); prop != nil {
				list, ok := prop.([]any)
				for _, a := range list {
					name, isString := a.(string)
					ok = ok && isString
					field.InputAliases = append(field.InputAliases, name)
				}
				if !ok {
					return nil, fmt.Errorf("field %s: %q must be an array of strings", f.Name(), InputAliasesProperty)
				}
			}
			if f.HasDefault() {
				def, err := FromNative(ft, f.Default())
				if err != nil {
					return nil, fmt.Errorf("field %s: default: %w", f.Name(), err)
				}
				field.HasDefault, field.Default = true, def
			}
			t.Fields = append(t.Fields, field)
		}
		t.out = make([]fieldOut, len(t.Fields))
		for i := range t.Fields {
			var key []byte
			if i > 0 {
				key = []byte{','}
			}
			key = append(AppendString(key, t.Fields[i].Name), ':')
			t.out[i] = fieldOut{key: key, t: t.Fields[i].Type}
		}
		return t, nil
	}
	return nil, fmt.Errorf("unsupported schema %s", as.Type())
}

//go:embed avsc/*.avsc
var shipped embed.FS

// Shipped returns the schemas built into sluice.
func Shipped() (*Registry, error) { return Load(shipped, "avsc") }

// Registry holds every version of every schema.
type Registry struct {
	versions map[string][]*Schema // ascending by version
}

var fileName = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.v([0-9]+)\.avsc$`)

// LoadDir reads every <name>.v<N>.avsc file in the directory dir; errors
// name the file (dir/listing.v2.avsc:4:28: ...).
func LoadDir(dir string) (*Registry, error) {
	return load(os.DirFS(dir), ".", dir)
}

// Load reads every <name>.v<N>.avsc file in dir of fsys.
func Load(fsys fs.FS, dir string) (*Registry, error) { return load(fsys, dir, dir) }

func load(fsys fs.FS, dir, shown string) (*Registry, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("schema: %s: %w", shown, err)
	}
	r := &Registry{versions: map[string][]*Schema{}}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".avsc" {
			continue
		}
		file := filepath.Join(shown, e.Name())
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("schema: %s: name must be <schema>.v<N>.avsc", file)
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		v, _ := strconv.Atoi(m[2])
		s, err := Parse(m[1], v, src)
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("schema: %s:%w", file, se)
		}
		if err != nil {
			return nil, fmt.Errorf("%w (in %s)", err, file)
		}
		r.versions[s.Name] = append(r.versions[s.Name], s)
	}
	if len(r.versions) == 0 {
		return nil, fmt.Errorf("schema: no <schema>.v<N>.avsc files in %s", shown)
	}
	for _, vs := range r.versions {
		sort.Slice(vs, func(i, j int) bool { return vs[i].Version < vs[j].Version })
	}
	return r, nil
}

// Latest returns the newest version of the named schema.
func (r *Registry) Latest(name string) (*Schema, bool) {
	vs := r.versions[name]
	if len(vs) == 0 {
		return nil, false
	}
	return vs[len(vs)-1], true
}

// Add adds a schema made elsewhere (a rollup's generated schema) as its
// name's newest version. A name that already has versions is an error:
// generated and written schemas must not mix.
func (r *Registry) Add(s *Schema) error {
	if r.Has(s.Name) {
		return fmt.Errorf("schema: %s already exists", s.Name)
	}
	r.versions[s.Name] = []*Schema{s}
	return nil
}

// Has reports whether a schema called name exists.
func (r *Registry) Has(name string) bool { return len(r.versions[name]) > 0 }

// Versions returns every version of name, oldest first.
func (r *Registry) Versions(name string) []*Schema { return r.versions[name] }

// Names returns the schema names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.versions))
	for n := range r.versions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrIncompatible is wrapped by CheckCompatible's errors.
var ErrIncompatible = errors.New("schema: incompatible")

// CheckCompatible reports whether readers using newer can read data written
// with older (backward compatibility).
func CheckCompatible(older, newer *Schema) error {
	if err := avro.NewSchemaCompatibility().Compatible(newer.avro, older.avro); err != nil {
		return fmt.Errorf("%w: %s v%d cannot read %s v%d data: %v", ErrIncompatible, newer.Name, newer.Version, older.Name, older.Version, err)
	}
	return nil
}

// CheckVersions checks every consecutive pair of versions of every schema.
func (r *Registry) CheckVersions() error {
	var errs []error
	for _, name := range r.Names() {
		vs := r.versions[name]
		for i := 1; i < len(vs); i++ {
			if err := CheckCompatible(vs[i-1], vs[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
