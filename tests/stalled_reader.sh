#!/usr/bin/env bash
# stalled_reader.sh: --timeout wins over a stalled stdout reader. The flood guest
# writes COM1 forever; tandem's stdout is a FIFO that this script holds open for
# reading but never reads, so the pipe fills and every write would block. tandem
# must still end with the timeout status (8) and its one-line message.
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
echo "PASS: status 8 with a stalled reader: $(head -n1 "$d/err")"
