#!/usr/bin/env bash
# Instructions per benchmark iteration, counted by valgrind's callgrind:
# unlike wall-clock time, the count does not depend on what else the
# machine is doing, so a regression shows even on a busy machine. Each
# benchmark is run at N=2 and N=4 and the difference halved, which cancels
# the setup. Garbage collection is off (BENCH_GOGC changes it): when its
# cycles fall would make the difference meaningless. That favours the naive
# baseline, which allocates about 7x more.
#
#   bash scripts/bench-instructions.sh            # the transform against the naive baseline
#   bash scripts/bench-instructions.sh jsonl csv  # stages: transform run jsonl csv alb
#
# Stages: transform (BenchmarkTransform and BenchmarkNaiveBaseline, one 3 MB
# Firehose event); run (the whole of sluice run over 20,000 listings, as
# scripts/bench-peers.sh runs it, counted once); jsonl, csv and alb (the
# splitter's formats, 8 MiB of input each; jsonl both with its records'
# fields read and as the splitter reads lines when only the envelope needs
# them, BenchmarkJSONLRaw).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 2; }
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(transform)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # binary benchmark N
	# Async preemption signals confuse callgrind; one P keeps the count stable.
	# valgrind 3.19 cannot decode RDTSCP, which the runtime's lock spinning
	# reads the clock with: without cpu.rdtscp=off a contended lock kills the
	# benchmark with SIGILL now and then, and the count is of a part run.
	if ! GOGC=${BENCH_GOGC:-off} GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
		"$1" -test.run XXX -test.bench "^$2\$" -test.benchtime "$3x" -test.cpu 1 >/dev/null 2>"$tmp/err"; then
		grep -v '^==' "$tmp/err" | head -20 >&2
		echo "$2 failed under valgrind" >&2
		return 1
	fi
	grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$'
}
per() { # binary benchmark: instructions per iteration
	local four two
	four=$(count "$1" "$2" 4) && two=$(count "$1" "$2" 2) || exit 1
	echo $(( (four - two) / 2 ))
}
binary() { # package: builds its test binary once, runs from its folder
	local bin="$tmp/$(echo "$1" | tr / _).test"
	[ -x "$bin" ] || CGO_ENABLED=0 go test -c -o "$bin" "./$1" >&2
	echo "$bin"
}
report() { # package benchmark what: prints the count, leaves it in $n
	local bin
	bin=$(binary "$1")
	n=$(cd "$1" && per "$bin" "$2")
	printf '%-24s %12d instructions per %s\n' "$2" "$n" "$3"
}

for stage in "${stages[@]}"; do
	case $stage in
	transform)
		report internal/transform BenchmarkTransform "3 MB event"
		t=$n
		report internal/transform BenchmarkNaiveBaseline "3 MB event"
		awk -v t="$t" -v n="$n" 'BEGIN { printf "sluice does the work in %.2fx fewer instructions\n", n / t }'
		;;
	jsonl)
		report internal/format BenchmarkJSONL "8 MiB of JSON lines"
		report internal/format BenchmarkJSONLRaw "8 MiB of JSON lines"
		;;
	run)
		# The whole of sluice run (bench/peers.yaml) over 20,000 listings of
		# bench/gen: one count, its setup included.
		go build -o "$tmp/sluice" ./cmd/sluice
		go run ./bench/gen -records 20000 -files 2 -out "$tmp/in" >/dev/null
		if ! GOGC=${BENCH_GOGC:-off} GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
			"$tmp/sluice" run -config bench/peers.yaml -out "$tmp/out" -progress never "$tmp/in" >/dev/null 2>"$tmp/err"; then
			grep -v '^==' "$tmp/err" | head -20 >&2
			echo "sluice run failed under valgrind" >&2
			exit 1
		fi
		printf '%-24s %12d instructions per 20,000 listings\n' "sluice run" "$(grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$')"
		;;
	csv) report internal/format BenchmarkCSV "8 MiB of CSV" ;;
	alb) report internal/format BenchmarkALB "8 MiB of ALB logs" ;;
	*) echo "unknown stage $stage (transform run jsonl csv alb)" >&2; exit 2 ;;
	esac
done
