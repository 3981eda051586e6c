#!/usr/bin/env bash
# stalled_reader.sh: --timeout wins over a stalled stdout reader. The flood guest
# writes COM1 forever; tandem's stdout is a FIFO that this script holds open for
# reading but never reads, so the pipe fills and every write would block. tandem
# must still end with the timeout status (8) and its one-line message; and with
# --stats and stderr into the same stalled FIFO, still with status 8. Then a reader
# that only pauses (longer than the watchdog's 3 s grace) while the PIT kicks must
# not make a healthy run look hung (status 16): the guest ends normally (1); its
# 3000 lines (~180 KB) overfill the 64 KiB pipe, and stay quick in the nested rig.
#
# usage: stalled_reader.sh TANDEM BACKEND ELF
# Exit: 0 pass; 1 fail; 77 the engine cannot run on this host (reason printed).
set -u
tandem=$1 backend=$2 elf=$3
d=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$d"' EXIT
mkfifo "$d/out"
exec 3<>"$d/out" # a reader that never reads: writes block once the pipe is full
# The outer timeout is only a safety net against a hang; the test asserts the status.
timeout 120 "$tandem" run --backend "$backend" --timeout 2 "$elf" >"$d/out" 2>"$d/err"
status=$?
if [ $status = 14 ]; then
	echo "SKIP: $(head -n1 "$d/err")"
	exit 77
fi
if [ $status != 8 ] || ! grep -q "timeout: the guest did not exit within 2 s" "$d/err"; then
	echo "FAIL: status $status, want 8 with the timeout message; stderr:"
	sed 's/^/  /' "$d/err"
	exit 1
fi
timeout 120 "$tandem" run --backend "$backend" --timeout 2 --stats "$elf" >"$d/out" 2>&1
status=$?
if [ $status != 8 ]; then
	echo "FAIL: with --stats and stderr stalled too: status $status, want 8"
	exit 1
fi
if [ "$backend" != bt ]; then # the pause case: only bt dispatches output inside its run
	echo "PASS: status 8 with a stalled reader (also with --stats)"
	exit 0
fi
exec 3>&-
rm -f "$d/out"
mkfifo "$d/out"
exec 3<>"$d/out"
timeout 120 "$tandem" run --backend "$backend" --cmdline "pit lines=3000" "$elf" >"$d/out" \
	2>"$d/err" &
pid=$!
sleep 5 # the reader pauses past the watchdog's grace while the PIT kicks
cat <&3 >/dev/null &
cat_pid=$!
wait $pid
status=$?
kill $cat_pid 2>/dev/null
if [ $status != 1 ]; then
	echo "FAIL: a reader that paused 5 s: status $status, want 1; stderr:"
	sed 's/^/  /' "$d/err"
	exit 1
fi
echo "PASS: status 8 with a stalled reader (also with --stats), 1 after a 5 s pause"

