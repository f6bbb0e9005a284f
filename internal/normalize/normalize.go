package normalize

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// Scratch holds reusable memory for one goroutine's normalising. Values
// produced with a Scratch stay valid until Rewind.
type Scratch struct {
	// Discarded counts input fields with a value that matched no schema
	// field and had nowhere to go, because the record has no "extra" map.
	// Normalize adds to it; the caller reads and resets it.
	Discarded int
	// DiscardedNames are those fields' names (aliasing the input), for a
	// caller that reports them; the caller resets it with Discarded.
	DiscardedNames []string

	vals chunks[schema.Value]
	strs chunks[string]
	seen []bool
	used []bool
	key  []byte
	num  []byte

	// matched is, for each input field of the last record normalised, the
	// schema field its name matches (Plan.Lookup), or -1.
	matched []int

	// shapes remembers, for the last few field lists seen, which schema
	// field each name goes to: records of one file mostly share a header,
	// so most records skip canonicalising and looking up every name.
	shapes    [maxShapes]shape
	nextShape int

	// The record being normalised: its options and columns, its input
	// fields, the one being coerced (-1 for none, as for a lookup's value)
	// and those whose original text is kept in extra beside the reading
	// sluice chose.
	opts *Options
	// replaced is set once a value of the record was not UTF-8 and was
	// replaced, for extra's _flags.
	replaced bool
	cols     Columns
	fields   []envelope.Field
	cur      int
	kept     []int
	canKeep  bool // the record has an extra map to keep originals in
}

// Matched returns, for each input field of the last record normalised, in
// order, the schema field its name matches, as Plan.Lookup answers, or -1:
// the lookups the normaliser made, for a caller that reports where each
// column went. It is valid until the next Normalize.
func (s *Scratch) Matched() []int { return s.matched }

// Kept is how many fields of the last record normalised were read by a
// choice whose original text is kept in extra (rule 2 of the value rule).
func (s *Scratch) Kept() int { return len(s.kept) }

// decimalFor returns the decimal mark to assume for the current field's
// numbers that do not show one: the locale's, else the column's, else 0.
func (s *Scratch) decimalFor() byte {
	if s.opts != nil && s.opts.Locale != nil {
		return s.opts.Locale.Decimal
	}
	if s.cols != nil && s.cur >= 0 {
		return s.cols.Decimal(s.fields[s.cur].Name)
	}
	return 0
}

// keep marks the current field's original text to be kept in extra
// beside the reading sluice chose; false when it cannot be kept (the
// schema has no extra map, or the value is a lookup's).
func (s *Scratch) keep() bool {
	if !s.canKeep || s.cur < 0 {
		return false
	}
	if n := len(s.kept); n == 0 || s.kept[n-1] != s.cur {
		s.kept = append(s.kept, s.cur)
	}
	return true
}

// Rewind reuses the memory of every Value produced since the last Rewind.
// Call it only when none of those Values is in use any more.
func (s *Scratch) Rewind() {
	s.vals.rewind()
	s.strs.rewind()
}

func (s *Scratch) values(n int) []schema.Value { return s.vals.take(n, 4096) }

func (s *Scratch) strings(n int) []string { return s.strs.take(n, 1024) }

// chunks cuts short slices out of long ones, and cuts them from the same
// memory again after a rewind: a packed Firehose record's thousands of
// lines are normalised before any is written, so their Values fill many
// chunks, which the next record then reuses instead of allocating (and
// clearing, and collecting) them again. What was handed out is cleared at
// the rewind, so a kept chunk holds no pointer into an old record's data.
type chunks[T any] struct {
	cur  []T   // the chunk being cut
	at   int   // its index in all, or -1 when it is not kept
	all  [][]T // chunks kept for reuse, with the length handed out of each
	next int   // the next of all to cut from
}

// maxChunkBytes bounds the memory a chunks keeps between rewinds.
const maxChunkBytes = 8 << 20

func (c *chunks[T]) take(n, size int) []T {
	if cap(c.cur)-len(c.cur) < n {
		c.park()
		c.cur, c.at = nil, -1
		for c.next < len(c.all) && c.cur == nil {
			if cap(c.all[c.next]) >= n {
				c.cur, c.at = c.all[c.next], c.next
			}
			c.next++
		}
		if c.cur == nil {
			c.cur = make([]T, 0, max(size, n))
			var zero T
			if kept := len(c.all) * size * int(unsafe.Sizeof(zero)); kept < maxChunkBytes && c.next == len(c.all) {
				c.at = len(c.all)
				c.all = append(c.all, c.cur)
				c.next = len(c.all)
			}
		}
	}
	start := len(c.cur)
	c.cur = c.cur[:start+n]
	return c.cur[start : start+n : start+n]
}

// park notes how much of the current chunk was handed out.
func (c *chunks[T]) park() {
	if c.at >= 0 && c.cur != nil {
		c.all[c.at] = c.cur
	}
}

func (c *chunks[T]) rewind() {
	c.park()
	for i, b := range c.all[:c.next] {
		clear(b)
		c.all[i] = b[:0]
	}
	c.cur, c.at, c.next = nil, -1, 0
}

// Normalize fills out with the record built from fields. On failure it
// returns why; out is then unspecified.
func (p *Plan) Normalize(sc *Scratch, fields []envelope.Field, meta *Meta, out *schema.Value) *Failure {
	sc.opts, sc.cols, sc.fields, sc.cur, sc.kept = &p.opts, nil, fields, -1, sc.kept[:0]
	sc.replaced = false
	sc.canKeep = p.rec.extra >= 0
	if meta != nil {
		if meta.Options != nil {
			sc.opts = meta.Options
		}
		sc.cols = meta.Columns
	}
	fail := p.normalizeRecord(sc, p.rec, fields, meta, out, "")
	sc.cur = -1
	return fail
}

// maxShapes is how many field lists a Scratch remembers; maxShapeFields
// the most fields a remembered list has.
const (
	maxShapes      = 8
	maxShapeFields = 64
)

// shape is a field list's names, copied, and the schema field index of
// each (-1 for none) under one record plan.
type shape struct {
	rp    *recordPlan
	names []string
	idx   []int
}

// indices returns the schema field index of each of fields' names under
// rp (-1 for none), as rp.lookup gives them, from a remembered shape when
// the names are the same as one's. The slice is sc's: valid until the next
// call.
func (sc *Scratch) indices(rp *recordPlan, fields []envelope.Field) []int {
	if len(fields) > maxShapeFields {
		idx := make([]int, len(fields))
		for i := range fields {
			idx[i] = rp.lookup(&sc.key, fields[i].Name)
		}
		return idx
	}
next:
	for k := range sc.shapes {
		sh := &sc.shapes[k]
		if sh.rp != rp || len(sh.names) != len(fields) {
			continue
		}
		for i := range fields {
			if fields[i].Name != sh.names[i] {
				continue next
			}
		}
		return sh.idx
	}
	sh := &sc.shapes[sc.nextShape]
	sc.nextShape = (sc.nextShape + 1) % maxShapes
	sh.rp, sh.names, sh.idx = rp, sh.names[:0], sh.idx[:0]
	for i := range fields {
		sh.names = append(sh.names, strings.Clone(fields[i].Name)) // names alias the input, which is reused
		sh.idx = append(sh.idx, rp.lookup(&sc.key, fields[i].Name))
	}
	return sh.idx
}

// lookup is the index of the field name reads as (by canonical name or
// alias), or -1; key is a buffer to reuse.
func (rp *recordPlan) lookup(key *[]byte, name string) int {
	*key = AppendCanonical((*key)[:0], name)
	if i, ok := rp.byName[string(*key)]; ok {
		return i
	}
	return -1
}

func (p *Plan) normalizeRecord(sc *Scratch, rp *recordPlan, fields []envelope.Field, meta *Meta, out *schema.Value, at string) *Failure {
	n := len(rp.fields)
	*out = schema.Value{Kind: schema.Record, Items: sc.values(n)}
	if cap(sc.seen) < n {
		sc.seen = make([]bool, n)
	}
	// A nested record's lists are its own: the top record's are in use.
	var seen, used []bool
	if at == "" {
		seen = sc.seen[:n]
		clear(seen)
		if cap(sc.used) < len(fields) {
			sc.used = make([]bool, len(fields))
		}
		used = sc.used[:len(fields)]
		clear(used)
	} else {
		seen, used = make([]bool, n), make([]bool, len(fields))
	}
	unmatched := 0
	var indices []int
	if at == "" {
		indices = sc.indices(rp, fields)
		sc.matched = indices
	}
	for fi := range fields {
		f := &fields[fi]
		var idx int
		if indices != nil {
			idx = indices[fi]
		} else {
			idx = rp.lookup(&sc.key, f.Name)
		}
		if idx < 0 || seen[idx] {
			unmatched++
			if rp.extra < 0 && f.Kind != envelope.Null {
				sc.Discarded++
				sc.DiscardedNames = append(sc.DiscardedNames, at+f.Name)
			}
			continue
		}
		fp := &rp.fields[idx]
		used[fi] = true
		if at == "" {
			sc.cur = fi
		}
		err := p.coerceInto(&out.Items[idx], sc, fp, f)
		if err == errMissing {
			continue // an empty value counts as absent: the default applies
		}
		if err != nil {
			return &Failure{Field: at + fp.name, Reason: err.Error(), Class: ClassCoerce}
		}
		seen[idx] = true
	}
	for i := range rp.fields {
		if seen[i] {
			continue
		}
		fp := &rp.fields[i]
		f := &rp.t.Fields[i]
		switch {
		case i == rp.extra:
			out.Items[i] = p.extra(sc, fields, used, meta, unmatched)
		case i == rp.prov && meta != nil:
			out.Items[i] = p.provenance(sc, fp, meta)
		case f.HasDefault:
			out.Items[i] = f.Default
		case fp.t.Nullable():
			out.Items[i] = schema.NullValue
		default:
			return &Failure{Field: at + fp.name, Reason: "is required and missing (no default)", Class: ClassRequired}
		}
	}
	return nil
}

// extra collects the input fields that matched no schema field (or repeated
// one already matched), in input order, then the original text of fields
// read by a choice sluice made (an unknown enum symbol read as the enum's
// default). Nulls carry nothing and are skipped.
func (p *Plan) extra(sc *Scratch, fields []envelope.Field, used []bool, meta *Meta, unmatched int) schema.Value {
	var flags []string
	if meta != nil {
		flags = meta.Flags
	}
	n := unmatched + len(sc.kept)
	if n == 0 && len(flags) == 0 && !sc.replaced {
		return schema.Value{Kind: schema.Map}
	}
	keys := sc.strings(n + 1)[:0] // and _flags
	vals := sc.values(n + 1)[:0]
	for fi := range fields {
		if f := &fields[fi]; !used[fi] && f.Kind != envelope.Null {
			keys = append(keys, sc.validUTF8(f.Name))
			vals = append(vals, sc.str(f.Value))
		}
	}
	for _, fi := range sc.kept {
		keys = append(keys, sc.validUTF8(fields[fi].Name))
		vals = append(vals, sc.str(fields[fi].Value))
	}
	if meta != nil && sc.replaced && !slices.Contains(flags, envelope.FlagReplaced) {
		flags = append(flags[:len(flags):len(flags)], envelope.FlagReplaced) // never into the caller's list
	}
	if len(flags) > 0 {
		keys = append(keys, "_flags")
		vals = append(vals, schema.Value{Kind: schema.String, Str: strings.Join(flags, ",")})
	}
	return schema.Value{Kind: schema.Map, Keys: keys, Items: vals}
}

func (p *Plan) provenance(sc *Scratch, fp *fieldPlan, meta *Meta) schema.Value {
	t, _ := fp.t.NonNull()
	v := schema.Value{Kind: schema.Record, Items: sc.values(len(t.Fields))}
	src := meta.Source
	if src == nil {
		src = &envelope.Source{}
	}
	ingested := src.IngestedAt
	if ingested.IsZero() {
		ingested = meta.Arrival
	}
	str := func(s string) schema.Value {
		if s == "" {
			return schema.NullValue
		}
		return schema.Value{Kind: schema.String, Str: s, Plain: schema.PlainASCII(s)}
	}
	for i := range t.Fields {
		f := &t.Fields[i] // a Field is large: not copied
		var x schema.Value
		switch fp.prov[i] {
		case provRecordID:
			x = schema.Value{Kind: schema.String, Str: meta.RecordID, Plain: schema.PlainASCII(meta.RecordID)}
		case provBucket:
			x = str(src.Bucket)
		case provKey:
			x = str(src.Key)
		case provVersion:
			x = str(src.Version)
		case provETag:
			x = str(src.ETag)
		case provFormat:
			x = str(src.Format)
		case provLine:
			x = schema.Value{Kind: schema.Long, Int: src.Line}
			if src.Line == 0 {
				x = schema.NullValue
			}
		case provOffset:
			x = schema.Value{Kind: schema.Long, Int: src.Offset}
			if src.Line == 0 && src.Offset == 0 {
				x = schema.NullValue
			}
		case provIngestedAt:
			x = schema.NullValue
			if !ingested.IsZero() {
				ft, _ := f.Type.NonNull()
				x = schema.Value{Kind: schema.Long, Int: ingested.UnixMilli()}
				if ft.Logical == schema.TimestampMicros {
					x.Int = ingested.UnixMicro()
				}
			}
		default:
			x = schema.NullValue
			if f.HasDefault {
				x = f.Default
			}
		}
		v.Items[i] = x
	}
	return v
}
