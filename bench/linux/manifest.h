/*
 * bench/linux/manifest.h: the Linux suite (`tandem bench --suite linux`: workloads
 * inside Debian's i386 Linux), one row each. The one list: the table and JSON rows
 * (src/bench/results.c), --tests and its default (bench/linux/host/suite_linux.c), `tandem
 * bench --list --suite linux` and the README's table expand it; the host passes the
 * wanted names to the guest (tandem.w=) and the guest runs each by name. Adding a row:
 * one line here plus its guest body (a case of bench/linux/guest/workloads.sh, and
 * tandem-work's mode in bench/linux/guest/work.c when it needs a program).
 *
 * X(name, paper, scale, desc)
 *   name   --tests name, the guest's workload name, the table row
 *   paper  where the paper reports it, or "-" (ours)
 *   scale  how many operations a sample is, from --n N (workloads.sh applies it)
 *   desc   what one operation is
 * Unit: ns per operation on the host's monotonic clock (serial start/end lines).
 */
#ifndef TANDEM_BENCH_LINUX_MANIFEST_H
#define TANDEM_BENCH_LINUX_MANIFEST_H

#define LINUX_UNIT "ns per operation"

#define LINUX_ROWS(X)                                                                              \
	X(forkwait, "text (forkwait, 40,000 processes)", "N processes",                            \
	  "fork, the child exits, wait: one process created and reaped")                           \
	X(getppid, "-", "100 N calls", "one getppid system call through the vDSO (sysenter)")      \
	X(pipe, "-", "10 N round trips",                                                           \
	  "a one-byte round trip between two processes over two pipes")                            \
	X(compute, "-", "(N+49)/50 passes",                                                        \
	  "busybox sha256sum over a 1.2 MB file: user-mode compute")

#endif
