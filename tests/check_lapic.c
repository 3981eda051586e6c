/* check_lapic.c: the local APIC page: TPR round trip, read-only ID/version, odd accesses. */
#include <check.h>
#include <errno.h>

#include "lapic.h"

static struct lapic a;
static struct bus mmio;

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
	bus_init(&mmio, "mmio");
	lapic_init(&a);
	ck_assert_int_eq(lapic_register(&a, &mmio), 0);
}

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
	tcase_add_test(tc, version_read_only);
	tcase_add_test(tc, unaligned_reads_zero);
	tcase_add_test(tc, outside_page_unclaimed);
	suite_add_tcase(s, tc);
	return s;
}
