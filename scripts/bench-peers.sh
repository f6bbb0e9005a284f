#!/usr/bin/env bash
# The side-by-side benchmark: `sluice run` and a naive Go program
# (bench/naive: encoding/json into a map, the same renames and coercions, no
# schema) on the same job, 200,000 scraped listings as JSON lines (about
# 69 MB in 8 objects, written by bench/gen, the same bytes every time), JSON
# lines out, and sluice again with pack: true (bench/peers-packed.yaml) on
# one core; the 1 GiB memory case runs both on one core, on two, and on
# two with GOMAXPROCS=MANY (as a machine of that many cores would run it:
# memory must stay bounded whatever the core count). Runs
# alternate (naive, sluice, naive, sluice, ...) so that a busy machine
# slows both alike; medians are printed.
#
#   bash scripts/bench-peers.sh           # or: make bench
#
# Environment: ROUNDS (default 5), RECORDS (200000), CPU1 (the core for the
# one-core case, default 0), CPU2 (the two cores, default 0,1), BIG_BYTES
# (the memory case's input, default 1 GiB; 0 skips it), MANY (the core
# count the memory case also runs as, default 8), WORK (scratch folder,
# default a temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RECORDS=${RECORDS:-200000}
CPU1=${CPU1:-0}
CPU2=${CPU2:-0,1}
BIG_BYTES=${BIG_BYTES:-1073741824}
MANY=${MANY:-8}
for tool in taskset /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-peers: needs $tool" >&2; exit 2; }
done
if [ -n "${WORK:-}" ]; then
	work=$WORK
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi

go build -o "$work/sluice" ./cmd/sluice
go build -o "$work/naive" ./bench/naive
go build -o "$work/gen" ./bench/gen
rm -rf "$work/in"
"$work/gen" -records "$RECORDS" -files 8 -out "$work/in"
bytes=$(cat "$work"/in/listings/* | wc -c)

# run CPUS NAME: runs one program once on CPUS, prints "wall_ms peak_rss_kb
# cpu_ms" (CPU time, user and system: on a busy machine the one-core
# comparison by CPU time stays meaningful when wall-clock time does not).
run() {
	local cpus=$1 name=$2 out="$work/out-$2" t0 t1
	rm -rf "$out"
	local cmd=("$work/naive" -out "$out" "$work/in")
	case $name in
	sluice) cmd=("$work/sluice" run -config bench/peers.yaml -out "$out" -progress never "$work/in") ;;
	packed) cmd=("$work/sluice" run -config bench/peers-packed.yaml -out "$out" -progress never "$work/in") ;;
	esac
	t0=$(date +%s%N)
	env ${RUN_PROCS:+GOMAXPROCS=$RUN_PROCS} /usr/bin/time -f '%M %U %S' -o "$work/rss" taskset -c "$cpus" "${cmd[@]}" >"$work/log-$name" 2>&1 ||
		{ echo "bench-peers: $name failed:" >&2; cat "$work/log-$name" >&2; exit 1; }
	t1=$(date +%s%N)
	if [ "$name" != naive ] && ! grep -q "ok           $RECORDS\$" "$work/log-$name"; then
		echo "bench-peers: sluice run did not deliver every record:" >&2
		cat "$work/log-$name" >&2
		exit 1
	fi
	read -r rss user sys <"$work/rss"
	echo "$(( (t1 - t0) / 1000000 )) $rss $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mbs() { awk -v b="$bytes" -v ms="$1" 'BEGIN { printf "%.1f", b / 1e6 / (ms / 1000) }'; }

declare -A times cpu
for cpus in "$CPU1" "$CPU2"; do
	for ((i = 0; i < ROUNDS; i++)); do
		names=(naive sluice)
		[ "$cpus" = "$CPU1" ] && names+=(packed)
		for name in "${names[@]}"; do
			read -r ms _ c < <(run "$cpus" "$name")
			times[$cpus/$name]+="$ms "
			cpu[$cpus/$name]+="$c "
		done
	done
done
for key in "${!times[@]}"; do
	times[$key]=$(tr ' ' '\n' <<<"${times[$key]}" | grep . | median)
	cpu[$key]=$(tr ' ' '\n' <<<"${cpu[$key]}" | grep . | median)
done

model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine    $model, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC'); $(go env GOVERSION)"
echo "workload   $RECORDS listings, $bytes bytes of JSON lines in 8 objects; medians of $ROUNDS interleaved runs"
echo
n1=${times[$CPU1/naive]} s1=${times[$CPU1/sluice]} n2=${times[$CPU2/naive]} s2=${times[$CPU2/sluice]}
line() { # label wall_ms cpu_ms [note]
	printf '%-26s %8.2f %8s %8.2f  %s\n' "$1" "$(awk -v m="$2" 'BEGIN { print m / 1000 }')" "$(mbs "$2")" \
		"$(awk -v m="$3" 'BEGIN { print m / 1000 }')" "${4:-}"
}
printf '%-26s %8s %8s %8s\n' "" "seconds" "MB/s" "CPU s"
line "naive Go, core $CPU1" "$n1" "${cpu[$CPU1/naive]}"
line "sluice run, core $CPU1" "$s1" "${cpu[$CPU1/sluice]}" \
	"$(awk -v n="$n1" -v s="$s1" -v nc="${cpu[$CPU1/naive]}" -v sc="${cpu[$CPU1/sluice]}" \
		'BEGIN { printf "%.2fx naive Go (target 2x); by CPU time %.2fx", n / s, nc / sc }')"
line "sluice run, packed, core $CPU1" "${times[$CPU1/packed]}" "${cpu[$CPU1/packed]}" \
	"$(awk -v n="$n1" -v s="${times[$CPU1/packed]}" 'BEGIN { printf "%.2fx naive Go (pack: true, as the shipped sluice.yaml)", n / s }')"
line "naive Go, cores $CPU2" "$n2" "${cpu[$CPU2/naive]}"
line "sluice run, cores $CPU2" "$s2" "${cpu[$CPU2/sluice]}" \
	"$(awk -v a="$s1" -v b="$s2" -v n="$n2" 'BEGIN { printf "%.2fx its one-core speed (target 1.7x), %.2fx naive Go", a / b, n / b }')"

if [ "$BIG_BYTES" != 0 ]; then
	rm -rf "$work/in" "$work"/out-*
	"$work/gen" -bytes "$BIG_BYTES" -files 16 -out "$work/in"
	bytes=$(cat "$work"/in/listings/* | wc -c)
	echo
	RECORDS=$(cat "$work"/in/listings/* | wc -l)
	for name in sluice packed; do
		for cpus in "$CPU1" "$CPU2" "$CPU2/$MANY"; do
			procs=${cpus#*/}
			[ "$procs" = "$cpus" ] && procs=
			read -r ms rss _ < <(RUN_PROCS=$procs run "${cpus%/*}" "$name")
			printf 'sluice run%s, %s bytes, cores %s%s: %.1f MB/s, peak RSS %d MiB (target < 64 MiB)\n' \
				"$([ "$name" = packed ] && echo ', packed')" "$bytes" "${cpus%/*}" "${procs:+ as GOMAXPROCS=$procs}" "$(mbs "$ms")" $((rss / 1024))
			rm -rf "$work/out-$name"
		done
	done
fi
