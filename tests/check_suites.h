/* check_suites.h: the list of unit-test suites; each tests/check_<name>.c defines <name>_suite().
 */
#ifndef TANDEM_CHECK_SUITES_H
#define TANDEM_CHECK_SUITES_H

#include <check.h>

#define CHECK_SUITES(X)                                                                            \
	X(bus)                                                                                     \
	X(pic)                                                                                     \
	X(uart)                                                                                    \
	X(pit)                                                                                     \
	X(debugexit)                                                                               \
	X(loader)                                                                                  \
	X(lapic)                                                                                   \
	X(platform)                                                                                \
	X(linux)                                                                                   \
	X(bench_linux)                                                                             \
	X(results)                                                                                 \
	X(bt_rsp)                                                                                  \
	X(backends)

#define X(n) Suite *n##_suite(void);
CHECK_SUITES(X)
#undef X

#endif
