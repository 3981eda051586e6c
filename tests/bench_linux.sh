#!/usr/bin/env bash
# bench_linux.sh: `tandem bench --suite linux` with a tiny N: one boot each under
# bt and qemu (plus the host's native run when it executes i386), then the JSON:
# suite linux, every engine a column with one sample (>= 0) of each workload, and each
# workload's output (its count and result: exit-status sums, bytes echoed, the
# compute job's sha256) identical under every engine. The native row says why it
# is unavailable when i386 is masked away. Timing is not asserted.
#
# usage: bench_linux.sh TANDEM
# Exit: 0 pass; 1 fail; 77 skipped (no Linux guest on this host, or bt's known engine hang
# on all three boots: the other engines' rows are checked first; the reason is printed).
set -u
tandem=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-linux.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
backends=bt,qemu
"$tandem" info --cap ia32 >/dev/null && backends=$backends,native
"$tandem" bench --suite linux --backends "$backends" --n 2 --repeat 1 --timeout 1200 \
	--format json --out "$tmp/r.json" 2>"$tmp/err"
st=$?
if [ $st = 14 ] && grep -q 'no Linux guest' "$tmp/err"; then
	echo "SKIP: $(grep -m1 'no Linux guest' "$tmp/err")"
	exit 77
fi
hung=0
if [ $st = 18 ] && grep -q '^bench: bt failed: .*engine hung' "$tmp/err"; then
	# The known open bug (README, Linux): bt stops answering kicks inside Linux, more often
	# on a loaded host; the bench already booted three times. The other rows are still checked.
	hung=1
	backends=${backends/bt,/}
	echo "KNOWN BUG: bt hung inside Linux on each of 3 boots (status 16): $(grep -m1 'bt failed' "$tmp/err")"
	python3 - "$tmp/r.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
r["columns"] = [c for c in r["columns"] if c["name"] != "bt"]
json.dump(r, open(sys.argv[1], "w"))
PY
elif [ $st != 0 ]; then
	echo "FAIL: bench --suite linux --backends $backends exited $st (want 0):"
	cat "$tmp/err"
	exit 1
fi
python3 - "$tmp/r.json" "$backends" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
want = sys.argv[2].split(",")
rows = ["forkwait", "getppid", "pipe", "compute"]
bad = []
if r.get("suite") != "linux":
    bad.append("suite is %r, want linux" % r.get("suite"))
cols = {c["name"]: c for c in r["columns"]}
if sorted(cols) != sorted(want):
    bad.append("columns %s, want %s" % (sorted(cols), want))
for name, c in cols.items():
    if not c["available"]:
        bad.append("%s unavailable: %s" % (name, c["reason"]))
        continue
    for row in rows:
        cell = c["cells"][row]
        # 0 is possible: a run this short may reach the host as one read (noted "unresolved")
        if not cell["present"] or len(cell["samples"]) != 1 or not cell["samples"][0] >= 0:
            bad.append("%s %s: %s" % (name, row, cell))
# the note is "result R", plus "; a run under 10 ms: unresolved" where the engine was that fast
outs = {row: {n: (c["cells"][row]["iters"], c["cells"][row]["note"].split(";")[0]) for n, c in cols.items()}
        for row in rows}
for row, o in outs.items():
    if len(set(o.values())) != 1:
        bad.append("%s: outputs differ between engines: %s" % (row, o))
want_iters = {"forkwait": 2, "getppid": 200, "pipe": 20, "compute": 1}
for row, o in outs.items():
    for n, (iters, note) in o.items():
        if iters != want_iters[row]:
            bad.append("%s %s: n=%s, want %s" % (n, row, iters, want_iters[row]))
exp = {"forkwait": "result sum=1", "getppid": "result same=200", "pipe": "result sum=210"}
for row, note in exp.items():
    for n, (iters, got) in outs[row].items():
        if got != note:
            bad.append("%s %s: %r, want %r" % (n, row, got, note))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
# native without i386: the row is there, unavailable, with the reason; nothing measured (20)
TANDEM_HOST_MASK=ia32 "$tandem" bench --suite linux --backends native --n 1 --repeat 1 2>"$tmp/err" >"$tmp/out"
st=$?
if [ $st != 20 ] || ! grep -q 'native unavailable: this host cannot run 32-bit code' "$tmp/err"; then
	echo "FAIL: native with ia32 masked: status $st (want 20), stderr: $(cat "$tmp/err")"
	exit 1
fi
if [ $hung = 1 ]; then
	echo "SKIP: bt's column not checked (the known engine hang, 3 boots); $backends: rows, JSON and outputs pass"
	exit 77
fi
echo "PASS: bench --suite linux: $backends, every workload's output the same under each"
