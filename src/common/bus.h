/* bus.h: the port-I/O and MMIO buses; devices register address ranges on them. */
#ifndef TANDEM_BUS_H
#define TANDEM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device's access handler. offset is relative to the range's base; size is
 * 1, 2 or 4 (8 for MMIO); on a read the handler stores the value in *val.
 */
typedef void (*bus_handler_fn)(void *opaque, uint64_t offset, unsigned size, bool is_write,
                               uint64_t *val);

#define BUS_MAX_RANGES 32

struct bus_range {
	uint64_t base, len;
	bus_handler_fn fn;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "port" or "mmio", for messages */
	int nr;
	struct bus_range ranges[BUS_MAX_RANGES];
};

/* An empty bus; name ("port", "mmio") is kept for messages and must outlive the bus. */
void bus_init(struct bus *bus, const char *name);

/* Add [base, base+len). Returns 0, -EEXIST on overlap, -ENOSPC when full. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler_fn fn, void *opaque,
                 const char *name);

/*
 * Route one access. Returns 0 when a device took it, -ENOENT when no device
 * covers addr (reads then return all-ones, as on an open ISA bus).
 */
int bus_access(struct bus *bus, uint64_t addr, unsigned size, bool is_write, uint64_t *val);

/* Does any device's range overlap [base, base+len)? */
bool bus_claims(const struct bus *bus, uint64_t base, uint64_t len);

#endif
