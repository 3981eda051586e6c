/*
 * pmtimer.h: the ACPI power-management timer (ACPI spec 4.8.2.1): a 24-bit
 * counter at 3.579545 MHz, read as a dword at port 0x608, where QEMU 7.2's pc
 * machine has it after SeaBIOS programs the PIIX4 PM base to 0x600 (PM_TMR at
 * +8; read there by guests/platform under qemu-system-i386; 0xb008, the older
 * SeaBIOS base, reads all-ones on that QEMU).
 */
#ifndef TANDEM_PMTIMER_H
#define TANDEM_PMTIMER_H

#include <stdint.h>

#include "bus.h"

#define PMTIMER_PORT 0x608
#define PMTIMER_HZ 3579545ULL

struct pmtimer {
	uint64_t (*clock)(void *ctx); /* monotonic ns; NULL at init: CLOCK_MONOTONIC */
	void *ctx;
	uint64_t start_ns;
};

/* Start counting now; clock (monotonic ns, NULL: CLOCK_MONOTONIC) is read on every access. */
void pmtimer_init(struct pmtimer *t, uint64_t (*clock)(void *ctx), void *ctx);
/* The counter now: ticks since init, modulo 2^24. */
uint32_t pmtimer_read(const struct pmtimer *t);
/* Ports 0x608-0x60b. 0 or -errno. */
int pmtimer_register(struct pmtimer *t, struct bus *ports);

#endif
