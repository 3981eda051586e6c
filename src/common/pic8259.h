/* pic8259.h: the PC's cascaded 8259A pair (master 0x20, slave 0xA0, cascade on IRQ2). */
#ifndef TANDEM_PIC8259_H
#define TANDEM_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t last_level;  /* line levels, for edge detection */
	uint8_t vector_base; /* ICW2 & 0xf8 */
	uint8_t init_step;   /* 0: ready; 1..3: expecting ICW2..ICW4 */
	bool icw4_needed;
	bool single;           /* ICW1.SNGL */
	bool auto_eoi;         /* ICW4.AEOI */
	bool read_isr;         /* OCW3: next read of the command port returns ISR */
	bool special_mask;     /* OCW3.SMM */
	uint8_t priority_base; /* lowest-priority IRQ after rotation; 7 at reset */
};

struct pic {
	struct pic_chip chip[2]; /* [0] master, [1] slave */
	uint64_t acks, spurious;
	/* The ISA lines also reach the I/O APIC: called with every line change. */
	void (*mirror)(void *opaque, int irq, int level);
	void *mirror_opaque;
};

/* Reset both chips to the state after power-on (all masked until initialised). */
void pic_init(struct pic *pic);

/* Register the command/data ports 0x20-0x21 and 0xA0-0xA1. Returns 0 or -errno. */
int pic_register(struct pic *pic, struct bus *ports);

/* Drive ISA line irq (0..15) to level; a rising edge latches IRR; the mirror sees it too. */
void pic_set_irq(struct pic *pic, int irq, int level);

/* Raise then lower irq: one edge, as the PIT's output does. */
void pic_pulse_irq(struct pic *pic, int irq);

/* True when the master's INTR output is asserted (an unmasked request outranks in-service). */
bool pic_pending(const struct pic *pic);

/* The CPU's interrupt acknowledge: the vector to deliver (spurious 7/15 when none) and ISR/IRR
 * updated. */
uint8_t pic_ack(struct pic *pic);

#endif
