#!/usr/bin/env bash
# setup.sh: install tandem's build and test dependencies (Debian 12) if missing,
# then configure and build into build/. Safe to run again: a no-op when current.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}

pkgs=(build-essential cmake pkg-config gcc-multilib libelf-dev check libzydis-dev
      libcapstone-dev linux-libc-dev qemu-system-x86 qemu-user busybox-static cpio xz-utils
      python3 valgrind libcairo2-dev fonts-dejavu-core clang-format)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
fi

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/tandem" >&2
