package metrics

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units sluice uses.
const (
	Count        Unit = "Count"
	Bytes        Unit = "Bytes"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// Namespace is the CloudWatch namespace of every sluice metric.
const Namespace = "sluice"

// Dim is one dimension name and value.
type Dim struct{ Name, Value string }

// Set accumulates metrics between flushes. It is safe for concurrent use.
type Set struct {
	mu     sync.Mutex
	w      io.Writer
	base   []Dim
	groups map[string]*group
	now    func() time.Time
}

type group struct {
	dims   []Dim
	values map[string]float64
	units  map[string]Unit
}

// New returns a Set writing to w; every metric carries the base dimensions
// (for example Function=transform).
func New(w io.Writer, base ...Dim) *Set {
	return &Set{w: w, base: base, groups: map[string]*group{}, now: time.Now}
}

// Add adds v to the metric name under the base dimensions plus dims.
func (s *Set) Add(name string, unit Unit, v float64, dims ...Dim) {
	if s == nil {
		return
	}
	all := append(append([]Dim(nil), s.base...), dims...)
	var kb strings.Builder
	for _, d := range all {
		kb.WriteString(d.Name)
		kb.WriteByte('=')
		kb.WriteString(d.Value)
		kb.WriteByte(0)
	}
	key := kb.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[key]
	if g == nil {
		g = &group{dims: all, values: map[string]float64{}, units: map[string]Unit{}}
		s.groups[key] = g
	}
	g.values[name] += v
	g.units[name] = unit
}

// Get returns the value accumulated for name under base plus dims (for
// tests and summaries).
func (s *Set) Get(name string, dims ...Dim) float64 {
	all := append(append([]Dim(nil), s.base...), dims...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if sameDims(g.dims, all) {
			return g.values[name]
		}
	}
	return 0
}

func sameDims(a, b []Dim) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Flush writes one EMF line per dimension set and clears the Set.
func (s *Set) Flush() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	groups := s.groups
	s.groups = map[string]*group{}
	s.mu.Unlock()

	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ts := s.now().UnixMilli()
	for _, k := range keys {
		g := groups[k]
		doc := map[string]any{}
		dimNames := make([]string, 0, len(g.dims))
		for _, d := range g.dims {
			doc[d.Name] = d.Value
			dimNames = append(dimNames, d.Name)
		}
		names := make([]string, 0, len(g.values))
		for n := range g.values {
			names = append(names, n)
		}
		sort.Strings(names)
		defs := make([]map[string]string, 0, len(names))
		for _, n := range names {
			doc[n] = g.values[n]
			defs = append(defs, map[string]string{"Name": n, "Unit": string(g.units[n])})
		}
		doc["_aws"] = map[string]any{
			"Timestamp": ts,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{dimNames},
				"Metrics":    defs,
			}},
		}
		line, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if _, err := s.w.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}
