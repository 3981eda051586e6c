/* pit8254.c: the 8254 timer, counts derived from a host clock rather than ticked. */
#include "pit8254.h"

#include "clock.h"
#include "log.h"

#define PIT_BASE 0x40
#define PIT_PORT61 0x61
#define NS_PER_SEC 1000000000ULL
/* Port 0x61 bit 4 (DRAM refresh) toggles every ~15 us; BIOS-style delay loops watch it. */
#define REFRESH_NS 15085ULL

static uint64_t pit_now(const struct pit *pit)
{
	return pit->clock(pit->clock_ctx);
}

/* 128-bit intermediates: ns * 1193182 overflows 64 bits after ~4 hours. */
static uint64_t ticks_since(const struct pit_channel *ch, uint64_t now)
{
	if (now <= ch->start_ns)
		return 0;
	return (uint64_t)((unsigned __int128)(now - ch->start_ns) * PIT_HZ / NS_PER_SEC);
}

/* The first host time at which ticks_since() reaches ticks. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

static bool mode_periodic(uint8_t mode)
{
	return mode == 2 || mode == 3;
}

static uint16_t ch_count(const struct pit_channel *ch, uint64_t t)
{
	uint64_t n = ch->reload;

	if (!ch->armed)
		return (uint16_t)n;
	switch (ch->mode) {
	case 2:
		return (uint16_t)(n - t % n);
	case 3: /* counts down by two, twice per period; exact for even reloads */
		return (uint16_t)(n - (2 * t) % n);
	default: /* one-shots keep counting down through zero, modulo 2^16 */
		return (uint16_t)(n - t);
	}
}

static bool ch_out(const struct pit_channel *ch, uint64_t t)
{
	uint64_t n = ch->reload;

	if (!ch->armed)
		return ch->out;
	switch (ch->mode) {
	case 0:
		return t >= n;
	case 2: /* low for the one clock at count 1 */
		return !ch->gate || t % n != n - 1;
	case 3:
		return !ch->gate || t % n < (n + 1) / 2;
	default:
		return ch->out;
	}
}

static void ch_load(struct pit *pit, struct pit_channel *ch, uint32_t v)
{
	ch->reload = v ? v : 65536;
	ch->start_ns = pit_now(pit);
	ch->armed = true;
	ch->fired = 0;
	ch->out = ch->mode != 0;
}

static void ch_latch(struct pit *pit, struct pit_channel *ch)
{
	/* A second latch before the first is read is ignored (8254 datasheet). */
	if (ch->latched)
		return;
	ch->latch = ch_count(ch, ticks_since(ch, pit_now(pit)));
	ch->latched = true;
}

static void pit_control(struct pit *pit, uint8_t val)
{
	struct pit_channel *ch;
	int i;

	if ((val >> 6) == 3) { /* read-back: bits 1-3 pick channels, bit 5 clear latches counts */
		for (i = 0; i < 3; i++)
			if ((val & (2 << i)) && !(val & 0x20))
				ch_latch(pit, &pit->ch[i]);
		if (!(val & 0x10))
			log_debug("pit: read-back status latch not modelled");
		return;
	}
	ch = &pit->ch[val >> 6];
	if (!(val & 0x30)) {
		ch_latch(pit, ch);
		return;
	}
	ch->rw = (val >> 4) & 3;
	ch->mode = (val >> 1) & 7;
	if (ch->mode > 5)
		ch->mode -= 4; /* 6 and 7 alias 2 and 3 */
	ch->bcd = val & 1;
	if (ch->bcd)
		log_debug("pit: channel %ld in BCD mode; counting in binary", (long)(ch - pit->ch));
	ch->write_msb_next = false;
	ch->read_msb_next = false;
	ch->latched = false;
	/* A control word stops the channel until a new count arrives. */
	ch->armed = false;
	ch->out = ch->mode != 0;
}

static void pit_write_count(struct pit *pit, struct pit_channel *ch, uint8_t val)
{
	switch (ch->rw) {
	case 1:
		ch_load(pit, ch, val);
		break;
	case 2:
		ch_load(pit, ch, (uint32_t)val << 8);
		break;
	default:
		if (!ch->write_msb_next) {
			ch->write_lsb = val;
			ch->write_msb_next = true;
			/* Mode 0: the first byte already stops the count. */
			if (ch->mode == 0) {
				ch->armed = false;
				ch->out = false;
			}
		} else {
			ch->write_msb_next = false;
			ch_load(pit, ch, ch->write_lsb | (uint32_t)val << 8);
		}
		break;
	}
}

static uint8_t pit_read_count(struct pit *pit, struct pit_channel *ch)
{
	uint16_t v = ch->latched ? ch->latch : ch_count(ch, ticks_since(ch, pit_now(pit)));
	bool done = true;
	uint8_t b;

	switch (ch->rw) {
	case 1:
		b = (uint8_t)v;
		break;
	case 2:
		b = (uint8_t)(v >> 8);
		break;
	default:
		b = ch->read_msb_next ? (uint8_t)(v >> 8) : (uint8_t)v;
		done = ch->read_msb_next;
		ch->read_msb_next = !ch->read_msb_next;
		break;
	}
	if (done)
		ch->latched = false;
	return b;
}

static void pit_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct pit *pit = opaque;
	uint64_t out = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		uint64_t reg = offset + i;
		uint8_t b = 0xff;

		if (reg == 3 && is_write)
			pit_control(pit, (uint8_t)(*val >> (8 * i)));
		else if (reg < 3 && is_write)
			pit_write_count(pit, &pit->ch[reg], (uint8_t)(*val >> (8 * i)));
		else if (reg < 3)
			b = pit_read_count(pit, &pit->ch[reg]);
		out |= (uint64_t)b << (8 * i);
	}
	if (!is_write)
		*val = out;
}

static void pit_port61_io(void *opaque, uint64_t offset, unsigned size, bool is_write,
                          uint64_t *val)
{
	struct pit *pit = opaque;
	struct pit_channel *ch = &pit->ch[2];
	uint64_t now = pit_now(pit);
	bool gate;

	(void)offset;
	if (!is_write) {
		*val = (pit->port61 & 0x0f) | ((now / REFRESH_NS) & 1) << 4 |
		       (uint64_t)ch_out(ch, ticks_since(ch, now)) << 5;
		if (size > 1) /* the bytes past 0x61 float high */
			*val |= (size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1) & ~0xffULL;
		return;
	}
	pit->port61 = (uint8_t)*val;
	gate = *val & 1;
	/*
	 * A rising gate (re)starts counting. For modes 1, 2, 3, 5 that is the
	 * datasheet; for 0 and 4 gate low only pauses, modelled as if the count
	 * had been held since it was loaded.
	 */
	if (gate && !ch->gate && ch->armed) {
		ch->start_ns = now;
		ch->fired = 0;
	}
	ch->gate = gate;
}

void pit_init(struct pit *pit, struct pic *pic, uint64_t (*clock)(void *ctx), void *ctx)
{
	int i;

	*pit = (struct pit){.pic = pic, .clock = clock ? clock : host_clock_ns, .clock_ctx = ctx};
	for (i = 0; i < 3; i++) {
		pit->ch[i].mode = 3;
		pit->ch[i].rw = 3;
		pit->ch[i].reload = 65536;
		pit->ch[i].out = true;
		/* On a PC the gates of channels 0 and 1 are tied high; 2's is port 0x61 bit 0. */
		pit->ch[i].gate = i != 2;
	}
}

int pit_register(struct pit *pit, struct bus *ports)
{
	int ret;

	ret = bus_register(ports, PIT_BASE, 4, pit_io, pit, "pit8254");
	if (ret)
		return ret;
	return bus_register(ports, PIT_PORT61, 1, pit_port61_io, pit, "port61");
}

void pit_update(struct pit *pit)
{
	struct pit_channel *ch = &pit->ch[0];
	uint64_t t, periods;

	if (!ch->armed)
		return;
	t = ticks_since(ch, pit_now(pit));
	if (mode_periodic(ch->mode))
		periods = t / ch->reload;
	else
		periods = t >= ch->reload; /* terminal count, once */
	if (periods <= ch->fired)
		return;
	pit->missed += periods - ch->fired - 1;
	ch->fired = periods;
	if (!mode_periodic(ch->mode))
		ch->out = true;
	pit->irqs++;
	if (pit->pic)
		pic_pulse_irq(pit->pic, 0);
}

uint64_t pit_next_deadline(const struct pit *pit)
{
	const struct pit_channel *ch = &pit->ch[0];

	if (!ch->armed)
		return 0;
	if (!mode_periodic(ch->mode))
		return ch->fired ? 0 : ch->start_ns + ticks_to_ns(ch->reload);
	return ch->start_ns + ticks_to_ns((ch->fired + 1) * ch->reload);
}
