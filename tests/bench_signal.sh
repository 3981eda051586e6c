#!/usr/bin/env bash
# bench_signal.sh: SIGINT and SIGTERM during `tandem bench` end the engine child's
# whole process group and remove tandem's temporary files; tandem exits 130 / 143.
# One case per signal on bt (a `tandem run` child) and, when installed, on qemu
# (qemu-system-i386, another kind of child); with --nested, on kvm-nested (the
# nested-kvm.sh script and its QEMU VM, whose own temporary directory must go too).
# usage: bench_signal.sh TANDEM [--nested]
set -u
tandem=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The pid of a child of $1, waiting up to 10 s for one; empty if none came.
child_of() {
	local c i
	for i in $(seq 100); do
		c=$(ps -o pid= --ppid "$1" 2>/dev/null | head -1 | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.1
	done
}

# The pid of a process named $2 in process group $1, waiting up to 120 s.
member_named() {
	local i p
	for i in $(seq 1200); do
		p=$(ps -eo pid=,pgid=,comm= | awk -v g="$1" -v c="$2" '$2 == g && $3 == c { print $1; exit }')
		[ -n "$p" ] && { echo "$p"; return; }
		sleep 0.1
	done
}

# case BACKEND SIGNAL WANT [PROCESS]: PROCESS, when given, must be running in the child's group first
case1() {
	local backend=$1 sig=$2 want=$3 member=${4:-} pid child st left i
	n=$((n + 1))
	mkdir -p "$tmp/t"
	# pgfault on bt takes ~10^4 cycles a time: 31 samples of 2^22 iterations last minutes
	TMPDIR=$tmp/t "$tandem" bench --backends "$backend" --tests pgfault --repeat 31 \
		--mincycles 100000000000 --timeout 600 --out "$tmp/r.json" 2>"$tmp/err" &
	pid=$!
	child=$(child_of "$pid")
	if [ -z "$child" ]; then
		fail "$backend/$sig: no engine child appeared: $(cat "$tmp/err")"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	if [ -n "$member" ] && [ -z "$(member_named "$child" "$member")" ]; then
		fail "$backend/$sig: no $member in group $child: $(cat "$tmp/err")"
	fi
	sleep 0.5
	if ! ls "$tmp/t" | grep -q '^tandem-bench-'; then
		fail "$backend/$sig: no temporary file while running (TMPDIR not honoured?)"
	fi
	kill -"$sig" "$pid"
	wait "$pid"
	st=$?
	[ "$st" = "$want" ] || fail "$backend/$sig: exit status $st, want $want"
	for i in $(seq 50); do # the group is gone once tandem has exited; allow for reaping
		left=$(ps -eo pid=,pgid= | awk -v g="$child" '$2 == g { print $1 }')
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || { fail "$backend/$sig: processes of group $child survive: $left"; kill -KILL -- "-$child"; }
	left=$(ls "$tmp/t")
	[ -z "$left" ] || fail "$backend/$sig: temporary files remain: $left"
	[ -e "$tmp/r.json" ] && fail "$backend/$sig: --out written by an interrupted run"
	rm -rf "$tmp/t" "$tmp/r.json"
}

if [ "${2:-}" = --nested ]; then
	if [ "$("$tandem" info --cap nested)" != yes ]; then
		echo "SKIP: this host cannot run the nested KVM VM"
		exit 77
	fi
	case1 kvm-nested INT 130 qemu-system-x86
	case1 kvm-nested TERM 143 qemu-system-x86
	echo "$((n - fails)) passed, $fails failed"
	[ $fails = 0 ]
	exit
fi
case1 bt INT 130
case1 bt TERM 143
if command -v qemu-system-i386 >/dev/null; then
	case1 qemu INT 130
	case1 qemu TERM 143
fi
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
