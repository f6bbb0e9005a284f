#!/usr/bin/env bash
# Writes cmd/sluice/default.pgo, the CPU profile Go's profile-guided
# optimisation builds `sluice` with (go build picks up default.pgo in a
# main package's folder by itself). The profile is of the work sluice run
# does most: the side-by-side job of scripts/bench-peers.sh (200,000
# listings as JSON lines through bench/peers.yaml, then packed through
# bench/peers-packed.yaml) and BenchmarkRun's mixed input (CSV, ALB access
# logs and JSON lines through the shipped sluice.yaml), each on one core,
# from builds without a profile, merged. Run it again when the hot code
# has changed much; a stale profile still helps, only less.
#
#   bash scripts/pgo-profile.sh
#
# The Lambdas are built without it. Their entry point reads Firehose's
# event JSON, which sluice run does not, and with this profile
# BenchmarkTransform ran no faster (221 to 229 against 226 to 231 MB/s,
# alternated four times on 2026-12-01); the splitter's zip is also close to
# the 5 MB the project holds it to.
set -euo pipefail
cd "$(dirname "$0")/.."
CPU=${CPU:-0}
command -v taskset >/dev/null || { echo "pgo-profile: needs taskset (util-linux)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -pgo=off -o "$work/sluice" ./cmd/sluice
go build -o "$work/gen" ./bench/gen
go test -pgo=off -c -o "$work/localrun.test" ./internal/localrun
"$work/gen" -records 200000 -files 8 -out "$work/in" >/dev/null

for cfg in peers peers-packed; do
	rm -rf "$work/out"
	taskset -c "$CPU" "$work/sluice" run -config "bench/$cfg.yaml" -out "$work/out" -progress never \
		-cpuprofile "$work/$cfg.pprof" "$work/in" >/dev/null
done
(cd internal/localrun && taskset -c "$CPU" "$work/localrun.test" -test.run XXX -test.bench 'BenchmarkRun$' \
	-test.benchtime 5x -test.cpu 1 -test.cpuprofile "$work/mixed.pprof" >/dev/null)

go tool pprof -proto "$work/peers.pprof" "$work/peers-packed.pprof" "$work/mixed.pprof" >cmd/sluice/default.pgo 2>/dev/null
echo "cmd/sluice/default.pgo: $(wc -c <cmd/sluice/default.pgo) bytes, from $(git rev-parse --short HEAD)"
