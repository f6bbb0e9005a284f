package rollup

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

// Query says which final numbers Merge computes.
type Query struct {
	// By are the dimensions to group by: a subset of the rollup's, and
	// window_start to keep windows apart. Nil: every dimension and the
	// window start.
	By []string
	// Since and Until keep windows starting in [Since, Until); zero: no
	// bound.
	Since, Until time.Time
}

// Merger merges a rollup's partial records, each id once, into final rows.
type Merger struct {
	route  *config.Route
	ro     *config.Rollup
	dims   []dim // the dimensions kept
	window bool  // window_start is a dimension
	since  int64
	until  int64
	groups map[string]*mergedGroup
	seen   map[string]bool
	key    []byte

	// Partials counts the records merged; Duplicates those dropped because
	// their id was merged already; Others the documents of other rollups
	// or schemas, skipped.
	Partials, Duplicates, Others int64
}

type mergedGroup struct {
	key    string
	window int64
	dims   []any
	count  int64
	accs   []*acc
}

// NewMerger returns a Merger for the rollup of route.
func NewMerger(route *config.Route, q Query) (*Merger, error) {
	ro := route.Rollup
	m := &Merger{route: route, ro: ro, groups: map[string]*mergedGroup{}, seen: map[string]bool{}, until: 1<<63 - 1, since: -1 << 63}
	all := q.By == nil
	want := map[string]bool{}
	for _, b := range q.By {
		want[b] = true
	}
	if all || want[config.ColumnWindowStart] {
		m.window = true
		delete(want, config.ColumnWindowStart)
	}
	for _, d := range ro.By {
		if all || want[d] || want[config.Column(d)] {
			m.dims = append(m.dims, dim{name: d, column: config.Column(d), isInt: route.FieldType(d) == "long"})
			delete(want, d)
			delete(want, config.Column(d))
		}
	}
	if len(want) > 0 {
		var unknown []string
		for w := range want {
			unknown = append(unknown, w)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("rollup: %s has no dimension %s (dimensions: %s, window_start)", ro.Name, strings.Join(unknown, ", "), strings.Join(ro.By, ", "))
	}
	if !q.Since.IsZero() {
		m.since = q.Since.UnixMilli()
	}
	if !q.Until.IsZero() {
		m.until = q.Until.UnixMilli()
	}
	return m, nil
}

// Add merges one delivered document (decoded with json.Decoder.UseNumber),
// or the splitter's envelope of one.
// A document of another rollup or schema is skipped; one of this rollup
// that cannot be read is an error naming the column.
func (m *Merger) Add(doc map[string]any) error {
	if fields, ok := doc["fields"].(map[string]any); ok && doc[config.ColumnRollup] == nil {
		doc = fields // an envelope, as sluice split prints it
	}
	if doc[config.ColumnRollup] != m.ro.Name {
		m.Others++
		return nil
	}
	id, _ := doc[config.ColumnID].(string)
	if id == "" {
		return fmt.Errorf("rollup: %s record without %s", m.ro.Name, config.ColumnID)
	}
	if m.seen[id] {
		m.Duplicates++
		return nil
	}
	ws, _ := doc[config.ColumnWindowStart].(string)
	win, ok := parseTime(ws)
	if !ok {
		return fmt.Errorf("rollup: record %s: window_start %q is not a time", id, ws)
	}
	m.seen[id] = true
	if win < m.since || win >= m.until {
		return nil
	}
	k := m.key[:0]
	if m.window {
		k = binary.BigEndian.AppendUint64(k, uint64(win))
	}
	for _, d := range m.dims {
		v := doc[d.column]
		if v == nil {
			k = append(k, 0)
			continue
		}
		s := fmt.Sprint(v)
		k = append(k, 1)
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	m.key = k
	g := m.groups[string(k)]
	if g == nil {
		g = &mergedGroup{key: string(k), accs: make([]*acc, len(m.ro.Measures))}
		if m.window {
			g.window = win // else 0: groups span windows
		}
		for _, d := range m.dims {
			g.dims = append(g.dims, doc[d.column])
		}
		for i, ms := range m.ro.Measures {
			if ms.Kind != config.MeasureCount {
				g.accs[i] = newAcc(ms, m.route.FieldType(ms.Field) == "long")
			}
		}
		m.groups[string(k)] = g
	}
	for i, ms := range m.ro.Measures {
		col := ms.Column()
		if ms.Kind == config.MeasureCount {
			n, ok := doc[col].(json.Number)
			c, err := n.Int64()
			if !ok || err != nil {
				return fmt.Errorf("rollup: record %s: count %v is not an integer", id, doc[col])
			}
			g.count += c
			continue
		}
		part := newAcc(ms, g.accs[i].isInt)
		if err := part.setPartial(doc[col]); err != nil {
			return fmt.Errorf("rollup: record %s: %s: %w", id, col, err)
		}
		if err := g.accs[i].merge(part); err != nil {
			return fmt.Errorf("rollup: record %s: %s: %w", id, col, err)
		}
	}
	m.Partials++
	return nil
}

// Columns are the final rows' columns: the dimensions, window_start,
// count, then sum_f, min_f, max_f, distinct_f and pNN_f per measure.
func (m *Merger) Columns() []string {
	var cols []string
	for _, d := range m.dims {
		cols = append(cols, d.column)
	}
	if m.window {
		cols = append(cols, config.ColumnWindowStart)
	}
	for _, ms := range m.ro.Measures {
		switch ms.Kind {
		case config.MeasureDistinct:
			cols = append(cols, "distinct_"+config.Column(ms.Field))
		case config.MeasureQuantiles:
			for _, q := range ms.Q {
				cols = append(cols, config.QuantileColumn(q, ms.Field))
			}
		default:
			cols = append(cols, ms.Column())
		}
	}
	return cols
}

// Rows returns one row per group, in Columns' order, sorted by window and
// dimensions: strings, int64, float64, uint64 (distinct) or nil.
func (m *Merger) Rows() [][]any {
	groups := make([]*mergedGroup, 0, len(m.groups))
	for _, g := range m.groups {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, compareGroups)
	rows := make([][]any, 0, len(groups))
	for _, g := range groups {
		row := make([]any, 0, len(m.dims)+8)
		for _, v := range g.dims {
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil {
					v = i
				}
			}
			row = append(row, v)
		}
		if m.window {
			row = append(row, time.UnixMilli(g.window).UTC().Format(time.RFC3339))
		}
		for i, ms := range m.ro.Measures {
			a := g.accs[i]
			switch ms.Kind {
			case config.MeasureCount:
				row = append(row, g.count)
			case config.MeasureSum:
				if a.isInt {
					row = append(row, a.sumI)
				} else {
					row = append(row, a.sumF)
				}
			case config.MeasureMin, config.MeasureMax:
				if a.has {
					row = append(row, a.v)
				} else {
					row = append(row, nil)
				}
			case config.MeasureDistinct:
				row = append(row, a.hll.Estimate())
			case config.MeasureQuantiles:
				for _, q := range ms.Q {
					v, err := a.dd.Quantile(q)
					if err != nil {
						row = append(row, nil) // an empty sketch
					} else {
						row = append(row, v)
					}
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// compareGroups orders by window, then by each dimension: null first,
// numbers by value, text as bytes.
func compareGroups(a, b *mergedGroup) int {
	if c := cmp.Compare(a.window, b.window); c != 0 {
		return c
	}
	for i := range a.dims {
		x, y := a.dims[i], b.dims[i]
		switch {
		case x == nil && y == nil:
			continue
		case x == nil:
			return -1
		case y == nil:
			return 1
		}
		if nx, ok := x.(json.Number); ok {
			if ny, ok := y.(json.Number); ok {
				fx, _ := nx.Float64()
				fy, _ := ny.Float64()
				if c := cmp.Compare(fx, fy); c != 0 {
					return c
				}
				continue
			}
		}
		if c := strings.Compare(fmt.Sprint(x), fmt.Sprint(y)); c != 0 {
			return c
		}
	}
	return 0
}
