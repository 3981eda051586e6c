#!/usr/bin/env bash
# bench_cli.sh: `tandem bench`, `report`, `help` and `--version` on bad and good
# command lines: each error case gets its documented status and a message
# naming the value (and the range), before anything is measured.
# usage: bench_cli.sh TANDEM
set -u
tandem=$1
guests=$(dirname "$tandem")/guests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# expect STATUS REGEX LINES -- ARGS...: run tandem ARGS; check the status, that
# stderr matches REGEX (- for none), and (LINES != any) that stderr has LINES lines.
expect() {
	local want=$1 re=$2 nlines=$3 got err lines
	shift 4
	n=$((n + 1))
	err=$("$tandem" "$@" 2>&1 >"$tmp/stdout")
	got=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$got" != "$want" ] || { [ "$re" != - ] && ! printf '%s' "$err" | grep -Eq -- "$re"; } ||
		{ [ "$nlines" != any ] && [ "$lines" != "$nlines" ]; }; then
		echo "FAIL: tandem $* -> status $got (want $want), stderr: $err"
		fails=$((fails + 1))
	fi
}
# stdout_has REGEX: the last expect's stdout matches.
stdout_has() {
	n=$((n + 1))
	if ! grep -Eq -- "$1" "$tmp/stdout"; then
		echo "FAIL: stdout lacks '$1': $(head -c 300 "$tmp/stdout")"
		fails=$((fails + 1))
	fi
}

mkdir "$tmp/dir"
quick=(--repeat 1 --mincycles 1000 --tests callret)

# bench: the command line, checked before measuring (one line: no progress)
expect 2 '--repeat 32: want 1\.\.31' 1 -- bench --repeat 32
expect 2 '--repeat 0: want 1\.\.31' 1 -- bench --repeat 0
expect 2 '--repeat x: want 1\.\.31' 1 -- bench --repeat x
expect 2 '--repeat 20 --warmup 12: want repeat \+ warmup <= 31' 1 -- bench --repeat 20 --warmup 12
expect 2 '--warmup -1: want 0\.\.30' 1 -- bench --warmup -1
expect 2 '--mincycles 10: want 1000\.\.' 1 -- bench --mincycles 10
expect 2 '--timeout 0: want seconds' 1 -- bench --timeout 0
expect 2 '--timeout 1e9: want seconds' 1 -- bench --timeout 1e9
expect 2 '--backends: empty list' 1 -- bench --backends ""
expect 2 '--backends: empty list' 1 -- bench --backends ,
expect 2 "--backends: unknown name 'vmware'" 1 -- bench --backends bt,vmware
expect 2 "--tests: unknown name 'vmcall'" 1 -- bench --tests in,vmcall
expect 2 '--format xml: want table, md, csv or json' 1 -- bench --format xml
expect 2 '--pin 99999: want a CPU number' 1 -- bench --pin 99999
expect 2 '--pin abc: want a CPU number' 1 -- bench --pin abc
expect 2 "unexpected argument 'extra'" 1 -- bench extra
expect 2 "unknown option '--frob'" 1 -- bench --frob
expect 2 'needs a value' 1 -- bench --repeat
# --suite: nano (the default), macro or linux, whose options are checked the same way
expect 2 '--suite nosuch: unknown suite \(nano, macro, linux\)' 1 -- bench --suite nosuch
expect 2 '--suite : unknown suite' 1 -- bench --suite=
expect 2 'option --suite needs a value' 1 -- bench --suite
expect 2 "--backends: unknown name 'native-signal'" 1 -- bench --suite macro --backends bt,native-signal
expect 2 "--tests: unknown name 'syscall'" 1 -- bench --suite macro --tests forkwait,syscall
expect 2 '--repeat 17: want 1\.\.16' 1 -- bench --suite macro --repeat 17
expect 2 '--n 0: want 1\.\.1000000' 1 -- bench --suite macro --n 0
expect 2 "unknown option '--mincycles' for --suite macro" 1 -- bench --suite macro --mincycles 1000
expect 2 '--format xml: want table, md, csv or json' 1 -- bench --suite macro --format xml
expect 2 "--out $tmp/no/such.json" 1 -- bench --suite macro --out "$tmp/no/such.json"
expect 4 "guest $tmp/dir: not a regular file" 1 -- bench --suite macro --guest "$tmp/dir"
expect 0 - 0 -- bench --suite macro --help
stdout_has '^  forkwait +n=100 '
expect 2 '--n 0: want 1\.\.1000000' 1 -- bench --suite linux --n 0
expect 2 '--n x: want 1\.\.1000000' 1 -- bench --suite=linux --n x
expect 2 '--n 2000000: want 1\.\.1000000' 1 -- bench --n 2000000 --suite linux
expect 2 '--repeat 32: want 1\.\.31' 1 -- bench --suite linux --repeat 32
expect 2 "--tests: unknown name 'syscall'" 1 -- bench --suite linux --tests forkwait,syscall
expect 2 '--tests: empty list' 1 -- bench --suite linux --tests ,
expect 2 "--backends: unknown name 'native-signal'" 1 -- bench --suite linux --backends bt,native-signal
expect 2 "unknown option '--mincycles'" 1 -- bench --suite linux --mincycles 1000
expect 2 '--timeout 0: want seconds' 1 -- bench --suite linux --timeout 0
expect 2 '--format xml: want table, md, csv or json' 1 -- bench --suite linux --format xml
expect 2 "unexpected argument 'extra'" 1 -- bench --suite linux extra
expect 2 "--out $tmp/dir: is a directory" 1 -- bench --suite linux --out "$tmp/dir"
# the guest: a directory, not ELF, the wrong ELF, missing
expect 4 "guest $tmp/dir: not a regular file" 1 -- bench --guest "$tmp/dir"
printf 'not an elf\n' >"$tmp/text.elf"
expect 4 'not an ELF file' 1 -- bench --guest "$tmp/text.elf"
expect 4 'not an ELF32 i386 kernel' 1 -- bench --guest /bin/true
expect 4 'No such file' 1 -- bench --guest "$tmp/missing.elf"
# --out: unwritable before anything runs, and left alone when it exists
expect 2 "--out $tmp/no/such/r.json: No such file" 1 -- bench --out "$tmp/no/such/r.json"
expect 2 "--out $tmp/dir: is a directory" 1 -- bench --out "$tmp/dir"
# a run that measured nothing, a requested column missing (kvm masked away), a failed column
TANDEM_HOST_MASK=kvm expect 20 'nothing was measured' any -- bench --backends kvm "${quick[@]}"
expect 20 'nothing was measured' any -- bench --backends native --tests in,cr8wr --repeat 1 --mincycles 1000
TANDEM_HOST_MASK=kvm expect 18 '1 requested column not measured' any -- bench --backends bt,kvm "${quick[@]}"
expect 20 'bt failed: .*failed' any -- bench --backends bt --guest "$guests/hello.elf" "${quick[@]}"
expect 18 'bt failed' any -- bench --backends native,bt --guest "$guests/hello.elf" "${quick[@]}"
expect 0 'bench: wrote' any -- bench --backends native "${quick[@]}" --format json --out "$tmp/r.json"
# --pin and --warmup reach every column and the JSON records them, the CPUs and the load
expect 0 'bench: wrote' any -- bench --backends native,bt --pin 0 --warmup 2 "${quick[@]}" --format json --out "$tmp/p.json"
for want in '"cpus": "0",' 'pinned to CPU 0' 'first 2 samples dropped' 'warmup=2' '"load_before": [0-9]' '"load_after": [0-9]'; do
	n=$((n + 1))
	[ "$(grep -c -- "$want" "$tmp/p.json")" -ge 1 ] || { echo "FAIL: p.json lacks $want"; fails=$((fails + 1)); }
done
n=$((n + 1))
[ "$(grep -c '"cpus": "0",' "$tmp/p.json")" = 2 ] || { echo "FAIL: both columns ran on CPU 0"; fails=$((fails + 1)); }

# --list, --help, help CMD, --version
expect 0 - 0 -- bench --list
stdout_has '^\| ptemod \| Fig\. 4 \| n/a \| a store to a live PTE'
stdout_has '^  kvm-nested +tandem KVM inside a QEMU'
stdout_has 'this host: (yes|no)'
for s in macro linux compute; do # each suite's manifest and engines
	expect 0 - 0 -- bench --list --suite "$s"
	stdout_has "^rows of --suite $s \(bench/$s/manifest\.h\)"
	stdout_has 'this host: (yes|no)'
done
expect 2 '--suite nosuch: unknown suite \(nano, macro, linux, compute\)' 1 -- bench --list --suite nosuch
expect 0 - 0 -- bench --help
stdout_has '20 nothing was measured'
stdout_has '^  bench --suite linux'
stdout_has '14 no Linux guest on this host'
stdout_has '--pin CPU'
expect 0 - 0 -- help report
stdout_has '--plot-format'
expect 0 - 0 -- run --help
stdout_has '--backend NAME'
expect 2 "help: unknown command 'frob'" 1 -- help frob
expect 0 - 0 -- --version
stdout_has '^tandem [0-9a-z.-]+'

# report
expect 2 'report: no result files given' 1 -- report
expect 4 'No such file' 1 -- report "$tmp/missing.json"
expect 4 'text.elf:1: expected a value' 1 -- report "$tmp/text.elf"
expect 2 "--baseline nosuch: no such column \(native\)" 1 -- report "$tmp/r.json" --baseline nosuch
expect 0 - 0 -- report "$tmp/r.json" --baseline native
expect 2 '--plot x.gif: the extension is not .svg, .pdf or .png' 1 -- report "$tmp/r.json" --plot x.gif
expect 2 '--plot-format eps: want svg, pdf or png' 1 -- report "$tmp/r.json" --plot x.svg --plot-format eps
expect 2 "--out $tmp/no/such/t.md: No such file" 1 -- report "$tmp/r.json" --out "$tmp/no/such/t.md"
expect 2 "--plot $tmp/no/such/f.svg: No such file" 1 -- report "$tmp/r.json" --plot "$tmp/no/such/f.svg"
expect 0 "^report: wrote $tmp/t.md" 1 -- report "$tmp/r.json" --format md --out "$tmp/t.md"
expect 0 "^report: wrote $tmp/f.dat" 1 -- report "$tmp/r.json" --plot "$tmp/f.dat" --plot-format pdf
# three files from two hosts: host:engine names, numbered for the second file of one host, each
# column keeping its own host; another guest build and version warned about; re-merging repeats nothing
sed 's/"hostname": "[^"]*"/"hostname": "beta.example"/' "$tmp/p.json" >"$tmp/beta.json"
sed 's/fnv1a64=[0-9a-f]*/fnv1a64=0123456789abcdef/; s/"tandem": "[^"]*"/"tandem": "v0-other"/' "$tmp/p.json" >"$tmp/other.json"
expect 0 'report: warning: .*measured another guest build' any -- report "$tmp/p.json" "$tmp/beta.json" "$tmp/other.json" --format json --out "$tmp/m.json"
expect 0 'report: warning: .*comes from tandem v0-other' any -- report "$tmp/p.json" "$tmp/beta.json" "$tmp/other.json" --format csv
host=$(hostname | cut -d. -f1)
for want in "^in,$host:native," "^callret,$host:bt," "^callret,beta:bt," "^callret,$host#2:bt,"; do
	n=$((n + 1))
	grep -q -- "$want" "$tmp/stdout" || { echo "FAIL: merged csv lacks $want"; fails=$((fails + 1)); }
done
expect 0 - any -- report "$tmp/m.json" "$tmp/beta.json" --format csv
for want in "^callret,$host:bt," "^callret,beta:bt," "^callret,beta#2:bt," "^callret,$host#2:bt,"; do
	n=$((n + 1))
	grep -q -- "$want" "$tmp/stdout" || { echo "FAIL: re-merged csv lacks $want"; fails=$((fails + 1)); }
done
n=$((n + 1))
! grep -q "$host:$host:\|beta:beta:" "$tmp/stdout" || { echo "FAIL: a host repeated in a name"; fails=$((fails + 1)); }
expect 0 - any -- report "$tmp/m.json" --format md
n=$((n + 1))
grep -q "ran on beta.example" "$tmp/stdout" || { echo "FAIL: merged md lacks beta's provenance"; fails=$((fails + 1)); }

n=$((n + 1))
if ! head -c 5 "$tmp/f.dat" | grep -q '%PDF-'; then echo "FAIL: --plot-format pdf wrote no PDF"; fails=$((fails + 1)); fi
# the format from the extension: each file starts with its format's magic bytes
for ext in svg pdf png; do
	expect 0 "^report: wrote $tmp/f.$ext" 1 -- report "$tmp/p.json" --plot "$tmp/f.$ext"
done
n=$((n + 1))
magic=$(head -c 5 "$tmp/f.svg")$(head -c 5 "$tmp/f.pdf")$(head -c 4 "$tmp/f.png" | tail -c 3)
[ "$magic" = "<?xml%PDF-PNG" ] || { echo "FAIL: magic bytes '$magic'"; fails=$((fails + 1)); }
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
