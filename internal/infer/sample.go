package infer

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/schema"
)

// candidate is a type a column may have; each is tried, value by value,
// with the transform's own coercion.
type candidate int

const (
	candBoolean candidate = iota
	candLong
	candDecimal
	candDouble
	candDate
	candTimestamp
	numCandidates
)

// probeSchema has one nullable field per candidate type: normalising a
// record holding one of them tells whether the transform reads a value as
// that type.
const probeSchema = `{"type":"record","name":"probe","fields":[
 {"name":"c0","type":["null","boolean"],"default":null},
 {"name":"c1","type":["null","long"],"default":null},
 {"name":"c2","type":["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}],"default":null},
 {"name":"c3","type":["null","double"],"default":null},
 {"name":"c4","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"c5","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null}]}`

var probeNames = [numCandidates]string{"c0", "c1", "c2", "c3", "c4", "c5"}

// Sampler collects what the sample files show about each column.
type Sampler struct {
	opts    normalize.Options
	plan    *normalize.Plan
	sc      normalize.Scratch
	probe   [1]envelope.Field
	out     schema.Value
	columns map[string]*column // by canonical name
	order   []*column
	files   []*file
}

// file is one sample file.
type file struct {
	path              string
	records, unparsed int
}

// column is what was seen of one input column (all its spellings).
type column struct {
	canonical string
	spellings []string // in order of first appearance
	files     []*file
	present   int // records with the column
	empty     int // of which empty or a null token
	examples  []string

	alive      [numCandidates]bool
	wordBool   bool // a boolean spelled as a word (yes, true), not only 1/0
	leadZero   bool // a number with a leading zero (a code, not a quantity)
	notNumber  bool // a value whose separators fit no number layout (203.0.113.1)
	fractional bool // a number with a fraction (0.001, 1,5)
	bareNumber bool // a number alone: never read as a date (2024, 01234, 2.00)
	money      bool // a currency symbol or code
	timeOfDay  bool // a timestamp that is not midnight
	fraction   int  // digits after the decimal separator, when all agree; -1 when not
	nonScalars bool // JSON objects or arrays
	jsonArrays bool // JSON arrays only (no objects)
	listSeps   bool // text with ';' or '|', which the transform splits lists at
	commas     bool // text with ',' (which the transform would split at first)

	distinct map[string]string // canonical value → first spelling, up to maxEnum+1
}

// maxEnum caps the symbols an inferred enum may have.
const maxEnum = 64

// NewSampler returns a sampler that coerces with opts (the zone for naive
// times, day-first dates), as the transform will.
func NewSampler(opts normalize.Options) (*Sampler, error) {
	s, err := schema.Parse("probe", 1, []byte(probeSchema))
	if err != nil {
		return nil, err
	}
	plan, err := normalize.Compile(s, opts)
	if err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	return &Sampler{opts: opts, plan: plan, columns: map[string]*column{}}, nil
}

func (s *Sampler) beginFile(path string) *file {
	f := &file{path: path}
	s.files = append(s.files, f)
	return f
}

func (s *Sampler) add(f *file, rec format.Record) {
	f.records++
	for _, fld := range rec.Fields {
		key := normalize.Canonical(fld.Name)
		if key == "" {
			key = "_" + fld.Name
		}
		c := s.columns[key]
		if c == nil {
			c = &column{canonical: key, fraction: 0}
			for i := range c.alive {
				c.alive[i] = true
			}
			s.columns[key] = c
			s.order = append(s.order, c)
		}
		if !containsStr(c.spellings, fld.Name) {
			c.spellings = append(c.spellings, fld.Name)
		}
		if len(c.files) == 0 || c.files[len(c.files)-1] != f {
			c.files = append(c.files, f)
		}
		c.present++
		s.value(c, fld)
		s.sc.Rewind()
	}
}

// value tries one value against every candidate type still possible.
func (s *Sampler) value(c *column, fld envelope.Field) {
	if fld.Kind == envelope.Null || (fld.Kind == envelope.String && isNullToken(fld.Value)) {
		c.empty++
		return
	}
	if len(c.examples) < 3 && !containsStr(c.examples, fld.Value) {
		c.examples = append(c.examples, fld.Value)
	}
	v := strings.TrimSpace(fld.Value)
	if fld.Kind == envelope.Raw && (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[")) {
		if !c.nonScalars {
			c.jsonArrays = true
		}
		c.jsonArrays = c.jsonArrays && strings.HasPrefix(v, "[")
		c.nonScalars = true
		c.alive = [numCandidates]bool{}
		return
	}
	if strings.ContainsAny(v, ";|") {
		c.listSeps = true
	}
	if strings.Contains(v, ",") {
		c.commas = true
	}
	if c.distinct == nil {
		c.distinct = map[string]string{}
	}
	if len(c.distinct) <= maxEnum {
		if k := normalize.Canonical(v); k != "" {
			if _, ok := c.distinct[k]; !ok {
				c.distinct[k] = v
			}
		} else {
			c.distinct["\x00"+v] = v // no letters or digits: cannot be a symbol
		}
	}
	if len(v) > 1 && v[0] == '0' && isDigit(v[1]) {
		c.leadZero = true
	}
	if hasLetter(v) {
		c.wordBool = true // only matters while boolean is still possible
	}
	switch numberShape(v) {
	case shapeNone:
		c.notNumber = true
	case shapeFraction:
		c.fractional = true
		c.bareNumber = c.bareNumber || isPlainNumber(v)
	case shapeInteger:
		c.bareNumber = c.bareNumber || isPlainNumber(v)
	}
	if hasCurrency(v) {
		c.money = true
	}
	switch n := fractionDigits(v); {
	case n < 0:
	case c.fraction == 0:
		c.fraction = n
	case c.fraction != n:
		c.fraction = -1
	}
	for k := candidate(0); k < numCandidates; k++ {
		if !c.alive[k] {
			continue
		}
		s.probe[0] = envelope.Field{Name: probeNames[k], Value: fld.Value, Kind: fld.Kind}
		if fail := s.plan.Normalize(&s.sc, s.probe[:], nil, &s.out); fail != nil {
			c.alive[k] = false
			continue
		}
		got := s.out.Items[k]
		if got.Kind == schema.Null {
			c.alive[k] = false // read as "no value": not this type
			continue
		}
		if k == candDouble && (math.IsNaN(got.Float) || math.IsInf(got.Float, 0)) {
			c.alive[k] = false
		}
		if k == candTimestamp {
			t := time.UnixMilli(got.Int).In(s.opts.Location)
			if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
				c.timeOfDay = true
			}
		}
	}
}

// The layouts of a number's separators.
const (
	shapeInteger  = iota // 1299, 1,299, 1.299.000 (groups of three)
	shapeFraction        // 0.001, 12,50, 1.234,50
	shapeNone            // 203.0.113.1, 1.2.3: no number
)

// numberShape reads the separators of the number in s (currency, sign and
// spaces around it ignored): only groups of three between grouping
// separators, and at most one decimal separator after them.
func numberShape(s string) int {
	start := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	end := strings.LastIndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if start < 0 {
		return shapeNone
	}
	core := s[start : end+1]
	var groups []string
	var seps []byte
	last := 0
	for i := 0; i < len(core); i++ {
		c := core[i]
		if isDigit(c) {
			continue
		}
		if c != '.' && c != ',' && c != '\'' && c != ' ' {
			return shapeNone // letters or symbols inside the number
		}
		groups, seps = append(groups, core[last:i]), append(seps, c)
		last = i + 1
	}
	groups = append(groups, core[last:])
	if len(seps) == 0 {
		return shapeInteger
	}
	for _, g := range groups {
		if g == "" {
			return shapeNone
		}
	}
	lead := groups[0]
	groupingLead := len(lead) <= 3 && (lead[0] != '0')
	n := len(seps)
	if seps[n-1] != seps[0] || (n == 1 && len(groups[1]) != 3) || (n == 1 && !groupingLead) {
		// The last separator is a decimal one: the rest must be grouping.
		for i := 1; i < n; i++ {
			if len(groups[i]) != 3 || seps[i-1] != seps[0] {
				return shapeNone
			}
		}
		if n > 1 && !groupingLead {
			return shapeNone
		}
		return shapeFraction
	}
	for i := 1; i <= n; i++ {
		if len(groups[i]) != 3 || seps[i-1] != seps[0] {
			return shapeNone
		}
	}
	if !groupingLead {
		return shapeNone
	}
	return shapeInteger
}

// isPlainNumber reports digits and separators only, with an optional sign.
func isPlainNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' && s[i] != ',' {
			return false
		}
	}
	return s != ""
}

// isNullToken mirrors the transform's: the strings that mean "no value".
func isNullToken(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == "-" || strings.EqualFold(s, "n/a") || strings.EqualFold(s, "null")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// hasCurrency reports a currency symbol, or a three-letter code beside the
// number (12.50 EUR).
func hasCurrency(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Sc, r) {
			return true
		}
	}
	fields := strings.Fields(s)
	for _, f := range fields {
		if len(f) == 3 && strings.ToUpper(f) == f && hasLetter(f) && len(fields) == 2 {
			return true
		}
	}
	return false
}

// fractionDigits is the number of digits after the last '.' or ',' of a
// number when they are one, two or four (a fraction); 0 for none or three
// (a thousands group, as in 1,299); -1 when s is no plain number.
func fractionDigits(s string) int {
	end := len(s)
	for end > 0 && !isDigit(s[end-1]) {
		end--
	}
	if end == 0 {
		return -1
	}
	i := end
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i == 0 || (s[i-1] != '.' && s[i-1] != ',') {
		return 0
	}
	if n := end - i; n != 3 {
		return n
	}
	return 0
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// shorten cuts a doc example to n runes.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
