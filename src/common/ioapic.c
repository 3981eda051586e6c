/* ioapic.c: the I/O APIC: redirection table, edge and level pins, EOI broadcast, to the local APIC.
 */
#include "ioapic.h"

#include <string.h>

#define RTE_MASKED (1ULL << 16)
#define RTE_LEVEL (1ULL << 15)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LOGICAL (1ULL << 11)
#define RTE_DELIVERY(r) (((r) >> 8) & 7)
/* Writable: vector, delivery mode, destination mode, polarity, trigger, mask, destination. */
#define RTE_WRITABLE                                                                               \
	(0xffULL | 0x7ULL << 8 | RTE_LOGICAL | 1ULL << 13 | RTE_LEVEL | RTE_MASKED | 0xffULL << 56)

void ioapic_init(struct ioapic *io, struct lapic *lapic)
{
	memset(io, 0, sizeof(*io));
	io->lapic = lapic;
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;
}

static bool for_us(const struct ioapic *io, uint64_t r)
{
	uint32_t dest = (uint32_t)(r >> 56);

	if (r & RTE_LOGICAL)
		return (dest & (io->lapic->ldr >> 24)) != 0;
	return dest == 0 || dest == 0xff;
}

static void deliver(struct ioapic *io, int pin)
{
	uint64_t *r = &io->redir[pin];

	if (*r & RTE_MASKED)
		return;
	if ((RTE_DELIVERY(*r) > 1) || !for_us(io, *r)) { /* fixed and lowest priority only */
		io->dropped++;
		return;
	}
	if (*r & RTE_LEVEL) {
		if (*r & RTE_REMOTE_IRR)
			return;
		*r |= RTE_REMOTE_IRR;
	}
	io->delivered++;
	lapic_set_irq(io->lapic, (uint8_t)*r, (*r & RTE_LEVEL) != 0);
}

void ioapic_set_isa_irq(void *opaque, int irq, int level)
{
	struct ioapic *io = opaque;
	int pin = irq == 0 ? 2 : irq;
	uint32_t bit;
	bool rising;

	if (irq < 0 || irq > 15 || irq == 2) /* IRQ2 is the 8259 cascade: no ISA device */
		return;
	bit = 1u << pin;
	rising = level && !(io->level & bit);
	io->level = level ? io->level | bit : io->level & ~bit;
	if (level && (rising || (io->redir[pin] & RTE_LEVEL)))
		deliver(io, pin);
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;

	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *r = &io->redir[pin];

		if ((uint8_t)*r != vector || !(*r & RTE_LEVEL) || !(*r & RTE_REMOTE_IRR))
			continue;
		*r &= ~RTE_REMOTE_IRR;
		if (io->level & (1u << pin))
			deliver(io, pin);
	}
}

static uint32_t reg_read(const struct ioapic *io)
{
	uint32_t s = io->sel;

	if (s == 0)
		return io->id;
	if (s == 1)
		return 0x20 | (IOAPIC_PINS - 1) << 16;
	if (s == 2)
		return io->id; /* arbitration ID */
	if (s >= 0x10 && s < 0x10 + 2 * IOAPIC_PINS)
		return (uint32_t)(io->redir[(s - 0x10) / 2] >> ((s & 1) * 32));
	return 0;
}

static void reg_write(struct ioapic *io, uint32_t v)
{
	uint32_t s = io->sel;
	uint64_t *r, old;
	int pin;

	if (s == 0) {
		io->id = v & 0x0f000000u;
		return;
	}
	if (s < 0x10 || s >= 0x10 + 2 * IOAPIC_PINS)
		return;
	pin = (int)(s - 0x10) / 2;
	r = &io->redir[pin];
	old = *r;
	if (s & 1)
		*r = (*r & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*r = (*r & ~0xffffffffULL) | v;
	*r = (*r & RTE_WRITABLE) | (old & RTE_REMOTE_IRR);
	if (!(*r & RTE_LEVEL))
		*r &= ~RTE_REMOTE_IRR;
	/* Unmasking a level pin that is held delivers it now. */
	if ((old & RTE_MASKED) && !(*r & RTE_MASKED) && (*r & RTE_LEVEL) &&
	    (io->level & (1u << pin)))
		deliver(io, pin);
}

static void ioapic_access(void *opaque, uint64_t offset, unsigned size, bool is_write,
                          uint64_t *val)
{
	struct ioapic *io = opaque;

	(void)size;
	if (offset == 0) {
		if (is_write)
			io->sel = (uint32_t)*val & 0xff;
		else
			*val = io->sel;
	} else if (offset == 0x10) {
		if (is_write)
			reg_write(io, (uint32_t)*val);
		else
			*val = reg_read(io);
	} else if (offset == 0x40 && is_write) { /* the EOI register (version 0x20) */
		ioapic_eoi(io, (uint8_t)*val);
	} else if (!is_write) {
		*val = 0;
	}
}

int ioapic_register(struct ioapic *io, struct bus *mmio)
{
	io->lapic->eoi_hook = ioapic_eoi;
	io->lapic->eoi_opaque = io;
	return bus_register(mmio, IOAPIC_BASE, IOAPIC_SIZE, ioapic_access, io, "ioapic");
}
