/* debugexit.c: QEMU's isa-debug-exit at 0xF4 and the POST diagnostic port 0x80. */
#include "debugexit.h"

#include <string.h>

#include "log.h"

/* QEMU's "-device isa-debug-exit,iobase=0xf4,iosize=0x04" claims four ports. */
#define DEBUGEXIT_LEN 4

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void debugexit_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct debugexit *d = opaque;

	(void)offset;
	if (!is_write) {
		*val = all_ones(size);
		return;
	}
	/* QEMU calls exit((val << 1) | 1); the parent sees the low 8 bits. */
	d->status = (int)(((*val & all_ones(size)) << 1 | 1) & 0xff);
	d->exited = true;
	log_debug("debugexit: guest wrote %#llx, exit status %d", (unsigned long long)*val,
	          d->status);
}

static void post_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct debugexit *d = opaque;

	(void)offset;
	if (is_write) {
		d->post = (uint8_t)*val;
		d->post_writes++;
		return;
	}
	d->post_reads++;
	/* Bytes past 0x80 are unclaimed and float high. */
	*val = (all_ones(size) & ~0xffULL) | d->post;
}

void debugexit_init(struct debugexit *d)
{
	memset(d, 0, sizeof(*d));
}

int debugexit_register(struct debugexit *d, struct bus *ports)
{
	int ret;

	ret = bus_register(ports, DEBUGEXIT_PORT, DEBUGEXIT_LEN, debugexit_io, d, "debug-exit");
	if (ret)
		return ret;
	return bus_register(ports, POST_PORT, 1, post_io, d, "post");
}
