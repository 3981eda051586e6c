#!/usr/bin/env bash
# bench_macro.sh: a tiny `tandem bench --suite macro` (bt and native, n=3, 2 repeats):
# status 0; the table has a row per workload with a measured bt cell, the paper's
# forkwait figures, results that agree, bt's --stats counts; the JSON parses and holds
# every column, cell and sample, with compute's native cell n/a.
# usage: bench_macro.sh TANDEM
set -u
tandem=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }

"$tandem" bench --suite macro --backends bt,native --n 3 --repeat 2 --timeout 120 \
	>"$tmp/table" 2>"$tmp/err"
st=$?
[ "$st" = 0 ] || no "table run: status $st: $(tail -n 3 "$tmp/err")"
grep -q '^| workload | n | bt | native | paper native | paper BT | paper VT-x |' "$tmp/table" ||
	no "no table header"
for w in forkwait pingpong pagetouch compute; do
	grep -Eq "^\| $w \| 3 \| [0-9]+ \([0-9]+–[0-9]+\)<br>.*\| yes, 1 engine: $w n=3 repeat=2 " "$tmp/table" ||
		no "no measured bt row for $w"
	grep -Eq "^    $w --stats .*blocks=[1-9][0-9]* hidden_faults=[0-9]+ tc_flushes=[0-9]+" "$tmp/table" ||
		no "no bt --stats counts for $w"
done
grep -Eq '^      per timed context switch .*: [0-9.]+ translations, [0-9.]+ hidden faults, [0-9.]+ TC flushes$' \
	"$tmp/table" || no "no per-switch counts"
grep -Eq '^\| forkwait .*\| 570000 \(150 µs\) \| 3505500 \(922 µs, 6\.15x\) \| 10108000 \(2660 µs, 17\.73x\) \|' \
	"$tmp/table" || no "the paper's forkwait figures are missing"
grep -Eq '^\| compute .*n/a: no host analog' "$tmp/table" || no "compute's native cell is not n/a"

"$tandem" bench --suite macro --backends bt,native --tests forkwait,pingpong --n 3 --repeat 2 \
	--format json --out "$tmp/r.json" 2>"$tmp/err"
st=$?
[ "$st" = 0 ] || no "json run: status $st: $(tail -n 3 "$tmp/err")"
python3 - "$tmp/r.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tandem_macro"] == 1 and r["repeat"] == 2, r
assert r["paper"]["forkwait"]["forks"] == 40000
cols = {c["name"]: c for c in r["columns"]}
assert list(cols) == ["bt", "native"], list(cols)
for name, c in cols.items():
    assert c["available"], (name, c["reason"])
    assert sorted(c["cells"]) == ["forkwait", "pingpong"], c["cells"].keys()
    for w, cell in c["cells"].items():
        assert cell["present"] and len(cell["samples"]) == 2, (name, w, cell)
        assert all(s > 0 for s in cell["samples"]) and cell["median"] > 0, (name, w, cell)
bt = cols["bt"]["cells"]
assert bt["forkwait"]["result"] == "forkwait n=3 repeat=2 created=6 reaped=6 status_sum=6", bt["forkwait"]
assert bt["pingpong"]["ops"] == 6 and "bytes=12" in bt["pingpong"]["result"], bt["pingpong"]
assert "tc_flushes=" in bt["forkwait"]["stats"], bt["forkwait"]
PY
[ $fail = 0 ] && echo "ok: bench --suite macro: table and JSON" || { cat "$tmp/table"; exit 1; }
