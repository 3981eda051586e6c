#!/usr/bin/env bash
# linux_boot.sh: Debian's i386 Linux (scripts/linux-guest.sh fetches and caches it)
# boots on BACKEND to our init, which prints the kernel release, forks N processes
# and leaves through tandem-exit with status 0 (so the run's status is 1).
# The serial log is kept on failure (its path is printed).
#
# usage: linux_boot.sh TANDEM BACKEND [N]      BACKEND: a run row of `tandem backends`
# Exit: 0 pass; 1 fail; 77 skipped (no download possible, or the engine cannot run here).
set -u
tandem=$1 backend=$2 n=${3:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(dirname "$tandem")
# BACKEND: a run row of the registry (`tandem backends`); one this host cannot run is
# skipped with the registry's reason
row=$("$tandem" backends | awk -v b="$backend" '$1 == b && $3 == "run"')
[ -n "$row" ] || { echo "FAIL: unknown backend '$backend' (a run row of tandem backends)"; exit 2; }
kind=$(awk '{print $2}' <<<"$row")
case $row in *" yes") ;; *) echo "SKIP: $backend: ${row#* no: }"; exit 77 ;; esac
guest=$(TANDEM_BUILD=$build "$top/scripts/linux-guest.sh" 2>&1)
rc=$?
[ $rc = 77 ] && { echo "SKIP: $guest"; exit 77; }
[ $rc = 0 ] || { echo "FAIL: linux-guest.sh: $guest"; exit 1; }
eval "$(grep -E '^(KERNEL|INITRD)=' <<<"$guest")"
append="console=ttyS0 quiet nolapic noapic acpi=off tandem.run=forkwait tandem.n=$n"
log=$(mktemp "${TMPDIR:-/tmp}/linux-boot.XXXXXX")
if [ "$kind" = qemu ]; then
	timeout 900 "$tandem" run --backend qemu --cpu p6 --mem 256M --timeout 600 --kernel "$KERNEL" \
		--initrd "$INITRD" --append "$append" --serial "$log" </dev/null >/dev/null 2>&1
	status=$?
else
	timeout 900 "$tandem" run --backend "$backend" --mem 256M --timeout 600 --kernel "$KERNEL" \
		--initrd "$INITRD" --append "$append" --serial "$log" 2>>"$log"
	status=$?
	if [ $status = 14 ]; then
		echo "SKIP: $(grep -m1 'tandem:' "$log")"
		rm -f "$log"
		exit 77
	fi
fi
if [ $status = 1 ] && grep -q "^tandem-linux: init running on 6\." "$log" &&
	grep -q "^tandem-linux: forkwait $n done" "$log" && grep -q "^tandem-linux: done" "$log"; then
	echo "PASS: $(grep -m1 '^tandem-linux: init' "$log") ($backend)"
	rm -f "$log"
	exit 0
fi
echo "FAIL: $backend ended with status $status, want 1 with the init's lines; serial log kept: $log"
tail -n 20 "$log"
exit 1
