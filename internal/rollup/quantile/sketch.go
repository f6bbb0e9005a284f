package quantile

import (
	"errors"
	"math"
	"sort"

	enc "github.com/DataDog/sketches-go/ddsketch/encoding"
)

// The errors of sketches-go's DDSketch.Add for values it cannot index.
var (
	ErrTooHigh = errors.New("quantile: value too high to be tracked")
	ErrTooLow  = errors.New("quantile: value too low to be tracked")
	ErrNaN     = errors.New("quantile: NaN cannot be tracked")
)

// Sketch is a DDSketch with sketches-go's default mapping and stores.
type Sketch struct {
	m         mapping
	positive  store
	negative  store
	zeroCount float64
}

// New returns an empty sketch of the given relative accuracy, in (0, 1), as
// ddsketch.NewDefaultDDSketch(relativeAccuracy).
func New(relativeAccuracy float64) (*Sketch, error) {
	if relativeAccuracy <= 0 || relativeAccuracy >= 1 {
		return nil, errors.New("quantile: the relative accuracy must be between 0 and 1")
	}
	return &Sketch{m: newMapping(relativeAccuracy), positive: newStore(), negative: newStore()}, nil
}

// Add adds one value, as sketches-go's DDSketch.Add.
func (s *Sketch) Add(value float64) error {
	switch {
	case value > s.m.minIndexable:
		if value > s.m.maxIndexable {
			return ErrTooHigh
		}
		s.positive.add(s.m.index(value))
	case value < -s.m.minIndexable:
		if value < -s.m.maxIndexable {
			return ErrTooLow
		}
		s.negative.add(s.m.index(-value))
	case math.IsNaN(value):
		return ErrNaN
	default:
		s.zeroCount++
	}
	return nil
}

// Encode appends the sketch in sketches-go's binary format, index mapping
// included: the bytes of DDSketch.Encode(&b, false).
func (s *Sketch) Encode(b []byte) []byte {
	if s.zeroCount != 0 {
		enc.EncodeFlag(&b, enc.FlagZeroCountVarFloat)
		enc.EncodeVarfloat64(&b, s.zeroCount)
	}
	enc.EncodeFlag(&b, enc.FlagIndexMappingBaseLogarithmic)
	enc.EncodeFloat64LE(&b, s.m.gamma)
	enc.EncodeFloat64LE(&b, s.m.indexOffset)
	s.positive.encode(&b, enc.FlagTypePositiveStore)
	s.negative.encode(&b, enc.FlagTypeNegativeStore)
	return b
}

// mapping is sketches-go's LogarithmicMapping.
type mapping struct {
	gamma        float64
	indexOffset  float64
	multiplier   float64
	minIndexable float64
	maxIndexable float64
}

const (
	expOverflow      = 7.094361393031e+02      // where math.Exp overflows
	minNormalFloat64 = 2.2250738585072014e-308 // 2^-1022
)

func newMapping(relativeAccuracy float64) mapping {
	gamma := (1 + relativeAccuracy) / (1 - relativeAccuracy)
	indexOffset := 0.0
	multiplier := 1 / math.Log(gamma)
	return mapping{
		gamma:        gamma,
		indexOffset:  indexOffset,
		multiplier:   multiplier,
		minIndexable: math.Max(math.Exp((math.MinInt32-indexOffset)/multiplier+1), minNormalFloat64*gamma),
		maxIndexable: math.Min(math.Exp((math.MaxInt32-indexOffset)/multiplier-1), math.Exp(expOverflow)/(2*gamma)*(gamma+1)),
	}
}

// value is the value reported for an index: its bin's lower bound times
// 1 + the relative accuracy.
func (m *mapping) value(index int) float64 {
	return math.Exp((float64(index)-m.indexOffset)/m.multiplier) * (1 + (1 - 2/(1+m.gamma)))
}

func (m *mapping) index(value float64) int {
	index := math.Log(value)*m.multiplier + m.indexOffset
	if index >= 0 {
		return int(index)
	}
	return int(index) - 1
}

// store is sketches-go's BufferedPaginatedStore, for counts of 1: indexes
// wait in a buffer until enough of them fall on one page of 32 counts.
// The encoding depends on which indexes are buffered and which paged, so
// the buffer grows, compacts and pages as sketches-go's does.
type store struct {
	buffer              []int
	compactionTriggerAt int
	pages               [][]float64
	minPageIndex        int // maxInt while no page is used
}

const (
	pageLenLog2 = 5
	pageLen     = 1 << pageLenLog2
	pageLenMask = pageLen - 1
	maxInt      = int(^uint(0) >> 1)
	ptrSize     = 32 << (^uintptr(0) >> 63)
	intSize     = 32 << (^uint(0) >> 63)
	float64Size = 64
)

func newStore() store {
	return store{buffer: make([]int, 0, 4), compactionTriggerAt: 2 * pageLen, minPageIndex: maxInt}
}

func pageIndex(index int) int { return index >> pageLenLog2 }
func lineIndex(index int) int { return index & pageLenMask }

func (s *store) add(index int) {
	p := pageIndex(index)
	if p >= s.minPageIndex && p < s.minPageIndex+len(s.pages) {
		if page := s.pages[p-s.minPageIndex]; len(page) > 0 {
			page[lineIndex(index)]++
			return
		}
	}
	if len(s.buffer) == cap(s.buffer) && len(s.buffer) >= s.compactionTriggerAt {
		s.compact()
	}
	s.buffer = append(s.buffer, index)
}

func (s *store) addWithCount(index int, count float64) {
	switch count {
	case 0:
	case 1:
		s.add(index)
	default:
		s.page(pageIndex(index), true)[lineIndex(index)] += count
	}
}

func (s *store) totalCount() float64 {
	n := float64(len(s.buffer))
	for _, page := range s.pages {
		for _, c := range page {
			n += c
		}
	}
	return n
}

// keyAtRank is the smallest index whose cumulative count exceeds rank, or
// the largest index.
func (s *store) keyAtRank(rank float64) int {
	rank = max(rank, 0)
	sort.Ints(s.buffer)
	n, pos := 0.0, 0
	last, found := 0, false
	for offset, page := range s.pages {
		for line, count := range page {
			index := (s.minPageIndex+offset)<<pageLenLog2 + line
			for ; pos < len(s.buffer) && s.buffer[pos] < index; pos++ {
				if n++; n > rank {
					return s.buffer[pos]
				}
			}
			if n += count; n > rank {
				return index
			}
			if count > 0 {
				last, found = index, true
			}
		}
	}
	for ; pos < len(s.buffer); pos++ {
		if n++; n > rank {
			return s.buffer[pos]
		}
	}
	if k := len(s.buffer); k > 0 && (!found || s.buffer[k-1] > last) {
		last = s.buffer[k-1]
	}
	return last
}

// page returns page p, creating it only when create is set (else nil if it
// does not exist).
func (s *store) page(p int, create bool) []float64 {
	if p >= s.minPageIndex && p < s.minPageIndex+len(s.pages) {
		page := &s.pages[p-s.minPageIndex]
		if create && len(*page) == 0 {
			*page = append(*page, make([]float64, pageLen)...)
		}
		return *page
	}
	if !create {
		return nil
	}
	if p < s.minPageIndex {
		if s.minPageIndex == maxInt {
			if len(s.pages) == 0 {
				s.pages = append(s.pages, make([][]float64, newPagesLen(1))...)
			}
			s.minPageIndex = p - len(s.pages)/2
		} else {
			newLen := newPagesLen(s.minPageIndex - p + 1 + len(s.pages))
			added := newLen - len(s.pages)
			s.pages = append(s.pages, make([][]float64, added)...)
			copy(s.pages[added:], s.pages)
			for i := range added {
				s.pages[i] = nil
			}
			s.minPageIndex -= added
		}
	} else {
		s.pages = append(s.pages, make([][]float64, newPagesLen(p-s.minPageIndex+1)-len(s.pages))...)
	}
	page := &s.pages[p-s.minPageIndex]
	if len(*page) == 0 {
		*page = append(*page, make([]float64, pageLen)...)
	}
	return *page
}

// newPagesLen grows the page table by multiples of 64 bytes.
func newPagesLen(required int) int {
	increment := 64 * 8 / ptrSize
	return (required + increment - 1) & -increment
}

// compact moves buffered indexes to pages, creating a page only where it
// frees at least as much buffer as it takes.
func (s *store) compact() {
	sort.Ints(s.buffer)
	for pos := 0; pos < len(s.buffer); {
		start := pos
		p := pageIndex(s.buffer[start])
		pos++
		for pos < len(s.buffer) && pageIndex(s.buffer[pos]) == p {
			pos++
		}
		end := pos
		page := s.page(p, (end-start)*intSize >= pageLen*float64Size)
		if len(page) > 0 {
			for _, index := range s.buffer[start:end] {
				page[lineIndex(index)]++
			}
			copy(s.buffer[start:], s.buffer[end:])
			s.buffer = s.buffer[:len(s.buffer)+start-end]
			pos = start
		}
	}
	s.compactionTriggerAt = len(s.buffer) + pageLen
}

func (s *store) encode(b *[]byte, t enc.FlagType) {
	s.compact()
	if len(s.buffer) > 0 {
		enc.EncodeFlag(b, enc.NewFlag(t, enc.BinEncodingIndexDeltas))
		enc.EncodeUvarint64(b, uint64(len(s.buffer)))
		previous := 0
		for _, index := range s.buffer {
			enc.EncodeVarint64(b, int64(index-previous))
			previous = index
		}
	}
	for offset, page := range s.pages {
		if len(page) > 0 {
			enc.EncodeFlag(b, enc.NewFlag(t, enc.BinEncodingContiguousCounts))
			enc.EncodeUvarint64(b, uint64(len(page)))
			enc.EncodeVarint64(b, int64((s.minPageIndex+offset)<<pageLenLog2))
			enc.EncodeVarint64(b, 1)
			for _, count := range page {
				enc.EncodeVarfloat64(b, count)
			}
		}
	}
}
