#!/usr/bin/env bash
# adapt.sh: the adapt guest on bt with adaptive translation and with --no-adaptive:
# the serial output must equal GOLDEN (QEMU's) both times, the guest must exit 0
# (tandem status 1), and the adapt_* counters must be > 0 with adaptation and 0
# without. Exits 77 (CTest: skipped) when the host cannot run bt, with the reason.
#
# usage: adapt.sh TANDEM GUEST GOLDEN
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 TANDEM GUEST GOLDEN" >&2
	exit 2
fi
tandem=$1 guest=$2 golden=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
counters="adapt_pt adapt_mmio adapt_div"

pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# The value of counter $2 in the --stats output $1 (empty if missing).
counter() {
	awk -v name="$2" '$1 == name { print $2; exit }' "$1"
}

# run MODE [tandem options]: run the guest, check status, output and counters.
run() {
	local mode=$1 out=$tmp/$1.serial err=$tmp/$1.stderr status c v failed0=$failed
	shift
	timeout 120 "$tandem" run --backend bt --stats --trace=adapt --serial "$out" "$@" \
		"$guest" 2>"$err"
	status=$?
	if [ "$status" = 14 ]; then
		echo "SKIP: $(grep -v '^bt: adapt:' "$err" | head -n1)"
		exit 77
	fi
	if [ "$status" = 1 ]; then
		pass "$mode: exit status 1 (guest exit 0)"
	else
		fail "$mode: exit status $status, want 1"
	fi
	if diff -u "$golden" "$out" >"$tmp/diff"; then
		pass "$mode: serial output equals $(basename "$golden")"
	else
		fail "$mode: serial output differs from $golden"
		cat "$tmp/diff"
	fi
	for c in $counters; do
		v=$(counter "$err" "$c")
		if [ -z "$v" ]; then
			fail "$mode: --stats has no $c"
		elif [ "$mode" = adaptive ] && [ "$v" -le 0 ]; then
			fail "$mode: $c = $v, want > 0"
		elif [ "$mode" = no-adaptive ] && [ "$v" -ne 0 ]; then
			fail "$mode: $c = $v, want 0"
		else
			pass "$mode: $c = $v"
		fi
	done
	if [ "$mode" = no-adaptive ] && grep -q '^bt: adapt:' "$err"; then
		fail "$mode: --trace=adapt logged retranslations"
	fi
	grep '^bt: adapt:' "$err"
	if [ "$failed" != "$failed0" ]; then
		echo "--- $mode stderr:"
		grep -v '^  callout\.' "$err"
	fi
}

run adaptive
run no-adaptive --no-adaptive
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
