/* debugexit.h: QEMU's isa-debug-exit (port 0xF4) and the POST port 0x80. */
#ifndef TANDEM_DEBUGEXIT_H
#define TANDEM_DEBUGEXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define DEBUGEXIT_PORT 0xf4
#define POST_PORT 0x80

struct debugexit {
	bool exited;  /* the guest wrote the exit port */
	int status;   /* (value << 1) | 1, as QEMU's process exit status (low 8 bits) */
	uint8_t post; /* last POST code written; reads return it */
	uint64_t post_reads, post_writes;
};

void debugexit_init(struct debugexit *d); /* not exited, POST code 0, counters 0 */
/* Registers 0xF4-0xF7 (as QEMU with iosize=4) and 0x80. Returns 0 or -errno. */
int debugexit_register(struct debugexit *d, struct bus *ports);

#endif
