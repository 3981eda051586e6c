/* lapic.c: the local xAPIC: priorities, EOI, fixed self-IPIs, the LVT timer, LINT0 ExtINT. */
#include "lapic.h"

#include <string.h>

#include "clock.h"

#define SVR_ENABLE 0x100u
#define LVT_TIMER_PERIODIC 0x20000u
#define LVT_LINT0 3
#define ICR_DELIVERY(v) (((v) >> 8) & 7)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3)
#define ICR_LEVEL_TRIGGER 0x8000u
/* The bus clock of QEMU's and KVM's APIC timer: one tick a nanosecond. */
#define BUS_NS_PER_TICK 1

void lapic_init(struct lapic *a, uint64_t (*clock)(void *ctx), void *ctx)
{
	memset(a, 0, sizeof(*a));
	a->clock = clock ? clock : host_clock_ns;
	a->ctx = ctx;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (int i = 0; i < LAPIC_LVT_NR; i++)
		a->lvt[i] = LAPIC_LVT_MASKED;
	a->lvt[LVT_LINT0] = 0x700; /* ExtINT: QEMU's reset state of CPU 0 */
}

static int highest(const uint32_t v[8])
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static uint32_t ppr(const struct lapic *a)
{
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

static void set_bit(uint32_t v[8], uint8_t n, bool on)
{
	if (on)
		v[n / 32] |= 1u << (n % 32);
	else
		v[n / 32] &= ~(1u << (n % 32));
}

void lapic_set_irq(struct lapic *a, uint8_t vector, bool level)
{
	if (vector < 16) {
		a->esr |= 0x40; /* received illegal vector */
		return;
	}
	set_bit(a->irr, vector, true);
	set_bit(a->tmr, vector, level);
}

bool lapic_pending(const struct lapic *a)
{
	int v = highest(a->irr);

	return (a->svr & SVR_ENABLE) && v >= 0 && ((uint32_t)v & 0xf0) > (ppr(a) & 0xf0);
}

uint8_t lapic_ack(struct lapic *a)
{
	int v = highest(a->irr);

	if (!lapic_pending(a))
		return (uint8_t)(a->svr & 0xff); /* the spurious vector */
	set_bit(a->irr, (uint8_t)v, false);
	set_bit(a->isr, (uint8_t)v, true);
	return (uint8_t)v;
}

bool lapic_accepts_pic(const struct lapic *a)
{
	return !(a->lvt[LVT_LINT0] & LAPIC_LVT_MASKED) && ((a->lvt[LVT_LINT0] >> 8) & 7) == 7;
}

static void eoi(struct lapic *a)
{
	int v = highest(a->isr);

	a->eois++;
	if (v < 0)
		return;
	set_bit(a->isr, (uint8_t)v, false);
	if (a->tmr[v / 32] & (1u << (v % 32))) {
		set_bit(a->tmr, (uint8_t)v, false);
		if (a->eoi_hook)
			a->eoi_hook(a->eoi_opaque, (uint8_t)v);
	}
}

/* TDCR bits 0, 1 and 3: divide by 2, 4, ... 128, or 1 (0b1011). */
static unsigned divide_shift(uint32_t tdcr)
{
	unsigned v = (tdcr & 3) | ((tdcr >> 1) & 4);

	return (v + 1) & 7;
}

static uint64_t period_ns(const struct lapic *a)
{
	return ((uint64_t)a->tmict << divide_shift(a->tdcr)) * BUS_NS_PER_TICK;
}

void lapic_update(struct lapic *a)
{
	uint64_t p = period_ns(a), due;

	if (!a->timer_armed || !p)
		return;
	due = (a->clock(a->ctx) - a->timer_start_ns) / p;
	if (due <= a->timer_periods)
		return;
	if (!(a->lvt[0] & LVT_TIMER_PERIODIC)) {
		a->timer_armed = false; /* one-shot: the count stays at 0 */
		due = 1;
	}
	a->timer_periods = due; /* periods that ended unseen coalesce into one */
	a->timer_irqs++;
	if (!(a->lvt[0] & LAPIC_LVT_MASKED) && (a->svr & SVR_ENABLE))
		lapic_set_irq(a, (uint8_t)a->lvt[0], false);
}

/* Kicks for a periodic timer come at most this often; its interrupts then coalesce. */
#define MIN_KICK_NS 10000ULL

uint64_t lapic_next_deadline(const struct lapic *a)
{
	uint64_t p = period_ns(a), next, step;

	/* A masked or software-disabled timer raises nothing: no kicks (TMCCT reads compute). */
	if (!a->timer_armed || !p || (a->lvt[0] & LAPIC_LVT_MASKED) || !(a->svr & SVR_ENABLE))
		return 0;
	next = a->timer_start_ns + (a->timer_periods + 1) * p;
	if (p < MIN_KICK_NS) { /* a 1 ns period must not kick the vCPU out at every entry */
		step = (MIN_KICK_NS + p - 1) / p * p;
		next = a->timer_start_ns + ((a->timer_periods + 1) * p + step - 1) / step * step;
	}
	return next;
}

static uint32_t current_count(const struct lapic *a)
{
	uint64_t p = period_ns(a), in;

	if (!a->timer_armed || !p)
		return 0;
	in = (a->clock(a->ctx) - a->timer_start_ns) % p;
	return (uint32_t)((p - in) / BUS_NS_PER_TICK >> divide_shift(a->tdcr));
}

/* A write to ICR low sends the IPI; one CPU, so only ourselves can be a target. */
static void send_ipi(struct lapic *a, uint32_t lo)
{
	uint32_t dest = a->icr_hi >> 24, sh = ICR_SHORTHAND(lo);
	bool self;

	if (sh == 3) /* all excluding self: nobody */
		return;
	if (sh)
		self = true;
	else if (lo & 0x800) /* logical, flat model: our LDR bit */
		self = (dest & (a->ldr >> 24)) != 0;
	else
		self = dest == 0 || dest == 0xff;
	if (!self)
		return;
	a->ipis++;
	if (ICR_DELIVERY(lo) == 0) {
		lapic_set_irq(a, (uint8_t)lo, (lo & ICR_LEVEL_TRIGGER) != 0);
	} else if (ICR_DELIVERY(lo) == 4) { /* NMI: one stays latched until taken */
		a->nmi_pending = 1;
		a->nmis++;
	} else {
		a->ipi_dropped++;
	}
}

uint32_t lapic_read(struct lapic *a, uint32_t off)
{
	lapic_update(a);
	if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80)
		return a->isr[(off - LAPIC_ISR) / 16];
	if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80)
		return a->tmr[(off - LAPIC_TMR) / 16];
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80)
		return a->irr[(off - LAPIC_IRR) / 16];
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR)
		return a->lvt[(off - LAPIC_LVT_TIMER) / 16];
	switch (off) {
	case LAPIC_ID:
		return 0;
	case LAPIC_VERSION:
		return 0x14 | (LAPIC_LVT_NR - 1) << 16;
	case LAPIC_TPR:
		return a->tpr;
	case LAPIC_PPR:
		return ppr(a);
	case LAPIC_LDR:
		return a->ldr;
	case LAPIC_DFR:
		return a->dfr;
	case LAPIC_SVR:
		return a->svr;
	case LAPIC_ESR:
		return a->esr;
	case LAPIC_ICR_LO:
		return a->icr_lo & ~0x1000u; /* delivery status: always idle */
	case LAPIC_ICR_HI:
		return a->icr_hi;
	case LAPIC_TMICT:
		return a->tmict;
	case LAPIC_TMCCT:
		return current_count(a);
	case LAPIC_TDCR:
		return a->tdcr;
	default:
		return 0;
	}
}

static void lapic_write(struct lapic *a, uint32_t off, uint32_t v)
{
	lapic_update(a);
	if (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR) {
		unsigned i = (off - LAPIC_LVT_TIMER) / 16;

		/* Software-disabled, every LVT stays masked (SDM 10.4.7.2). */
		a->lvt[i] = v | ((a->svr & SVR_ENABLE) ? 0 : LAPIC_LVT_MASKED);
		return;
	}
	switch (off) {
	case LAPIC_TPR:
		a->tpr = v & 0xff;
		a->tpr_writes++;
		break;
	case LAPIC_EOI:
		eoi(a);
		break;
	case LAPIC_LDR:
		a->ldr = v & 0xff000000u;
		break;
	case LAPIC_DFR:
		a->dfr = v | 0x0fffffffu;
		break;
	case LAPIC_SVR:
		a->svr = v & 0x3ff;
		if (!(v & SVR_ENABLE))
			for (int i = 0; i < LAPIC_LVT_NR; i++)
				a->lvt[i] |= LAPIC_LVT_MASKED;
		break;
	case LAPIC_ESR:
		a->esr = 0;
		break; /* a write latches (here: clears) the errors */
	case LAPIC_ICR_HI:
		a->icr_hi = v & 0xff000000u;
		break;
	case LAPIC_ICR_LO:
		a->icr_lo = v;
		send_ipi(a, v);
		break;
	case LAPIC_TMICT:
		a->tmict = v;
		a->timer_start_ns = a->clock(a->ctx);
		a->timer_periods = 0;
		a->timer_armed = v != 0;
		break;
	case LAPIC_TDCR:
		a->tdcr = v & 0xb;
		break;
	default:
		break; /* read-only or reserved */
	}
}

static void lapic_access(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct lapic *a = opaque;

	/* Registers are 32 bits wide at 16-byte alignment; other accesses read 0. */
	if ((offset & 15) || size != 4) {
		if (!is_write)
			*val = 0;
		return;
	}
	if (is_write)
		lapic_write(a, (uint32_t)offset, (uint32_t)*val);
	else
		*val = lapic_read(a, (uint32_t)offset);
}

int lapic_register(struct lapic *a, struct bus *mmio)
{
	return bus_register(mmio, LAPIC_BASE, LAPIC_SIZE, lapic_access, a, "lapic");
}
