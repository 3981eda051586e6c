/*
 * lapic.h: the local xAPIC at 0xFEE00000 (Intel SDM Vol. 3A, chapter 10), as
 * QEMU's pc machine has it for one CPU: ID 0, version 0x14 with 6 LVT entries,
 * TPR/APR/PPR, EOI, LDR/DFR, SVR (software enable), ISR/TMR/IRR with priority
 * classes, ESR, ICR (fixed self-IPIs: shorthand self, all, or our own ID), the LVT
 * timer (one-shot and periodic, divide configuration, a 1 GHz bus clock as QEMU's
 * and KVM's) and LINT0 in ExtINT mode, through which the 8259 pair's interrupts
 * pass (QEMU's reset state for CPU 0: LINT0 = 0x700). An NMI IPI to ourselves is
 * latched (nmi_pending) for the engine, which delivers it ignoring IF, blocked until
 * the next iret (SDM 6.7.1). INIT and SIPI delivery and the TSC-deadline mode are not
 * modelled (such an IPI is dropped and counted in ipi_dropped).
 *
 * The core asks it first at every interrupt window (lapic_pending/lapic_ack),
 * then the PIC when lapic_accepts_pic says LINT0 lets it through, as QEMU's
 * cpu_get_pic_interrupt does.
 */
#ifndef TANDEM_LAPIC_H
#define TANDEM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_SIZE 0x1000u
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_PPR 0xa0
#define LAPIC_EOI 0xb0
#define LAPIC_LDR 0xd0
#define LAPIC_DFR 0xe0
#define LAPIC_SVR 0xf0
#define LAPIC_ISR 0x100
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0

#define LAPIC_LVT_NR 6 /* timer, thermal, perf, LINT0, LINT1, error */
#define LAPIC_LVT_MASKED 0x10000u

struct lapic {
	uint32_t tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
	uint32_t lvt[LAPIC_LVT_NR];
	uint32_t isr[8], tmr[8], irr[8]; /* 256-bit vectors, 32 bits a register */
	uint32_t tmict, tdcr;
	uint64_t timer_start_ns; /* when TMICT was written (or the period began) */
	uint64_t timer_periods;  /* periods already signalled since timer_start_ns */
	bool timer_armed;
	uint64_t (*clock)(void *ctx); /* monotonic ns; CLOCK_MONOTONIC when NULL at init */
	void *ctx;
	void (*eoi_hook)(void *opaque, uint8_t vector); /* level-triggered EOI (the IOAPIC) */
	void *eoi_opaque;
	uint32_t nmi_pending; /* NMIs sent and not yet taken (at most 1 is kept) */
	uint64_t tpr_writes, timer_irqs, ipis, ipi_dropped, eois, nmis;
};

/* Reset state of CPU 0's APIC, with clock (NULL: the host's monotonic clock). */
void lapic_init(struct lapic *a, uint64_t (*clock)(void *ctx), void *ctx);
/* Registers the 4 KiB page at LAPIC_BASE on the MMIO bus. Returns 0 or -errno. */
int lapic_register(struct lapic *a, struct bus *mmio);

/* Accept a fixed interrupt (from the IOAPIC, an IPI, an LVT): IRR, and TMR when level. */
void lapic_set_irq(struct lapic *a, uint8_t vector, bool level);
/* Bring the timer up to now: a period that ended sets its LVT vector in IRR. */
void lapic_update(struct lapic *a);
/* Absolute time (ns, the clock) of the timer's next expiry, 0 when none is due. */
uint64_t lapic_next_deadline(const struct lapic *a);
/* Is a fixed interrupt deliverable: software enabled, IRR's best class above PPR's? */
bool lapic_pending(const struct lapic *a);
/* INTA: the highest deliverable vector moves from IRR to ISR; returns it. */
uint8_t lapic_ack(struct lapic *a);
/* May the 8259's INTR reach the CPU (LINT0 ExtINT unmasked, QEMU's rule)? */
bool lapic_accepts_pic(const struct lapic *a);
/* The register at offset (a 16-byte aligned offset in the page), as a read sees it. */
uint32_t lapic_read(struct lapic *a, uint32_t offset);

#endif
