// Package rollup aggregates a rollup route's records per group and time
// window into partial aggregates that merge (counts and sums add, min and
// max combine, HyperLogLog and DDSketch sketches merge), and merges them
// back into final numbers for `sluice rollup query`.
package rollup
