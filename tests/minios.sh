#!/usr/bin/env bash
# minios.sh: the macro guest (minios, bench/macro/guest) on one engine: exit status 1 (init's exit
# 0 through the debug-exit port) and its result lines ("minios: ...": checksums,
# processes created and reaped, bytes through the pipes, pages touched) exactly the
# golden ones, which qemu-system-i386 prints too. Timing lines ("minios-time: ...")
# vary and are not compared; each must still be present with positive samples.
# Exits 77 (CTest: skipped) when the host cannot run the engine, with the reason.
#
# usage: minios.sh TANDEM BACKEND ELF GOLDEN [extra tandem run options]
#        BACKEND: any run row of `tandem backends` (tandem run --backend BACKEND)
set -u
tandem=$1 backend=$2 elf=$3 golden=$4
shift 4
cmdline="work=all n=20 repeat=2"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

timeout 300 "$tandem" run --backend "$backend" --timeout 240 --serial "$out" \
	--cmdline "$cmdline" "$@" "$elf" </dev/null 2>"$err"
status=$?
if [ "$status" = 14 ]; then
	echo "SKIP: $(head -n1 "$err")"
	exit 77
fi
fail=0
[ "$status" = 1 ] || { echo "FAIL: exit status $status, want 1"; fail=1; }
if ! grep '^minios: ' "$out" | tr -d '\r' | diff -u "$golden" -; then
	echo "FAIL: result lines differ from $golden"
	fail=1
fi
case " $* " in
*" --cpu max "*) # CPUID has PGE: the kernel must have used global pages
	grep -q '^minios-info: booted pge=1 ' "$out" || { echo "FAIL: pge not used with --cpu max"; fail=1; } ;;
esac
for w in forkwait pingpong pagetouch compute; do
	if ! grep -Eq "^minios-time: $w ops=[1-9][0-9]* cycles_per_op=[1-9][0-9]* samples=[1-9][0-9]*,[1-9][0-9]* switches=[0-9]+" "$out"; then
		echo "FAIL: no timing line for $w"
		fail=1
	fi
done
if [ $fail != 0 ]; then
	echo "--- serial:"; cat "$out"; echo "--- stderr:"; cat "$err"
	exit 1
fi
echo "ok: $backend minios: $(grep -c '^minios: ' "$out") result lines as $(basename "$golden")"
