/* rtc.c: CMOS/RTC (MC146818) at 0x70/0x71: host time, registers A-D, periodic IRQ8, size bytes. */
#include "rtc.h"

#include <string.h>
#include <time.h>

#include "clock.h"

#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_DM 0x04 /* binary, not BCD */
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40

static uint64_t host_wall_s(void *ctx)
{
	(void)ctx;
	return (uint64_t)time(NULL);
}

/* A 16-bit little-endian value at lo, hi, capped as QEMU's pc_cmos_init caps it. */
static void put16(uint8_t *c, int lo, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	c[lo] = (uint8_t)v;
	c[lo + 1] = (uint8_t)(v >> 8);
}

void rtc_init(struct rtc *r, struct pic *pic, uint64_t mem_bytes, uint64_t (*clock)(void *ctx),
              uint64_t (*wall)(void *ctx), void *ctx)
{
	uint64_t below4g = mem_bytes < 0xe0000000ULL ? mem_bytes : 0xe0000000ULL;

	memset(r, 0, sizeof(*r));
	r->pic = pic;
	r->clock = clock ? clock : host_clock_ns;
	r->wall = wall ? wall : host_wall_s;
	r->ctx = ctx;
	r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz divider, 1024 Hz rate */
	r->cmos[RTC_REG_B] = REG_B_24H;
	r->cmos[RTC_REG_D] = 0x80; /* valid RAM and time */
	put16(r->cmos, 0x15, 640);
	if (below4g > (1 << 20)) {
		put16(r->cmos, 0x17, (below4g - (1 << 20)) >> 10);
		put16(r->cmos, 0x30, (below4g - (1 << 20)) >> 10);
	}
	if (below4g > (16 << 20))
		put16(r->cmos, 0x34, (below4g - (16 << 20)) >> 16);
	r->period_start_ns = r->clock(r->ctx);
}

uint64_t rtc_period_ns(uint8_t reg_a)
{
	unsigned rate = reg_a & 0x0f;

	if (!rate)
		return 0;
	if (rate <= 2) /* with the 32.768 kHz time base, rates 1 and 2 repeat 8 and 9 */
		rate += 7;
	return (1000000000ULL << (rate - 1)) / 32768;
}

static bool periodic_on(const struct rtc *r)
{
	return (r->cmos[RTC_REG_B] & REG_B_PIE) && rtc_period_ns(r->cmos[RTC_REG_A]);
}

static void restart_periodic(struct rtc *r)
{
	r->period_start_ns = r->clock(r->ctx);
	r->fired = 0;
}

void rtc_update(struct rtc *r)
{
	uint64_t period = rtc_period_ns(r->cmos[RTC_REG_A]), due;

	if (!periodic_on(r))
		return;
	due = (r->clock(r->ctx) - r->period_start_ns) / period;
	if (due <= r->fired)
		return;
	r->fired = due;
	r->cmos[RTC_REG_C] |= REG_C_PF | REG_C_IRQF;
	r->irqs++;
	pic_set_irq(r->pic, RTC_IRQ, 1); /* held until register C is read */
}

uint64_t rtc_next_deadline(const struct rtc *r)
{
	if (!periodic_on(r))
		return 0;
	return r->period_start_ns + (r->fired + 1) * rtc_period_ns(r->cmos[RTC_REG_A]);
}

static uint8_t to_reg(const struct rtc *r, int v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int from_reg(const struct rtc *r, uint8_t v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM) ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t hour_reg(const struct rtc *r, int h)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return to_reg(r, h);
	return (uint8_t)(to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

/* The time registers now: host UTC plus what the guest set. */
static uint8_t time_reg(const struct rtc *r, uint8_t idx)
{
	time_t t = (time_t)((int64_t)r->wall(r->ctx) + r->offset_s);
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (idx) {
	case 0x00:
		return to_reg(r, tm.tm_sec);
	case 0x02:
		return to_reg(r, tm.tm_min);
	case 0x04:
		return hour_reg(r, tm.tm_hour);
	case 0x06:
		return to_reg(r, tm.tm_wday + 1);
	case 0x07:
		return to_reg(r, tm.tm_mday);
	case 0x08:
		return to_reg(r, tm.tm_mon + 1);
	case 0x09:
		return to_reg(r, tm.tm_year % 100);
	default:
		return to_reg(r, 19 + tm.tm_year / 100); /* 0x32, the century */
	}
}

static bool is_time_reg(uint8_t idx)
{
	return idx <= 0x09 ? !(idx & 1) || idx == 0x07 || idx == 0x09 : idx == 0x32;
}

/* A guest write to a time register sets the clock: keep the difference to the host. */
static void set_time_reg(struct rtc *r, uint8_t idx, uint8_t v)
{
	time_t t = (time_t)((int64_t)r->wall(r->ctx) + r->offset_s);
	struct tm tm;
	int h;

	gmtime_r(&t, &tm);
	switch (idx) {
	case 0x00:
		tm.tm_sec = from_reg(r, v);
		break;
	case 0x02:
		tm.tm_min = from_reg(r, v);
		break;
	case 0x04:
		h = from_reg(r, v & 0x7f);
		if (!(r->cmos[RTC_REG_B] & REG_B_24H))
			h = h % 12 + ((v & 0x80) ? 12 : 0);
		tm.tm_hour = h;
		break;
	case 0x06:
		return; /* the day of the week follows from the date */
	case 0x07:
		tm.tm_mday = from_reg(r, v);
		break;
	case 0x08:
		tm.tm_mon = from_reg(r, v) - 1;
		break;
	case 0x09:
		tm.tm_year = tm.tm_year / 100 * 100 + from_reg(r, v);
		break;
	default:
		tm.tm_year = (from_reg(r, v) - 19) * 100 + tm.tm_year % 100;
		break;
	}
	r->offset_s = (int64_t)timegm(&tm) - (int64_t)r->wall(r->ctx);
}

static void rtc_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct rtc *r = opaque;
	uint8_t idx = r->index, v = (uint8_t)*val;

	(void)size;
	if (offset == 0) { /* 0x70: index and NMI mask; reads float, as QEMU's */
		if (is_write) {
			r->index = v & 0x7f;
			r->nmi_masked = v & 0x80;
		} else {
			*val = 0xff;
		}
		return;
	}
	if (!is_write) {
		rtc_update(r);
		if (is_time_reg(idx))
			*val = time_reg(r, idx);
		else
			*val = r->cmos[idx];
		if (idx == RTC_REG_C) { /* reading C acknowledges: flags clear, IRQ8 drops */
			r->cmos[RTC_REG_C] = 0;
			pic_set_irq(r->pic, RTC_IRQ, 0);
		}
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		r->cmos[idx] = v & 0x7f; /* UIP is read-only (and never set: updates are instant) */
		restart_periodic(r);
		break;
	case RTC_REG_B:
		r->cmos[idx] = v;
		restart_periodic(r);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		if (is_time_reg(idx))
			set_time_reg(r, idx, v);
		else
			r->cmos[idx] = v;
	}
}

int rtc_register(struct rtc *r, struct bus *ports)
{
	return bus_register(ports, RTC_PORT_INDEX, 2, rtc_io, r, "cmos-rtc");
}
