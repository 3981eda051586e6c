/*
 * pmtimer.h: the ACPI power-management timer (ACPI spec 4.8.2.1): a 24-bit
 * counter at 3.579545 MHz, read as a dword at port 0xb008, where QEMU's pc
 * machine has it (PIIX4 PM base 0xb000 as SeaBIOS programs it, PM_TMR at +8).
 */
#ifndef TANDEM_PMTIMER_H
#define TANDEM_PMTIMER_H

#include <stdint.h>

#include "bus.h"

#define PMTIMER_PORT 0xb008
#define PMTIMER_HZ 3579545ULL

struct pmtimer {
	uint64_t (*clock)(void *ctx); /* monotonic ns; NULL at init: CLOCK_MONOTONIC */
	void *ctx;
	uint64_t start_ns;
};

void pmtimer_init(struct pmtimer *t, uint64_t (*clock)(void *ctx), void *ctx);
/* The counter now: ticks since init, modulo 2^24. */
uint32_t pmtimer_read(const struct pmtimer *t);
/* Port 0xb008-0xb00b. 0 or -errno. */
int pmtimer_register(struct pmtimer *t, struct bus *ports);

#endif
