#!/usr/bin/env bash
# cli_errors.sh: bad command lines and bad images get one clear line and the
# documented status, never a crash.
# usage: cli_errors.sh TANDEM
set -u
tandem=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# expect STATUS REGEX -- ARGS...: run tandem ARGS, check status and stderr.
expect() {
	local want=$1 re=$2 got err lines
	shift 3
	n=$((n + 1))
	err=$("$tandem" "$@" 2>&1 >/dev/null)
	got=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$got" != "$want" ] || ! printf '%s' "$err" | grep -Eq -- "$re" || [ "$lines" != 1 ]; then
		echo "FAIL: tandem $* -> status $got (want $want), stderr: $err"
		fails=$((fails + 1))
	fi
}

printf 'not an elf at all\n' >"$tmp/text.elf"
: >"$tmp/empty.elf"
cp /bin/true "$tmp/elf64.elf"

expect 2 'no command given' --
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 2 'run: no kernel given' -- run
expect 2 "unknown backend 'vmware'" -- run --backend vmware x.elf
expect 2 "unknown backend 'native' \(choose from bt, bt-noadapt, kvm, qemu\)" -- run --backend native x.elf
# Engine-owned options (engine_ops.options): checked by their engine, refused for another one.
expect 2 'known traces: tc, adapt' -- run --trace=foo x.elf
expect 2 '--trace is an option of engine bt, not of --backend kvm' -- run --backend kvm --trace=tc x.elf
expect 2 '--no-adaptive is an option of engine bt, not of --backend kvm' -- run --no-adaptive --backend kvm x.elf
# --backend qemu: engine-only options refused; a missing kernel; no qemu-system-i386 (14).
expect 2 'tandem-engine options' -- run --backend qemu --stats x.elf
expect 2 "must not contain ','" -- run --backend qemu --module "a,b,c" x.elf
expect 4 'missing.elf: No such file' -- run --backend qemu "$tmp/missing.elf"
n=$((n + 1))
err=$(PATH=/nonexistent "$tandem" run --backend qemu "$tmp/text.elf" 2>&1 >/dev/null)
got=$?
if [ "$got" != 14 ] || ! grep -q 'cannot run qemu-system-i386' <<<"$err"; then
	echo "FAIL: run --backend qemu without qemu-system-i386 in PATH -> status $got, stderr: $err"
	fails=$((fails + 1))
fi
expect 2 '--mem 12Q' -- run --mem 12Q x.elf
expect 2 '--mem 1M' -- run --mem 1M x.elf
expect 2 '--timeout -1' -- run --timeout -1 x.elf
expect 2 '--timeout abc' -- run --timeout abc x.elf
expect 2 'needs a value' -- run x.elf --timeout
expect 2 "unknown option '--frob'" -- run --frob x.elf
expect 2 '--serial file:: want FILE, file:FILE or stdio' -- run --serial file: x.elf
expect 2 '--cpu pentium4: known models: p6, max' -- run --cpu pentium4 x.elf
expect 2 'one kernel only' -- run --kernel a.elf b.elf
expect 4 '/nonexistent/mod: cannot open' -- run --module /nonexistent/mod,args "$(dirname "$tandem")/guests/quick.elf"
n=$((n + 1))
if err=$(TANDEM_HOST_MASK=fsgsbase,frob "$tandem" info 2>&1 >/dev/null); [ $? != 2 ] ||
	! grep -q "TANDEM_HOST_MASK: unknown capability 'frob'" <<<"$err"; then
	echo "FAIL: TANDEM_HOST_MASK=fsgsbase,frob tandem info -> $err"
	fails=$((fails + 1))
fi
expect 2 'one kernel only' -- run a.elf b.elf
expect 2 'info takes no arguments' -- info extra
# The image is loaded before the engine is probed: load errors are reported on
# any host, whatever the engine can do.
for backend in kvm bt; do
	expect 4 'cannot open.*No such file' -- run --backend $backend "$tmp/missing.elf"
	expect 4 'not an ELF file' -- run --backend $backend "$tmp/text.elf"
	expect 4 'not an ELF file' -- run --backend $backend "$tmp/empty.elf"
	expect 4 'not an ELF32 i386' -- run --backend $backend "$tmp/elf64.elf"
done
echo "$((n - fails)) passed, $fails failed"
[ $fails = 0 ]
