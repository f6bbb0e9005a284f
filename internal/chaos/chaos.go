package chaos

import (
	"encoding/binary"
	"hash/fnv"
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

// Injector decides, fault by fault, whether to fire. Each decision is
// drawn from the seed, the fault, what the call carries (the records, the
// object's key, the URL) and how many times that same call was seen, not
// from one shared stream: the same seed, rate and input draw the same
// faults however the run's goroutines interleave. It is safe for
// concurrent use.
type Injector struct {
	seed   uint64
	rate   float64
	mu     sync.Mutex
	seen   map[uint64]uint32 // calls seen, by fault and key
	counts map[Fault]int64
	only   map[Fault]bool // nil: every fault
	ledger *Ledger
}

// New returns an Injector firing each fault with probability rate (0 to 1)
// at each chance it gets, recording what it sees into a new Ledger.
func New(seed uint64, rate float64) *Injector {
	return &Injector{seed: seed, rate: rate, seen: map[uint64]uint32{}, counts: map[Fault]int64{}, ledger: NewLedger()}
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

// draw returns a number in [0, 1) for the n-th time f is considered for
// the call identified by key.
func (in *Injector) draw(f Fault, key ...[]byte) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], in.seed)
	h.Write(b[:])
	h.Write([]byte(f))
	for _, k := range key {
		h.Write(k)
		h.Write([]byte{0})
	}
	call := h.Sum64()
	in.mu.Lock()
	n := in.seen[call]
	in.seen[call] = n + 1
	in.mu.Unlock()
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	return float64(mix(h.Sum64())>>11) / (1 << 53)
}

// mix is splitmix64's finaliser: FNV's low bits alone are poorly spread.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// fire reports whether f happens now to the call identified by key, and
// counts it if so.
func (in *Injector) fire(f Fault, key ...[]byte) bool {
	in.mu.Lock()
	allowed := in.only == nil || in.only[f]
	in.mu.Unlock()
	if !allowed || in.draw(f, key...) >= in.rate {
		return false
	}
	in.mu.Lock()
	in.counts[f]++
	in.mu.Unlock()
	return true
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
