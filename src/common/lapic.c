/* lapic.c: the local APIC's register page: TPR read/write, fixed ID and version. */
#include "lapic.h"

#include <string.h>

void lapic_init(struct lapic *a)
{
	memset(a, 0, sizeof(*a));
	a->regs[LAPIC_VERSION / 16] = 0x00050014; /* an integrated APIC, 6 LVT entries */
	a->regs[LAPIC_SVR / 16] = 0xff;
}

static void lapic_access(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct lapic *a = opaque;
	unsigned reg = (unsigned)(offset / 16);

	/* Registers are 32 bits wide at 16-byte alignment; other accesses read 0. */
	if ((offset & 15) || size != 4) {
		if (!is_write)
			*val = 0;
		return;
	}
	if (!is_write) {
		*val = a->regs[reg];
		return;
	}
	switch (offset) {
	case LAPIC_TPR:
		a->regs[reg] = (uint32_t)*val & 0xff;
		a->tpr_writes++;
		break;
	case LAPIC_ID:
	case LAPIC_VERSION:
		break; /* read-only here */
	case LAPIC_EOI:
		break;
	default:
		a->regs[reg] = (uint32_t)*val;
	}
}

int lapic_register(struct lapic *a, struct bus *mmio)
{
	return bus_register(mmio, LAPIC_BASE, LAPIC_SIZE, lapic_access, a, "lapic");
}
