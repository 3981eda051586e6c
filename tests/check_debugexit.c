/* check_debugexit.c: QEMU-compatible exit status mapping and the POST port. */
#include <check.h>
#include <errno.h>

#include "bus.h"
#include "check_suites.h"
#include "debugexit.h"

static struct bus ports;
static struct debugexit dx;

static void setup(void)
{
	bus_init(&ports, "port");
	debugexit_init(&dx);
	ck_assert_int_eq(debugexit_register(&dx, &ports), 0);
}

static void out(uint16_t port, unsigned size, uint64_t v)
{
	ck_assert_int_eq(bus_access(&ports, port, size, true, &v), 0);
}

static uint64_t in(uint16_t port, unsigned size)
{
	uint64_t v = 0;

	ck_assert_int_eq(bus_access(&ports, port, size, false, &v), 0);
	return v;
}

static const struct {
	uint64_t v;
	unsigned size;
	int status;
} cases[] = {
    {0x00, 1, 1}, /* the usual "success" write: QEMU exits 1 */
    {0x01, 1, 3},    {0x10, 1, 0x21}, {0x7f, 1, 0xff},
    {0x80, 1, 1}, /* (0x80 << 1) | 1 = 0x101, low byte 1 */
    {0xff, 1, 0xff}, {0x31, 4, 0x63}, {0x1234, 2, 0x69},
};

START_TEST(test_status_mapping)
{
	ck_assert(!dx.exited);
	out(DEBUGEXIT_PORT, cases[_i].size, cases[_i].v);
	ck_assert(dx.exited);
	ck_assert_int_eq(dx.status, cases[_i].status);
	ck_assert_int_eq(dx.status, (int)(((cases[_i].v << 1) | 1) & 0xff));
}
END_TEST

START_TEST(test_exit_ports)
{
	uint64_t v = 0;

	/* iosize=4: 0xf4-0xf7 all exit; 0xf8 is someone else's. */
	out(0xf7, 1, 2);
	ck_assert(dx.exited);
	ck_assert_int_eq(dx.status, 5);
	ck_assert_uint_eq(in(DEBUGEXIT_PORT, 1), 0xff);
	ck_assert_uint_eq(in(DEBUGEXIT_PORT, 4), 0xffffffffu);
	ck_assert_int_eq(bus_access(&ports, 0xf8, 1, true, &v), -ENOENT);
}
END_TEST

START_TEST(test_post)
{
	ck_assert_uint_eq(in(POST_PORT, 1), 0x00);
	out(POST_PORT, 1, 0x42);
	out(POST_PORT, 1, 0xa7);
	ck_assert_uint_eq(dx.post, 0xa7);
	ck_assert_uint_eq(in(POST_PORT, 1), 0xa7);
	ck_assert_uint_eq(in(POST_PORT, 1), 0xa7);
	ck_assert_uint_eq(dx.post_writes, 2);
	ck_assert_uint_eq(dx.post_reads, 3);
	ck_assert(!dx.exited);
	/* The neighbour ports are not ours. */
	ck_assert_uint_eq(in(POST_PORT, 2), 0xffa7);
}
END_TEST

Suite *debugexit_suite(void)
{
	Suite *s = suite_create("debugexit");
	TCase *tc = tcase_create("ports");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_status_mapping, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_exit_ports);
	tcase_add_test(tc, test_post);
	suite_add_tcase(s, tc);
	return s;
}
