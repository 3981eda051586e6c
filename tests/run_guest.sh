#!/usr/bin/env bash
# run_guest.sh: run one guest on one engine and check its exit status, serial
# output and error message. Exits 77 (CTest: skipped) when the host cannot run
# the engine (tandem's status 14, the registry's probe), with the reason. BACKEND is
# any run row of `tandem backends`.
#
# usage: run_guest.sh TANDEM BACKEND ELF STATUS [--golden FILE] [--stderr REGEX]
#                     [--serial-grep REGEX] [--tcg-cmdline STR] [-- extra tandem run options]
# Under kvm on a CPU that is QEMU's TCG (inside scripts/nested-kvm.sh's VM; `tandem info`
# names the hypervisor vendor TCGTCGTCGTCG), --tcg-cmdline STR is the guest's command
# line (it tells the guest which deviations of TCG to allow), and FILE.tcg.txt, when it
# exists, is the golden output instead of FILE.txt (it records where TCG differs).
set -u
tandem=$1 backend=$2 elf=$3 want_status=$4
shift 4
golden="" stderr_re="" tcg_cmdline=""
serial_res=() # --serial-grep: repeatable, every one must match
while [ $# -gt 0 ]; do
	case $1 in
	--golden) golden=$2; shift 2 ;;
	--stderr) stderr_re=$2; shift 2 ;;
	--serial-grep) serial_res+=("$2"); shift 2 ;;
	--tcg-cmdline) tcg_cmdline=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run_guest.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

if [ "$backend" = kvm ] && "$tandem" info | grep -q '^host.hypervisor.*TCGTCGTCGTCG'; then
	[ -n "$tcg_cmdline" ] && set -- "$@" "--cmdline=$tcg_cmdline"
	[ -n "$golden" ] && [ -f "${golden%.txt}.tcg.txt" ] && golden=${golden%.txt}.tcg.txt
fi
# Every backend the same way (any `tandem backends` run row: qemu too, run_qemu.c);
# a default --timeout 110 (inside the 120 s net) the test's own options override.
timeout 120 "$tandem" run --backend "$backend" --timeout 110 --serial "$out" "$@" "$elf" </dev/null 2>"$err"
status=$?
if [ "$status" = 14 ]; then
	echo "SKIP: $(head -n1 "$err")"
	exit 77
fi
fail=0
if [ "$status" != "$want_status" ]; then
	echo "FAIL: exit status $status, want $want_status"
	fail=1
fi
if [ -n "$golden" ] && ! diff -u "$golden" "$out"; then
	echo "FAIL: serial output differs from $golden"
	fail=1
fi
for serial_re in ${serial_res[@]+"${serial_res[@]}"}; do
	if ! grep -Eq "$serial_re" "$out"; then
		echo "FAIL: serial output lacks /$serial_re/"
		fail=1
	fi
done
if [ -n "$stderr_re" ] && ! grep -Eq "$stderr_re" "$err"; then
	echo "FAIL: stderr lacks /$stderr_re/"
	fail=1
fi
if [ $fail != 0 ]; then
	echo "--- serial:"; cat "$out"; echo "--- stderr:"; cat "$err"
	exit 1
fi
echo "ok: $backend $(basename "$elf") status $status"
