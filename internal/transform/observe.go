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

// An Observer sees every normalised record, as WithObserver's function
// does, and can take a record before the transform knows that what it
// saw stands.
type Observer interface {
	Observe(Observation)
	// Hold is called instead of Observe for a record part that asked for
	// a column's evidence before the pass had read its whole batch. It
	// returns what Observe would do, keeping nothing of o. The transform
	// calls that once the whole batch's evidence gives the part the
	// answers it had, and drops it when they change: the part is then
	// normalised again and observed.
	Hold(o Observation) (observe func())
}

// WithHoldingObserver is WithObserver for an Observer: a record part whose
// column answers stand is not normalised a second time to be observed.
func WithHoldingObserver(o Observer) Option {
	return func(h *Handler) { h.observe, h.hold = o.Observe, o.Hold }
}
