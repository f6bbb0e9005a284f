package quantile

import (
	"errors"
	"io"
	"math"

	enc "github.com/DataDog/sketches-go/ddsketch/encoding"
)

var (
	errMapping     = errors.New("quantile: the sketch's index mapping differs from this one's")
	errUnknownFlag = errors.New("quantile: unknown encoding flag")
	errEncoding    = errors.New("quantile: unknown bin encoding")
	errBin         = errors.New("quantile: a bin's index is outside the mapping's range, or its count is not a finite number ≥ 0")
)

type bin struct {
	negative bool
	index    int
	count    float64
}

// Merge decodes one sketch in sketches-go's binary format and adds its
// counts, as DDSketch.DecodeAndMergeWith does. A sketch that cannot be read,
// or whose index mapping is not this one's, is an error and changes nothing.
// Merged counts are encoded too, but not necessarily in the bytes
// sketches-go would write after the same merges.
func (s *Sketch) Merge(b []byte) error {
	var (
		bins []bin
		zero float64
		// The mapping the next one must match, as sketches-go checks each
		// mapping in the bytes against the one read before it.
		gamma, offset = s.m.gamma, s.m.indexOffset
	)
	for len(b) > 0 {
		flag, err := enc.DecodeFlag(&b)
		if err != nil {
			return err
		}
		switch flag.Type() {
		case enc.FlagTypePositiveStore, enc.FlagTypeNegativeStore:
			if bins, err = decodeBins(&b, flag, bins, s.m.index(s.m.minIndexable), s.m.index(s.m.maxIndexable)); err != nil {
				return err
			}
		case enc.FlagTypeIndexMapping:
			if flag != enc.FlagIndexMappingBaseLogarithmic {
				return errMapping
			}
			g, err := enc.DecodeFloat64LE(&b)
			if err != nil {
				return err
			}
			o, err := enc.DecodeFloat64LE(&b)
			if err != nil {
				return err
			}
			// sketches-go refuses a gamma of 1 or less; an infinite one
			// would pass the tolerance (infinity is within infinity).
			if !(g > 1) || math.IsInf(g, 0) || math.IsInf(o, 0) ||
				!sameMapping(g, o, s.m.gamma, s.m.indexOffset) || !sameMapping(g, o, gamma, offset) {
				return errMapping
			}
			gamma, offset = g, o
		default:
			switch flag {
			case enc.FlagZeroCountVarFloat:
				c, err := enc.DecodeVarfloat64(&b)
				if err != nil {
					return err
				}
				if !validCount(c) {
					return errBin
				}
				zero += c
			case enc.FlagCount, enc.FlagSum, enc.FlagMin, enc.FlagMax:
				// Exact summary statistics, which sketches-go skips too.
				if len(b) < 8 {
					return io.EOF
				}
				b = b[8:]
			default:
				return errUnknownFlag
			}
		}
	}
	for _, x := range bins {
		if x.negative {
			s.negative.addWithCount(x.index, x.count)
		} else {
			s.positive.addWithCount(x.index, x.count)
		}
	}
	s.zeroCount += zero
	return nil
}

// decodeBins appends the bins of one store block. Indexes must lie within
// [lo, hi], the indexes Add can produce (sketches-go does not check, and a
// far index would make the page table enormous); counts must be finite
// and not negative.
func decodeBins(b *[]byte, flag enc.Flag, bins []bin, lo, hi int) ([]bin, error) {
	negative := flag.Type() == enc.FlagTypeNegativeStore
	n, err := enc.DecodeUvarint64(b)
	if err != nil {
		return nil, err
	}
	switch flag.SubFlag() {
	case enc.BinEncodingIndexDeltasAndCounts, enc.BinEncodingIndexDeltas:
		withCounts := flag.SubFlag() == enc.BinEncodingIndexDeltasAndCounts
		index := int64(0)
		for range n {
			delta, err := enc.DecodeVarint64(b)
			if err != nil {
				return nil, err
			}
			index += delta
			count := 1.0
			if withCounts {
				if count, err = enc.DecodeVarfloat64(b); err != nil {
					return nil, err
				}
			}
			if index < int64(lo) || index > int64(hi) || !validCount(count) {
				return nil, errBin
			}
			bins = append(bins, bin{negative, int(index), count})
		}
	case enc.BinEncodingContiguousCounts:
		index, err := enc.DecodeVarint64(b)
		if err != nil {
			return nil, err
		}
		delta, err := enc.DecodeVarint64(b)
		if err != nil {
			return nil, err
		}
		for range n {
			count, err := enc.DecodeVarfloat64(b)
			if err != nil {
				return nil, err
			}
			if index < int64(lo) || index > int64(hi) || !validCount(count) {
				return nil, errBin
			}
			bins = append(bins, bin{negative, int(index), count})
			index += delta
		}
	default:
		return nil, errEncoding
	}
	return bins, nil
}

func validCount(c float64) bool { return c >= 0 && !math.IsInf(c, 1) }

// sameMapping reports whether two logarithmic mappings are equal as
// sketches-go's LogarithmicMapping.Equals has it.
func sameMapping(gamma1, offset1, gamma2, offset2 float64) bool {
	return withinTolerance(gamma1, gamma2, 1e-12) && withinTolerance(offset1, offset2, 1e-12)
}

func withinTolerance(x, y, tolerance float64) bool {
	if x == 0 || y == 0 {
		return math.Abs(x) <= tolerance && math.Abs(y) <= tolerance
	}
	return math.Abs(x-y) <= tolerance*math.Max(math.Abs(x), math.Abs(y))
}

// Quantile returns the value at quantile q, in [0, 1], as sketches-go's
// GetValueAtQuantile: within the relative accuracy of the exact value at
// q's rank. An empty sketch has none.
func (s *Sketch) Quantile(q float64) (float64, error) {
	if q < 0 || q > 1 {
		return math.NaN(), errors.New("quantile: the quantile must be between 0 and 1")
	}
	negatives := s.negative.totalCount()
	count := s.zeroCount + s.positive.totalCount() + negatives
	if count == 0 {
		return math.NaN(), errors.New("quantile: no such element exists")
	}
	rank := float64(q * (count - 1)) // no fused multiply-add, as in sketches-go
	switch {
	case rank < negatives:
		return -s.m.value(s.negative.keyAtRank(negatives - 1 - rank)), nil
	case rank < s.zeroCount+negatives:
		return 0, nil
	default:
		return s.m.value(s.positive.keyAtRank(rank - s.zeroCount - negatives)), nil
	}
}
