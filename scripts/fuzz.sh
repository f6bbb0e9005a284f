#!/usr/bin/env bash
# Bounded fuzzing of sluice's parsers and decoders: each of 25 targets
# runs for FUZZTIME (default 5s), one after the other. CI runs it
# (.ci/run): about 120 s of fuzzing, under three minutes with the builds on
# a quiet two-core machine (at 6 s each it took 3 min 30 s wall, 1 min 46 s
# of CPU, on the shared machine at load average 12). The other Fuzz targets run their seeds in
# every go test.
#
# Each target's corpus is kept in its package's testdata/fuzz/<Target>/:
# go test reads it as seeds, and a failing input found here is written
# there to be committed with its fix. With KEEP=1 the new inputs the fuzzer
# found interesting are copied there too (at most 20 per target, the
# smallest), to grow the committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"

# package target: formats (and JSON lines copied into envelopes as they
# are, against their fields quoted), JSON checked against JSON read,
# envelope, normaliser (its exact reading of numbers held to strconv,
# its word dates to strings.Fields), the Firehose event decoder and its
# base64, the dead-letter
# reader, the S3 event parser, the transform and the splitter end to end,
# sluice.yaml's decoding and error messages, doubles written as JSON
# without strconv against strconv, decimals read in place against
# their digits joined, and the local Firehose's record ids
# and verdicts against their plain forms.
targets=(
	"./internal/format FuzzCSV"
	"./internal/format FuzzJSONL"
	"./internal/format FuzzALB"
	"./internal/format FuzzELB"
	"./internal/format FuzzLines"
	"./internal/format FuzzJSONLRaw"
	"./internal/jsonx FuzzSkip"
	"./internal/envelope FuzzDecode"
	"./internal/envelope FuzzDecodeSourceCache"
	"./internal/normalize FuzzNormalize"
	"./internal/normalize FuzzParseNumberExact"
	"./internal/normalize FuzzParseWordDate"
	"./internal/firehose FuzzDecodeEvent"
	"./internal/firehose FuzzDecodeBase64"
	"./internal/firehose FuzzAppendBase64"
	"./internal/deadletter FuzzReader"
	"./internal/splitter FuzzParseEvent"
	"./internal/splitter FuzzSplitConservation"
	"./internal/transform FuzzTransform"
	"./internal/config FuzzParse"
	"./internal/rollup/quantile FuzzMerge"
	"./schema FuzzAppendFloat"
	"./schema FuzzParseDecimal"
	"./internal/localfirehose FuzzRecordIDs"
	"./internal/localfirehose FuzzJudge"
)

cache="$(go env GOCACHE)/fuzz/$(go list -m)"
# go test minimizes each new interesting input for up to 60 s: on CI's
# empty fuzz cache the first one took the whole budget (FuzzELB, 5 s from
# an empty cache: 16 and 688 execs with the default, 10,185 and 4,896
# with 1 s). A failing input is still written, minimized for at most 1 s.
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "-- $pkg $name ($FUZZTIME)"
	# go test's fuzzing engine can end a run with "context deadline
	# exceeded" when -fuzztime runs out while it is minimizing a new
	# interesting (not failing) input: no input failed and none is written.
	# Such a run is tried again, at most twice; a real failure always
	# writes its input ("Failing input written to").
	for try in 1 2 3; do
		if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s -parallel 2 >/tmp/sluice-fuzz.log 2>&1; then
			break
		fi
		if [ "$try" -lt 3 ] && grep -q 'context deadline exceeded' /tmp/sluice-fuzz.log && ! grep -q 'Failing input written' /tmp/sluice-fuzz.log; then
			echo "fuzz: $pkg $name: the fuzzing engine's own deadline ended the run with no failing input; again"
			continue
		fi
		cat /tmp/sluice-fuzz.log
		echo "fuzz: $pkg $name failed; the input is in $pkg/testdata/fuzz/$name" >&2
		exit 1
	done
	tail -n 2 /tmp/sluice-fuzz.log | head -n 1
	if [ "${KEEP:-}" = 1 ] && [ -d "$cache/${pkg#./}/$name" ]; then
		mkdir -p "$pkg/testdata/fuzz/$name"
		ls -S -r "$cache/${pkg#./}/$name" | head -n 20 | while read -r f; do
			cp -n "$cache/${pkg#./}/$name/$f" "$pkg/testdata/fuzz/$name/" || true
		done
	fi
done
