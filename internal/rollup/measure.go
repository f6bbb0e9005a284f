package rollup

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"

	"github.com/axiomhq/hyperloglog"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/rollup/quantile"
)

// RelativeAccuracy is the DDSketch guarantee of a quantiles measure: the
// value reported for quantile q is within 1% of the exact value at q's
// rank.
const RelativeAccuracy = 0.01

// HLLStandardError is the standard error of a distinct count: 1.04/√m for
// the m = 2^14 registers of hyperloglog.New14 (0.81%). Below a few
// thousand values the sketch is sparse and close to exact.
const HLLStandardError = 0.0081

// acc accumulates one measure of one group.
type acc struct {
	kind  string
	isInt bool // a sum of integers, kept exactly
	sumI  int64
	sumF  float64
	v     float64 // min or max
	has   bool
	hll   *hyperloglog.Sketch
	dd    *quantile.Sketch
	sk    []byte // a partial's serialised DDSketch, to merge
}

func newAcc(m config.Measure, isInt bool) *acc {
	a := &acc{kind: m.Kind, isInt: isInt}
	switch m.Kind {
	case config.MeasureDistinct:
		a.hll = hyperloglog.New14()
	case config.MeasureQuantiles:
		a.dd = newSketch()
	}
	return a
}

func newSketch() *quantile.Sketch {
	dd, err := quantile.New(RelativeAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in range
	}
	return dd
}

// addNumber adds one value of a sum, min, max or quantiles measure.
func (a *acc) addNumber(f float64, i int64) {
	switch a.kind {
	case config.MeasureSum:
		if a.isInt {
			a.sumI += i
		} else {
			a.sumF += f
		}
	case config.MeasureMin:
		if !a.has || f < a.v {
			a.v, a.has = f, true
		}
	case config.MeasureMax:
		if !a.has || f > a.v {
			a.v, a.has = f, true
		}
	case config.MeasureQuantiles:
		_ = a.dd.Add(f) // only NaN and ±Inf fail, and parseNumber refuses them
	}
}

// merge combines another partial of the same measure into a.
func (a *acc) merge(b *acc) error {
	switch a.kind {
	case config.MeasureSum:
		a.sumI += b.sumI
		a.sumF += b.sumF
	case config.MeasureMin:
		if b.has && (!a.has || b.v < a.v) {
			a.v, a.has = b.v, true
		}
	case config.MeasureMax:
		if b.has && (!a.has || b.v > a.v) {
			a.v, a.has = b.v, true
		}
	case config.MeasureDistinct:
		return a.hll.Merge(b.hll)
	case config.MeasureQuantiles:
		if err := a.dd.Merge(b.sk); err != nil {
			return fmt.Errorf("sketch: %w", err)
		}
	}
	return nil
}

// partial is the measure's value in a partial record: a JSON number, null,
// or a base64 sketch.
func (a *acc) partial(dst []byte) (value []byte, null bool, err error) {
	switch a.kind {
	case config.MeasureSum:
		if a.isInt {
			return strconv.AppendInt(dst, a.sumI, 10), false, nil
		}
		return appendFloat(dst, a.sumF), false, nil
	case config.MeasureMin, config.MeasureMax:
		if !a.has {
			return dst, true, nil
		}
		return appendFloat(dst, a.v), false, nil
	case config.MeasureDistinct:
		b, err := a.hll.MarshalBinary()
		if err != nil {
			return nil, false, fmt.Errorf("rollup: HyperLogLog: %w", err)
		}
		return base64.StdEncoding.AppendEncode(dst, b), false, nil
	case config.MeasureQuantiles:
		return base64.StdEncoding.AppendEncode(dst, a.dd.Encode(nil)), false, nil
	}
	return dst, true, nil
}

// setPartial reads the measure's value from a partial record's column.
func (a *acc) setPartial(v any) error {
	switch a.kind {
	case config.MeasureSum, config.MeasureMin, config.MeasureMax:
		if v == nil {
			return nil
		}
		n, ok := v.(numberish)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		if a.kind == config.MeasureSum && a.isInt {
			i, err := n.Int64()
			a.sumI = i
			return err
		}
		f, err := n.Float64()
		if a.kind == config.MeasureSum {
			a.sumF = f
		} else {
			a.v, a.has = f, true
		}
		return err
	case config.MeasureDistinct, config.MeasureQuantiles:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("a sketch is base64 text, not %T", v)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("sketch: %w", err)
		}
		if a.kind == config.MeasureDistinct {
			return a.hll.UnmarshalBinary(b)
		}
		a.sk = b
	}
	return nil
}

// numberish is json.Number's interface.
type numberish interface {
	Int64() (int64, error)
	Float64() (float64, error)
}

func appendFloat(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}
