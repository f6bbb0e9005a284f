package report

import (
	"sort"
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
	objects map[string]*objectStats
}

type objectStats struct {
	records int64
	columns map[string]*Column
	order   []string
}

// Observe records one normalised record; pass it to transform.WithObserver.
func (c *Collector) Observe(o transform.Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := o.Plan.Schema
	st := c.schemas[s.Name]
	if st == nil {
		st = &schemaStats{schema: s, objects: map[string]*objectStats{}}
		for _, f := range s.Fields {
			st.fields = append(st.fields, FieldStats{Field: f.Name, Type: f.Type.String()})
		}
		c.schemas[s.Name] = st
	}
	st.records++
	object, line := "", int64(0)
	if o.Meta != nil && o.Meta.Source != nil {
		object, line = o.Meta.Source.Bucket+"/"+o.Meta.Source.Key, o.Meta.Source.Line
	}
	obj := st.objects[object]
	if obj == nil {
		obj = &objectStats{columns: map[string]*Column{}}
		st.objects[object] = obj
	}
	obj.records++

	failedAt := -1
	if o.Failure != nil {
		st.failed++
		top := o.Failure.Field
		for i := 0; i < len(top); i++ {
			if top[i] == '.' {
				top = top[:i]
				break
			}
		}
		failedAt = fieldIndex(s, top)
	} else {
		st.ok++
	}
	extraAt := fieldIndex(s, normalize.ExtraField)
	var extraKeys []string
	if o.Failure == nil && extraAt >= 0 && o.Value != nil && extraAt < len(o.Value.Items) {
		extraKeys = o.Value.Items[extraAt].Keys
	}

	present := make([]int, len(s.Fields)) // input index+1 of each field's column
	for i, f := range o.Fields {
		idx := o.Plan.Lookup(f.Name)
		if idx >= 0 && present[idx] > 0 {
			idx = -1 // a second column for a field already filled goes to extra
		}
		col := obj.columns[f.Name]
		if col == nil {
			col = &Column{Column: f.Name}
			switch {
			case idx >= 0:
				col.Field, col.Match = s.Fields[idx].Name, matchKind(&s.Fields[idx], f.Name)
			case extraAt >= 0:
				col.Field, col.Match = normalize.ExtraField, MatchExtra
			default:
				col.Match = MatchDiscarded
			}
			obj.columns[f.Name] = col
			obj.order = append(obj.order, f.Name)
		}
		col.Records++
		if idx >= 0 && present[idx] == 0 {
			present[idx] = i + 1
		}
	}

	for i := range st.fields {
		fs := &st.fields[i]
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
				fs.Failed++
				if len(fs.Samples) < maxSamples {
					smp := Sample{Object: object, Line: line, Reason: o.Failure.Reason}
					if in != nil {
						smp.Value = in.Value
					}
					fs.Samples = append(fs.Samples, smp)
				}
			}
			continue
		}
		if o.Value == nil || i >= len(o.Value.Items) {
			continue
		}
		v := &o.Value.Items[i]
		switch {
		case in == nil && s.Fields[i].HasDefault:
			fs.Defaulted++
		case in == nil:
			fs.Null++
		case v.Kind == schema.Null:
			fs.Null++
		default:
			fs.Delivered++
			if in.Kind != envelope.String || v.Kind != schema.String || v.Str != in.Value {
				if !(in.Kind == envelope.Raw && v.Kind != schema.String) || rawDiffers(in, v) {
					fs.Coerced++
				}
			}
			for _, k := range extraKeys {
				if k == in.Name {
					fs.Preserved++
					break
				}
			}
		}
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
			w := Sample{Object: object, Line: line}
			if failedAt >= 0 && present[failedAt] > 0 {
				w.Value = o.Fields[present[failedAt]-1].Value
			}
			g.Where = append(g.Where, w)
		}
	}
}

// rawDiffers reports whether a JSON value (a number, true) came out as
// something else than itself: a JSON number delivered as a number is not
// a coercion.
func rawDiffers(in *envelope.Field, v *schema.Value) bool {
	switch v.Kind {
	case schema.Boolean:
		return in.Value != "true" && in.Value != "false"
	case schema.Int, schema.Long, schema.Float, schema.Double:
		return v.Kind == schema.Int || v.Kind == schema.Long && len(in.Value) > 0 && !isInteger(in.Value)
	}
	return true
}

func isInteger(s string) bool {
	if s[0] == '-' {
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
		objects := make([]string, 0, len(st.objects))
		for o := range st.objects {
			objects = append(objects, o)
		}
		sort.Strings(objects)
		for _, o := range objects {
			os := st.objects[o]
			or := ObjectReport{Object: o, Records: os.records}
			for _, col := range os.order {
				or.Columns = append(or.Columns, *os.columns[col])
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
