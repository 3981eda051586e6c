#!/usr/bin/env bash
# nested-kvm.sh — run a command inside a throw-away VM that has a real AMD-SVM /dev/kvm.
#
# Why: the host's /dev/kvm may be a paravirtual nested KVM that cannot run 32-bit
# paged guests.  So we boot Debian's own amd64 kernel under QEMU *TCG* with an
# emulated SVM+NPT CPU, load kvm-amd inside it, and run COMMAND there.  Timings in
# there mean nothing; KVM semantics are real.
#
# How: the host's root filesystem is shared read-only over virtio-9p and mounted
# at /host; the --share directories (default: git top-level of the cwd) are shared
# read-write and mounted over the SAME absolute paths, so absolute paths (CMake
# build dirs, ctest) work unchanged.  /tmp, /var/tmp and /root show the host's
# files but take writes into a throw-away overlay; everything else is read-only.
# /init (busybox) chroots into /host and runs COMMAND.  A per-run control
# directory (also 9p) carries the command script in and the exit status out.
#
# Usage: nested-kvm.sh [--timeout SECS] [--mem MB] [--cwd DIR] [--share DIR]... -- COMMAND [ARGS...]
#        nested-kvm.sh --prepare   # fetch/build the cached kernel + initramfs only
#        nested-kvm.sh --check     # boot, load kvm-amd, check /dev/kvm
# Exit:  COMMAND's status; 77 = VM could not be prepared (skip); 124 = timeout.
# Env:   TANDEM_NESTED_CACHE (cache dir), TANDEM_NESTED_CPU (qemu -cpu model).
#        Inside, COMMAND sees PATH, HOME=/root, TERM=dumb, CI and TANDEM_* only.
set -euo pipefail

skip() { echo "nested-kvm: $*" >&2; exit 77; }
# TANDEM_HOST_MASK=nested (tandem's capability mask, src/common/hostcaps.h) takes the rig away.
[[ ,${TANDEM_HOST_MASK:-}, != *,nested,* ]] || skip "masked by TANDEM_HOST_MASK (nested)"
CLEAN=(); trap 'rm -rf "${CLEAN[@]}"' EXIT   # temp dirs to remove on any exit
usage() { sed -n '17,23s/^# \{0,1\}//p' "$0" >&2; exit "${1:-2}"; }

# ---- arguments ---------------------------------------------------------------
TIMEOUT=600 MEM=1024 CWD=$PWD MODE=run SHARES=()
while (($#)); do
    case $1 in
        --timeout) TIMEOUT=${2:?}; shift 2 ;;
        --mem)     MEM=${2:?}; shift 2 ;;
        --cwd)     CWD=${2:?}; shift 2 ;;
        --share)   SHARES+=("$(realpath -e -- "${2:?}")"); shift 2 ;;
        --prepare) MODE=prepare; shift ;;
        --check)   MODE=check; shift ;;
        -h|--help) usage 0 ;;
        --)        shift; break ;;
        *)         echo "nested-kvm: unknown option $1" >&2; usage ;;
    esac
done
[[ $MODE != run ]] || (($#)) || usage
[[ $TIMEOUT =~ ^[0-9]+$ && $MEM =~ ^[0-9]+$ ]] || usage
CWD=$(realpath -e -- "$CWD")
if ((${#SHARES[@]} == 0)); then
    SHARES=("$(git -C "$CWD" rev-parse --show-toplevel 2>/dev/null || echo "$CWD")")
fi
for s in "${SHARES[@]}"; do [[ $s != / ]] || skip "cannot share / read-write"; done

CACHE=${TANDEM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/nested}
# Root modules we need; their dependencies are resolved from each .ko's modinfo.
WANT_MODULES="virtio_pci 9pnet_virtio 9p overlay kvm_amd"

# ---- host tools (installed only if absent) -------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" == *" installed" ]] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v xz >/dev/null || need+=(xz-utils)
if ((${#need[@]})); then
    ((EUID == 0)) || skip "missing packages ${need[*]} (not root, cannot install)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
        || skip "apt-get install ${need[*]} failed"
fi
BUSYBOX=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$') || skip "no static busybox"

# ---- kernel: resolve, fetch, extract the modules we need (cached by version) ----
resolve_kernel() {  # prints "<package> <version>" of linux-image-amd64's dependency
    local pkg ver memo=$CACHE/resolved   # apt-cache costs ~1 s: memoize until lists change
    if [[ -s $memo && $memo -nt /var/lib/apt/lists ]]; then cat "$memo"; return; fi
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [[ -n $pkg ]] || return 1
    ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [[ -n $ver ]] || return 1
    mkdir -p "$CACHE" && echo "$pkg $ver" | tee "$memo"
}
if ! KPKG=$(resolve_kernel); then
    ((EUID != 0)) || apt-get update -qq >/dev/null 2>&1 || true
    KPKG=$(resolve_kernel) || true
fi
if [[ -n $KPKG ]]; then
    KDIR=$CACHE/${KPKG/ /_}
else  # offline / no apt lists: fall back to the newest cached kernel, if any
    # shellcheck disable=SC2012  # our own dir names: plain ls -t is fine
    KDIR=$(ls -1dt "$CACHE"/linux-image-*/ 2>/dev/null | head -1) || true
    KDIR=${KDIR%/}
    [[ -n $KDIR && -f $KDIR/vmlinuz ]] || skip "cannot resolve linux-image-amd64 and nothing cached"
fi

unpack() { case $1 in *.xz) xz -dc "$1" ;; *.zst) zstd -dc "$1" ;; *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac; }

fetch_kernel() {
    local tmp pkg=${KPKG% *} mdir kver
    tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX"); CLEAN+=("$tmp"); chmod 755 "$tmp"
    echo "nested-kvm: fetching $KPKG" >&2
    (cd "$tmp" && apt-get download "$pkg") >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; skip "apt-get download $pkg failed"; }
    dpkg -x "$tmp"/*.deb "$tmp/x"
    for mdir in "$tmp"/x/lib/modules/* "$tmp"/x/usr/lib/modules/*; do [[ -d $mdir ]] && break; done
    [[ -d $mdir ]] || skip "no modules in $pkg"; kver=${mdir##*/}
    mkdir -p "$tmp/out/modules"
    cp "$tmp"/x/boot/vmlinuz-* "$tmp/out/vmlinuz"
    # name -> path index (module names treat '-' and '_' alike)
    declare -A path=() seen=()
    local f n order=()
    while IFS= read -r f; do n=${f##*/}; n=${n%%.ko*}; path[${n//-/_}]=$f; done \
        < <(find "$mdir" -name '*.ko*')
    visit() {  # depth-first, post-order = load order
        local n=${1//-/_} d
        [[ -z ${seen[$n]:-} ]] || return 0; seen[$n]=1
        if [[ -z ${path[$n]:-} ]]; then  # built into the kernel?
            grep -q "/${n//_/[-_]}\.ko" "$mdir/modules.builtin" || skip "module $n not found in $pkg"
            return 0
        fi
        for d in $(unpack "${path[$n]}" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr , ' '); do
            visit "$d"
        done
        unpack "${path[$n]}" > "$tmp/out/modules/$n.ko"   # busybox insmod wants plain .ko
        order+=("$n")
    }
    for n in $WANT_MODULES; do visit "$n"; done
    printf '%s\n' "${order[@]}" > "$tmp/out/modules.load"
    echo "$kver" > "$tmp/out/kver"; echo "$WANT_MODULES" > "$tmp/out/want"
    rm -rf "$KDIR"; mv "$tmp/out" "$KDIR"
}

# ---- initramfs: static busybox + modules + this /init --------------------------
# Everything per-run comes from the control share "nkctl" (run.sh, the list of rw
# shares) and the result goes back as /ctl/status: "exit N", "skip REASON" or
# "running" (= the VM died under COMMAND).  The initramfs itself is per-kernel.
# shellcheck disable=SC2016  # expanded by the guest's shell, not here
INIT='#!/bin/sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys
exec </dev/null >/dev/console 2>&1
stty -F /dev/console -onlcr 2>/dev/null   # no CR/LF mangling of COMMAND output
off() { sync; echo 0 > /proc/sys/kernel/printk; poweroff -f; }  # silently
die() { echo "nested-kvm(init): $*"; off; }
for m in $(cat /modules.load); do insmod /modules/$m.ko || echo "nested-kvm(init): insmod $m failed"; done
p9() { mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,$3 "$1" "$2"; }
mkdir -p /ctl /host /ovl
p9 nkctl /ctl rw || die "cannot mount control share (9p)"
skip() { echo "skip $*" > /ctl/status; off; }
p9 hostroot /host ro,cache=loose || skip "cannot mount host root (9p)"
mount -t proc proc /host/proc && mount -t sysfs sys /host/sys &&
mount -t devtmpfs dev /host/dev && mkdir -p /host/dev/pts /host/dev/shm &&
mount -t devpts devpts /host/dev/pts && mount -t tmpfs -o mode=1777 shm /host/dev/shm &&
mount -t tmpfs run /host/run && mount -t tmpfs ovl /ovl || skip "cannot mount system filesystems"
# /tmp, /var/tmp, HOME: host content visible, writes go to a throw-away tmpfs layer
for d in /tmp /var/tmp /root; do
    mkdir -p /ovl$d/u /ovl$d/w; [ -d /host$d ] || continue
    mount -t overlay -o lowerdir=/host$d,upperdir=/ovl$d/u,workdir=/ovl$d/w ovl /host$d ||
        mount -t tmpfs -o mode=1777 tmp /host$d || skip "cannot make $d writable"
done
while read -r tag dir; do   # rw shares over the same absolute paths
    mkdir -p "/host$dir" && p9 "$tag" "/host$dir" rw || skip "cannot mount share $dir"
done < /ctl/shares
mkdir -p /host/run/nested-kvm && mount --bind /ctl /host/run/nested-kvm
[ -c /host/dev/kvm ] || skip "/dev/kvm did not appear (kvm_amd: $(dmesg | grep -i -m1 -e svm -e kvm))"
echo running > /ctl/status
set -o pipefail   # the pipe makes stdout a non-tty, as under CI
chroot /host /bin/sh /run/nested-kvm/run.sh 2>&1 | cat
echo "exit $?" > /ctl/status
umount /host/run/nested-kvm; off'

build_initramfs() {  # $1 = output file
    local root; root=$(mktemp -d "$CACHE/.initrd.XXXXXX"); CLEAN+=("$root")
    mkdir -p "$root"/{bin,dev,proc,sys,modules}
    cp "$BUSYBOX" "$root/bin/busybox"; ln -s busybox "$root/bin/sh"
    cp "$KDIR"/modules/*.ko "$root/modules/"; cp "$KDIR/modules.load" "$root/"
    printf '%s\n' "$INIT" > "$root/init"; chmod 755 "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$1.tmp"
    rm -f "$KDIR"/initramfs-*.gz; mv "$1.tmp" "$1"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9   # parallel runs (ctest -j) must not build concurrently
[[ -f $KDIR/vmlinuz && "$(cat "$KDIR/want" 2>/dev/null)" == "$WANT_MODULES" ]] || fetch_kernel
INITRD=$KDIR/initramfs-$( (echo "$INIT"; cat "$KDIR/modules.load") | sha256sum | cut -c1-12).gz
[[ -f $INITRD ]] || build_initramfs "$INITRD"
exec 9>&-
if [[ $MODE == prepare ]]; then echo "nested-kvm: ready: $KDIR" >&2; exit 0; fi
# shellcheck disable=SC2016
if [[ $MODE == check ]]; then set -- sh -c 'ls -l /dev/kvm && echo "kernel $(uname -r): kvm-amd loaded"'; fi

# ---- per-run control directory ---------------------------------------------------
CTL=$(mktemp -d "${TMPDIR:-/tmp}/nested-kvm.XXXXXX"); CLEAN+=("$CTL")
q() { printf "'%s' " "${1//\'/\'\\\'\'}"; }   # POSIX-sh single quoting
{
    echo "cd $(q "$CWD") || exit 1"
    printf 'exec env -i HOME=/root TERM=dumb PATH=%s' "$(q "$PATH")"
    while IFS='=' read -r name _; do    # pass CI and TANDEM_* through
        [[ $name == CI || $name == TANDEM_* ]] && printf ' %s' "$(q "$name=${!name}")"
    done < <(env | grep -E '^(CI|TANDEM_[A-Za-z0-9_]*)=' || true)
    printf ' %s' "$(for a in "$@"; do q "$a"; done)"; echo
} > "$CTL/run.sh"
virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        -virtfs "local,path=${CTL//,/,,},mount_tag=nkctl,security_model=none")
for i in "${!SHARES[@]}"; do
    echo "share$i ${SHARES[$i]}" >> "$CTL/shares"
    virtfs+=(-virtfs "local,path=${SHARES[$i]//,/,,},mount_tag=share$i,security_model=none,multidevs=remap")
done
touch "$CTL/shares"

# ---- boot ------------------------------------------------------------------------------
rc=0
timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config \
    -accel tcg -cpu "${TANDEM_NESTED_CPU:-qemu64,+svm,+npt}" -m "$MEM" -smp 1 \
    -display none -monitor none -serial stdio -no-reboot \
    -kernel "$KDIR/vmlinuz" -initrd "$INITRD" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1" \
    "${virtfs[@]}" </dev/null || rc=$?
if ((rc == 124 || rc == 137)); then
    echo "nested-kvm: TIMEOUT: VM still running after ${TIMEOUT}s, qemu killed" >&2; exit 124
fi
((rc == 0)) || skip "qemu failed (exit $rc)"
status=$(cat "$CTL/status" 2>/dev/null || true)
case $status in
    "exit "*)  [[ $MODE != check ]] || echo "nested-kvm: OK" >&2; exit "${status#exit }" ;;
    "skip "*)  skip "${status#skip }" ;;
    running)   echo "nested-kvm: VM died while COMMAND was running (kernel panic?)" >&2; exit 1 ;;
    *)         skip "VM did not come up (no status; see console output above)" ;;
esac
