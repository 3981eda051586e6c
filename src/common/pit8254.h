/* pit8254.h: the 8254 interval timer; channel 0 drives IRQ0 from a host clock. */
#ifndef TANDEM_PIT8254_H
#define TANDEM_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "pic8259.h"

#define PIT_HZ 1193182ULL

struct pit_channel {
	uint8_t mode; /* 0..5 */
	uint8_t rw;   /* access mode: 1 lsb, 2 msb, 3 lsb then msb */
	bool bcd;
	bool write_msb_next; /* for rw 3 */
	uint8_t
	    write_lsb; /* for rw 3: the low byte, held until the high byte completes the count */
	bool read_msb_next;
	bool latched;
	uint16_t latch;
	uint32_t reload; /* 1..65536 (0 written means 65536) */
	bool armed;      /* a count has been loaded since the last control word */
	bool gate;
	uint64_t start_ns; /* host time when counting began */
	uint64_t fired;    /* periods already signalled (channel 0) */
	bool out;          /* OUT level for modes 0 and 1 read-back */
};

struct pit {
	struct pit_channel ch[3];
	struct pic *pic;
	uint64_t (*clock)(void *ctx); /* host time in ns; injectable for tests */
	void *clock_ctx;
	uint8_t port61;  /* speaker gate (bit 0), speaker data (bit 1) */
	uint64_t irqs;   /* IRQ0 edges raised */
	uint64_t missed; /* periods coalesced because the guest fell behind */
};

/* clock NULL: host_clock_ns (clock.h). */
void pit_init(struct pit *pit, struct pic *pic, uint64_t (*clock)(void *ctx), void *ctx);
/* Ports 0x40-0x43 and 0x61. Returns 0 or -errno. */
int pit_register(struct pit *pit, struct bus *ports);
/* Bring channel 0 up to the current time: pulse IRQ0 if at least one period ended (extra ones
 * counted as missed). */
void pit_update(struct pit *pit);
/* Absolute host time (ns, same clock) of channel 0's next IRQ0 edge, or 0 when none is due. */
uint64_t pit_next_deadline(const struct pit *pit);

#endif
