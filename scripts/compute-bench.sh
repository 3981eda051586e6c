#!/usr/bin/env bash
# compute-bench.sh: the compute-bound benchmark (CoreMark-style integer kernels,
# bench/compute/kernels.c) on every backend, side by side, on one iteration count.
#
#   native      the kernels as a 32-bit host process (build/compute-native), rdtsc;
#               unavailable where the host cannot run 32-bit code (`tandem backends --suite compute`)
#   native64    the same kernels and checksum as a 64-bit host process (other code
#               generation: a reference, labelled, not the ratio's denominator unless
#               native is unavailable); added by itself when native is unavailable
#   qemu        build/guests/compute.elf under qemu-system-i386 (TCG), the guest's rdtsc;
#               also row qemu-wall: wall time of the qemu process minus the median wall
#               time of an iters=0 boot, converted to cycles at the host TSC rate
#   kvm, bt...  the same ELF under `tandem run --backend NAME` (engine rows), the guest's rdtsc
#               (ring 3, same TSC as the host); an engine this host cannot run (tandem
#               exits 14) gets a row with tandem's reason
#   kvm-nested  (opt-in) kvm inside scripts/nested-kvm.sh's QEMU+SVM VM: checks the
#               checksum under a real KVM; its timing is NOT hardware timing
#
# usage: compute-bench.sh [--iters N] [--repeat R] [--backends LIST] [--format text|md]
#                         [--timeout SECS]
#   --iters N       iterations of compute_run (default: compute-native --default-iters)
#   --repeat R      runs per backend (default 3); the table shows median, min, max
#   --backends L    `tandem backends --suite compute` names (default: its --defaults)
#                   (native always runs; native64 too where native cannot)
#   --format F      text (default) or md (a markdown table)
#   --timeout S     per run (default 600)
# Exit: 0 ok (unavailable engines included); 1 a run failed or checksums differ;
#       2 usage; 3 build products missing. Progress goes to stderr, the table to stdout.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
native_bin=$build/compute-native
native64_bin=$build/compute-native64
elf=$build/guests/compute.elf
tandem=$build/tandem

usage() { sed -n '19,28s/^# \{0,1\}//p' "$0" >&2; exit "${1:-2}"; }
die() { echo "compute-bench: $1" >&2; exit "${2:-1}"; }
say() { echo "compute-bench: $*" >&2; }

iters="" repeat=3 backends="" format=text tmo=600
while (($#)); do
	case $1 in
	--iters) iters=${2:-}; shift 2 || usage ;;
	--repeat) repeat=${2:-}; shift 2 || usage ;;
	--backends) backends=${2:-}; shift 2 || usage ;;
	--format) format=${2:-}; shift 2 || usage ;;
	--timeout) tmo=${2:-}; shift 2 || usage ;;
	-h | --help) usage 0 ;;
	*) echo "compute-bench: unknown argument '$1'" >&2; usage ;;
	esac
done
[[ $repeat =~ ^[1-9][0-9]*$ && $tmo =~ ^[1-9][0-9]*$ ]] || usage
[[ $format == text || $format == md ]] || usage
[[ -z $iters || $iters =~ ^[0-9]+$ ]] || usage
# The backends, their kinds and this host's answer come from tandem's registry
# (`tandem backends --suite compute`, src/cli/backends.c): no list of our own.
[[ -x $tandem ]] || die "$tandem missing: build target tandem" 3
declare -A kind avail
while read -r name k _ _ yes _; do
	kind[$name]=$k avail[$name]=${yes%:}
done < <("$tandem" backends --suite compute)
# the default: the registry's compute set (`tandem backends --suite compute --defaults`),
# native (the ratio's denominator) first
[[ -n $backends ]] ||
	backends=native,$("$tandem" backends --suite compute --defaults | grep -vx native | paste -sd, -)
IFS=, read -r -a blist <<<"$backends"
for b in "${blist[@]}"; do
	[[ -n ${kind[$b]:-} ]] || die "unknown backend '$b' (tandem backends --suite compute: $(
		"$tandem" backends --suite compute --names | paste -sd, -))" 2
done
[[ ,$backends, == *,native,* ]] || blist=(native "${blist[@]}") # the ratio's denominator
# Can this host run the 32-bit native build? The registry's probe decides (and TANDEM_HOST_MASK).
ia32=${avail[native]}
[[ $ia32 == yes || ,$backends, == *,native64,* ]] || blist=(native native64 "${blist[@]:1}")

[[ -x $native_bin ]] || die "$native_bin missing: build target compute_native" 3
[[ -f $elf ]] || die "$elf missing: build target guest_compute" 3
[[ -x $native64_bin ]] || die "$native64_bin missing: build target compute_native64" 3
[[ -n $iters ]] || iters=$("$native64_bin" --default-iters) || die "compute-native64 --default-iters failed"

# Host facts: CPU and the TSC rate (for qemu-wall), from tandem info when built.
info=""
[[ -x $tandem ]] && info=$("$tandem" info 2>/dev/null)
tsc_khz=$(sed -n 's/^host.tsc-khz *\([0-9][0-9]*\).*/\1/p' <<<"$info")
host_cpu=$(sed -n 's/^host.cpu *//p' <<<"$info")
[[ -n $host_cpu ]] || host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- results: one row per (pseudo-)backend ----------------------------------------
rows=() failed=0 ref_sum="" mismatch=0
declare -A r_runs r_cycles r_sum r_note r_state # r_cycles: space-separated list

# parse_line OUTPUT -> sets p_sum p_cycles (returns 1 if no valid line for $iters)
parse_line() {
	local re='^compute: iterations=([0-9]+) checksum=(0x[0-9a-f]{8}) cycles=([0-9]+)'
	local line
	line=$(grep -m1 '^compute: ' <<<"$1") || return 1
	[[ $line =~ $re ]] || return 1
	[[ ${BASH_REMATCH[1]} == "$2" ]] || return 1
	p_sum=${BASH_REMATCH[2]} p_cycles=${BASH_REMATCH[3]}
}

add_row() { # name note
	rows+=("$1") r_note[$1]=$2 r_cycles[$1]="" r_sum[$1]="" r_runs[$1]=0 r_state[$1]=ok
}
record() { # name checksum cycles
	r_cycles[$1]+="$3 " r_runs[$1]=$((r_runs[$1] + 1))
	if [[ -z ${r_sum[$1]} ]]; then
		r_sum[$1]=$2
	elif [[ ${r_sum[$1]} != "$2" ]]; then
		r_sum[$1]="${r_sum[$1]}/$2" # differs between runs of one backend
	fi
}
fail_row() { # name message
	r_state[$1]=failed r_note[$1]="FAILED: $2"
	failed=1
	say "$1: $2"
}
unavail_row() { r_state[$1]=unavailable r_note[$1]="unavailable: $2"; }

now_ns() { date +%s%N; }

# ---- backends: setup_X adds X's row; once_X I does run I of R (skipped once X's row
# is no longer ok). Runs are interleaved round by round, so that drifting host load
# (other jobs, frequency) spreads over every backend instead of biasing one.
ok() { [[ ${r_state[$1]} == ok ]]; }

setup_native() {
	add_row native "host process (-m32, guest codegen flags), rdtsc around compute_run"
	[[ $ia32 == yes ]] || unavail_row native "this host cannot run 32-bit code (tandem info: host.ia32 no)"
}
setup_native64() {
	add_row native64 "host process (-m64: same kernels and checksum, other code generation), rdtsc"
}
once_native() { # native | native64, round
	local b=$1 bin=$native_bin out st
	[[ $b == native ]] || bin=$native64_bin
	say "$b run $2/$repeat"
	out=$(timeout "$tmo" "$bin" "iters=$iters" 2>"$tmp/err")
	st=$?
	[[ $st == 0 ]] || { fail_row "$b" "${bin##*/} exited $st ($(head -c 200 "$tmp/err"))"; return; }
	parse_line "$out" "$iters" || { fail_row "$b" "no result line: ${out:0:200}"; return; }
	record "$b" "$p_sum" "$p_cycles"
}

# qemu_once N: runs the guest with iters=N; sets q_out, q_status, q_wall_ns.
qemu_once() {
	local t0 t1
	t0=$(now_ns)
	q_out=$(timeout $((tmo + 30)) "$tandem" run --backend qemu --timeout "$tmo" --cmdline "iters=$1" \
		"$elf" </dev/null 2>"$tmp/err")
	q_status=$?
	t1=$(now_ns)
	q_wall_ns=$((t1 - t0))
}

q_boots=() q_walls=()
setup_qemu() {
	add_row qemu "qemu-system-i386 TCG, guest rdtsc in ring 3 (QEMU derives it from the host TSC)"
	add_row qemu-wall "qemu process wall time minus the median iters=0 boot"
	if ! command -v qemu-system-i386 >/dev/null; then
		unavail_row qemu "qemu-system-i386 not installed"
		unavail_row qemu-wall "qemu-system-i386 not installed"
	fi
}
once_qemu() { # each round: a boot-only run (iters=0), then the measured run
	say "qemu boot-only run (iters=0) $1/$repeat"
	qemu_once 0
	if [[ $q_status != 1 ]] || ! parse_line "$q_out" 0; then
		fail_row qemu "iters=0 run: exit status $q_status, want 1 ($(head -c 200 "$tmp/err"))"
		return
	fi
	q_boots+=("$q_wall_ns")
	say "qemu run $1/$repeat"
	qemu_once "$iters"
	[[ $q_status == 1 ]] || { fail_row qemu "exit status $q_status, want 1 ($(head -c 200 "$tmp/err"))"; return; }
	parse_line "$q_out" "$iters" || { fail_row qemu "no result line: ${q_out:0:200}"; return; }
	record qemu "$p_sum" "$p_cycles"
	q_walls+=("$q_wall_ns")
}
finish_qemu() { # the qemu-wall row, from the wall times of the rounds
	ok qemu-wall || return 0
	if ! ok qemu || ((${#q_walls[@]} == 0)); then
		unavail_row qemu-wall "no successful qemu run"
		return
	fi
	if [[ -z $tsc_khz ]]; then
		unavail_row qemu-wall "host TSC rate unknown (build tandem for 'tandem info')"
		return
	fi
	local boot_ns w c
	boot_ns=$(median "${q_boots[@]}")
	r_note[qemu-wall]+=" ($((boot_ns / 1000000)) ms), x host TSC ${tsc_khz} kHz"
	for w in "${q_walls[@]}"; do
		c=$(((w - boot_ns) * tsc_khz / 1000000))
		((c > 0)) || c=0
		record qemu-wall "${r_sum[qemu]}" "$c"
	done
}

setup_tandem() { # an engine row of the registry: kvm, bt, bt-noadapt
	case $1 in
	kvm) add_row kvm "tandem kvm engine, guest rdtsc in ring 3 (host TSC + offset)" ;;
	bt) add_row bt "tandem binary translator, guest rdtsc in ring 3" ;;
	*) add_row "$1" "tandem run --backend $1, guest rdtsc in ring 3" ;;
	esac
}
once_tandem() { # an engine row, round
	local b=$1 out st reason
	say "$b run $2/$repeat"
	out=$(timeout "$tmo" "$tandem" run --backend "$b" --timeout "$tmo" \
		--cmdline "iters=$iters" "$elf" 2>"$tmp/err")
	st=$?
	if [[ $st == 14 ]]; then
		reason=$(head -n1 "$tmp/err")
		unavail_row "$b" "${reason#tandem: }"
		[[ $b != kvm ]] || r_note[kvm]+=" (see --backends ...,kvm-nested)"
		return
	fi
	[[ $st == 1 ]] || { fail_row "$b" "tandem exited $st, want 1 ($(head -n3 "$tmp/err" | tr '\n' ' '))"; return; }
	parse_line "$out" "$iters" || { fail_row "$b" "no result line: ${out:0:200}"; return; }
	record "$b" "$p_sum" "$p_cycles"
}

# kvm-nested: all R runs inside one nested VM (it takes seconds to boot), after the rounds.
run_kvm_nested() {
	add_row kvm-nested "kvm inside a QEMU TCG+SVM VM (scripts/nested-kvm.sh): NOT hardware timing"
	local out st line n=0
	say "kvm-nested: $repeat runs inside one nested VM (slow: the VM is emulated)"
	# shellcheck disable=SC2016 # expanded by the inner shell
	out=$("$top/scripts/nested-kvm.sh" --cwd "$top" --timeout $((tmo * repeat + 300)) -- \
		sh -c 'i=0; while [ $i -lt "$1" ]; do i=$((i + 1))
			"$2" run --backend kvm --timeout "$3" --cmdline "iters=$4" "$5" 2>&1
			echo "compute-bench-status: $?"; done' \
		sh "$repeat" "$tandem" "$tmo" "$iters" "$elf" 2>"$tmp/err")
	st=$?
	if [[ $st == 77 ]]; then
		unavail_row kvm-nested "$(grep -m1 'nested-kvm' "$tmp/err" || echo 'nested VM unavailable')"
		return
	fi
	while IFS= read -r line; do
		case $line in
		compute:*)
			if parse_line "$line" "$iters"; then record kvm-nested "$p_sum" "$p_cycles"; fi ;;
		compute-bench-status:*)
			n=$((n + 1))
			if [[ ${line#*: } == 14 ]]; then
				unavail_row kvm-nested "$(grep -m1 '^tandem: ' <<<"$out" | sed 's/^tandem: //')"
				return
			fi
			[[ ${line#*: } == 1 ]] || { fail_row kvm-nested "tandem exited ${line#*: }: ${out:0:300}"; return; } ;;
		esac
	done <<<"$out"
	if [[ $st != 0 || $n != "$repeat" || ${r_runs[kvm-nested]} != "$repeat" ]]; then
		fail_row kvm-nested "nested-kvm.sh exited $st after $n runs ($(tail -n3 "$tmp/err" | tr '\n' ' '))"
	fi
}

# median / min / max of integers
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
	if (NR % 2) printf "%.0f\n", v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minof() { printf '%s\n' "$@" | sort -n | head -1; }
maxof() { printf '%s\n' "$@" | sort -n | tail -1; }

# Each row runs as its registry kind says: native (a host binary of ours), qemu, engine
# (`tandem run --backend NAME`), nested (kvm inside the nested VM).
for b in "${blist[@]}"; do
	case ${kind[$b]}:$b in
	native:native) setup_native ;;
	native:native64) setup_native64 ;;
	qemu:*) setup_qemu ;;
	engine:*) setup_tandem "$b" ;;
	esac
done
for ((round = 1; round <= repeat; round++)); do
	for b in "${blist[@]}"; do
		case ${kind[$b]} in
		native) ! ok "$b" || once_native "$b" "$round" ;;
		qemu) ! ok qemu || once_qemu "$round" ;;
		engine) ! ok "$b" || once_tandem "$b" "$round" ;;
		esac
	done
done
for b in "${blist[@]}"; do
	case ${kind[$b]} in
	qemu) finish_qemu ;;
	nested) run_kvm_nested ;;
	esac
done

# ---- checksums: every run of every backend must agree --------------------------------
for r in "${rows[@]}"; do
	[[ ${r_state[$r]} == ok && -n ${r_sum[$r]} ]] || continue
	if [[ -z $ref_sum ]]; then
		ref_sum=${r_sum[$r]}
	fi
	if [[ ${r_sum[$r]} != "$ref_sum" || ${r_sum[$r]} == */* ]]; then
		mismatch=1
		r_sum[$r]="${r_sum[$r]} MISMATCH"
	fi
done

# ---- the table ------------------------------------------------------------------------
native_med="" ref=native
[[ ${r_state[native]:-} == ok ]] || ref=native64
if [[ ${r_state[$ref]:-} == ok && ${r_runs[$ref]:-0} -gt 0 ]]; then
	# shellcheck disable=SC2086 # the list is space-separated numbers
	native_med=$(median ${r_cycles[$ref]})
fi
hdr=(backend runs "median cycles" min max "vs $ref" checksum "how measured")
emit() { # 8 fields
	if [[ $format == md ]]; then
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"
	else
		printf '%-11s %4s %15s %15s %15s %9s %-11s %s\n' "$@"
	fi
}
echo "compute benchmark: iterations=$iters, repeat=$repeat, host: ${host_cpu:-unknown CPU}${tsc_khz:+, TSC $tsc_khz kHz}"
[[ $format == md ]] && echo
emit "${hdr[@]}"
[[ $format == md ]] && emit --- ---: ---: ---: ---: ---: --- ---
for r in "${rows[@]}"; do
	if [[ ${r_state[$r]} != ok || ${r_runs[$r]} == 0 ]]; then
		emit "$r" - - - - - - "${r_note[$r]}"
		continue
	fi
	# shellcheck disable=SC2086
	{
		med=$(median ${r_cycles[$r]}) lo=$(minof ${r_cycles[$r]}) hi=$(maxof ${r_cycles[$r]})
	}
	ratio=-
	[[ -n $native_med ]] && ratio=$(awk -v a="$med" -v b="$native_med" 'BEGIN {printf "%.2fx", a / b}')
	emit "$r" "${r_runs[$r]}" "$med" "$lo" "$hi" "$ratio" "${r_sum[$r]}" "${r_note[$r]}"
done

if ((mismatch)); then
	echo "compute-bench: CHECKSUM MISMATCH between backends (see the table)" >&2
	exit 1
fi
exit "$failed"
