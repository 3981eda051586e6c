/* check_bench_linux.c: `tandem bench --suite linux`: the serial-line timing parser, and its results
 * through JSON and the report. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "results.h"
#include "suite_linux.h"

static struct nb_column col;
static double start[NB_LINUX_NR], boot;

static void fresh(void)
{
	memset(&col, 0, sizeof(col));
	col.available = true;
	for (int b = 0; b < NB_LINUX_NR; b++)
		start[b] = NAN;
	boot = 0;
}

/* A line at host time t (t0 = 100 s). */
static int line(const char *l, double t)
{
	return nb_linux_line(l, t, 100.0, start, &boot, &col);
}

START_TEST(test_line_samples)
{
	fresh();
	ck_assert_int_eq(line("[    1.000] Linux version 6.1.0", 101.0), 0);
	ck_assert_int_eq(line("tandem-linux: init running on 6.1.0-50-686", 157.5), 0);
	ck_assert_double_eq_tol(boot, 57.5, 1e-9);
	ck_assert_int_eq(line("tandem-linux: start forkwait", 160.0), 0);
	ck_assert_int_eq(line("tandem-linux: end forkwait n=200 sum=12700", 162.0), 0);
	ck_assert_int_eq(line("tandem-linux: start forkwait", 163.0), 0);
	ck_assert_int_eq(line("tandem-linux: end forkwait n=200 sum=12700", 164.0), 0);
	ck_assert(col.cell[NB_LINUX_forkwait].present);
	ck_assert_int_eq(col.cell[NB_LINUX_forkwait].nsamples, 2);
	ck_assert_uint_eq(col.cell[NB_LINUX_forkwait].iters, 200);
	/* 2 s / 200 and 1 s / 200, in ns per operation */
	ck_assert_double_eq_tol(col.cell[NB_LINUX_forkwait].samples[0], 1e7, 1e-3);
	ck_assert_double_eq_tol(col.cell[NB_LINUX_forkwait].samples[1], 5e6, 1e-3);
	ck_assert_str_eq(col.cell[NB_LINUX_forkwait].note, "result sum=12700");
	ck_assert_int_eq(line("tandem-linux: start compute", 170.0), 0);
	ck_assert_int_eq(line("tandem-linux: end compute n=2 sha256=5af7b952", 171.0), 0);
	ck_assert_double_eq_tol(col.cell[NB_LINUX_compute].samples[0], 5e8, 1e-3);
	/* a run too short for the serial timing: the note says so, the result still compares */
	ck_assert_int_eq(line("tandem-linux: start getppid", 172.0), 0);
	ck_assert_int_eq(line("tandem-linux: end getppid n=100 same=100", 172.001), 0);
	ck_assert_str_eq(col.cell[NB_LINUX_getppid].note,
	                 "result same=100; a run under 10 ms: unresolved");
	ck_assert_int_eq(line("tandem-linux: start getppid", 173.0), 0);
	ck_assert_int_eq(line("tandem-linux: end getppid n=100 same=100", 174.0), 0);
	ck_assert_int_eq(col.cell[NB_LINUX_getppid].nsamples, 2);
	ck_assert_int_eq(line("tandem-linux: start getppid", 175.0), 0);
	ck_assert_int_eq(line("tandem-linux: end getppid n=100 same=10", 176.0), -1);
	ck_assert(!col.available);
	col.available = true;
	col.failed = false;
	ck_assert_int_eq(line("tandem-linux: done", 177.0), 1);
}
END_TEST

START_TEST(test_line_failures)
{
	/* a result that differs between two runs of one workload fails the column */
	fresh();
	line("tandem-linux: start pipe", 1.0);
	line("tandem-linux: end pipe n=10 sum=55", 2.0);
	line("tandem-linux: start pipe", 3.0);
	ck_assert_int_eq(line("tandem-linux: end pipe n=10 sum=56", 4.0), -1);
	ck_assert(!col.available && col.failed);
	ck_assert_ptr_nonnull(strstr(col.reason, "differs"));
	/* an end without a start */
	fresh();
	ck_assert_int_eq(line("tandem-linux: end getppid n=10 same=10", 4.0), -1);
	ck_assert_ptr_nonnull(strstr(col.reason, "without a start"));
	/* a workload's own failure line */
	fresh();
	ck_assert_int_eq(line("tandem-linux: fail forkwait: fork or waitpid failed", 4.0), -1);
	ck_assert_ptr_nonnull(strstr(col.reason, "forkwait failed"));
	/* unknown workloads' lines are the kernel's business */
	fresh();
	ck_assert_int_eq(line("tandem-linux: start frobnicate", 1.0), 0);
	ck_assert_int_eq(line("tandem-linux: end frobnicate n=1 x=1", 2.0), 0);
	ck_assert(col.available);
}
END_TEST

START_TEST(test_json_and_report)
{
	static struct nb_run a, b;
	char path[64], err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct nb_report_opts o = {
	    .format = NB_FMT_TABLE, .baseline = "native", .paper = nb_linux_paper()};
	int fd;

	snprintf(a.suite, sizeof(a.suite), "linux");
	a.ncols = 2;
	for (int c = 0; c < 2; c++) {
		snprintf(a.col[c].name, sizeof(a.col[c].name), c ? "bt" : "native");
		a.col[c].available = a.col[c].hw_timing = true;
		a.col[c].empty = a.col[c].load_before = a.col[c].load_after = NAN;
		a.col[c].cell[NB_LINUX_forkwait] = (struct nb_cell){.present = true,
		                                                    .note = "result sum=190",
		                                                    .iters = 20,
		                                                    .nsamples = 1,
		                                                    .samples = {c ? 1.5e6 : 1.5e5}};
	}
	snprintf(path, sizeof(path), "/tmp/tandem-bench-linux-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	nb_write_json(f, &a);
	fclose(f);
	ck_assert_int_eq(nb_read_json(path, &b, err, sizeof(err)), 0);
	unlink(path);
	ck_assert_str_eq(b.suite, "linux");
	ck_assert(b.col[1].cell[NB_LINUX_forkwait].present);
	ck_assert_double_eq(b.col[1].cell[NB_LINUX_forkwait].samples[0], 1.5e6);
	f = open_memstream(&buf, &len);
	nb_report(f, &b, &o);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "Linux macro workloads on"));
	ck_assert_ptr_nonnull(strstr(buf, "ns per operation"));
	ck_assert_ptr_nonnull(strstr(buf, "forkwait"));
	ck_assert_ptr_nonnull(strstr(buf, "10.0x"));   /* bt against native */
	ck_assert_ptr_nonnull(strstr(buf, "922500"));  /* the paper's BT: 36.9 s / 40,000 */
	ck_assert_ptr_nonnull(strstr(buf, "2660000")); /* VT-x: 106.4 s / 40,000 */
	ck_assert_ptr_null(strstr(buf, "syscall"));    /* no nano rows */
	ck_assert_ptr_null(strstr(buf, "empty loop"));
	free(buf);
}
END_TEST

Suite *bench_linux_suite(void)
{
	Suite *s = suite_create("bench_linux");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_line_samples);
	tcase_add_test(tc, test_line_failures);
	tcase_add_test(tc, test_json_and_report);
	suite_add_tcase(s, tc);
	return s;
}
