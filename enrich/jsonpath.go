package enrich

import (
	"strconv"
	"strings"
)

// jsonPath is a dot path into decoded JSON: names index objects, decimal
// numbers index arrays ("results.0.geometry.location.lat").
type jsonPath []string

func parsePath(p string) jsonPath { return strings.Split(p, ".") }

// get returns the value at the path and whether it exists.
func (p jsonPath) get(doc any) (any, bool) {
	cur := doc
	for _, seg := range p {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			cur = node[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
