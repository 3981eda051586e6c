/* bus.c: linear range lookup; a PC has a handful of devices. */
#include "bus.h"

#include <errno.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler_fn fn, void *opaque,
                 const char *name)
{
	int i;

	if (len == 0 || base + len < base)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	if (bus->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->nr++] = (struct bus_range){base, len, fn, opaque, name};
	return 0;
}

int bus_access(struct bus *bus, uint64_t addr, unsigned size, bool is_write, uint64_t *val)
{
	int i;

	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (addr >= r->base && addr - r->base < r->len) {
			r->fn(r->opaque, addr - r->base, size, is_write, val);
			return 0;
		}
	}
	if (!is_write)
		*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	return -ENOENT;
}

bool bus_claims(const struct bus *bus, uint64_t base, uint64_t len)
{
	int i;

	for (i = 0; i < bus->nr; i++)
		if (bus->ranges[i].base < base + len &&
		    base < bus->ranges[i].base + bus->ranges[i].len)
			return true;
	return false;
}
