/*
 * rtc.h: the MC146818 CMOS/RTC at ports 0x70/0x71 as QEMU's pc machine has it:
 * time and date from the host's clock (UTC, as QEMU's default -rtc base=utc), BCD
 * and 24-hour by default (register B 0x02), registers A-D, the periodic interrupt
 * on IRQ8 (register A's rate, B.PIE; held until register C is read, as QEMU), the
 * NMI-mask bit (port 0x70 bit 7), and QEMU's memory-size bytes (0x15-0x18,
 * 0x30-0x31, 0x34-0x35, 0x5b-0x5d). Alarm and update-ended interrupts are not
 * modelled: their enable bits are kept but never fire.
 */
#ifndef TANDEM_RTC_H
#define TANDEM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "pic8259.h"

#define RTC_PORT_INDEX 0x70
#define RTC_IRQ 8
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d

struct rtc {
	uint8_t cmos[128];
	uint8_t index;
	bool nmi_masked;  /* port 0x70 bit 7 */
	int64_t offset_s; /* guest-set time minus host time, seconds */
	struct pic *pic;
	uint64_t (*clock)(void *ctx); /* monotonic ns, for the periodic interrupt */
	uint64_t (*wall)(void *ctx);  /* wall-clock seconds since the epoch (UTC) */
	void *ctx;
	uint64_t period_start_ns; /* when the current rate/enable took effect */
	uint64_t fired;           /* periods signalled since period_start_ns */
	uint64_t irqs;            /* IRQ8 edges raised */
};

/*
 * rtc_init: mem_bytes of guest RAM for the size bytes; clock/wall NULL for the
 * host's CLOCK_MONOTONIC and time(); ctx passed to both (tests inject time).
 */
void rtc_init(struct rtc *r, struct pic *pic, uint64_t mem_bytes, uint64_t (*clock)(void *ctx),
              uint64_t (*wall)(void *ctx), void *ctx);
/* Ports 0x70-0x71. 0 or -errno. */
int rtc_register(struct rtc *r, struct bus *ports);
/* Bring the periodic interrupt up to now: raise IRQ8 when a period ended (coalesced). */
void rtc_update(struct rtc *r);
/* Absolute time (ns, the clock above) of the next periodic interrupt, or 0 when off. */
uint64_t rtc_next_deadline(const struct rtc *r);
/* Period of the periodic interrupt in ns for register A's rate (0 = off); datasheet table. */
uint64_t rtc_period_ns(uint8_t reg_a);

#endif
