#!/usr/bin/env bash
# backends.sh: the backend registry (src/cli/backends.c) is the one list: every row of
# `tandem backends` is accepted by `tandem run --backend` exactly when it is a run row,
# by `tandem bench --suite S --backends` exactly when S is among its suites, and by
# scripts/compute-bench.sh when compute is; --names and --available agree with the
# table; unknown names and suites get one line and status 2.
# usage: backends.sh TANDEM SOURCE_DIR
set -u
tandem=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$tandem" backends >"$tmp/all" || fail "tandem backends exited $?"
[ -s "$tmp/all" ] || fail "tandem backends printed nothing"
"$tandem" backends --names >"$tmp/names"
awk '{print $1}' "$tmp/all" | diff - "$tmp/names" >/dev/null || fail "--names differs from the table"
"$tandem" backends --available --names >"$tmp/avail"
awk '$5 == "yes" {print $1}' "$tmp/all" | diff - "$tmp/avail" >/dev/null ||
	fail "--available differs from the table's yes rows"

while read -r name kind run suites avail _; do
	n=$((n + 1))
	case $kind in engine | nested | qemu | native) ;; *) fail "$name: kind '$kind'" ;; esac
	# run: a run row gets past the name check (a missing kernel: 4; no qemu: 14)
	"$tandem" run --backend "$name" "$tmp/none.elf" >/dev/null 2>"$tmp/err"
	st=$?
	if [ "$run" = run ]; then
		{ [ $st = 4 ] || [ $st = 14 ]; } || fail "run --backend $name: status $st, want 4 or 14: $(cat "$tmp/err")"
	else
		[ $st = 2 ] && grep -q "unknown backend '$name'" "$tmp/err" ||
			fail "run --backend $name: status $st, want 2 (not a run backend)"
	fi
	# bench: a suite's --backends accepts exactly its rows (the next option's error shows it)
	for s in nano macro linux; do
		"$tandem" bench --suite "$s" --backends "$name" --format bogus >/dev/null 2>"$tmp/err"
		case ,$suites, in
		*,$s,*) grep -q -- "--format bogus" "$tmp/err" || fail "bench --suite $s rejects $name: $(cat "$tmp/err")" ;;
		*) grep -q "unknown name '$name'" "$tmp/err" || fail "bench --suite $s accepts $name" ;;
		esac
		"$tandem" backends --suite "$s" --names | grep -qx -- "$name"
		case ,$suites,:$? in *,$s,*:0 | *:1) ;; *) fail "backends --suite $s and the table disagree on $name" ;; esac
	done
	case $avail in yes | no:) ;; *) fail "$name: availability '$avail'" ;; esac
done <"$tmp/all"

# compute-bench.sh takes the compute rows from the registry: its unknown-name message lists them
want=$("$tandem" backends --suite compute --names | paste -sd, -)
TANDEM_BUILD=$(dirname "$tandem") "$src/scripts/compute-bench.sh" --backends vmware >/dev/null 2>"$tmp/err"
st=$?
{ [ $st = 2 ] && grep -q "unknown backend 'vmware' (tandem backends --suite compute: $want)" "$tmp/err"; } ||
	fail "compute-bench.sh --backends vmware: status $st: $(cat "$tmp/err")"

# bad use: one line, status 2
for args in "--suite nope" "--bogus"; do
	# shellcheck disable=SC2086 # split on purpose
	"$tandem" backends $args >/dev/null 2>"$tmp/err"
	st=$?
	{ [ $st = 2 ] && [ "$(grep -c . "$tmp/err")" = 1 ]; } || fail "backends $args: status $st, $(cat "$tmp/err")"
done

[ $fails = 0 ] || exit 1
echo "PASS: $n registry rows: tandem backends, run --backend, bench --backends (nano, macro, linux), compute-bench.sh"
