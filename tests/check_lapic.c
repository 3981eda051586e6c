/* check_lapic.c: the local APIC (registers, priorities, EOI, timer, IPIs) and the I/O APIC. */
#include <check.h>
#include <errno.h>

#include "ioapic.h"
#include "lapic.h"
#include "pic8259.h"

static struct lapic a;
static struct ioapic io;
static struct bus mmio;
static uint64_t fake_ns;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_ns;
}

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0xdead;

	ck_assert_int_eq(bus_access(&mmio, LAPIC_BASE + off, size, false, &v), 0);
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	ck_assert_int_eq(bus_access(&mmio, LAPIC_BASE + off, size, true, &v), 0);
}

static void setup(void)
{
	fake_ns = 1000000000ULL;
	bus_init(&mmio, "mmio");
	lapic_init(&a, fake_clock, NULL);
	ioapic_init(&io, &a);
	ck_assert_int_eq(lapic_register(&a, &mmio), 0);
	ck_assert_int_eq(ioapic_register(&io, &mmio), 0);
}

static void sw_enable(void)
{
	wr(LAPIC_SVR, 4, 0x1ff);
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(rd(LAPIC_SVR, 4), 0xff);
	ck_assert_uint_eq(rd(LAPIC_LVT_LINT0, 4), 0x700); /* ExtINT: the PIC gets through */
	ck_assert(lapic_accepts_pic(&a));
	ck_assert_uint_eq(rd(LAPIC_LVT_TIMER, 4), LAPIC_LVT_MASKED);
	ck_assert_uint_eq(rd(LAPIC_DFR, 4), 0xffffffffu);
	lapic_set_irq(&a, 0x40, false);
	ck_assert(!lapic_pending(&a)); /* software-disabled: nothing fixed is delivered */
	sw_enable();
	ck_assert(lapic_pending(&a));
}
END_TEST

START_TEST(priority_and_eoi)
{
	sw_enable();
	lapic_set_irq(&a, 0x41, false);
	lapic_set_irq(&a, 0x52, false);
	ck_assert_uint_eq(lapic_ack(&a), 0x52); /* the highest vector first */
	ck_assert_uint_eq(rd(LAPIC_PPR, 4), 0x50);
	ck_assert(!lapic_pending(&a)); /* 0x41's class is below the in-service 0x52's */
	ck_assert_uint_eq(rd(LAPIC_ISR + 0x20, 4), 1u << (0x52 - 64));
	wr(LAPIC_EOI, 4, 0);
	ck_assert(lapic_pending(&a));
	wr(LAPIC_TPR, 4, 0x40); /* TPR class 4 holds back 0x41 */
	ck_assert(!lapic_pending(&a));
	wr(LAPIC_TPR, 4, 0x30);
	ck_assert_uint_eq(lapic_ack(&a), 0x41);
	ck_assert_uint_eq(lapic_ack(&a), 0xff); /* nothing left: the spurious vector */
}
END_TEST

START_TEST(self_ipi)
{
	sw_enable();
	wr(LAPIC_ICR_LO, 4, 0x40000 | 0x61); /* fixed, shorthand self */
	ck_assert_uint_eq(lapic_ack(&a), 0x61);
	wr(LAPIC_EOI, 4, 0);
	wr(LAPIC_ICR_HI, 4, 0x01000000); /* physical destination 1: not us */
	wr(LAPIC_ICR_LO, 4, 0x62);
	ck_assert(!lapic_pending(&a));
	wr(LAPIC_ICR_HI, 4, 0);
	wr(LAPIC_ICR_LO, 4, 0x63);
	ck_assert_uint_eq(lapic_ack(&a), 0x63);
	wr(LAPIC_ICR_LO, 4, 0xc0000 | 0x64); /* all excluding self: nobody */
	ck_assert(!lapic_pending(&a));
	wr(LAPIC_ICR_LO, 4, 0x40000 | 0x400); /* NMI: latched for the engine */
	ck_assert_uint_eq(a.nmi_pending, 1);
	ck_assert_uint_eq(a.ipi_dropped, 0);
	wr(LAPIC_ICR_LO, 4, 0x40000 | 0x500); /* INIT: not modelled, counted */
	ck_assert_uint_eq(a.ipi_dropped, 1);
}
END_TEST

START_TEST(timer_oneshot_and_periodic)
{
	sw_enable();
	wr(LAPIC_TDCR, 4, 0x3);       /* divide by 16 */
	wr(LAPIC_LVT_TIMER, 4, 0x70); /* one-shot, vector 0x70 */
	wr(LAPIC_TMICT, 4, 1000);     /* 16 us at 1 GHz / 16 */
	ck_assert_uint_eq(lapic_next_deadline(&a), fake_ns + 16000);
	fake_ns += 8000;
	ck_assert_uint_eq(rd(LAPIC_TMCCT, 4), 500);
	fake_ns += 8000;
	lapic_update(&a);
	ck_assert_uint_eq(lapic_ack(&a), 0x70);
	ck_assert_uint_eq(rd(LAPIC_TMCCT, 4), 0);
	ck_assert_uint_eq(lapic_next_deadline(&a), 0);
	wr(LAPIC_EOI, 4, 0);
	wr(LAPIC_TDCR, 4, 0xb);                 /* divide by 1 */
	wr(LAPIC_LVT_TIMER, 4, 0x20000 | 0x71); /* periodic */
	wr(LAPIC_TMICT, 4, 100000);             /* 100 us */
	fake_ns += 350000;                      /* three periods: coalesced into one */
	lapic_update(&a);
	ck_assert_uint_eq(lapic_ack(&a), 0x71);
	wr(LAPIC_EOI, 4, 0);
	ck_assert_uint_eq(lapic_next_deadline(&a), fake_ns + 50000);
	fake_ns += 50000;
	lapic_update(&a);
	ck_assert_uint_eq(lapic_ack(&a), 0x71);
	wr(LAPIC_EOI, 4, 0);
	/* masked: no deadline, so no kicks; a 1 ns period kicks at most every 10 us */
	wr(LAPIC_LVT_TIMER, 4, 0x30000 | 0x71);
	ck_assert_uint_eq(lapic_next_deadline(&a), 0);
	wr(LAPIC_LVT_TIMER, 4, 0x20000 | 0x71);
	wr(LAPIC_TMICT, 4, 1);
	ck_assert_uint_eq(lapic_next_deadline(&a), fake_ns + 10000);
	ck_assert_uint_eq(a.timer_irqs, 3);
}
END_TEST

static void io_wr(uint32_t reg, uint32_t v)
{
	uint64_t s = reg, val = v;

	ck_assert_int_eq(bus_access(&mmio, IOAPIC_BASE, 4, true, &s), 0);
	ck_assert_int_eq(bus_access(&mmio, IOAPIC_BASE + 0x10, 4, true, &val), 0);
}

static uint32_t io_rd(uint32_t reg)
{
	uint64_t s = reg, v = 0;

	ck_assert_int_eq(bus_access(&mmio, IOAPIC_BASE, 4, true, &s), 0);
	ck_assert_int_eq(bus_access(&mmio, IOAPIC_BASE + 0x10, 4, false, &v), 0);
	return (uint32_t)v;
}

START_TEST(ioapic_routing)
{
	struct pic pic;

	sw_enable();
	pic_init(&pic);
	pic.mirror = ioapic_set_isa_irq;
	pic.mirror_opaque = &io;
	ck_assert_uint_eq(io_rd(1), 0x170020);
	ck_assert_uint_eq(io_rd(0x10 + 2 * 2), 0x10000); /* masked at reset */
	pic_pulse_irq(&pic, 0);
	ck_assert(!lapic_pending(&a));
	io_wr(0x10 + 2 * 2, 0x30); /* pin 2 (the PIT's IRQ0), edge, vector 0x30 */
	pic_pulse_irq(&pic, 0);
	ck_assert_uint_eq(lapic_ack(&a), 0x30);
	wr(LAPIC_EOI, 4, 0);
	io_wr(0x10 + 2 * 8, 0x8000 | 0x38); /* pin 8 (the RTC), level */
	pic_set_irq(&pic, 8, 1);
	ck_assert_uint_eq(io_rd(0x10 + 2 * 8) & 0x4000, 0x4000); /* remote IRR */
	ck_assert_uint_eq(lapic_ack(&a), 0x38);
	ck_assert_uint_eq(rd(LAPIC_TMR + 0x10, 4), 1u << (0x38 - 32));
	wr(LAPIC_EOI, 4, 0); /* the line is still high: delivered again */
	ck_assert_uint_eq(lapic_ack(&a), 0x38);
	pic_set_irq(&pic, 8, 0);
	wr(LAPIC_EOI, 4, 0);
	ck_assert_uint_eq(io_rd(0x10 + 2 * 8) & 0x4000, 0);
	ck_assert(!lapic_pending(&a));
}
END_TEST

START_TEST(tpr_round_trip)
{
	wr(LAPIC_TPR, 4, 0x1234);
	ck_assert_uint_eq(rd(LAPIC_TPR, 4), 0x34); /* TPR is 8 bits */
	wr(LAPIC_TPR, 4, 0);
	ck_assert_uint_eq(rd(LAPIC_TPR, 4), 0);
	ck_assert_uint_eq(a.tpr_writes, 2);
}
END_TEST

START_TEST(version_read_only)
{
	uint64_t v = rd(LAPIC_VERSION, 4);

	ck_assert_uint_eq(v & 0xff, 0x14);
	wr(LAPIC_VERSION, 4, 0);
	ck_assert_uint_eq(rd(LAPIC_VERSION, 4), v);
}
END_TEST

START_TEST(unaligned_reads_zero)
{
	wr(LAPIC_TPR, 4, 0x20);
	ck_assert_uint_eq(rd(LAPIC_TPR + 1, 1), 0);
	ck_assert_uint_eq(rd(LAPIC_TPR, 2), 0);
	ck_assert_uint_eq(rd(LAPIC_TPR, 4), 0x20);
}
END_TEST

START_TEST(outside_page_unclaimed)
{
	uint64_t v;

	ck_assert_int_eq(bus_access(&mmio, LAPIC_BASE + LAPIC_SIZE, 4, false, &v), -ENOENT);
}
END_TEST

Suite *lapic_suite(void)
{
	Suite *s = suite_create("lapic");
	TCase *tc = tcase_create("regs");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, tpr_round_trip);
	tcase_add_test(tc, reset_state);
	tcase_add_test(tc, priority_and_eoi);
	tcase_add_test(tc, self_ipi);
	tcase_add_test(tc, timer_oneshot_and_periodic);
	tcase_add_test(tc, ioapic_routing);
	tcase_add_test(tc, version_read_only);
	tcase_add_test(tc, unaligned_reads_zero);
	tcase_add_test(tc, outside_page_unclaimed);
	suite_add_tcase(s, tc);
	return s;
}
