#!/usr/bin/env bash
# startup-bench.sh: wall time of whole `tandem run` invocations (start-up, boot,
# exit) against qemu-system-i386 on the same ELFs, side by side, round-robin.
#
#   quick   guests/tests/quick.c: one line, then the exit port (start-up + exit)
#   hello   guests/hello: ten lines, paging, ring 3, and 5 PIT ticks at 100 Hz,
#           so ~40-50 ms of its wall time is the guest waiting for its timer
#
# usage: startup-bench.sh [--runs N] [--backends LIST]   (default 10; bt,qemu)
# Prints median and min-max wall milliseconds per guest and backend.
# Exit: 0 ok; 1 a run ended with the wrong status; 2 usage; 3 not built.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
tandem=$build/tandem runs=10 backends=bt,qemu
while (($#)); do
	case $1 in
	--runs) runs=${2:-}; shift 2 || exit 2 ;;
	--backends) backends=${2:-}; shift 2 || exit 2 ;;
	-h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "startup-bench: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "startup-bench: --runs takes a positive number" >&2; exit 2; }
[[ -x $tandem ]] || { echo "startup-bench: $tandem not built" >&2; exit 3; }
IFS=, read -r -a blist <<<"$backends"
for b in "${blist[@]}"; do # any run row of the registry (`tandem backends`)
	"$tandem" backends | awk -v b="$b" '$1 == b && $3 == "run" {f = 1} END {exit !f}' ||
		{ echo "startup-bench: unknown backend '$b' (a run row of tandem backends)" >&2; exit 2; }
done
guests=(quick hello)
declare -A ms

run_once() { # backend elf -> status; appends the wall ms
	local b=$1 elf=$2 t0 t1 st
	t0=$(date +%s%N)
	# qemu too: `tandem run --backend qemu` (run_qemu.c spells its command line; the
	# wrapper's fork + exec is inside the measured time, within the noise of a QEMU boot)
	"$tandem" run --backend "$b" "$elf" </dev/null >/dev/null 2>&1
	st=$?
	t1=$(date +%s%N)
	ms[$b,${elf##*/}]+="$(((t1 - t0) / 1000)) "
	return $st
}

failed=0
for ((i = 0; i < runs; i++)); do
	for g in "${guests[@]}"; do
		for b in "${blist[@]}"; do
			run_once "$b" "$build/guests/$g.elf"
			st=$?
			[[ $st == 1 ]] || { echo "startup-bench: $b $g exited $st, want 1" >&2; failed=1; }
		done
	done
done

stats() { printf '%s\n' $1 | sort -n | awk '{v[NR] = $1} END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%8.1f %8.1f %8.1f", m / 1000, v[1] / 1000, v[NR] / 1000 }'; }
echo "start-up benchmark: $runs runs each, round-robin; wall milliseconds of the whole process"
printf '%-8s %-6s %8s %8s %8s\n' guest engine median min max
for g in "${guests[@]}"; do
	for b in "${blist[@]}"; do
		printf '%-8s %-6s %s\n' "$g" "$b" "$(stats "${ms[$b,$g.elf]}")"
	done
done
exit $failed
