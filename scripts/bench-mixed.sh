#!/usr/bin/env bash
# The mixed workload against the code before the speed work: BenchmarkRun
# (sluice run end to end on one core, 64 MiB of CSV, ALB access logs and
# JSON lines through the shipped config) built from this checkout and from
# BASE (default d5cd953, the parent of the first speed commit), run
# alternately PAIRS times (default 5) on one pinned core, each run
# -benchtime 3x. BASE's own benchmark input differs, so its build gets
# this checkout's internal/localrun/bench_test.go: both read the same
# bytes. This checkout's build takes the profile `sluice` is built with
# (cmd/sluice/default.pgo, see scripts/pgo-profile.sh), so the figure is
# the code as `sluice run` ships; PGO=off builds it without. Prints each
# pair, the medians and their ratio.
#
#   bash scripts/bench-mixed.sh
#   PAIRS=3 BASE=a18d742 CPU=1 PGO=off bash scripts/bench-mixed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-d5cd953}"
PAIRS="${PAIRS:-5}"
CPU="${CPU:-0}"
PGO="${PGO:-auto}"
if [ "$PGO" = auto ]; then
	PGO=off
	[ -f cmd/sluice/default.pgo ] && PGO="$PWD/cmd/sluice/default.pgo"
fi
command -v taskset >/dev/null || { echo "bench-mixed: needs taskset (util-linux)"; exit 2; }
git rev-parse --verify --quiet "$BASE^{commit}" >/dev/null || { echo "bench-mixed: no commit $BASE in this checkout"; exit 2; }

work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$BASE" >/dev/null 2>&1
cp internal/localrun/bench_test.go "$work/base/internal/localrun/bench_test.go"
(cd "$work/base" && go test -c -o "$work/base.test" ./internal/localrun)
go test -c -pgo="$PGO" -o "$work/head.test" ./internal/localrun

# run DIR BINARY: one BenchmarkRun of three runs from DIR (the benchmark
# finds the shipped config relative to its package); prints MB/s.
run() {
	(cd "$1/internal/localrun" && taskset -c "$CPU" "$2" -test.run XXX -test.bench 'BenchmarkRun$' -test.benchtime 3x -test.cpu 1) |
		awk '/^BenchmarkRun/ { for (i = 1; i <= NF; i++) if ($i == "MB/s") print $(i - 1) }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "machine    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M') UTC; $(go env GOVERSION)"
echo "code       $(git rev-parse --short HEAD) (profile: ${PGO#$PWD/}) against $BASE, core $CPU, $PAIRS pairs"
before=() after=()
for ((i = 1; i <= PAIRS; i++)); do
	b=$(run "$work/base" "$work/base.test")
	a=$(run "$PWD" "$work/head.test")
	[ -n "$a" ] && [ -n "$b" ] || { echo "bench-mixed: a run printed no MB/s"; exit 1; }
	before+=("$b") after+=("$a")
	echo "pair $i     $BASE $b MB/s, $(git rev-parse --short HEAD) $a MB/s: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }')"
done
mb=$(printf '%s\n' "${before[@]}" | median)
ma=$(printf '%s\n' "${after[@]}" | median)
echo "medians    $BASE $mb MB/s, $(git rev-parse --short HEAD) $ma MB/s: $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2fx", a / b }') (target 3x)"
