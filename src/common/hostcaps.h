/*
 * hostcaps.h: what this host can do, probed once per process and maskable.
 *
 * Hosts of one kind differ: some kernels give user mode no FSGSBASE, refuse
 * 32-bit executables, or have no /dev/kvm. Every part of tandem that depends on
 * such a fact asks here, so one environment variable can take a capability away
 * and one machine can exercise every path:
 *
 *   TANDEM_HOST_MASK=fsgsbase,ia32,kvm,nested,qemu-user
 *
 * "all" masks the three facts of the host itself (fsgsbase, ia32, kvm): the host
 * B of the project's notes. The tools (nested, qemu-user) are masked by name.
 * A masked capability reads as absent everywhere (engines, `tandem info`,
 * benchmark records, the test scripts through `tandem info --cap`).
 */
#ifndef TANDEM_HOSTCAPS_H
#define TANDEM_HOSTCAPS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * name: the mask word and the `tandem info` key (host.<name>); all: masked by "all";
 * what: for humans.
 */
#define HOST_CAPS(X)                                                                               \
	X(FSGSBASE, "fsgsbase", 1, "user-mode rdgsbase/wrgsbase (the kernel enables FSGSBASE)")    \
	X(IA32, "ia32", 1, "the kernel runs 32-bit code: -m32 executables, its compat segment")    \
	X(KVM, "kvm", 1, "/dev/kvm opens with KVM API 12")                                         \
	X(NESTED, "nested", 0, "scripts/nested-kvm.sh can start its QEMU+SVM VM")                  \
	X(QEMU_USER, "qemu-user", 0, "qemu-i386 (Debian's qemu-user) runs 32-bit programs")

enum host_cap {
#define X(id, name, all, what) HOST_CAP_##id,
	HOST_CAPS(X)
#undef X
	    HOST_CAP_NR
};

/* One established fact: the verdict and how it was established. */
struct host_fact {
	bool yes;      /* the capability is there and not masked */
	bool masked;   /* TANDEM_HOST_MASK took it away (how still says what the probe found) */
	char how[200]; /* "AT_HWCAP2 bit 1 clear: ...", "a 32-bit ELF ran and exited 42", ... */
};

/*
 * host_cap: the fact for cap, probed on first use and cached for the process.
 * Probes are cheap except IA32 (a fork and an exec of an embedded 32-bit ELF,
 * ~1 ms) and NESTED and QEMU_USER (a PATH search); none needs privileges. Never
 * fails: a probe that cannot run says no, with the reason in how. Not
 * thread-safe on the first call for a cap (call from the main thread).
 */
const struct host_fact *host_cap(enum host_cap cap);

/* host_has: host_cap(cap)->yes. */
bool host_has(enum host_cap cap);

/* host_cap_name: the mask word ("fsgsbase"), or NULL for an out-of-range cap. */
const char *host_cap_name(enum host_cap cap);

/* host_cap_by_name: the cap named name (a mask word), or -1 when there is none. */
int host_cap_by_name(const char *name);

/*
 * host_caps_summary: every fact as "name=yes|no|masked" joined by spaces, into buf
 * (truncated to len). For benchmark records: probes every cap.
 */
void host_caps_summary(char *buf, size_t len);

/*
 * host_mask_check: 0 if TANDEM_HOST_MASK is unset or names only known caps (or
 * "all"); else -1 with a one-line message in why naming the unknown word.
 */
int host_mask_check(char *why, size_t len);

/*
 * host_waitpid: waitpid(pid, status, 0), retried while a signal interrupts it: the
 * probes run in the vCPU thread, where the kick timer's signal may land at any time.
 * Returns pid, or -1 with errno as waitpid's (never EINTR).
 */
int host_waitpid(int pid, int *status);

#endif
