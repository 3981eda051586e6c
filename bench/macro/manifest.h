/*
 * bench/macro/manifest.h: the macro suite (`tandem bench --suite macro`: the
 * workloads of the minios guest), one row each. The one list: minios's work= names,
 * defaults and dispatch (bench/macro/guest: kmain.c, user/main.c), the host analogs
 * (host/suite_macro_native.c), the table and JSON rows (host/suite_macro*.c),
 * `tandem bench --list --suite macro` and the README's table expand it. Adding a row:
 * one line here plus its guest body work_<name> (guest/user, declared in
 * user/ulib.h) and, when it has one, its host analog.
 *
 * X(name, paper, n, ops_per_n, analog, analog_note, desc)
 *   name         --tests name, minios's work=<name>, table row; the guest runs work_<name>
 *   paper        where the paper reports it, or "-" (ours)
 *   n            the default operations per sample (minios's and the suite's --n)
 *   ops_per_n    operations a cell is per n (pingpong: 2 switches per round trip)
 *   analog       host: uint64_t fn(uint32_t n), rdtsc cycles of n operations, or 0 (n/a)
 *   analog_note  host: the native cell's note
 *   desc         what one operation is
 * Unit: TSC cycles per operation (the guest's rdtsc in ring 3).
 */
#ifndef TANDEM_BENCH_MACRO_MANIFEST_H
#define TANDEM_BENCH_MACRO_MANIFEST_H

#define MACRO_UNIT "cycles per operation"

#define MACRO_ROWS(X)                                                                              \
	X(forkwait, "text (forkwait, 40,000 processes)", 100, 1, forkwait,                         \
	  "analog: fork + _exit + waitpid of a host process",                                      \
	  "fork + exit + wait of a child that exits at once (per fork)")                           \
	X(pingpong, "-", 500, 2, pingpong, "analog: pipe ping-pong between two host processes",    \
	  "a byte each way through two pipes between two processes (per switch: round trip / 2)")  \
	X(pagetouch, "-", 256, 1, pagetouch,                                                       \
	  "analog: first touch of a fresh anonymous mmap page, munmap after",                      \
	  "first touch of a demand-zero heap page, freed again (per page)")                        \
	X(compute, "-", 20, 1, 0, "n/a: no host analog here (scripts/compute-bench.sh)",           \
	  "bench/compute kernels in two processes time-sliced by the PIT (per iteration)")

#endif
