#!/usr/bin/env bash
# bench_quick.sh: a short `tandem bench` on bt: every nano-benchmark row is
# present with a finite value (positive, or flagged below resolution); the JSON
# reads back through `tandem report` (table, csv, plot). Timing thresholds stay
# out: this asserts behaviour.
# usage: bench_quick.sh TANDEM
set -u
tandem=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0
check() { # check NAME CONDITION-EXIT-STATUS
	n=$((n + 1))
	if [ "$2" != 0 ]; then echo "FAIL: $1"; fails=$((fails + 1)); fi
}

"$tandem" bench --backends bt --repeat 3 --mincycles 2000000 --format json \
	--out "$tmp/r.json" 2>"$tmp/err"
st=$?
if grep -q "bt unavailable" "$tmp/err"; then
	echo "SKIP: $(grep 'bt unavailable' "$tmp/err")"
	exit 77
fi
check "bench exits 0 (got $st)" $st
"$tandem" report "$tmp/r.json" --format csv --out "$tmp/r.csv" 2>/dev/null
check "report --format csv" $?
# Present and finite; positive unless flagged below resolution (under load the empty loop
# can take longer than callret's: a negative median is then flagged, not an error).
for b in syscall sysenter in cr8wr callret pgfault divzero ptemod; do
	row=$(awk -F, -v b="$b" '$1 == b && $2 == "bt" { print $3 "," $12 }' "$tmp/r.csv")
	v=${row%,*} low=${row#*,}
	awk -v v="$v" -v low="$low" 'BEGIN { exit !(v != "" && v + 0 < 1e12 && v + 0 > -1e6 && (v + 0 > 0 || low == 1)) }'
	check "row $b: median '$v' is finite, positive or flagged below resolution ($low)" $?
done
"$tandem" report "$tmp/r.json" --plot "$tmp/p.svg" >"$tmp/table" 2>/dev/null
check "report --plot" $?
head -c 5 "$tmp/p.svg" | grep -q "<?xml"
check "the plot is an SVG" $?
grep -q "^ptemod" "$tmp/table"
check "the table has the ptemod row" $?
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
