/* clock.h: the host clock the timer devices run on (CLOCK_MONOTONIC), injectable for tests. */
#ifndef TANDEM_CLOCK_H
#define TANDEM_CLOCK_H

#include <stdint.h>

/*
 * host_clock_ns: CLOCK_MONOTONIC in nanoseconds; ctx is unused. The default clock of
 * every timer device (PIT, RTC, local APIC, PM timer), which each take a clock
 * function and context so unit tests can drive time by hand.
 */
uint64_t host_clock_ns(void *ctx);

#endif
