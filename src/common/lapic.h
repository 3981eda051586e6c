/*
 * lapic.h: a minimal local APIC at 0xFEE00000: enough for a guest to write its
 * task priority (TPR, the register %cr8 aliases on x86-64) and read it back.
 * It delivers no interrupts: the 8259 pair stays the interrupt controller.
 */
#ifndef TANDEM_LAPIC_H
#define TANDEM_LAPIC_H

#include <stdint.h>

#include "bus.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_SIZE 0x1000u
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0

struct lapic {
	uint32_t regs[LAPIC_SIZE / 16]; /* one 32-bit register per 16 bytes */
	uint64_t tpr_writes;
};

void lapic_init(struct lapic *a);
/* Registers the 4 KiB page at LAPIC_BASE on the MMIO bus. Returns 0 or -errno. */
int lapic_register(struct lapic *a, struct bus *mmio);

#endif
