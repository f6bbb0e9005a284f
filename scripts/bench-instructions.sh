#!/usr/bin/env bash
# Compares BenchmarkTransform with BenchmarkNaiveBaseline in instructions
# per iteration, counted by valgrind's callgrind: unlike wall-clock time, the
# count does not depend on what else the machine is doing. Each benchmark is
# run at N=2 and N=4 and the difference halved, which cancels the setup.
# Garbage collection is off: when its cycles fall would make the difference
# meaningless. That favours the baseline, which allocates about 7x more.
#
#   bash scripts/bench-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
bin=$(mktemp)
trap 'rm -f "$bin" "$bin".*' EXIT
CGO_ENABLED=0 go test -c -o "$bin" ./internal/transform/
cd internal/transform
count() { # benchmark N
	# Async preemption signals confuse callgrind; one P keeps the count stable.
	GOGC=${BENCH_GOGC:-off} GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$bin.cg" \
		"$bin" -test.run XXX -test.bench "^$1\$" -test.benchtime "$2x" -test.cpu 1 >/dev/null 2>"$bin.err"
	grep -o 'Collected : [0-9]*' "$bin.err" | grep -o '[0-9]*$'
}
per() { echo $(( ($(count "$1" 4) - $(count "$1" 2)) / 2 )); }
t=$(per BenchmarkTransform)
n=$(per BenchmarkNaiveBaseline)
echo "BenchmarkTransform      $t instructions per 3 MB event"
echo "BenchmarkNaiveBaseline  $n instructions per 3 MB event"
awk -v t="$t" -v n="$n" 'BEGIN { printf "sluice does the work in %.2fx fewer instructions\n", n / t }'
