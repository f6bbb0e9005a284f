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

// Collector gathers the transform's observations of a run. Observe counts
// a record into the run's total under a lock; NewTally gives each of the
// transform's workers a tally of its own (transform.WithTallier), which
// counts without it and adds its counts to the total once per batch. All
// are safe for concurrent use.
//
// The report does not depend on the order the records come in, nor on how
// they are spread over tallies, so a run makes the same report on one core
// or many: counts add up; a column's place and the field it went to are
// those of its first occurrence, by line and place in the line; samples
// are the first by object, line and value.
type Collector struct {
	mu    sync.Mutex
	total tally
}

// tally is counts of records: the run's total, or a worker's since its
// last flush.
type tally struct {
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
	c := &Collector{}
	c.total.init()
	return c
}

func (t *tally) init() {
	t.schemas, t.reasons = map[string]*schemaStats{}, map[string]*Group{}
	t.last.schema, t.last.st, t.last.obj = nil, nil, nil
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
	name    string // key.String()
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
	targets []target // where each column went in these records
	records int64    // records not yet added to the columns
	line    int64    // the lowest line among them
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
		col.seenAt(l.line, i, l.targets[i])
	}
	l.records = 0
}

// columnStats is a column and where in its object it was first seen: the
// lowest line of a record holding it, and its place in that record.
// Columns are listed in that order, the object's own, whatever order the
// records were observed in (the transform observes a record whose number
// reads by its column's evidence after the rest of its batch, and batches
// run at once). Its Field and Match are where it went there: a column
// that repeats a field's (a second "price") goes to extra in the records
// that have both.
type columnStats struct {
	Column
	line int64
	pos  int
}

// target is where a column went: a field and how it matched.
type target struct{ field, match string }

func (t target) less(u target) bool {
	return t.field < u.field || t.field == u.field && t.match < u.match
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

// Observe records one normalised record; pass it to
// transform.WithObserver (or the Collector to transform.WithTallier). The
// record is classified before the lock is taken, so the callers contend
// only for the counting.
func (c *Collector) Observe(o transform.Observation) {
	var columns [64]string
	var to [64]int
	var outs [32]fieldOutcome
	d := take(o, columns[:0], to[:0], outs[:0])
	c.mu.Lock()
	c.total.count(o.Plan.Schema, o.Failure, &d)
	c.mu.Unlock()
}

// NewTally returns a tally that counts for c (transform.Tallier).
func (c *Collector) NewTally() transform.Tally {
	t := &Tally{c: c}
	t.t.init()
	return t
}

// Tally is one transform worker's counts (transform.Tally): it counts
// without a lock, and Flush adds its counts to its Collector's.
type Tally struct {
	c    *Collector
	t    tally
	held []heldDigest
	// outs holds the held digests' outcomes, reused after a flush;
	// columns and to are Hold's scratch memory.
	outs    []fieldOutcome
	columns []string
	to      []int
	// layouts are the columns, and where they went, of the last held
	// records of different columns, copied, and lastObject the last one's
	// object: a held record shares them when its own are the same, as in
	// a batch they mostly are (JSON lines from a few scrapers interleave
	// a few layouts).
	layouts    [maxLayouts]heldLayout
	next       int // the layout to replace next
	lastObject objectKey
}

type heldLayout struct {
	columns []string
	to      []int
}

// heldDigest is a held record, classified, waiting to be counted.
type heldDigest struct {
	schema  *schema.Schema
	failure *normalize.Failure
	d       digest
}

// Observe counts one record.
func (t *Tally) Observe(o transform.Observation) {
	var columns [64]string
	var to [64]int
	var outs [32]fieldOutcome
	d := take(o, columns[:0], to[:0], outs[:0])
	t.t.count(o.Plan.Schema, o.Failure, &d)
}

// Hold classifies one record now, keeping nothing of o, and returns the
// ticket that Count counts it by.
func (t *Tally) Hold(o transform.Observation) int {
	o0 := len(t.outs)
	d := take(o, t.columns[:0], t.to[:0], t.outs)
	t.columns, t.to, t.outs = d.columns, d.to, d.outs
	d.outs = d.outs[o0:]
	t.own(&d)
	t.held = append(t.held, heldDigest{schema: o.Plan.Schema, failure: o.Failure, d: d})
	return len(t.held) - 1
}

// Count counts the record held under ticket.
func (t *Tally) Count(ticket int) {
	h := &t.held[ticket]
	t.t.count(h.schema, h.failure, &h.d)
}

// Flush adds what t counted to its Collector's total, and forgets it and
// the records held and not counted.
func (t *Tally) Flush() {
	t.c.mu.Lock()
	t.c.total.merge(&t.t)
	t.c.mu.Unlock()
	t.Reset()
}

// Reset forgets what t counted and held since its last flush.
func (t *Tally) Reset() {
	t.t.init()
	t.held = t.held[:0]
	clear(t.columns)
	t.outs = t.outs[:0]
}

// own replaces d's columns, which alias the transform's memory (reused)
// and Hold's, by copies: the last held record's when they are the same.
func (t *Tally) own(d *digest) {
	l := t.layout(d.columns, d.to)
	d.columns, d.to = l.columns, l.to
	if d.object != t.lastObject {
		t.lastObject = objectKey{strings.Clone(d.object.bucket), strings.Clone(d.object.key)}
	}
	d.object = t.lastObject
	d.failedValue = strings.Clone(d.failedValue)
}

// layout returns the copy of columns and to that t keeps, making one if
// it has none.
func (t *Tally) layout(columns []string, to []int) *heldLayout {
	for k := range t.layouts {
		if l := &t.layouts[k]; l.columns != nil && slices.Equal(l.columns, columns) && slices.Equal(l.to, to) {
			return l
		}
	}
	l := &t.layouts[t.next]
	t.next = (t.next + 1) % maxLayouts
	// Not the held records' memory: they keep the copy they were given.
	*l = heldLayout{columns: cloneAll(columns), to: slices.Clone(to)}
	return l
}

// cloneAll copies names into one string of their own.
func cloneAll(names []string) []string {
	size := 0
	for _, n := range names {
		size += len(n)
	}
	var b strings.Builder
	b.Grow(size)
	for _, n := range names {
		b.WriteString(n)
	}
	all := b.String()
	out := make([]string, len(names))
	for i, n := range names {
		out[i], all = all[:len(n)], all[len(n):]
	}
	return out
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
		at := len(outs) - 1 // this field's outcome
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
				outs[at] = outFailed
			}
			continue
		}
		if o.Value == nil || i >= len(o.Value.Items) {
			continue
		}
		v := &o.Value.Items[i]
		switch {
		case in == nil && s.Fields[i].HasDefault:
			outs[at] = outDefaulted
		case in == nil, v.Kind == schema.Null:
			outs[at] = outNull
		default:
			outs[at] = outDelivered
			if (in.Kind != envelope.String || v.Kind != schema.String || v.Str != in.Value) &&
				(in.Kind != envelope.Raw || v.Kind == schema.String || rawDiffers(in, v)) {
				outs[at] = outDeliveredCoerced
			}
			if lengths&(1<<(len(in.Name)&63)) != 0 && slices.Contains(extraKeys, in.Name) {
				outs[at] |= outPreserved
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

// count adds a record of schema s to the report, failed when failure is
// set; the caller holds the lock of the tally, if it has one.
func (c *tally) count(s *schema.Schema, failure *normalize.Failure, d *digest) {
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
			obj = &objectStats{key: key, name: key.String(), columns: map[string]*columnStats{}}
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
			fs.Samples = addSample(fs.Samples, Sample{Object: obj.name, Line: d.line, Reason: failure.Reason}, d.failedValue)
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
		g.Where = addSample(g.Where, Sample{Object: obj.name, Line: d.line}, d.failedValue)
	}
}

// addSample adds s with value to samples, which are kept in order of
// object, line, value and reason, at most maxSamples of them; the value
// it keeps is a copy. (value is apart from s so that escape analysis sees
// it is not kept: the caller's memory stays on its stack.)
func addSample(samples []Sample, s Sample, value string) []Sample {
	i := len(samples)
	for i > 0 && sampleBefore(&s, value, &samples[i-1]) {
		i--
	}
	if i >= maxSamples {
		return samples
	}
	s.Value = strings.Clone(value)
	if len(samples) < maxSamples {
		samples = append(samples, Sample{})
	}
	copy(samples[i+1:], samples[i:])
	samples[i] = s
	return samples
}

// sampleBefore reports whether s, with value, comes before t.
func sampleBefore(s *Sample, value string, t *Sample) bool {
	if s.Object != t.Object {
		return s.Object < t.Object
	}
	if s.Line != t.Line {
		return s.Line < t.Line
	}
	if value != t.Value {
		return value < t.Value
	}
	return s.Reason < t.Reason
}

// merge adds what src counted to t. src gives up its records: those t
// lacks are moved, not copied, and src is to be emptied (init) after.
func (t *tally) merge(src *tally) {
	for name, s := range src.schemas {
		for _, obj := range s.objects {
			for k := range obj.layouts {
				obj.layouts[k].settle()
			}
		}
		d := t.schemas[name]
		if d == nil {
			t.schemas[name] = s
			continue
		}
		d.records += s.records
		d.ok += s.ok
		d.failed += s.failed
		for i := range d.fields {
			d.fields[i].add(&s.fields[i])
		}
		for key, so := range s.objects {
			do := d.objects[key]
			if do == nil {
				d.objects[key] = so
				continue
			}
			do.records += so.records
			for _, name := range so.order {
				sc, dc := so.columns[name], do.columns[name]
				if dc == nil {
					do.columns[name] = sc
					do.order = append(do.order, name)
					continue
				}
				dc.Records += sc.Records
				dc.seenAt(sc.line, sc.pos, target{sc.Field, sc.Match})
			}
		}
	}
	for key, g := range src.reasons {
		d := t.reasons[key]
		if d == nil {
			t.reasons[key] = g
			continue
		}
		d.Count += g.Count
		for _, w := range g.Where {
			d.Where = addSample(d.Where, w, w.Value)
		}
	}
}

// add adds o's counts and samples to f's.
func (f *FieldStats) add(o *FieldStats) {
	f.Delivered += o.Delivered
	f.Coerced += o.Coerced
	f.Null += o.Null
	f.Defaulted += o.Defaulted
	f.Preserved += o.Preserved
	f.Failed += o.Failed
	for _, s := range o.Samples {
		f.Samples = addSample(f.Samples, s, s.Value)
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
	l.names, l.cols, l.targets = l.names[:0], l.cols[:0], l.targets[:0]
	for i, name := range names {
		var tg target
		switch k := to[i]; {
		case k >= 0:
			tg = target{s.Fields[k].Name, matchKind(&s.Fields[k], name)}
		case hasExtra:
			tg = target{normalize.ExtraField, MatchExtra}
		default:
			tg = target{"", MatchDiscarded}
		}
		col := obj.columns[name]
		if col == nil {
			name := strings.Clone(name) // name may alias the transform's reused buffers
			col = &columnStats{Column: Column{Column: name, Field: tg.field, Match: tg.match}, line: line, pos: i}
			obj.columns[name] = col
			obj.order = append(obj.order, name)
		}
		col.Records++
		col.seenAt(line, i, tg)
		l.names = append(l.names, col.Column.Column)
		l.cols = append(l.cols, col)
		l.targets = append(l.targets, tg)
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

// seenAt notes the column at place pos of a record at line, where it went
// to tg: the first place, with where it went there, is kept.
func (col *columnStats) seenAt(line int64, pos int, tg target) {
	if line < col.line || line == col.line && (pos < col.pos || pos == col.pos && tg.less(target{col.Field, col.Match})) {
		col.line, col.pos, col.Field, col.Match = line, pos, tg.field, tg.match
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
	t := &c.total
	r := &Report{Schemas: []SchemaReport{}, Failures: []Group{}, DeadLetters: []Group{}}
	names := make([]string, 0, len(t.schemas))
	for n := range t.schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := t.schemas[n]
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
			// In the object's order (by name where two records give one
			// line); records without a line (bare) keep the order they
			// were seen in.
			sort.SliceStable(os.order, func(i, j int) bool {
				a, b := os.columns[os.order[i]], os.columns[os.order[j]]
				switch {
				case a.line != b.line:
					return a.line < b.line
				case a.line == 0:
					return false
				case a.pos != b.pos:
					return a.pos < b.pos
				}
				return a.Column.Column < b.Column.Column
			})
			for _, col := range os.order {
				or.Columns = append(or.Columns, os.columns[col].Column)
			}
			sr.Objects = append(sr.Objects, or)
		}
		r.Schemas = append(r.Schemas, sr)
	}
	for _, g := range t.reasons {
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
