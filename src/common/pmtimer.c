/* pmtimer.c: the ACPI PM timer, 24 bits at 3.579545 MHz from the host's monotonic clock. */
#include "pmtimer.h"

#include "clock.h"

void pmtimer_init(struct pmtimer *t, uint64_t (*clock)(void *ctx), void *ctx)
{
	t->clock = clock ? clock : host_clock_ns;
	t->ctx = ctx;
	t->start_ns = t->clock(ctx);
}

uint32_t pmtimer_read(const struct pmtimer *t)
{
	unsigned __int128 ticks = (unsigned __int128)(t->clock(t->ctx) - t->start_ns) * PMTIMER_HZ;

	return (uint32_t)(ticks / 1000000000ULL) & 0xffffff;
}

static void pmtimer_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	const struct pmtimer *t = opaque;

	if (is_write)
		return; /* the counter is read-only */
	*val = (uint64_t)pmtimer_read(t) >> (8 * offset);
	if (size < 4)
		*val &= (1ULL << (8 * size)) - 1;
}

int pmtimer_register(struct pmtimer *t, struct bus *ports)
{
	return bus_register(ports, PMTIMER_PORT, 4, pmtimer_io, t, "acpi-pm-timer");
}
