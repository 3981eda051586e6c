/* native.h: the nano-benchmarks' host-process analogs (the "native" columns). */
#ifndef TANDEM_NATIVE_H
#define TANDEM_NATIVE_H

#include "results.h"

struct nb_method {
	uint64_t mincycles; /* a sample's loop must span at least this many cycles */
	uint64_t maxiters;  /* or stop doubling here */
	int repeat;         /* samples per benchmark */
	int warmup;         /* samples taken and dropped first */
	int pin;            /* the CPU to run on, or -1 */
	bool want[NB_NR];   /* which rows to measure */
};

/*
 * "native": a Linux syscall (getppid), call/ret, a page fault (first touch of a
 * fresh anonymous page), a SIGFPE round trip; "native-signal": a SIGSEGV round
 * trip for pgfault. in, cr8wr, ptemod, sysenter have no host analog: n/a.
 * Measured in this process, pinned to m->pin for the duration when >= 0 (the
 * affinity is restored after); the column records the CPUs it ran on and the
 * load average around it. Never fails: a cell that cannot be had says why.
 */
void nb_native(struct nb_column *col, const struct nb_method *m);
void nb_native_signal(struct nb_column *col, const struct nb_method *m); /* as above */

#endif
