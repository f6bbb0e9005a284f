package rollup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
)

// Outcome is what Add did with a record.
type Outcome uint8

// The outcomes of Add.
const (
	// Aggregated: the record is counted in a group.
	Aggregated Outcome = iota
	// Excluded: a where rule did not match (Add returns the rule's index).
	Excluded
	// Invalid: the record cannot be aggregated (no time, a value that is
	// not a number); it is dead-lettered with Add's reason.
	Invalid
)

// Counts are what a segment did with its records.
type Counts struct {
	// Lines counts the records given to Add; Lines = Aggregated + the sum
	// of Excluded + Invalid.
	Lines, Aggregated, Invalid int64
	// Excluded counts by where rule, in the rollup's order.
	Excluded []int64
}

// Aggregator aggregates one object's records for a rollup route, in
// segments of at most MaxGroups groups and SegmentLines records. It is not
// for concurrent use.
type Aggregator struct {
	route  *config.Route
	ro     *config.Rollup
	window int64 // milliseconds

	// Each field the rollup reads has a slot; vals and present hold the
	// current record's values.
	slots   map[string]int
	vals    []string
	present []bool
	nums    []number // a slot's value read as a number, once per record
	cache   []cached // a record position's field name and slot
	timeS   int
	urlS    int // request_url, when a derived field needs it
	pathS   int // request_url_path when derived, else -1
	hostS   int // request_url_host when derived, else -1

	where    []int // slot per where rule
	dims     []dim
	measures []measureSpec

	groups map[string]*group
	key    []byte
	counts Counts
}

// number is a slot's value read as a number: parsed says it was tried.
type number struct {
	parsed, ok bool
	f          float64
	i          int64
}

// number reads slot s's value as a number once per record.
func (a *Aggregator) number(s int, isInt bool) *number {
	n := &a.nums[s]
	if !n.parsed {
		n.f, n.i, n.ok = parseNumber(a.vals[s], isInt)
		n.parsed = true
	}
	return n
}

type cached struct {
	name string
	slot int
}

type dim struct {
	slot   int
	name   string
	column string
	isInt  bool
}

type measureSpec struct {
	m      config.Measure
	slot   int // -1 for count
	isInt  bool
	column string
}

type group struct {
	key    string
	window int64
	dims   []dimValue
	count  int64
	accs   []*acc // per measure; nil for count
}

type dimValue struct {
	v    string
	null bool
}

// New returns an Aggregator for a rollup route (validated config).
func New(route *config.Route) *Aggregator {
	ro := route.Rollup
	a := &Aggregator{route: route, ro: ro, window: ro.Window.Milliseconds(), slots: map[string]int{},
		groups: map[string]*group{}, pathS: -1, hostS: -1, urlS: -1}
	a.timeS = a.slot(route.TimeField())
	for _, w := range ro.Where {
		a.where = append(a.where, a.slot(w.Field))
	}
	for _, d := range ro.By {
		a.dims = append(a.dims, dim{slot: a.slot(d), name: d, column: config.Column(d), isInt: route.FieldType(d) == "long"})
	}
	for _, m := range ro.Measures {
		s := measureSpec{m: m, slot: -1, column: m.Column()}
		if m.Kind != config.MeasureCount {
			s.slot = a.slot(m.Field)
			s.isInt = route.FieldType(m.Field) == "long"
		}
		a.measures = append(a.measures, s)
	}
	if s, ok := a.slots["request_url_path"]; ok {
		a.pathS = s
	}
	if s, ok := a.slots["request_url_host"]; ok {
		a.hostS = s
	}
	if a.pathS >= 0 || a.hostS >= 0 {
		a.urlS = a.slot("request_url")
	}
	a.counts.Excluded = make([]int64, len(ro.Where))
	return a
}

func (a *Aggregator) slot(name string) int {
	if s, ok := a.slots[name]; ok {
		return s
	}
	s := len(a.vals)
	a.slots[name] = s
	a.vals = append(a.vals, "")
	a.present = append(a.present, false)
	a.nums = append(a.nums, number{})
	return s
}

// Add aggregates one record. For Excluded it returns the where rule's
// index; for Invalid the reason.
func (a *Aggregator) Add(fields []envelope.Field) (Outcome, int, string) {
	a.counts.Lines++
	out, rule, reason := a.add(fields)
	switch out {
	case Aggregated:
		a.counts.Aggregated++
	case Excluded:
		a.counts.Excluded[rule]++
	case Invalid:
		a.counts.Invalid++
	}
	return out, rule, reason
}

func (a *Aggregator) add(fields []envelope.Field) (Outcome, int, string) {
	clear(a.present)
	clear(a.nums)
	for i := range fields {
		f := &fields[i]
		if i >= len(a.cache) {
			a.cache = append(a.cache, cached{name: f.Name, slot: a.lookup(f.Name)})
		} else if a.cache[i].name != f.Name {
			a.cache[i] = cached{name: f.Name, slot: a.lookup(f.Name)}
		}
		if s := a.cache[i].slot; s >= 0 && f.Kind != envelope.Null && !a.present[s] {
			a.vals[s], a.present[s] = f.Value, true
		}
	}
	if a.urlS >= 0 && a.present[a.urlS] {
		host, path := splitURL(a.vals[a.urlS])
		if a.pathS >= 0 && !a.present[a.pathS] {
			a.vals[a.pathS], a.present[a.pathS] = path, true
		}
		if a.hostS >= 0 && !a.present[a.hostS] && host != "" {
			a.vals[a.hostS], a.present[a.hostS] = host, true
		}
	}
	for i, s := range a.where {
		v := ""
		if a.present[s] {
			v = a.vals[s]
		}
		if !a.ro.Where[i].Matches(v) {
			return Excluded, i, ""
		}
	}
	if !a.present[a.timeS] {
		return Invalid, 0, fmt.Sprintf("rollup %s: no %s (the time its window is taken from)", a.ro.Name, a.route.TimeField())
	}
	ms, ok := parseTime(a.vals[a.timeS])
	if !ok {
		return Invalid, 0, fmt.Sprintf("rollup %s: %s %q is not a time (want RFC 3339 or epoch seconds or milliseconds)", a.ro.Name, a.route.TimeField(), clip(a.vals[a.timeS]))
	}
	win := ms - ((ms%a.window)+a.window)%a.window

	k := binary.BigEndian.AppendUint64(a.key[:0], uint64(win))
	for _, d := range a.dims {
		if !a.present[d.slot] {
			k = append(k, 0)
			continue
		}
		v := a.vals[d.slot]
		if d.isInt {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Invalid, 0, fmt.Sprintf("rollup %s: dimension %s: %q is not an integer", a.ro.Name, d.name, clip(v))
			}
			if v[0] == '+' || len(v) > 1 && (v[0] == '0' || v[0] == '-' && v[1] == '0') {
				// "+200" and "0200" are 200: one group, and valid JSON.
				v = strconv.FormatInt(n, 10)
				a.vals[d.slot] = v
			}
		}
		k = append(k, 1)
		k = binary.AppendUvarint(k, uint64(len(v)))
		k = append(k, v...)
	}
	a.key = k
	// Values are checked before the group is touched, so an invalid record
	// changes nothing.
	for _, m := range a.measures {
		if m.slot >= 0 && m.m.Kind != config.MeasureDistinct && a.present[m.slot] {
			if !a.number(m.slot, m.isInt).ok {
				return Invalid, 0, fmt.Sprintf("rollup %s: %s of %s: %q is not a number", a.ro.Name, m.m.Kind, m.m.Field, clip(a.vals[m.slot]))
			}
		}
	}
	g := a.groups[string(k)]
	if g == nil {
		g = a.newGroup(string(k), win)
	}
	g.count++
	for i, m := range a.measures {
		if m.slot < 0 || !a.present[m.slot] {
			continue
		}
		v := a.vals[m.slot]
		if m.m.Kind == config.MeasureDistinct {
			g.accs[i].hll.Insert([]byte(v))
			continue
		}
		n := a.number(m.slot, m.isInt)
		g.accs[i].addNumber(n.f, n.i)
	}
	return Aggregated, 0, ""
}

func (a *Aggregator) lookup(name string) int {
	if s, ok := a.slots[name]; ok {
		return s
	}
	return -1
}

func (a *Aggregator) newGroup(key string, win int64) *group {
	g := &group{key: key, window: win, dims: make([]dimValue, len(a.dims)), accs: make([]*acc, len(a.measures))}
	for i, d := range a.dims {
		if a.present[d.slot] {
			g.dims[i] = dimValue{v: strings.Clone(a.vals[d.slot])}
		} else {
			g.dims[i] = dimValue{null: true}
		}
	}
	for i, m := range a.measures {
		if m.slot >= 0 {
			g.accs[i] = newAcc(m.m, m.isInt)
		}
	}
	a.groups[key] = g
	return g
}

// Full reports whether the segment must end now: it holds MaxGroups groups
// or SegmentLines records.
func (a *Aggregator) Full() bool {
	return len(a.groups) >= a.ro.MaxGroups || a.counts.Lines >= a.ro.SegmentLines
}

// Pending reports whether the segment has any record.
func (a *Aggregator) Pending() bool { return a.counts.Lines > 0 }

// Groups is the number of groups in the segment.
func (a *Aggregator) Groups() int { return len(a.groups) }

// Record is one partial aggregate: its id and its fields, in the columns
// of the rollup's generated schema.
type Record struct {
	ID     string
	Fields []envelope.Field
}

// Flush ends the segment: it returns one record per group (ordered by
// window and dimensions) and the segment's counts, and starts the next
// segment empty. object identifies the source object (the prefix of its
// record ids); ids are object, rollup, segment and group, so the same
// object split again gives the same ids.
func (a *Aggregator) Flush(object string, segment int) ([]Record, Counts, error) {
	keys := make([]string, 0, len(a.groups))
	for k := range a.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Record, 0, len(keys))
	prefix := object + "-" + a.ro.Name + "-" + strconv.Itoa(segment) + "-"
	for _, k := range keys {
		r, err := a.record(prefix, a.groups[k])
		if err != nil {
			return nil, Counts{}, err
		}
		out = append(out, r)
	}
	counts := a.counts
	clear(a.groups)
	a.counts = Counts{Excluded: make([]int64, len(a.ro.Where))}
	return out, counts, nil
}

func (a *Aggregator) record(prefix string, g *group) (Record, error) {
	sum := sha256.Sum256([]byte(g.key))
	id := prefix + hex.EncodeToString(sum[:8])
	fields := make([]envelope.Field, 0, 3+len(a.dims)+len(a.measures))
	fields = append(fields,
		envelope.Field{Name: config.ColumnRollup, Value: a.ro.Name},
		envelope.Field{Name: config.ColumnID, Value: id})
	for i, d := range a.dims {
		f := envelope.Field{Name: d.column, Value: g.dims[i].v}
		switch {
		case g.dims[i].null:
			f.Kind = envelope.Null
		case d.isInt:
			f.Kind = envelope.Raw
		}
		fields = append(fields, f)
	}
	fields = append(fields, envelope.Field{Name: config.ColumnWindowStart, Value: time.UnixMilli(g.window).UTC().Format("2006-01-02T15:04:05.000Z")})
	for i, m := range a.measures {
		if m.slot < 0 {
			fields = append(fields, envelope.Field{Name: m.column, Value: strconv.FormatInt(g.count, 10), Kind: envelope.Raw})
			continue
		}
		v, null, err := g.accs[i].partial(nil)
		if err != nil {
			return Record{}, err
		}
		f := envelope.Field{Name: m.column, Value: string(v), Kind: envelope.Raw}
		switch {
		case null:
			f.Kind = envelope.Null
		case m.m.Kind == config.MeasureDistinct || m.m.Kind == config.MeasureQuantiles:
			f.Kind = envelope.String
		}
		fields = append(fields, f)
	}
	return Record{ID: id, Fields: fields}, nil
}

// splitURL returns the host (without port) and path of a logged request
// URL: "https://h.example:443/e?x=1" is h.example and /e.
func splitURL(u string) (host, path string) {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			host, path = rest, "/"
		} else {
			host, path = rest[:j], rest[j:]
		}
		if k := strings.LastIndexByte(host, ':'); k >= 0 && !strings.HasSuffix(host, "]") {
			host = host[:k]
		}
		return strings.Trim(host, "[]"), path
	}
	return "", u
}

// parseNumber reads a measure's value. An integer field must hold an
// integer; NaN and infinities are refused.
func parseNumber(s string, isInt bool) (float64, int64, bool) {
	if isInt {
		n, err := strconv.ParseInt(s, 10, 64)
		return float64(n), n, err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, 0, false
	}
	return f, 0, true
}

// clip shortens a value quoted in a reason.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
