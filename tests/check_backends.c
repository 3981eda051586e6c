/* check_backends.c: the backend registry (src/cli/backends.c): its rows are consistent, and the
 * lookups, name lists and default sets the CLI and the suites use come from it. */
#include <check.h>
#include <string.h>

#include "backends.h"
#include "check_suites.h"

START_TEST(rows_consistent)
{
	size_t n = backend_count();

	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_null(backend_at(n));
	for (size_t i = 0; i < n; i++) {
		const struct backend *b = backend_at(i);

		ck_assert_ptr_nonnull(b->name);
		ck_assert_ptr_nonnull(b->label);
		ck_assert_ptr_eq(backend_find(b->name), b);     /* names are unique */
		ck_assert_uint_eq(b->defaults & ~b->suites, 0); /* a default of a suite it is in */
		ck_assert_uint_ne(b->suites, 0);
		/* an engine row (and the nested one) names its engine; qemu and native none */
		ck_assert_int_eq(b->engine != NULL,
		                 b->kind == BACKEND_ENGINE || b->kind == BACKEND_NESTED);
		/* `tandem run --backend` takes exactly the engine and qemu rows */
		ck_assert_int_eq(b->runs_guest,
		                 b->kind == BACKEND_ENGINE || b->kind == BACKEND_QEMU);
		ck_assert_int_eq(b->no_adaptive, b->no_adaptive && b->engine == &bt_engine_ops);
	}
}
END_TEST

START_TEST(lookups)
{
	char buf[256];

	ck_assert_ptr_null(backend_find("vmware"));
	ck_assert_ptr_null(backend_find(NULL));
	ck_assert_ptr_eq(engine_find("bt"), &bt_engine_ops);
	ck_assert_ptr_eq(engine_find("kvm"), &kvm_engine_ops);
	ck_assert_ptr_null(engine_find("bt-noadapt")); /* an engine with options, not an engine */
	ck_assert_ptr_null(engine_find("qemu"));
	ck_assert(backend_find("bt-noadapt")->no_adaptive);
	ck_assert_ptr_null(backend_in_suite("native-signal", SUITE_MACRO));
	ck_assert_ptr_nonnull(backend_in_suite("native-signal", SUITE_NANO));
	ck_assert_str_eq(backend_names(0, ", ", buf, sizeof(buf)), "bt, bt-noadapt, kvm, qemu");
	ck_assert_str_eq(backend_defaults(SUITE_NANO, buf, sizeof(buf)),
	                 "bt,bt-noadapt,kvm,native,native-signal,qemu");
	ck_assert_uint_eq(backend_suite_bit("linux"), SUITE_LINUX);
	ck_assert_uint_eq(backend_suite_bit("nope"), 0);
	ck_assert_str_eq(backend_suite_name(SUITE_COMPUTE), "compute");
	ck_assert_str_eq(backend_names(SUITE_ALL, ",", buf, 8), "bt,bt-n"); /* len - 1 bytes */
}
END_TEST

START_TEST(engines_and_options)
{
	const struct engine_ops *e;
	size_t n = 0;

	for (; (e = backend_engine_at(n)); n++)
		for (size_t i = 0; i < n; i++)
			ck_assert_ptr_ne(backend_engine_at(i), e); /* each engine once */
	ck_assert_uint_eq(n, 2);
	/* bt declares its own options; every entry has a usage, a help and a setter */
	ck_assert_ptr_nonnull(bt_engine_ops.options);
	for (const struct engine_option *o = bt_engine_ops.options; o->name; o++) {
		ck_assert_ptr_nonnull(o->usage);
		ck_assert_ptr_nonnull(o->help);
		ck_assert_ptr_nonnull(o->set);
	}
}
END_TEST

Suite *backends_suite(void)
{
	Suite *s = suite_create("backends");
	TCase *t = tcase_create("registry");

	tcase_add_test(t, rows_consistent);
	tcase_add_test(t, lookups);
	tcase_add_test(t, engines_and_options);
	suite_add_tcase(s, t);
	return s;
}
