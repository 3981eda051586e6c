/* check_pit.c: the 8254 against a fake clock: periods, IRQ0 edges, coalescing, read-back. */
#include <check.h>

#include "bus.h"
#include "clock.h"
#include "check_suites.h"
#include "pic8259.h"
#include "pit8254.h"
#include "check_io.h"

#define T0 1000000000ULL /* the fake clock does not start at zero */
#define DIV100HZ 11932

static struct bus ports;
static struct pic pic;
static struct pit pit;
static uint64_t fake_ns;

static uint64_t fake_clock(void *ctx)
{
	return *(uint64_t *)ctx;
}

/* Host ns at which `ticks` PIT clocks have elapsed: ceil(ticks * 1e9 / PIT_HZ). */
static uint64_t tns(uint64_t ticks)
{
	return (ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

CHECK_PORT_HELPERS(ports)

static void program(uint16_t ch, uint8_t mode, uint16_t count)
{
	outb(0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	outb(0x40 + ch, count & 0xff);
	outb(0x40 + ch, count >> 8);
}

static uint16_t read_count(uint16_t ch)
{
	uint8_t lo = inb(0x40 + ch);

	return (uint16_t)(lo | inb(0x40 + ch) << 8);
}

/* Acknowledge IRQ0 at the PIC if it is there; 1 when it was. */
static int take_irq0(void)
{
	if (!pic_pending(&pic))
		return 0;
	ck_assert_uint_eq(pic_ack(&pic), 0x20);
	outb(0x20, 0x20);
	return 1;
}

static void setup(void)
{
	bus_init(&ports, "port");
	pic_init(&pic);
	ck_assert_int_eq(pic_register(&pic, &ports), 0);
	fake_ns = T0;
	pit_init(&pit, &pic, fake_clock, &fake_ns);
	ck_assert_int_eq(pit_register(&pit, &ports), 0);
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0x21, 0x00);
}

START_TEST(test_idle_until_programmed)
{
	ck_assert_uint_eq(pit_next_deadline(&pit), 0);
	fake_ns += 1000000000ULL;
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 0);
	ck_assert(!pic_pending(&pic));
	/* A control word alone does not start the channel. */
	outb(0x43, 0x34);
	ck_assert_uint_eq(pit_next_deadline(&pit), 0);
	outb(0x40, DIV100HZ & 0xff);
	ck_assert_uint_eq(pit_next_deadline(&pit), 0);
	outb(0x40, DIV100HZ >> 8);
	ck_assert_uint_eq(pit_next_deadline(&pit), fake_ns + tns(DIV100HZ));
}
END_TEST

START_TEST(test_periodic_100hz)
{
	uint64_t start = fake_ns, period = tns(DIV100HZ);
	int i, taken = 0;

	program(0, 2, DIV100HZ);
	ck_assert_uint_eq(pit.ch[0].reload, DIV100HZ);
	/* 11932 / 1193182 Hz is 10.0001 ms. */
	ck_assert_uint_ge(period, 10000000);
	ck_assert_uint_le(period, 10001000);
	ck_assert_uint_eq(pit_next_deadline(&pit), start + period);

	fake_ns = start + period - 1;
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 0);
	ck_assert(!pic_pending(&pic));

	for (i = 1; i <= 10; i++) {
		fake_ns = start + tns((uint64_t)i * DIV100HZ);
		pit_update(&pit);
		pit_update(&pit); /* a second look at the same time adds nothing */
		taken += take_irq0();
		ck_assert(!pic_pending(&pic));
		ck_assert_uint_eq(pit_next_deadline(&pit),
		                  start + tns((uint64_t)(i + 1) * DIV100HZ));
	}
	ck_assert_int_eq(taken, 10);
	ck_assert_uint_eq(pit.irqs, 10);
	ck_assert_uint_eq(pit.missed, 0);
	ck_assert_uint_eq(pit.ch[0].fired, 10);
	/* The pulse leaves the line low, ready for the next edge. */
	ck_assert_uint_eq(pic.chip[0].last_level & 1, 0);
}
END_TEST

START_TEST(test_coalescing)
{
	uint64_t start = fake_ns;

	program(0, 2, DIV100HZ);
	/* The guest looks away for 3.5 periods: one edge, two missed. */
	fake_ns = start + tns(DIV100HZ * 7 / 2);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 1);
	ck_assert_uint_eq(pit.missed, 2);
	ck_assert_int_eq(take_irq0(), 1);
	ck_assert_int_eq(take_irq0(), 0);
	/* The next deadline is the end of period 4, not a catch-up burst. */
	ck_assert_uint_eq(pit_next_deadline(&pit), start + tns(4ULL * DIV100HZ));
	fake_ns = start + tns(4ULL * DIV100HZ);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 2);
	ck_assert_uint_eq(pit.missed, 2);
	ck_assert_int_eq(take_irq0(), 1);

	/* Square wave (mode 3) has the same period. */
	program(0, 3, 1000);
	start = fake_ns;
	fake_ns = start + tns(10000);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 3);
	ck_assert_uint_eq(pit.missed, 2 + 9);
}
END_TEST

START_TEST(test_latch_and_readback)
{
	uint64_t start = fake_ns;
	uint16_t v;

	program(0, 2, DIV100HZ);
	fake_ns = start + tns(100);
	ck_assert_uint_eq(read_count(0), DIV100HZ - 100);

	outb(0x43, 0x00); /* latch channel 0 */
	fake_ns = start + tns(5000);
	outb(0x43, 0x00); /* a second latch before reading is ignored */
	ck_assert(pit.ch[0].latched);
	ck_assert_uint_eq(read_count(0), DIV100HZ - 100);
	ck_assert(!pit.ch[0].latched);
	/* Unlatched reads follow the clock, wrapping at the reload. */
	ck_assert_uint_eq(read_count(0), DIV100HZ - 5000);
	fake_ns = start + tns(DIV100HZ + 7);
	ck_assert_uint_eq(read_count(0), DIV100HZ - 7);

	/* Read-back command (0xc0 family), latching channel 0's count. */
	fake_ns = start + tns(DIV100HZ + 9);
	outb(0x43, 0xd2);
	fake_ns = start + tns(DIV100HZ + 2000);
	ck_assert_uint_eq(read_count(0), DIV100HZ - 9);

	/* LSB-only and MSB-only access modes. */
	outb(0x43, 0x14);
	outb(0x40, 200);
	ck_assert_uint_eq(pit.ch[0].reload, 200);
	fake_ns += tns(50);
	ck_assert_uint_eq(inb(0x40), 150);
	outb(0x43, 0x24);
	outb(0x40, 0x12);
	ck_assert_uint_eq(pit.ch[0].reload, 0x1200);
	ck_assert_uint_eq(inb(0x40), 0x12);

	/* Channel 2 counts too, without raising anything. */
	program(2, 2, 3000);
	fake_ns += tns(1000);
	v = read_count(2);
	ck_assert_uint_eq(v, 2000);
	ck_assert_uint_eq(pit.irqs, 0);
}
END_TEST

START_TEST(test_mode0_one_shot)
{
	uint64_t start = fake_ns;

	program(0, 0, 1000);
	ck_assert_uint_eq(pit_next_deadline(&pit), start + tns(1000));
	fake_ns = start + tns(1000) - 1;
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 0);
	fake_ns = start + tns(1000);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 1);
	ck_assert_int_eq(take_irq0(), 1);
	ck_assert_uint_eq(pit_next_deadline(&pit), 0);
	/* Fires once, however long we wait. */
	fake_ns = start + tns(100000);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 1);
	ck_assert_uint_eq(pit.missed, 0);
	ck_assert_int_eq(take_irq0(), 0);
	/* The count keeps going down through zero. */
	fake_ns = start + tns(1500);
	ck_assert_uint_eq(read_count(0), (uint16_t)(1000 - 1500));

	/* Reprogramming re-arms it. */
	program(0, 0, 10);
	fake_ns += tns(10);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 2);
}
END_TEST

START_TEST(test_zero_is_65536)
{
	uint64_t start = fake_ns;

	program(0, 2, 0);
	ck_assert_uint_eq(pit.ch[0].reload, 65536);
	ck_assert_uint_eq(pit_next_deadline(&pit), start + tns(65536));
	/* 65536 / 1193182 Hz: the BIOS's 54.9 ms tick. */
	ck_assert_uint_ge(pit_next_deadline(&pit) - start, 54925000);
	ck_assert_uint_le(pit_next_deadline(&pit) - start, 54926000);
	fake_ns = start + tns(1);
	ck_assert_uint_eq(read_count(0), 65535);
	fake_ns = start + tns(65536) - 1;
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 0);
	fake_ns = start + tns(65536);
	pit_update(&pit);
	ck_assert_uint_eq(pit.irqs, 1);
}
END_TEST

START_TEST(test_port61_channel2)
{
	uint64_t start;

	/* Linux's calibration: gate high, speaker off, mode 0, poll OUT in bit 5. */
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	ck_assert_uint_eq(inb(0x61) & 0x03, 0x01);
	start = fake_ns;
	program(2, 0, 1193); /* ~1 ms */
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	fake_ns = start + tns(1193) - 1;
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	fake_ns = start + tns(1193);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	ck_assert_uint_eq(pit.irqs, 0);

	/* A rising gate restarts the count. */
	outb(0x61, 0x00);
	fake_ns += 1000;
	start = fake_ns;
	outb(0x61, 0x01);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	fake_ns = start + tns(1193);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);

	/* Mode 2 drops OUT for one clock per period. */
	program(2, 2, 100);
	start = fake_ns;
	fake_ns = start + tns(98);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	fake_ns = start + tns(99);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	fake_ns = start + tns(100);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);

	/* Mode 3: high for the first half period, low for the second. */
	program(2, 3, 100);
	start = fake_ns;
	fake_ns = start + tns(49);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	fake_ns = start + tns(50);
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	ck_assert_uint_eq(read_count(2), 100);
	fake_ns = start + tns(60);
	ck_assert_uint_eq(read_count(2), 80);
	/* Bits 2-3 are stored. */
	outb(0x61, 0x0d);
	ck_assert_uint_eq(inb(0x61) & 0x0f, 0x0d);
}
END_TEST

START_TEST(test_host_clock)
{
	uint64_t a = host_clock_ns(NULL), b = host_clock_ns(NULL);
	struct pit p;

	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ge(b, a);
	pit_init(&p, NULL, NULL, NULL);
	ck_assert(p.clock == host_clock_ns);
}
END_TEST

Suite *pit_suite(void)
{
	Suite *s = suite_create("pit");
	TCase *tc = tcase_create("fake-clock");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_idle_until_programmed);
	tcase_add_test(tc, test_periodic_100hz);
	tcase_add_test(tc, test_coalescing);
	tcase_add_test(tc, test_latch_and_readback);
	tcase_add_test(tc, test_mode0_one_shot);
	tcase_add_test(tc, test_zero_is_65536);
	tcase_add_test(tc, test_port61_channel2);
	tcase_add_test(tc, test_host_clock);
	suite_add_tcase(s, tc);
	return s;
}
