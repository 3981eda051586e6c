#!/usr/bin/env bash
# run.sh: robustness fuzzing. Boots the fuzz guest (random code bytes, in ring 0
# and in ring 3) once per seed on BACKEND and checks that every run ends in an
# orderly way within its timeout.
#
# usage: run.sh BACKEND [--seeds A..B] [--rings 0,3] [--timeout S] [-j N] [--build DIR] [-v]
#   BACKEND   a run row of `tandem backends` (tandem run --backend B; qemu is qemu-system-i386)
#   --seeds   seed range (default 1..20); --rings: which variants (default 0,3)
#   --timeout the per-run guest timeout, tandem --timeout (default 5)
#   -j N      runs in parallel (default 2); -v: print every run, not only failures
# Accepted endings (tandem): a guest exit (odd status), 6 crash (triple fault),
#   8 timeout, 10 unsupported, 12 halted. Failures: a signal death (>= 128), a
#   hang past the outer `timeout 30`, 16 (host failure), any ending whose message
#   says a guest access left guest memory (a fault outside the guest windows, a
#   changed host canary), anything else.
# qemu has no such statuses: a debug-exit (odd), 0 (triple fault with -no-reboot)
#   or being stopped at the timeout are all accepted; a crash of qemu is not.
# Exit: 0 all passed, 1 some failed, 2 usage/setup error, 77 engine unavailable.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

usage() { sed -n '6,18s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
backend=$1
shift
seeds=1..20 rings=0,3 tmo=5 jobs=2 build=${TANDEM_BUILD:-$top/build} verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--seeds) seeds=${2:?}; shift 2 ;;
	--rings) rings=${2:?}; shift 2 ;;
	--timeout) tmo=${2:?}; shift 2 ;;
	-j) jobs=${2:?}; shift 2 ;;
	--build) build=${2:?}; shift 2 ;;
	-v) verbose=1; shift ;;
	*) echo "fuzz/run.sh: unknown argument $1" >&2; usage ;;
	esac
done
case $seeds in
*..*) first=${seeds%%..*} last=${seeds##*..} ;;
*) first=$seeds last=$seeds ;;
esac
case $first$last$tmo$jobs in *[!0-9]* | "") echo "fuzz/run.sh: bad numbers" >&2; exit 2 ;; esac
elf=$build/guests/fuzz.elf tandem=$build/tandem
[ -f "$elf" ] || { echo "fuzz/run.sh: $elf missing: build first (cmake --build $build)" >&2; exit 2; }
[ -x "$tandem" ] || { echo "fuzz/run.sh: $tandem missing: build first" >&2; exit 2; }
# BACKEND: any run row of the registry (`tandem backends`); its kind picks qemu's rules
kind=$("$tandem" backends | awk -v b="$backend" '$1 == b && $3 == "run" {print $2}')
[ -n "$kind" ] || { echo "fuzz/run.sh: unknown backend '$backend' (a run row of tandem backends)" >&2; exit 2; }
if [ "$kind" = qemu ] && ! command -v qemu-system-i386 >/dev/null; then
	echo "SKIP: qemu-system-i386 not installed"; exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A shell status from a signal: 128 + N, N <= 64 (above that, an odd status is a guest's).
is_signal() { [ "$1" -gt 128 ] && [ "$1" -le 192 ]; }
# What an odd status says: the guest's exit code; 0x7E is the runtime's fatal trap (the
# ring 3 code can write the guest kernel, identity-mapped U|W, and so break its trap path).
guest_exit() {
	local v=$((($1 - 1) / 2))
	if [ $v = 126 ]; then echo "guest exit 126 (the runtime's fatal trap)"; else echo "guest exit $v"; fi
}

# run_one SEED RING: writes $work/SEED-RING.res: "STATUS VERDICT MEANING"
run_one() {
	local s=$1 r=$2 out=$work/$1-$2.serial err=$work/$1-$2.err st verdict meaning
	if [ "$kind" = qemu ]; then
		timeout -k 5 $((tmo + 30)) "$tandem" run --backend qemu --timeout "$tmo" \
			--cmdline "seed=$s ring=$r" --serial "$out" "$elf" </dev/null >/dev/null 2>"$err"
		st=$?
		verdict=pass
		if [ $st = 8 ]; then meaning="stopped at the ${tmo} s timeout"
		elif [ $st = 0 ]; then meaning="triple fault (-no-reboot)"
		elif [ $((st % 2)) = 1 ] && ! is_signal $st; then meaning=$(guest_exit $st)
		else verdict=FAIL meaning="qemu failed"
		fi
	else
		timeout -k 5 30 "$tandem" run --backend "$backend" --timeout "$tmo" \
			--cmdline "seed=$s ring=$r" --serial "$out" "$elf" </dev/null >/dev/null 2>"$err"
		st=$?
		verdict=pass
		case $st in
		6) meaning="crash (triple fault or engine stop)" ;;
		8) meaning="timeout" ;;
		10) meaning="unsupported" ;;
		12) meaning="halted" ;;
		14) verdict=SKIP meaning="engine unavailable" ;;
		16) verdict=FAIL meaning="host failure" ;;
		124 | 137) verdict=FAIL meaning="hang: tandem did not stop within 30 s" ;;
		*)
			if is_signal $st; then verdict=FAIL meaning="killed by signal $((st - 128))"
			elif [ $((st % 2)) = 1 ]; then meaning=$(guest_exit $st)
			else verdict=FAIL meaning="unexpected status"
			fi ;;
		esac
		# An engine stop that means a guest access left the guest's memory is
		# an escape, never an orderly ending (nor is a changed host canary).
		if grep -Eq "outside the guest windows|outside guest RAM changed|in a view's guard" "$err"; then
			verdict=FAIL meaning="guest access escaped: $(grep -Eo 'translated code took [^)]*|host memory[^:]*' "$err" | head -n1)"
		fi
	fi
	echo "$st $verdict $meaning" >"$work/$s-$r.res"
}

# The first run decides whether the engine runs here at all.
IFS=, read -r -a ringlist <<<"$rings"
for r in "${ringlist[@]}"; do
	case $r in 0 | 3) ;; *) echo "fuzz/run.sh: --rings takes 0 and/or 3" >&2; exit 2 ;; esac
done
echo "fuzz: backend $backend, seeds $first..$last, rings ${rings}, ${tmo} s per run"
t0=$(date +%s)
run_one "$first" "${ringlist[0]}"
if [ "$(cut -d' ' -f2 "$work/$first-${ringlist[0]}.res")" = SKIP ]; then
	echo "SKIP: $(head -n1 "$work/$first-${ringlist[0]}.err")"
	exit 77
fi
running=0
for ((s = first; s <= last; s++)); do
	for r in "${ringlist[@]}"; do
		[ -f "$work/$s-$r.res" ] && continue
		run_one "$s" "$r" &
		running=$((running + 1))
		if [ $running -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
done
wait

pass=0 fail=0
declare -A tally=()
for ((s = first; s <= last; s++)); do
	for r in "${ringlist[@]}"; do
		read -r st verdict meaning <"$work/$s-$r.res"
		last_line=$(grep -a 'fuzz:' "$work/$s-$r.serial" 2>/dev/null | tail -n1 | cut -c1-100)
		if [ "$verdict" = pass ]; then
			pass=$((pass + 1))
			key=${meaning%% [0-9]*}
			[[ $last_line == *"fuzz: trap"* ]] && key="trap (guest exit 2)"
			tally[$key]=$((${tally[$key]:-0} + 1))
			[ $verbose = 1 ] && echo "ok   seed $s ring $r: status $st, $meaning; $last_line"
		else
			fail=$((fail + 1))
			echo "FAIL seed $s ring $r: status $st, $meaning; serial: $last_line"
			sed 's/^/       stderr: /' "$work/$s-$r.err" | head -5
		fi
	done
done
summary=""
for k in "${!tally[@]}"; do summary="$summary, ${tally[$k]} $k"; done
echo "endings:${summary#,}"
echo "time: $(($(date +%s) - t0)) s"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
