package splitter

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
)

// branch is one place a route sends records: a stream, the records' schema
// and the conditions a record must meet (routes[].to[].where).
type branch struct {
	stream, schema string
	where          []condition
	// forked: the route is written with to:, and ids name the stream.
	forked bool
	// filtered counts the records this invocation that failed where.
	filtered int64
	enc      *envelope.Encoder
}

type condition struct {
	field string // canonical, as normalize.Canonical
	rule  config.WhereRule
}

// compileBranches returns the route's branches with their where rules
// ready. The config's validation has compiled them; key names the route in
// the error for a route built otherwise.
func compileBranches(key string, rt config.Route) ([]branch, error) {
	var out []branch
	for j, b := range rt.Branches() {
		if b.Rollup != nil {
			continue // aggregated by the objectRun's rollup, not sent record by record
		}
		br := branch{stream: b.Stream, schema: b.Schema, forked: rt.Forks()}
		for k, w := range b.Where {
			if err := w.Compile(); err != nil {
				return nil, fmt.Errorf("splitter: %s.to[%d].where[%d]: %w", key, j, k, err)
			}
			br.where = append(br.where, condition{field: normalize.Canonical(w.Field), rule: w})
		}
		out = append(out, br)
	}
	return out, nil
}

// admits reports whether fields pass every rule. A rule tests the value of
// the field of its name (compared as schema fields are); a missing or null
// field is "", as in a rollup's where. scratch is reused for the
// canonical names.
func (b *branch) admits(fields []envelope.Field, scratch *[]byte) bool {
	for i := range b.where {
		c := &b.where[i]
		value := ""
		for j := range fields {
			f := &fields[j]
			if f.Kind == envelope.Null {
				continue
			}
			*scratch = normalize.AppendCanonical((*scratch)[:0], f.Name)
			if string(*scratch) == c.field {
				value = f.Value
				break
			}
		}
		if !c.rule.Matches(value) {
			return false
		}
	}
	return true
}

// encoder returns the branch's envelope encoder for the object of src,
// making it at the first record.
func (b *branch) encoder(src envelope.Source) *envelope.Encoder {
	if b.enc == nil {
		if b.forked {
			b.enc = envelope.NewBranchEncoder(b.schema, b.stream, src)
		} else {
			b.enc = envelope.NewEncoder(b.schema, src)
		}
	}
	return b.enc
}
