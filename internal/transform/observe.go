package transform

import (
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/schema"
)

// Observation is one record as the normaliser saw it: its input fields,
// where it came from, and the record built or why it failed. It is what
// sluice run's report is made from.
//
// Every slice and pointer is valid only during the call: the observer
// copies what it keeps.
type Observation struct {
	Plan   *normalize.Plan
	Fields []envelope.Field
	// Matched is, for each of Fields, the schema field its name matches
	// (Plan.Lookup), or -1: the normaliser's own lookups.
	Matched []int
	Meta    *normalize.Meta
	Value   *schema.Value      // the record; unspecified when Failure is set
	Failure *normalize.Failure // nil when the record was normalised
}

// WithObserver calls observe for every record normalised (Ok or failed;
// not those dropped by a rule before normalising), each once. It may be
// called from several goroutines at once, and not in input order: a record
// whose number read by its column's evidence (docs/transform.md) is
// observed once its batch has been read to the end. Default: none, which costs one nil check per
// record.
func WithObserver(observe func(Observation)) Option {
	return func(h *Handler) { h.observe = observe }
}
