/* monitor_timer.h: the vCPU kick timer and the watchdog thread (private to the core). */
#ifndef TANDEM_MONITOR_TIMER_H
#define TANDEM_MONITOR_TIMER_H

#include "monitor.h"

/* A KVM_RUN (or translated code) that ignores a kick this long is declared hung. */
#define WATCHDOG_GRACE_NS (3ULL * 1000000000ULL)

/* Install the kick signal and create the timer aimed at the calling thread. 0 or -errno. */
int mtimer_init(struct monitor *m);
void mtimer_destroy(struct monitor *m); /* delete the timer; safe if init failed */
/* Arm the timer for the earliest of the PIT's next edge and the --timeout deadline. */
void mtimer_rearm(struct monitor *m);
/* Start and stop the watchdog thread. 0 or -errno. */
int watchdog_start(struct monitor *m);
void watchdog_stop(struct monitor *m); /* join it; safe if it never started */

#endif
