#!/usr/bin/env bash
# tc_keep.sh: the selftest on bt with --stats: its output must equal GOLDEN (QEMU's),
# and the translation cache must survive address-space switches: CR3 loads happen
# (cr3_loads >= 100) without flushing the cache (tc_flushes * 4 < cr3_loads; only
# paging-mode and x87-mode changes flush), and the counters --stats documents for
# lookups, chains and kicks are there. FS and GS bases are added at run time, so
# code run under several FS/GS bases (seg.fs_gs_bases_at_run_time: one function under
# four) is translated once: no lookup passes a block over for its segment state
# (lookup_segs = lookup_nulls: the selftest runs no code under two ES/SS/DS bases; the
# only passes allowed are of stubs first run with a flat ES and later with the null ES
# seg.null_selector_use_gp leaves, translated once more for it). Exits 77 (CTest: skipped) when the host
# cannot run bt, with the reason.
#
# usage: tc_keep.sh TANDEM GUEST GOLDEN
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 TANDEM GUEST GOLDEN" >&2
	exit 2
fi
tandem=$1 guest=$2 golden=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
counter() { awk -v name="$2" '$1 == name { print $2; exit }' "$1"; }

timeout 120 "$tandem" run --backend bt --stats --serial "$tmp/serial" "$guest" 2>"$tmp/err"
status=$?
if [ "$status" = 14 ]; then
	echo "SKIP: $(head -n1 "$tmp/err")"
	exit 77
fi
[ "$status" = 1 ] || fail "exit status $status, want 1"
diff -u "$golden" "$tmp/serial" >"$tmp/diff" || { fail "serial output differs from $golden"; cat "$tmp/diff"; }
for c in blocks lookups lookup_hits lookup_misses chained unchains cr3_loads tc_flushes \
	jc_resets kick_unlinks kick_unlink_all lookup_segs lookup_nulls; do
	[ -n "$(counter "$tmp/err" "$c")" ] || fail "--stats has no $c"
done
cr3=$(counter "$tmp/err" cr3_loads) flushes=$(counter "$tmp/err" tc_flushes)
if [ -n "$cr3" ] && [ -n "$flushes" ]; then
	[ "$cr3" -ge 100 ] || fail "cr3_loads = $cr3, want >= 100 (the selftest switches directories)"
	[ $((flushes * 4)) -lt "$cr3" ] || fail "tc_flushes = $flushes with cr3_loads = $cr3: CR3 loads flush the cache"
	echo "cr3_loads = $cr3, tc_flushes = $flushes"
fi
segs=$(counter "$tmp/err" lookup_segs) nulls=$(counter "$tmp/err" lookup_nulls)
if [ -n "$segs" ] && [ -n "$nulls" ]; then
	[ "$segs" = "$nulls" ] ||
		fail "lookup_segs = $segs (null-only $nulls): code was translated again for another FS/GS base"
fi
[ "$failed" = 0 ] || exit 1
echo "PASS"
