/* native.h: the nano-benchmarks' host-process analogs (the "native" columns). */
#ifndef TANDEM_NATIVE_H
#define TANDEM_NATIVE_H

#include "results.h"

struct nb_method {
	uint64_t mincycles;  /* a sample's loop must span at least this many cycles */
	uint64_t maxiters;   /* or stop doubling here */
	int repeat;          /* samples per benchmark */
	bool want[NB_NR];    /* which rows to measure */
};

/*
 * "native": a Linux syscall (getppid), call/ret, a page fault (first touch of a
 * fresh anonymous page), a SIGFPE round trip; "native-signal": a SIGSEGV round
 * trip for pgfault. in, cr8wr, ptemod, sysenter have no host analog: n/a.
 */
void nb_native(struct nb_column *col, const struct nb_method *m);
void nb_native_signal(struct nb_column *col, const struct nb_method *m);

#endif
