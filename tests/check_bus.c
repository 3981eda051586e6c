/* check_bus.c: range registration and routing on the I/O bus. */
#include <check.h>
#include <errno.h>

#include "bus.h"
#include "check_suites.h"

struct rec {
	int calls;
	uint64_t offset;
	unsigned size;
	bool is_write;
	uint64_t wval;
	uint64_t rval;
};

static void rec_fn(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct rec *r = opaque;

	r->calls++;
	r->offset = offset;
	r->size = size;
	r->is_write = is_write;
	if (is_write)
		r->wval = *val;
	else
		*val = r->rval;
}

START_TEST(test_register_and_route)
{
	struct bus bus;
	struct rec a = {.rval = 0x5a}, b = {.rval = 0x1234};
	uint64_t v = 0;

	bus_init(&bus, "port");
	ck_assert_str_eq(bus.name, "port");
	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, rec_fn, &a, "a"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x40, 4, rec_fn, &b, "b"), 0);
	ck_assert_int_eq(bus.nr, 2);

	ck_assert_int_eq(bus_access(&bus, 0x3fd, 1, false, &v), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_uint_eq(a.offset, 5);
	ck_assert_uint_eq(v, 0x5a);

	v = 0xabcd;
	ck_assert_int_eq(bus_access(&bus, 0x43, 2, true, &v), 0);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_uint_eq(b.offset, 3);
	ck_assert_uint_eq(b.size, 2);
	ck_assert(b.is_write);
	ck_assert_uint_eq(b.wval, 0xabcd);
	ck_assert_int_eq(a.calls, 1);

	/* First and last port of a range, and the one just past it. */
	ck_assert_int_eq(bus_access(&bus, 0x3f8, 1, false, &v), 0);
	ck_assert_uint_eq(a.offset, 0);
	ck_assert_int_eq(bus_access(&bus, 0x3ff, 1, false, &v), 0);
	ck_assert_uint_eq(a.offset, 7);
	ck_assert_int_eq(bus_access(&bus, 0x400, 1, false, &v), -ENOENT);
	ck_assert_int_eq(a.calls, 3);
}
END_TEST

START_TEST(test_overlap)
{
	struct bus bus;
	struct rec a = {0};

	bus_init(&bus, "port");
	ck_assert_int_eq(bus_register(&bus, 0x20, 2, rec_fn, &a, "pic"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x21, 1, rec_fn, &a, "x"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x1f, 2, rec_fn, &a, "x"), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x10, 0x100, rec_fn, &a, "x"), -EEXIST);
	/* Adjacent on both sides is fine. */
	ck_assert_int_eq(bus_register(&bus, 0x1f, 1, rec_fn, &a, "lo"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x22, 1, rec_fn, &a, "hi"), 0);
	ck_assert_int_eq(bus_register(&bus, 0x30, 0, rec_fn, &a, "empty"), -EINVAL);
	ck_assert_int_eq(bus.nr, 3);
}
END_TEST

START_TEST(test_unclaimed)
{
	struct bus bus;
	uint64_t v;

	bus_init(&bus, "port");
	v = 0;
	ck_assert_int_eq(bus_access(&bus, 0x80, 1, false, &v), -ENOENT);
	ck_assert_uint_eq(v, 0xff);
	v = 0;
	ck_assert_int_eq(bus_access(&bus, 0x80, 2, false, &v), -ENOENT);
	ck_assert_uint_eq(v, 0xffff);
	v = 0;
	ck_assert_int_eq(bus_access(&bus, 0x80, 4, false, &v), -ENOENT);
	ck_assert_uint_eq(v, 0xffffffffu);
	v = 0;
	ck_assert_int_eq(bus_access(&bus, 0xfee00000, 8, false, &v), -ENOENT);
	ck_assert_uint_eq(v, ~0ULL);
	/* An unclaimed write leaves the value alone. */
	v = 0x42;
	ck_assert_int_eq(bus_access(&bus, 0x80, 1, true, &v), -ENOENT);
	ck_assert_uint_eq(v, 0x42);
}
END_TEST

START_TEST(test_full)
{
	struct bus bus;
	struct rec a = {0};
	int i;

	bus_init(&bus, "mmio");
	for (i = 0; i < BUS_MAX_RANGES; i++)
		ck_assert_int_eq(bus_register(&bus, 0x1000 * (uint64_t)i, 0x10, rec_fn, &a, "r"),
		                 0);
	ck_assert_int_eq(bus_register(&bus, 0x100000, 0x10, rec_fn, &a, "r"), -ENOSPC);
	ck_assert_int_eq(bus.nr, BUS_MAX_RANGES);
	/* The last one registered still routes. */
	ck_assert_int_eq(
	    bus_access(&bus, 0x1000 * (BUS_MAX_RANGES - 1) + 4, 4, false, &(uint64_t){0}), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_uint_eq(a.offset, 4);
}
END_TEST

Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_register_and_route);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_unclaimed);
	tcase_add_test(tc, test_full);
	suite_add_tcase(s, tc);
	return s;
}
