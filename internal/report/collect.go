package report

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// maxSamples bounds the sample values and locations kept per field and
// per reason.
const maxSamples = 5

// Collector gathers the transform's observations of a run. Observe and
// Hold are safe for concurrent use.
type Collector struct {
	mu      sync.Mutex
	schemas map[string]*schemaStats
	reasons map[string]*Group
	// last is the schema and object of the last record counted: a batch
	// holds runs of records of one object, counted without a map lookup.
	last struct {
		schema *schema.Schema
		st     *schemaStats
		obj    *objectStats
	}
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{schemas: map[string]*schemaStats{}, reasons: map[string]*Group{}}
}

type schemaStats struct {
	schema  *schema.Schema
	records int64
	ok      int64
	failed  int64
	fields  []FieldStats
	objects map[objectKey]*objectStats
}

type objectKey struct{ bucket, key string }

type objectStats struct {
	key     objectKey
	records int64
	columns map[string]*columnStats
	order   []string
	// layouts are the last column layouts seen, in no order: a file's
	// records share one (CSV) or a few (JSON written by several
	// scrapers), so a record is counted without a map lookup per column.
	layouts [maxLayouts]layout
	next    int // the layout to replace next
}

// maxLayouts bounds the column layouts remembered per object.
const maxLayouts = 8

// layout is the columns of a record, in order, and the records of it
// counted since its columns were last brought up to date (settle): a
// record of a known layout costs two updates, whatever its width.
type layout struct {
	names   []string // the columns' own names
	cols    []*columnStats
	records int64 // records not yet added to the columns
	line    int64 // the lowest line among them
}

// settle adds the layout's records to its columns: each column is at the
// same place in all of them, so the lowest line is where it was seen
// first.
func (l *layout) settle() {
	if l.records == 0 {
		return
	}
	for i, col := range l.cols {
		col.Records += l.records
		col.seenAt(l.line, i)
	}
	l.records = 0
}

// columnStats is a column and where in its object it was first seen: the
// lowest line of a record holding it, and its place in that record.
// Columns are listed in that order, the object's own, whatever order the
// records were observed in (the transform observes a record whose number
// reads by its column's evidence after the rest of its batch).
type columnStats struct {
	Column
	line int64
	pos  int
}

// fieldOutcome is what one record did to one field.
type fieldOutcome uint8

const (
	outNone fieldOutcome = iota
	outDelivered
	outDeliveredCoerced
	outNull
	outDefaulted
	outFailed

	// outPreserved marks a delivered field whose input column is also
	// kept in extra.
	outPreserved fieldOutcome = 1 << 7
)

// digest is what one record adds to the report besides its schema and
// failure, worked out from its observation without the lock. Those two go
// to count apart: count keeps them, and escape analysis, which does not
// tell a struct's fields apart, would then move the arrays Observe cuts
// the digest's slices from to the heap (TestObserveAllocatesNothing).
type digest struct {
	object objectKey
	line   int64
	// columns are the record's input columns; to the schema field each
	// went to, or -1 (none, or one already filled: extra).
	columns []string
	to      []int
	outs    []fieldOutcome // per schema field
	extra   bool           // the schema has an extra map
	// failedValue is the input value of the field the record failed on.
	failedValue string
}

// Observe records one normalised record; pass it to transform.WithObserver
// (or the Collector to transform.WithHoldingObserver). The record is
// classified before the lock is taken, so the transform's workers contend
// only for the counting.
func (c *Collector) Observe(o transform.Observation) {
	var columns [64]string
	var to [64]int
	var outs [32]fieldOutcome
	d := take(o, columns[:0], to[:0], outs[:0])
	c.mu.Lock()
	c.count(o.Plan.Schema, o.Failure, &d)
	c.mu.Unlock()
}

// Hold classifies one record now and returns what counts it, which holds
// nothing of o (transform.Observer): Hold(o)() is Observe(o).
func (c *Collector) Hold(o transform.Observation) func() {
	n := len(o.Fields)
	d := take(o, make([]string, 0, n), make([]int, 0, n), make([]fieldOutcome, 0, len(o.Plan.Schema.Fields)))
	d.own()
	s, failure := o.Plan.Schema, o.Failure
	return func() {
		c.mu.Lock()
		c.count(s, failure, &d)
		c.mu.Unlock()
	}
}

// take classifies o. The digest's slices are appended to those given (the
// caller's memory); its strings alias o's until own.
func take(o transform.Observation, columns []string, to []int, outs []fieldOutcome) digest {
	s := o.Plan.Schema
	n := len(s.Fields)
	var buf [32]int
	present := buf[:0] // input index+1 of each field's column
	if n <= len(buf) {
		present = buf[:n]
	} else {
		present = make([]int, n)
	}
	matched := o.Matched
	for i := range o.Fields {
		name := o.Fields[i].Name
		var k int
		if len(matched) == len(o.Fields) {
			k = matched[i]
		} else {
			k = o.Plan.Lookup(name)
		}
		if k >= 0 && present[k] > 0 {
			k = -1 // a second column for a field already filled goes to extra
		}
		if k >= 0 {
			present[k] = i + 1
		}
		columns = append(columns, name)
		to = append(to, k)
	}
	failedAt := -1
	if o.Failure != nil {
		top, _, _ := strings.Cut(o.Failure.Field, ".")
		failedAt = fieldIndex(s, top)
	}
	extraAt := o.Plan.ExtraIndex()
	var extraKeys []string
	// lengths has bit len%64 set for each extra key's length: a column
	// whose name's bit is clear is not among them, without comparing.
	var lengths uint64
	if o.Failure == nil && extraAt >= 0 && o.Value != nil && extraAt < len(o.Value.Items) {
		extraKeys = o.Value.Items[extraAt].Keys
		for _, k := range extraKeys {
			lengths |= 1 << (len(k) & 63)
		}
	}
	for i := range s.Fields {
		outs = append(outs, outNone)
		name := s.Fields[i].Name
		if name == normalize.ExtraField || name == normalize.ProvenanceField {
			continue
		}
		var in *envelope.Field
		if present[i] > 0 {
			in = &o.Fields[present[i]-1]
		}
		if o.Failure != nil {
			if i == failedAt {
				outs[i] = outFailed
			}
			continue
		}
		if o.Value == nil || i >= len(o.Value.Items) {
			continue
		}
		v := &o.Value.Items[i]
		switch {
		case in == nil && s.Fields[i].HasDefault:
			outs[i] = outDefaulted
		case in == nil, v.Kind == schema.Null:
			outs[i] = outNull
		default:
			outs[i] = outDelivered
			if (in.Kind != envelope.String || v.Kind != schema.String || v.Str != in.Value) &&
				(in.Kind != envelope.Raw || v.Kind == schema.String || rawDiffers(in, v)) {
				outs[i] = outDeliveredCoerced
			}
			if lengths&(1<<(len(in.Name)&63)) != 0 && slices.Contains(extraKeys, in.Name) {
				outs[i] |= outPreserved
			}
		}
	}
	d := digest{columns: columns, to: to, outs: outs, extra: extraAt >= 0}
	if o.Meta != nil && o.Meta.Source != nil {
		d.object, d.line = objectKey{o.Meta.Source.Bucket, o.Meta.Source.Key}, o.Meta.Source.Line
	}
	if failedAt >= 0 && present[failedAt] > 0 {
		d.failedValue = o.Fields[present[failedAt]-1].Value
	}
	return d
}

// own copies the strings d aliases (the transform reuses their memory)
// into one of d's own.
func (d *digest) own() {
	size := len(d.object.bucket) + len(d.object.key) + len(d.failedValue)
	for _, c := range d.columns {
		size += len(c)
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(d.object.bucket)
	b.WriteString(d.object.key)
	b.WriteString(d.failedValue)
	for _, c := range d.columns {
		b.WriteString(c)
	}
	all := b.String()
	cut := func(s string) string {
		s, all = all[:len(s)], all[len(s):]
		return s
	}
	d.object = objectKey{cut(d.object.bucket), cut(d.object.key)}
	d.failedValue = cut(d.failedValue)
	for i, c := range d.columns {
		d.columns[i] = cut(c)
	}
}

// count adds a record of schema s to the report, failed when failure is
// set; the caller holds c.mu.
func (c *Collector) count(s *schema.Schema, failure *normalize.Failure, d *digest) {
	st := c.last.st
	if s != c.last.schema {
		st = c.schemas[s.Name]
		if st == nil {
			st = &schemaStats{schema: s, objects: map[objectKey]*objectStats{}}
			for _, f := range s.Fields {
				st.fields = append(st.fields, FieldStats{Field: f.Name, Type: f.Type.String()})
			}
			c.schemas[s.Name] = st
		}
		c.last.schema, c.last.st, c.last.obj = s, st, nil
	}
	st.records++
	obj := c.last.obj
	if obj == nil || obj.key != d.object {
		obj = st.objects[d.object]
		if obj == nil {
			key := objectKey{strings.Clone(d.object.bucket), strings.Clone(d.object.key)}
			obj = &objectStats{key: key, columns: map[string]*columnStats{}}
			st.objects[key] = obj
		}
		c.last.obj = obj
	}
	obj.records++
	if failure != nil {
		st.failed++
	} else {
		st.ok++
	}
	obj.count(d.columns, d.to, s, d.extra, d.line)

	for i, out := range d.outs {
		fs := &st.fields[i]
		if out&outPreserved != 0 {
			fs.Preserved++
		}
		switch out &^ outPreserved {
		case outDelivered:
			fs.Delivered++
		case outDeliveredCoerced:
			fs.Delivered++
			fs.Coerced++
		case outNull:
			fs.Null++
		case outDefaulted:
			fs.Defaulted++
		case outFailed:
			fs.Failed++
			if len(fs.Samples) < maxSamples {
				fs.Samples = append(fs.Samples, Sample{Object: obj.key.String(), Line: d.line,
					Reason: failure.Reason, Value: strings.Clone(d.failedValue)})
			}
		}
	}

	if failure != nil {
		key := string(failure.Class) + ": " + failure.Error()
		g := c.reasons[key]
		if g == nil {
			g = &Group{Reason: key, Class: string(failure.Class)}
			c.reasons[key] = g
		}
		g.Count++
		if len(g.Where) < maxSamples {
			g.Where = append(g.Where, Sample{Object: obj.key.String(), Line: d.line, Value: strings.Clone(d.failedValue)})
		}
	}
}

func (k objectKey) String() string {
	if k.key == "" {
		return ""
	}
	return k.bucket + "/" + k.key
}

// count adds one record's columns: their names, where each went (to: the
// field index, -1 for none), and how often each was seen.
func (obj *objectStats) count(names []string, to []int, s *schema.Schema, hasExtra bool, line int64) {
	if len(names) == 0 {
		return
	}
	for k := range obj.layouts {
		if l := &obj.layouts[k]; l.is(names) {
			if l.records == 0 || line < l.line {
				l.line = line
			}
			l.records++
			return
		}
	}
	l := &obj.layouts[obj.next]
	obj.next = (obj.next + 1) % maxLayouts
	l.settle()
	l.names, l.cols = l.names[:0], l.cols[:0]
	for i, name := range names {
		col := obj.columns[name]
		if col == nil {
			name := strings.Clone(name) // name may alias the transform's reused buffers
			col = &columnStats{Column: Column{Column: name}, line: line, pos: i}
			switch k := to[i]; {
			case k >= 0:
				col.Field, col.Match = s.Fields[k].Name, matchKind(&s.Fields[k], name)
			case hasExtra:
				col.Field, col.Match = normalize.ExtraField, MatchExtra
			default:
				col.Match = MatchDiscarded
			}
			obj.columns[name] = col
			obj.order = append(obj.order, name)
		}
		col.Records++
		col.seenAt(line, i)
		l.names = append(l.names, col.Column.Column)
		l.cols = append(l.cols, col)
	}
}

// is reports whether names are the layout's columns (never those of a
// layout not filled yet, as names are some).
func (l *layout) is(names []string) bool {
	if len(names) != len(l.names) {
		return false
	}
	for i, name := range names {
		if name != l.names[i] {
			return false
		}
	}
	return true
}

// seenAt notes the column at place pos of a record at line.
func (col *columnStats) seenAt(line int64, pos int) {
	if line < col.line || line == col.line && pos < col.pos {
		col.line, col.pos = line, pos
	}
}

// rawDiffers reports whether a JSON value (a number, true) came out as
// something else than itself: a JSON number delivered as a number is not
// a coercion.
func rawDiffers(in *envelope.Field, v *schema.Value) bool {
	switch v.Kind {
	case schema.Boolean:
		return in.Value != "true" && in.Value != "false"
	case schema.Int, schema.Long:
		return !isInteger(in.Value) // 1.0 or 1e3 read as an integer
	case schema.Float, schema.Double:
		return false
	}
	return true
}

func isInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func fieldIndex(s *schema.Schema, name string) int {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// How an input column reached the record.
const (
	MatchName      = "name"      // the field's own name
	MatchAlias     = "alias"     // one of the field's aliases
	MatchFolded    = "folded"    // the name or an alias, ignoring case, accents, spaces and punctuation
	MatchExtra     = "extra"     // no field: kept in the extra map
	MatchDiscarded = "discarded" // no field and no extra map: lost
)

func matchKind(f *schema.Field, column string) string {
	if column == f.Name {
		return MatchName
	}
	for _, a := range f.Aliases {
		if column == a {
			return MatchAlias
		}
	}
	return MatchFolded
}

// Report builds the report from everything observed.
func (c *Collector) Report() *Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Report{Schemas: []SchemaReport{}, Failures: []Group{}, DeadLetters: []Group{}}
	names := make([]string, 0, len(c.schemas))
	for n := range c.schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := c.schemas[n]
		sr := SchemaReport{Schema: n, Version: st.schema.Version, Records: st.records, Ok: st.ok, Failed: st.failed}
		for _, f := range st.fields {
			if f.Field != normalize.ExtraField && f.Field != normalize.ProvenanceField {
				sr.Fields = append(sr.Fields, f)
			}
		}
		objects := make([]objectKey, 0, len(st.objects))
		for o := range st.objects {
			objects = append(objects, o)
		}
		sort.Slice(objects, func(i, j int) bool { return objects[i].String() < objects[j].String() })
		for _, o := range objects {
			os := st.objects[o]
			for k := range os.layouts {
				os.layouts[k].settle()
			}
			or := ObjectReport{Object: o.String(), Records: os.records}
			// In the object's order; records without a line (bare) keep
			// the order they were seen in.
			sort.SliceStable(os.order, func(i, j int) bool {
				a, b := os.columns[os.order[i]], os.columns[os.order[j]]
				if a.line != b.line {
					return a.line < b.line
				}
				return a.line > 0 && a.pos < b.pos
			})
			for _, col := range os.order {
				or.Columns = append(or.Columns, os.columns[col].Column)
			}
			sr.Objects = append(sr.Objects, or)
		}
		r.Schemas = append(r.Schemas, sr)
	}
	for _, g := range c.reasons {
		r.Failures = append(r.Failures, *g)
	}
	sortGroups(r.Failures)
	return r
}

func sortGroups(gs []Group) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Count != gs[j].Count {
			return gs[i].Count > gs[j].Count
		}
		return gs[i].Reason < gs[j].Reason
	})
}
