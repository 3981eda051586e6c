#!/usr/bin/env bash
# run.sh: the main job. Set up, build, describe the host, then boot the hello
# guest on every engine this host can run (the KVM engine inside a nested
# QEMU+SVM VM when the host's own KVM cannot run 32-bit paged guests), next to
# qemu-system-i386 as the reference. (The nano-benchmark matrix joins here when
# `tandem bench` lands.)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
"$top/scripts/setup.sh" || exit 1
tandem=$build/tandem
hello=$build/guests/hello.elf
args=(--mem 64M --cmdline "hello from cmdline" --timeout 60 --stats)

echo "== tandem info"
"$tandem" info
for engine in kvm bt; do
	if "$tandem" info | grep -q "^engine.$engine .*runs i386 paged guests"; then
		echo "== hello on $engine"
		"$tandem" run --backend "$engine" "${args[@]}" "$hello"
		echo "(exit status $?)"
	elif [ "$engine" = kvm ]; then
		echo "== hello on kvm, inside a nested QEMU+SVM VM (host KVM: $("$tandem" info |
			sed -n 's/^engine.kvm *unavailable: kvm: //p'))"
		"$top/scripts/nested-kvm.sh" --cwd "$top" -- "$tandem" run --backend kvm "${args[@]}" "$hello"
		echo "(exit status $?)"
	else
		echo "== $engine: $("$tandem" info | sed -n "s/^engine.$engine *//p")"
	fi
done
echo "== hello on qemu-system-i386 (TCG), the reference"
timeout 60 qemu-system-i386 -kernel "$hello" -m 64 -append "hello from cmdline" -display none \
	-serial stdio -monitor none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null
echo "(exit status $?)"
