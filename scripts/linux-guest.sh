#!/usr/bin/env bash
# linux-guest.sh: Debian's i386 Linux and an initramfs for it, cached outside the
# repository (default ~/.cache/tandem/linux, TANDEM_LINUX_CACHE).
#
# The kernel (linux-image-<version>-686, the version linux-image-686:i386 depends
# on) and busybox-static:i386 come from Debian's main archive, i386, without
# installing them and without touching the system's apt state: a private apt
# configuration (its own source list built from the URI and suite of the system's
# Debian sources file, its own lists and archives directories) updates, downloads
# and is thrown away. Packages unpack with dpkg -x. The initramfs holds busybox,
# bench/linux/guest/init (the init script), tandem-exit (bench/linux/guest/exit.c, a static
# i386 program that writes the debug-exit port), tandem-work and workloads.sh (the
# macro workloads of `tandem bench --suite linux`, bench/linux/guest/work.c) and /etc/data
# (the compute workload's input: `seq 1 200000`, 1,288,895 bytes, also in the cache).
#
# usage: linux-guest.sh [--build DIR]    prints KERNEL=, INITRD=, BUSYBOX=, DATA= lines
# Exit: 0 ready; 2 usage; 3 not built (tandem-exit, tandem-work); 77 cannot fetch (the reason).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
while (($#)); do
	case $1 in
	--build) build=${2:?}; shift 2 ;;
	*) echo "linux-guest: unknown argument $1" >&2; exit 2 ;;
	esac
done
skip() { echo "linux-guest: $*" >&2; exit 77; }
cache=${TANDEM_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/linux}
mkdir -p "$cache"
exec 9>"$cache/.lock" # one fetch or initramfs build at a time (tests run in parallel)
flock 9
exitprog=$build/guests/linux/tandem-exit
workprog=$build/guests/linux/tandem-work
for p in "$exitprog" "$workprog"; do
	[[ -x $p ]] || { echo "linux-guest: $p not built" >&2; exit 3; }
done

# ---- the system's Debian source: URI, suite and keyring (deb822 or one-line form)
src_uri="" src_suite="" keyring=""
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
	src_uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	src_suite=$(awk '/^Suites:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	keyring=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
elif [[ -f /etc/apt/sources.list ]]; then
	read -r src_uri src_suite < <(awk '$1 == "deb" && $0 !~ /security/ {
		for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i, $(i + 1); exit } }' /etc/apt/sources.list)
fi
[[ -n $keyring && -f $keyring ]] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -n $src_uri && -n $src_suite ]] || skip "no Debian source in the system's apt configuration"
[[ -f $keyring ]] || skip "no Debian archive keyring ($keyring)"

# ---- download (once; the resolved versions name the cache entry)
fetch() {
	local tmp aptopt pkg ver
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
	echo "deb [arch=i386 signed-by=$keyring] $src_uri $src_suite main" >"$tmp/i386.list"
	aptopt=(-o "Dir::Etc::SourceList=$tmp/i386.list" -o "Dir::Etc::SourceParts=$tmp/none"
		-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives"
		-o "Dir::Cache::pkgcache=$tmp/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin"
		-o "APT::Architectures::=i386" -o "APT::Architecture=i386" -q)
	apt-get "${aptopt[@]}" update >"$tmp/update.log" 2>&1 ||
		skip "apt-get update of the i386 list failed: $(tail -n1 "$tmp/update.log")"
	pkg=$(apt-cache "${aptopt[@]}" depends linux-image-686:i386 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	pkg=${pkg%:i386}
	[[ -n $pkg ]] || skip "cannot resolve linux-image-686:i386's kernel package"
	ver=$(apt-cache "${aptopt[@]}" show --no-all-versions "$pkg:i386" | awk '/^Version:/ {print $2; exit}')
	(cd "$tmp" && apt-get "${aptopt[@]}" download "$pkg:i386" busybox-static:i386 >"$tmp/dl.log" 2>&1) ||
		skip "apt-get download failed: $(tail -n1 "$tmp/dl.log")"
	rm -rf "$cache/root"
	mkdir -p "$cache/root"
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$cache/root"; done
	echo "$pkg $ver" >"$cache/version"
}
[[ -f $cache/version && -d $cache/root/boot ]] || fetch
kernel=$(ls "$cache"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
[[ -n $kernel ]] || skip "no vmlinuz in the downloaded kernel package"
busybox=$cache/root/bin/busybox
[[ -x $busybox ]] || skip "no busybox in busybox-static:i386"

# ---- the initramfs: busybox, its applet links, our init, programs and data
data=$cache/data
[[ -f $data ]] || { seq 1 200000 >"$data.tmp" && mv "$data.tmp" "$data"; }
stamp=$(cat "$top/bench/linux/guest/init" "$top/bench/linux/guest/workloads.sh" "$exitprog" "$workprog" \
	"$busybox" "$data" | md5sum | cut -c1-16)
# Named by its contents: worktrees with other init scripts share the cache without
# rebuilding each other's initramfs.
initrd=$cache/initrd-$stamp.cpio.gz
if [[ ! -f $initrd ]]; then
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc}
	cp "$busybox" "$root/bin/busybox"
	for a in sh mount echo cat uname true seq sleep sha256sum gzip dd ls mkdir sed tr; do
		ln -s busybox "$root/bin/$a"
	done
	cp "$top/bench/linux/guest/init" "$root/init"
	chmod 755 "$root/init"
	cp "$exitprog" "$root/bin/tandem-exit"
	cp "$workprog" "$root/bin/tandem-work"
	cp "$top/bench/linux/guest/workloads.sh" "$root/etc/workloads.sh"
	cp "$data" "$root/etc/data"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
fi
echo "KERNEL=$kernel"
echo "INITRD=$initrd"
echo "BUSYBOX=$busybox"
echo "DATA=$data"
