/*
 * bench/nano/manifest.h: the nano-benchmark suite (Adams & Agesen 2006, Figure 4),
 * one row each, in the paper's order. The one list: the guest's table (nanobench
 * guest/setup.c), the host analogs (host/native.c), the table and JSON rows
 * (src/bench/results.c), `tandem bench --list` and the README's table expand it.
 * Adding a row: one line here plus its guest loop nb_loop_<name> (guest/loops.S,
 * declared in guest/nb.h) and any prepare/finish it names (guest/setup.c).
 *
 * X(name, paper, ring, prepare, finish, analog, analog_max, analog_note, desc)
 *   name         --tests name and table row; the guest's loop is nb_loop_<name>
 *   paper        where the paper reports it ("Fig. 4"), or "-" (ours)
 *   ring         0 or 3: the privilege level the guest runs the loop at
 *   prepare      guest: set-up before the row (returns NULL or a one-word skip reason), or 0
 *   finish       guest: undo prepare, or 0
 *   analog       host: the native column's loop (uint64_t fn(uint64_t n, void *arg),
 *                returning rdtsc cycles of n iterations), or 0: no host analog (n/a)
 *   analog_max   host: at most this many iterations per sample
 *   analog_note  host: the native cell's note (what the analog is)
 *   desc         what one iteration does
 * Unit: TSC cycles per iteration, the empty loop's median subtracted.
 */
#ifndef TANDEM_BENCH_NANO_MANIFEST_H
#define TANDEM_BENCH_NANO_MANIFEST_H

#define NANO_UNIT "cycles per iteration"

#define NANO_ROWS(X)                                                                               \
	X(syscall, "Fig. 4", 3, prep_syscall, gates_restore, nat_loop_syscall, UINT64_MAX,         \
	  "analog: Linux syscall round trip (getppid)",                                            \
	  "ring 3 int 0x80 to a DPL 3 gate whose handler only irets")                              \
	X(sysenter, "-", 3, prep_sysenter, 0, 0, 0, "",                                            \
	  "ring 3 sysenter to a handler that only sysexits")                                       \
	X(in, "Fig. 4", 0, 0, 0, 0, 0, "",                                                         \
	  "in al, 0x80 (the POST port) in ring 0: an exit on kvm, a callout on bt")                \
	X(cr8wr, "Fig. 4", 0, 0, finish_cr8wr, 0, 0, "",                                           \
	  "a store to the local APIC TPR (i386 has no %cr8), never unmasking anything")            \
	X(callret, "Fig. 4", 0, 0, 0, nat_loop_callret, UINT64_MAX,                                \
	  "analog: call/ret in a host process",                                                    \
	  "call a function that returns: indirect control flow")                                   \
	X(pgfault, "Fig. 4", 0, prep_pgfault, finish_pgfault, touch_loop, TOUCH_MAX_PAGES,         \
	  "analog: first touch of a fresh anonymous page (kernel page fault)",                     \
	  "a true guest page fault (not-present read) handled by the guest kernel")                \
	X(divzero, "Fig. 4", 0, prep_divzero, gates_restore, nat_loop_divzero, UINT64_MAX,         \
	  "analog: divide by zero, SIGFPE round trip",                                             \
	  "divide by zero handled by the guest kernel: a fault without MMU work")                  \
	X(ptemod, "Fig. 4", 0, prep_ptemod, finish_ptemod, 0, 0, "",                               \
	  "a store to a live PTE of the current page table: a trace fault on bt")

#endif
