package chaos

import (
	"math/rand/v2"
	"sort"
	"sync"
)

// Fault names one kind of injected fault.
type Fault string

// The faults an Injector draws.
const (
	PutPartial         Fault = "firehose.put.partial"              // some entries refused: ServiceUnavailableException
	PutThrottled       Fault = "firehose.put.throttled"            // the whole call refused: ServiceUnavailableException
	PutTimeoutAccepted Fault = "firehose.put.timeout-after-accept" // accepted, then the response is lost
	InvokeError        Fault = "transform.invoke.error"            // the function returned an error
	InvokeTimeout      Fault = "transform.invoke.timeout"          // the function ran, its response was lost
	ReadInterrupted    Fault = "s3.read.interrupted"               // the object's body broke off mid-object
	EventDuplicated    Fault = "s3.event.duplicated"               // the event is delivered twice
	EventReordered     Fault = "s3.event.reordered"                // the event swaps places with the next
	CacheUnavailable   Fault = "redis.unavailable"                 // the cache call fails
	CacheSlow          Fault = "redis.slow"                        // the cache call stalls past its deadline
	LookupRateLimited  Fault = "lookup.429"                        // 429 with Retry-After
	LookupServerError  Fault = "lookup.5xx"                        // 503
	LookupHang         Fault = "lookup.hang"                       // no answer until the caller gives up
)

// Injector decides, fault by fault, whether to fire, from a generator
// seeded once: the same seed, rate and input draw the same faults. It is
// safe for concurrent use.
type Injector struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts map[Fault]int64
	only   map[Fault]bool // nil: every fault
	ledger *Ledger
}

// New returns an Injector firing each fault with probability rate (0 to 1)
// at each chance it gets, recording what it sees into a new Ledger.
func New(seed uint64, rate float64) *Injector {
	return &Injector{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate,
		counts: map[Fault]int64{}, ledger: NewLedger()}
}

// Only restricts the faults that fire to these (a fault matrix's row).
func (in *Injector) Only(faults ...Fault) *Injector {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.only = map[Fault]bool{}
	for _, f := range faults {
		in.only[f] = true
	}
	return in
}

// Ledger is where the wrappers record the ids they see.
func (in *Injector) Ledger() *Ledger { return in.ledger }

// fire reports whether f happens now, and counts it if so.
func (in *Injector) fire(f Fault) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.rng.Float64() >= in.rate || in.only != nil && !in.only[f] {
		return false
	}
	in.counts[f]++
	return true
}

// intn draws from [0, n).
func (in *Injector) intn(n int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.IntN(n)
}

// Count is how many times one fault fired.
type Count struct {
	Fault Fault
	N     int64
}

// Counts lists the faults that fired, by name.
func (in *Injector) Counts() []Count {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Count, 0, len(in.counts))
	for f, n := range in.counts {
		out = append(out, Count{f, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fault < out[j].Fault })
	return out
}

// Total is the number of faults injected.
func (in *Injector) Total() int64 {
	var n int64
	for _, c := range in.Counts() {
		n += c.N
	}
	return n
}
