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

// A Tallier counts what the transform observes with one Tally per worker:
// workers running at once count their records without waiting for each
// other, and each hands its counts over once per batch.
type Tallier interface {
	NewTally() Tally
}

// A Tally counts one worker's observations; the transform calls it from
// one goroutine at a time. It sees every normalised record, as
// WithObserver's function does, and can take a record before the
// transform knows that what it saw stands.
type Tally interface {
	Observe(Observation)
	// Hold is called instead of Observe for a record part that asked for
	// a column's evidence before the pass had read its whole batch. It
	// takes what Observe would count, keeping nothing of o, and returns
	// a ticket for it. The transform calls Count with the ticket once the
	// whole batch's evidence gives the part the answers it had, and
	// never does when they change: the part is then normalised again and
	// observed.
	Hold(o Observation) (ticket int)
	Count(ticket int)
	// Flush hands what was counted over to the Tallier's total, and
	// forgets what was held and not counted: the transform calls it at the
	// end of each batch it answers.
	Flush()
	// Reset forgets everything since the last Flush: the transform calls
	// it for a batch it fails, which Firehose sends again.
	Reset()
}

// WithTallier is WithObserver for a Tallier: a record part whose column
// answers stand is not normalised a second time to be observed, and the
// workers count apart.
func WithTallier(t Tallier) Option {
	return func(h *Handler) { h.tallier = t }
}
