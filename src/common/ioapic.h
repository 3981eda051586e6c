/*
 * ioapic.h: the I/O APIC at 0xFEC00000 (82093AA datasheet) as QEMU 7.2's pc
 * machine has it: ID 0, version 0x20 (QEMU's default: the 82093AA's 0x11 plus
 * the EOI register at +0x40), 24 redirection entries (all masked at reset),
 * IOREGSEL at +0x00 and IOWIN at +0x10. It sees the ISA lines the 8259 pair sees
 * (pic_set_irq fans out to it) with QEMU's wiring: ISA IRQ 0 (the PIT) on pin 2,
 * every other ISA IRQ n on pin n. An unmasked entry sends its vector to the local
 * APIC: edge-triggered on a rising edge; level-triggered while the line is high
 * and remote IRR is clear, remote IRR cleared by the local APIC's EOI of that
 * vector (EOI broadcast). Fixed and lowest-priority delivery to our one CPU
 * (physical destination 0 or 0xff, or a logical one matching its LDR); other
 * delivery modes are dropped and counted.
 */
#ifndef TANDEM_IOAPIC_H
#define TANDEM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "lapic.h"

#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_SIZE 0x1000u
#define IOAPIC_PINS 24

struct ioapic {
	uint32_t sel, id;
	uint64_t redir[IOAPIC_PINS];
	uint32_t level; /* pin levels */
	struct lapic *lapic;
	uint64_t delivered, dropped;
};

/* Reset state, delivering to lapic. */
void ioapic_init(struct ioapic *io, struct lapic *lapic);
/* The 4 KiB page at IOAPIC_BASE on the MMIO bus; hooks the local APIC's EOI. 0 or -errno. */
int ioapic_register(struct ioapic *io, struct bus *mmio);
/* Drive ISA line irq (0..15) to level (QEMU's pin mapping above); opaque is the ioapic. */
void ioapic_set_isa_irq(void *opaque, int irq, int level);
/* The local APIC's EOI of a level-triggered vector: clear remote IRR, redeliver if held. */
void ioapic_eoi(void *opaque, uint8_t vector);

#endif
