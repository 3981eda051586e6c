#!/usr/bin/env bash
# install_check.sh: `cmake --install` places tandem, its guests and data so the
# installed `tandem bench` and `report` find them without the build tree.
# usage: install_check.sh BUILD_DIR
set -u
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0
check() { n=$((n + 1)); if [ "$2" != 0 ]; then echo "FAIL: $1"; fails=$((fails + 1)); fi; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
check "cmake --install" $?
for f in bin/tandem share/tandem/guests/nanobench.elf share/tandem/bench/nano/paper-fig4.tsv \
	share/tandem/bench/linux/guest/init share/tandem/bench/linux/guest/workloads.sh \
	share/tandem/scripts/nested-kvm.sh; do
	[ -e "$tmp/prefix/$f" ]
	check "installed $f" $?
done
cd "$tmp" || exit 1
"$tmp/prefix/bin/tandem" bench --backends bt --tests callret --repeat 1 --mincycles 1000 \
	--format json --out r.json 2>err
st=$?
if grep -q "bt unavailable" err; then
	echo "SKIP: $(grep 'bt unavailable' err)"
	exit 77
fi
check "installed tandem bench (status $st: $(cat err))" $st
grep -q "\"guest\": \"$tmp/prefix/share/tandem/guests/nanobench.elf\"" r.json
check "the installed guest was measured" $?
"$tmp/prefix/bin/tandem" report r.json >table 2>/dev/null
check "installed tandem report" $?
grep -q "paper" table
check "the paper's figures were found" $?
"$tmp/prefix/bin/tandem" bench --list | grep -A1 '^  kvm-nested' | grep -q 'this host: '
check "bench --list judges kvm-nested" $?
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
