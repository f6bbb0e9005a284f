package report

import (
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

// Collector gathers the transform's observations of a run. Observe is safe
// for concurrent use.
type Collector struct {
	mu      sync.Mutex
	schemas map[string]*schemaStats
	reasons map[string]*Group
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
	records int64
	columns map[string]*columnStats
	order   []string
	// The columns of the last record, in order: a file's records share
	// them, so the next record is counted without a map lookup per column.
	lastNames []string
	lastCols  []*columnStats
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
)

// Observe records one normalised record; pass it to transform.WithObserver.
// The record is classified before the lock is taken, so the transform's
// workers contend only for the counting.
func (c *Collector) Observe(o transform.Observation) {
	s := o.Plan.Schema
	n := len(s.Fields)
	var buf [32]int
	present := buf[:0] // input index+1 of each field's column
	if n <= len(buf) {
		present = buf[:n]
	} else {
		present = make([]int, n)
	}
	var idxBuf [64]int
	idx := idxBuf[:0]
	for i, f := range o.Fields {
		k := o.Plan.Lookup(f.Name)
		if k >= 0 && present[k] > 0 {
			k = -1 // a second column for a field already filled goes to extra
		}
		if k >= 0 {
			present[k] = i + 1
		}
		idx = append(idx, k)
	}
	failedAt := -1
	if o.Failure != nil {
		top, _, _ := strings.Cut(o.Failure.Field, ".")
		failedAt = fieldIndex(s, top)
	}
	extraAt := fieldIndex(s, normalize.ExtraField)
	var extraKeys []string
	if o.Failure == nil && extraAt >= 0 && o.Value != nil && extraAt < len(o.Value.Items) {
		extraKeys = o.Value.Items[extraAt].Keys
	}
	var outBuf [32]fieldOutcome
	outs := outBuf[:0]
	if n <= len(outBuf) {
		outs = outBuf[:n]
	} else {
		outs = make([]fieldOutcome, n)
	}
	var preserved []int
	for i := range s.Fields {
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
			for _, k := range extraKeys {
				if k == in.Name {
					preserved = append(preserved, i)
					break
				}
			}
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.schemas[s.Name]
	if st == nil {
		st = &schemaStats{schema: s, objects: map[objectKey]*objectStats{}}
		for _, f := range s.Fields {
			st.fields = append(st.fields, FieldStats{Field: f.Name, Type: f.Type.String()})
		}
		c.schemas[s.Name] = st
	}
	st.records++
	var ok objectKey
	var line int64
	if o.Meta != nil && o.Meta.Source != nil {
		ok, line = objectKey{o.Meta.Source.Bucket, o.Meta.Source.Key}, o.Meta.Source.Line
	}
	obj := st.objects[ok]
	if obj == nil {
		obj = &objectStats{columns: map[string]*columnStats{}}
		st.objects[ok] = obj
	}
	obj.records++
	if o.Failure != nil {
		st.failed++
	} else {
		st.ok++
	}
	obj.count(o.Fields, idx, s, extraAt >= 0, line)

	for i, out := range outs {
		fs := &st.fields[i]
		switch out {
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
				smp := Sample{Object: ok.String(), Line: line, Reason: o.Failure.Reason}
				if present[i] > 0 {
					smp.Value = strings.Clone(o.Fields[present[i]-1].Value)
				}
				fs.Samples = append(fs.Samples, smp)
			}
		}
	}
	for _, i := range preserved {
		st.fields[i].Preserved++
	}

	if o.Failure != nil {
		key := string(o.Failure.Class) + ": " + o.Failure.Error()
		g := c.reasons[key]
		if g == nil {
			g = &Group{Reason: key, Class: string(o.Failure.Class)}
			c.reasons[key] = g
		}
		g.Count++
		if len(g.Where) < maxSamples {
			w := Sample{Object: ok.String(), Line: line}
			if failedAt >= 0 && present[failedAt] > 0 {
				w.Value = strings.Clone(o.Fields[present[failedAt]-1].Value)
			}
			g.Where = append(g.Where, w)
		}
	}
}

func (k objectKey) String() string {
	if k.key == "" {
		return ""
	}
	return k.bucket + "/" + k.key
}

// count adds one record's columns: where each went (idx: the field index,
// -1 for none) and how often it was seen.
func (obj *objectStats) count(fields []envelope.Field, idx []int, s *schema.Schema, hasExtra bool, line int64) {
	if len(fields) == len(obj.lastNames) {
		same := true
		for i := range fields {
			if fields[i].Name != obj.lastNames[i] {
				same = false
				break
			}
		}
		if same {
			for i, col := range obj.lastCols {
				col.Records++
				col.seenAt(line, i)
			}
			return
		}
	}
	obj.lastNames, obj.lastCols = obj.lastNames[:0], obj.lastCols[:0]
	for i, f := range fields {
		col := obj.columns[f.Name]
		if col == nil {
			name := strings.Clone(f.Name) // f aliases the transform's reused buffers
			col = &columnStats{Column: Column{Column: name}, line: line, pos: i}
			switch k := idx[i]; {
			case k >= 0:
				col.Field, col.Match = s.Fields[k].Name, matchKind(&s.Fields[k], f.Name)
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
		obj.lastNames = append(obj.lastNames, col.Column.Column)
		obj.lastCols = append(obj.lastCols, col)
	}
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
