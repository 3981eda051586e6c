/* rtc.c: CMOS/RTC (MC146818) at 0x70/0x71: host time, registers A-D, periodic IRQ8, size bytes. */
#include "rtc.h"

#include <string.h>
#include <time.h>

#include "clock.h"

#define REG_B_SET 0x80 /* updates stop; the time bytes are the guest's to write */
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

static const uint8_t time_regs[] = {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32};

/* The time registers of now into cmos[] (when SET freezes them, or before one write). */
static void snapshot(struct rtc *r)
{
	for (unsigned i = 0; i < sizeof(time_regs); i++)
		r->cmos[time_regs[i]] = time_reg(r, time_regs[i]);
}

/*
 * The time in cmos[]'s time bytes becomes the clock: all bytes at once (the SET
 * bit exists so a guest can write them one by one without an update between,
 * MC146818 datasheet), so "31" written before the month is not normalised away.
 * An invalid date is ignored.
 */
static void commit(struct rtc *r)
{
	struct tm tm = {0};
	uint8_t hv = r->cmos[0x04];
	time_t t;
	int h = from_reg(r, hv & 0x7f);

	if (!(r->cmos[RTC_REG_B] & REG_B_24H))
		h = h % 12 + ((hv & 0x80) ? 12 : 0);
	tm.tm_sec = from_reg(r, r->cmos[0x00]);
	tm.tm_min = from_reg(r, r->cmos[0x02]);
	tm.tm_hour = h;
	tm.tm_mday = from_reg(r, r->cmos[0x07]);
	tm.tm_mon = from_reg(r, r->cmos[0x08]) - 1;
	tm.tm_year = from_reg(r, r->cmos[0x32]) * 100 + from_reg(r, r->cmos[0x09]) - 1900;
	if (tm.tm_sec > 59 || tm.tm_min > 59 || tm.tm_hour > 23 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return;
	t = timegm(&tm);
	if (t != (time_t)-1)
		r->offset_s = (int64_t)t - (int64_t)r->wall(r->ctx);
}

static void write_b(struct rtc *r, uint8_t v)
{
	uint8_t old = r->cmos[RTC_REG_B];

	r->cmos[RTC_REG_B] = v;
	if ((v & REG_B_SET) && !(old & REG_B_SET))
		snapshot(r); /* frozen: reads and writes go to these bytes until SET clears */
	else if (!(v & REG_B_SET) && (old & REG_B_SET))
		commit(r);
	if ((v & REG_B_PIE) && !(old & REG_B_PIE))
		restart_periodic(r);
	if (!(v & REG_B_PIE) && (old & REG_B_PIE)) /* QEMU drops IRQ8 with PIE */
		pic_set_irq(r->pic, RTC_IRQ, 0);
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
		if (is_time_reg(idx) && !(r->cmos[RTC_REG_B] & REG_B_SET))
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
	case RTC_REG_A: /* UIP is read-only (never set: updates are instant); a new rate restarts */
		if ((r->cmos[idx] ^ v) & 0x7f)
			restart_periodic(r);
		r->cmos[idx] = v & 0x7f;
		break;
	case RTC_REG_B:
		write_b(r, v);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		if (is_time_reg(idx) && !(r->cmos[RTC_REG_B] & REG_B_SET)) {
			snapshot(r); /* one byte set directly: the others as they are now */
			r->cmos[idx] = v;
			commit(r);
		} else {
			r->cmos[idx] = v;
		}
	}
}

int rtc_register(struct rtc *r, struct bus *ports)
{
	return bus_register(ports, RTC_PORT_INDEX, 2, rtc_io, r, "cmos-rtc");
}
