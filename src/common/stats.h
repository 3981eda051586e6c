/* stats.h: the monitor's counters, one X-macro table. */
#ifndef TANDEM_STATS_H
#define TANDEM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "exit.h"

/* X(field, description) */
#define CORE_STATS(X)                                                                              \
	X(runs, "engine run calls")                                                                \
	X(port_in, "port reads")                                                                   \
	X(port_out, "port writes")                                                                 \
	X(port_unclaimed, "port accesses no device claimed")                                       \
	X(mmio_read, "MMIO reads")                                                                 \
	X(mmio_write, "MMIO writes")                                                               \
	X(mmio_unclaimed, "MMIO accesses no device claimed")                                       \
	X(irq_injected, "interrupts delivered to the guest")                                       \
	X(timer_irqs, "PIT IRQ0 edges")                                                            \
	X(timer_missed, "PIT periods coalesced")                                                   \
	X(serial_bytes, "bytes written to COM1")                                                   \
	X(serial_dropped, "COM1 bytes dropped (broken output, or a stalled reader at --timeout)")

struct stats {
	uint64_t exits[EXIT_NR];      /* engine exits: each return of ops->run, by reason */
	uint64_t dispatched[EXIT_NR]; /* records the core dispatched, wherever the engine raised
	                               * them: kvm only on exits, bt also from inside its cache */
#define X(f, d) uint64_t f;
	CORE_STATS(X)
#undef X
	uint64_t wall_ns; /* from entry to the guest's stop */
};

/* Print every counter, one "name value" line each, under a heading. */
void stats_print(const struct stats *s, FILE *f);

#endif
