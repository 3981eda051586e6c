/* check_results.c: nanobench results: stats, JSON round trips and errors, merge, reports, plot. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "plot.h"
#include "results.h"
#include "runner.h"

static char dir[64];
static char path_a[96], path_b[96];
static char err[512];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tandem-results-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path_a, sizeof(path_a), "%s/a.json", dir);
	snprintf(path_b, sizeof(path_b), "%s/b.json", dir);
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	unlink(path_a);
	unlink(path_b);
	rmdir(dir);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void set_cell(struct nb_column *c, int b, const char *note, int n, ...)
{
	struct nb_cell *cl = &c->cell[b];
	va_list ap;

	cl->present = n > 0;
	cl->iters = 65536;
	snprintf(cl->note, sizeof(cl->note), "%s", note);
	cl->nsamples = n;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		cl->samples[i] = va_arg(ap, double);
	va_end(ap);
}

static struct nb_column *add_col(struct nb_run *r, const char *name, bool avail, bool hw)
{
	struct nb_column *c = &r->col[r->ncols++];

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->label, sizeof(c->label), "the %s column", name);
	c->available = avail;
	c->hw_timing = hw;
	c->empty = 0.7;
	if (!avail)
		snprintf(c->reason, sizeof(c->reason), "%s not found", name);
	return c;
}

/* native, bt, kvm and an unavailable qemu; a 2 GHz TSC so ns = cycles / 2. */
static void make_run(struct nb_run *r)
{
	struct nb_column *c;

	memset(r, 0, sizeof(*r));
	snprintf(r->host.cpu, sizeof(r->host.cpu), "Test CPU 9000");
	r->host.tsc_khz = 2000000;
	snprintf(r->host.kernel, sizeof(r->host.kernel), "6.1.0-test");
	snprintf(r->host.kvm, sizeof(r->host.kvm), "kvm_amd (AMD-V)");
	snprintf(r->host.hostname, sizeof(r->host.hostname), "alpha.example.com");
	snprintf(r->host.date, sizeof(r->host.date), "2024-05-01T12:00:00Z");
	snprintf(r->guest, sizeof(r->guest), "build/guests/nanobench.elf");
	snprintf(r->guest_id, sizeof(r->guest_id), "size=1234 sha256=abcd");
	snprintf(r->tandem, sizeof(r->tandem), "v0.1-test");
	c = add_col(r, "native", true, true);
	set_cell(c, NB_syscall, "getppid()", 3, 100.0, 102.0, 98.0);
	set_cell(c, NB_in, "", 1, 100.0);
	set_cell(c, NB_divzero, "", 2, 800.0, 900.0);
	set_cell(c, NB_ptemod, "n/a: no host analog", 0);
	c = add_col(r, "bt", true, true);
	set_cell(c, NB_syscall, "", 3, 1100.0, 1120.0, 1080.0);
	set_cell(c, NB_in, "", 3, 1000.0, 1010.0, 990.0);
	set_cell(c, NB_divzero, "", 1, 3000.0);
	set_cell(c, NB_ptemod, "skipped: nosep", 0);
	c = add_col(r, "kvm", true, true);
	set_cell(c, NB_syscall, "", 1, 1500.0);
	set_cell(c, NB_in, "", 3, 15000.0, 15500.0, 14500.0);
	set_cell(c, NB_divzero, "", 1, 1000.0);
	set_cell(c, NB_ptemod, "", 2, 12000.0, 13000.0);
	add_col(r, "qemu", false, true);
}

static char *capture(const struct nb_run *r, enum nb_format fmt, const struct nb_paper *p)
{
	struct nb_report_opts o = {.format = fmt, .paper = p};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	nb_report(f, r, &o);
	fclose(f);
	return buf;
}

/* The text line starting with prefix and the line after it (a table row), or NULL. */
static char *line_of(const char *text, const char *prefix)
{
	static char line[2048];

	for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		if (!strncmp(s, prefix, strlen(prefix))) {
			size_t n = strcspn(s, "\n");

			n += s[n] ? 1 + strcspn(s + n + 1, "\n") : 0;
			snprintf(line, sizeof(line), "%.*s", (int)n, s);
			return line;
		}
	}
	return NULL;
}

#define ck_assert_has(hay, needle)                                                                 \
	ck_assert_msg(strstr(hay, needle) != NULL, "'%s' not in:\n%s", needle, hay)

/* ---- names and statistics ---- */

START_TEST(test_names)
{
	ck_assert_str_eq(nb_names[NB_syscall], "syscall");
	ck_assert_str_eq(nb_names[NB_ptemod], "ptemod");
	ck_assert_int_eq(nb_find("cr8wr"), NB_cr8wr);
	ck_assert_int_eq(nb_find("vmcall"), -1);
	ck_assert_int_eq(nb_find(NULL), -1);
	ck_assert_int_eq(nb_format_find("md"), NB_FMT_MD);
	ck_assert_int_eq(nb_format_find("csv"), NB_FMT_CSV);
	ck_assert_int_eq(nb_format_find("xml"), -1);
}
END_TEST

START_TEST(test_stats)
{
	struct nb_column c = {0};
	double med, lo, hi;

	set_cell(&c, NB_in, "", 3, 3.0, 1.0, 2.0);
	ck_assert(nb_stats(&c.cell[NB_in], &med, &lo, &hi));
	ck_assert(med == 2.0 && lo == 1.0 && hi == 3.0);
	set_cell(&c, NB_in, "", 4, 4.0, 1.0, 3.0, 2.0);
	ck_assert(nb_stats(&c.cell[NB_in], &med, &lo, &hi));
	ck_assert(med == 2.5 && lo == 1.0 && hi == 4.0);
	set_cell(&c, NB_in, "", 3, NAN, 7.0, 5.0); /* a null sample is not a measurement */
	ck_assert(nb_stats(&c.cell[NB_in], &med, NULL, NULL));
	ck_assert(med == 6.0);
	set_cell(&c, NB_in, "", 0);
	ck_assert(!nb_stats(&c.cell[NB_in], &med, &lo, &hi));
	set_cell(&c, NB_in, "", 2, 1.0, 2.0);
	c.cell[NB_in].present = false;
	ck_assert(!nb_stats(&c.cell[NB_in], &med, &lo, &hi));
}
END_TEST

START_TEST(test_summary)
{
	struct nb_column c = {0};
	struct nb_summary s;

	set_cell(&c, NB_in, "", 5, 100.0, 101.0, 99.0, 102.0, 98.0);
	ck_assert(nb_summarize(&c.cell[NB_in], &s));
	ck_assert(s.n == 5 && s.median == 100.0 && s.q1 == 99.0 && s.q3 == 101.0 && s.iqr == 2.0);
	ck_assert(!s.noisy && !s.below_res);
	set_cell(&c, NB_in, "", 4, 100.0, 300.0, 90.0,
	         110.0); /* q1 97.5, q3 157.5: IQR 60% of 105 */
	ck_assert(nb_summarize(&c.cell[NB_in], &s));
	ck_assert(s.median == 105.0 && s.q1 == 97.5 && s.q3 == 157.5 && s.noisy);
	set_cell(&c, NB_in, "", 3, -5.7, -1.2, 0.4); /* cheaper than the empty loop */
	ck_assert(nb_summarize(&c.cell[NB_in], &s));
	ck_assert(s.below_res && !s.noisy);
	set_cell(&c, NB_in, "", 2, 100.0, 300.0); /* too few to call noisy */
	ck_assert(nb_summarize(&c.cell[NB_in], &s));
	ck_assert(!s.noisy);
	set_cell(&c, NB_in, "", 0);
	ck_assert(!nb_summarize(&c.cell[NB_in], &s));
}
END_TEST

START_TEST(test_parse_guest_warmup)
{
	static struct nb_column c;
	static const char text[] =
	    "nanobench: start tsc_per_iter_method=doubling mincycles=1000 repeat=4\n"
	    "nanobench: empty iters=1024 cycles_per_iter=1.5\n"
	    "nanobench: in iters=4096 cycles_per_iter=200 samples=900,500,210,190\n"
	    "nanobench: ptemod skipped reason=nosep\n";
	double med, lo, hi;

	ck_assert_int_eq(nb_parse_guest(text, &c, 2), 0); /* the first two samples are warmup */
	ck_assert(c.empty == 1.5);
	ck_assert_int_eq(c.cell[NB_in].nsamples, 2);
	ck_assert(nb_stats(&c.cell[NB_in], &med, &lo, &hi));
	ck_assert(lo == 190.0 && hi == 210.0);
	ck_assert_str_eq(c.cell[NB_ptemod].note, "skipped: nosep");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(nb_parse_guest(text, &c, 0), 0);
	ck_assert_int_eq(c.cell[NB_in].nsamples, 4);
	ck_assert_int_eq(nb_parse_guest("hello\n", &c, 0), -1);
}
END_TEST

/* ---- JSON ---- */

static bool same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void assert_runs_equal(const struct nb_run *a, const struct nb_run *b)
{
	ck_assert(!memcmp(&a->host, &b->host, sizeof(a->host)));
	ck_assert_str_eq(a->guest, b->guest);
	ck_assert_str_eq(a->guest_id, b->guest_id);
	ck_assert_str_eq(a->tandem, b->tandem);
	ck_assert_int_eq(a->ncols, b->ncols);
	for (int i = 0; i < a->ncols; i++) {
		const struct nb_column *x = &a->col[i], *y = &b->col[i];

		ck_assert_str_eq(x->name, y->name);
		ck_assert_str_eq(x->label, y->label);
		ck_assert_str_eq(x->reason, y->reason);
		ck_assert_str_eq(x->settings, y->settings);
		ck_assert(x->available == y->available && x->hw_timing == y->hw_timing);
		ck_assert(same_double(x->empty, y->empty));
		for (int k = 0; k < NB_NR; k++) {
			const struct nb_cell *p = &x->cell[k], *q = &y->cell[k];

			ck_assert(p->present == q->present);
			ck_assert_str_eq(p->note, q->note);
			ck_assert_uint_eq(p->iters, q->iters);
			ck_assert_int_eq(p->nsamples, q->nsamples);
			for (int s = 0; s < p->nsamples; s++)
				ck_assert_msg(same_double(p->samples[s], q->samples[s]),
				              "%s/%s sample %d: %.17g != %.17g", x->name,
				              nb_names[k], s, p->samples[s], q->samples[s]);
		}
	}
}

static void write_run(const char *path, const struct nb_run *r)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	nb_write_json(f, r);
	fclose(f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_json_roundtrip)
{
	static struct nb_run a, b;
	struct nb_column *c;
	char *ja, *jb;

	make_run(&a);
	a.host.tsc_khz = UINT64_MAX;
	snprintf(a.col[0].label, sizeof(a.col[0].label), "q\"b\\s/n\nt\tc\x01\x1f é ✓");
	a.col[1].empty = NAN;
	c = &a.col[2];
	c->cell[NB_callret].present = true;
	c->cell[NB_callret].iters = (1ull << 53) + 1;
	c->cell[NB_callret].nsamples = NB_MAX_SAMPLES;
	for (int i = 0; i < NB_MAX_SAMPLES; i++)
		c->cell[NB_callret].samples[i] = i * 0.1 - 1.7 + 1e-9 / 3;
	c->cell[NB_callret].samples[5] = NAN;
	c->cell[NB_callret].samples[6] = 1e300;
	write_run(path_a, &a);
	ck_assert_int_eq(nb_read_json(path_a, &b, err, sizeof(err)), 0);
	assert_runs_equal(&a, &b);
	write_run(path_b, &b);
	ja = slurp(path_a);
	jb = slurp(path_b);
	ck_assert_str_eq(ja, jb);
	ck_assert_has(ja, "\"label\": \"q\\\"b\\\\s/n\\nt\\tc\\u0001\\u001f é ✓\"");
	ck_assert_has(ja, "\"empty\": null");
	ck_assert_has(ja, "\"tsc_khz\": 18446744073709551615");
	ck_assert_has(ja,
	              "\"syscall\": {\"present\": true, \"note\": \"getppid()\", \"iters\": 65536, "
	              "\"samples\": [100, 102, 98]}");
	ck_assert_has(ja, "-1.2999999996666665, null, 1e+300, ");
	ck_assert_ptr_null(strstr(ja, " nan"));
	free(ja);
	free(jb);
}
END_TEST

START_TEST(test_json_lenient)
{
	static struct nb_run r;
	/* unknown keys and benchmarks, missing keys, escapes, a name too long for its field */
	static const char doc[] =
	    "{\"tandem_results\": 1, \"future\": {\"a\": [1, {\"b\": null}]},\n"
	    " \"host\": {\"cpu\": \"\\u00e9\\ud83d\\ude00 x\\/y\", \"tsc_khz\": 2.5e6},\n"
	    " \"columns\": [{\"name\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\","
	    "  \"cells\": {\"vmcall\": {\"present\": true}, \"in\": {\"present\": true, "
	    "\"samples\": [1, null, -2.5E+1]}}}]}";

	write_file(path_a, doc, sizeof(doc) - 1);
	ck_assert_int_eq(nb_read_json(path_a, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.host.cpu, "\xc3\xa9\xf0\x9f\x98\x80 x/y");
	ck_assert_uint_eq(r.host.tsc_khz, 2500000);
	ck_assert_str_eq(r.guest, "");
	ck_assert_int_eq(r.ncols, 1);
	ck_assert_uint_eq(strlen(r.col[0].name), 30); /* 15 two-byte characters, none cut */
	ck_assert(r.col[0].available && r.col[0].hw_timing && isnan(r.col[0].empty));
	ck_assert(r.col[0].cell[NB_in].present);
	ck_assert_int_eq(r.col[0].cell[NB_in].nsamples, 3);
	ck_assert(isnan(r.col[0].cell[NB_in].samples[1]));
	ck_assert(r.col[0].cell[NB_in].samples[2] == -25.0);
	ck_assert(!r.col[0].cell[NB_syscall].present);
}
END_TEST

/* A file in format 1 as committed: later readers must still read it. */
START_TEST(test_json_fixture)
{
	static struct nb_run r;
	char *t;

	ck_assert_int_eq(
	    nb_read_json(TANDEM_SOURCE_DIR "/tests/data/results-v1.json", &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.host.cpu, "AMD EPYC 7B13 64-Core Processor");
	ck_assert_uint_eq(r.host.tsc_khz, 2449998);
	ck_assert_int_eq(r.ncols, 5);
	ck_assert_str_eq(r.col[1].name, "bt");
	ck_assert(r.col[1].cell[NB_syscall].samples[1] == 1119.4);
	ck_assert(!r.col[3].available && isnan(r.col[3].empty));
	t = capture(&r, NB_FMT_TABLE, NULL);
	ck_assert_has(line_of(t, "syscall "), "1126.1 (1119.4–1133.7)");
	ck_assert_has(line_of(t, "syscall "), "459.6 ns, 11.8x");
	ck_assert_has(t, "kvm-nested: unavailable: not requested (--nested)");
	free(t);
}
END_TEST

static void expect_error(const char *doc, const char *msg)
{
	static struct nb_run r;

	write_file(path_a, doc, strlen(doc));
	ck_assert_int_eq(nb_read_json(path_a, &r, err, sizeof(err)), -1);
	ck_assert_msg(!strncmp(err, path_a, strlen(path_a)), "err names the file: '%s'", err);
	ck_assert_msg(strstr(err, msg), "'%s' not in '%s'", msg, err);
	ck_assert_int_eq(r.ncols, 0);
}

START_TEST(test_json_errors)
{
	char big[4096], *p = big;

	expect_error("{\"tandem_results\": 1, \"host\": {", ":1: unexpected end of file");
	expect_error("{\"tandem_results\": 1, \"guest\": \"abc", "unterminated string");
	expect_error("{\"tandem_results\": 1, \"guest\": tru}", "expected a value, got 't'");
	expect_error("{\n\"tandem_results\": 1,\n\"guest\" \"x\"\n}", ":3: expected ':' after key");
	expect_error("{\"tandem_results\": 1,}", "expected a string key, got '}'");
	expect_error("{\"tandem_results\": 1 \"x\": 2}", "expected ',' or '}' in an object");
	expect_error("{\"tandem_results\": 01}", "expected ',' or '}'");
	expect_error("{\"tandem_results\": 1.}", "no digits after '.'");
	expect_error("{\"tandem_results\": 1} x", "trailing data");
	expect_error("{\"tandem_results\": 1, \"guest\": \"\\q\"}", "bad escape");
	expect_error("{\"tandem_results\": 1, \"guest\": \"\\u0000\"}", "\\u0000");
	expect_error("{\"tandem_results\": 1, \"guest\": \"\\udc00\"}", "surrogate");
	expect_error("{\"tandem_results\": 1, \"guest\": \"a\nb\"}", "control character");
	expect_error("{\"tandem_results\": 1, \"guest\": 5}", "\"guest\" must be a string");
	expect_error("{\"tandem_results\": 2}", "format 2 not supported");
	expect_error("{}", "not a tandem results file");
	expect_error("[]", "expected an object at the top level");
	expect_error("", "unexpected end of file, expected a value");
	expect_error(
	    "{\"tandem_results\": 1, \"columns\": [{\"cells\": {\"in\": {\"iters\": -1}}}]}",
	    "\"iters\" must be a non-negative integer");
	expect_error("{\"tandem_results\": 1, \"host\": {\"tsc_khz\": 99999999999999999999}}",
	             "too large");
	memset(big, '[', 100);
	big[100] = '\0';
	expect_error(big, "nested too deep");
	p += sprintf(p, "{\"tandem_results\": 1, \"columns\": [{}");
	for (int i = 1; i <= NB_MAX_COLS; i++)
		p += sprintf(p, ", {}");
	sprintf(p, "]}");
	expect_error(big, "too many columns (max 16)");
	p = big + sprintf(big, "{\"tandem_results\": 1, \"columns\": [{\"cells\": {\"in\": "
	                       "{\"samples\": [0");
	for (int i = 1; i <= NB_MAX_SAMPLES; i++)
		p += sprintf(p, ", %d", i);
	sprintf(p, "]}}}]}");
	expect_error(big, "too many samples (max 64)");
	ck_assert_int_eq(nb_read_json("/nonexistent/r.json", &(struct nb_run){0}, err, sizeof(err)),
	                 -1);
	ck_assert_str_eq(err, "/nonexistent/r.json: No such file or directory");
}
END_TEST

/* Every truncation and thousands of random mutations of a valid file: 0 or -1, never a crash. */
START_TEST(test_json_fuzz)
{
	static const char interesting[] = "{}[]\",:\\-+.eE0123456789tfnu \n\0\x01\xff";
	static struct nb_run r;
	uint32_t seed = 12345;
	char *doc, *m;
	size_t len;
	int ok = 0;

	make_run(&r);
	r.ncols = 2;
	write_run(path_b, &r);
	doc = slurp(path_b);
	len = strlen(doc);
	m = malloc(len);
	for (size_t n = 0; n < len - 1; n++) { /* all but the final newline */
		write_file(path_a, doc, n);
		ck_assert_int_eq(nb_read_json(path_a, &r, err, sizeof(err)), -1);
		ck_assert(!strncmp(err, path_a, strlen(path_a)));
	}
	for (int i = 0; i < 3000; i++) {
		memcpy(m, doc, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % len] =
			    (seed >> 20) & 1 ? interesting[(seed >> 21) % 33] : (char)(seed >> 24);
		}
		write_file(path_a, m, len);
		int ret = nb_read_json(path_a, &r, err, sizeof(err));
		ck_assert(ret == 0 || ret == -1);
		ok += ret == 0;
	}
	ck_assert_int_gt(ok, 0); /* some mutations (in a string, a digit) are still valid */
	free(m);
	free(doc);
}
END_TEST

/* ---- merge ---- */

START_TEST(test_merge)
{
	static struct nb_run runs[3], out, again[2], out2;
	char *t, msg[1024];

	make_run(&runs[0]);
	make_run(&runs[1]);
	snprintf(runs[1].host.hostname, sizeof(runs[1].host.hostname), "beta");
	runs[1].host.tsc_khz = 1000000;
	snprintf(runs[1].guest_id, sizeof(runs[1].guest_id), "size=99 sha256=ffff");
	snprintf(runs[1].tandem, sizeof(runs[1].tandem), "v0.2-test");
	set_cell(&runs[1].col[0], NB_in, "", 1, 200.0);
	set_cell(&runs[1].col[1], NB_in, "", 1, 600.0);
	ck_assert_int_eq(nb_merge(runs, 2, &out), 0);
	ck_assert_int_eq(out.ncols, 8);
	ck_assert_str_eq(out.col[0].name, "alpha:native");
	ck_assert_str_eq(out.col[5].name, "beta:bt");
	ck_assert_str_eq(out.host.hostname, "alpha.example.com");
	ck_assert_str_eq(out.guest_id, "size=1234 sha256=abcd");
	/* each column keeps its own provenance */
	ck_assert_str_eq(out.col[5].host.hostname, "beta");
	ck_assert_uint_eq(out.col[5].host.tsc_khz, 1000000);
	ck_assert_str_eq(out.col[5].guest_id, "size=99 sha256=ffff");
	ck_assert_str_eq(out.col[5].tandem, "v0.2-test");
	ck_assert_str_eq(out.col[1].tandem, "v0.1-test");
	ck_assert_int_eq(nb_provenance_check(&out, msg, sizeof(msg)),
	                 6); /* 3 columns, 2 differences each */
	ck_assert_has(
	    msg,
	    "beta:native measured another guest build (size=99 sha256=ffff) than alpha:native");
	ck_assert_has(
	    msg, "beta:native comes from tandem v0.2-test, alpha:native from tandem v0.1-test");
	t = capture(&out, NB_FMT_TABLE, NULL);
	ck_assert_has(line_of(t, "in "), "10.0x"); /* alpha:bt against alpha:native */
	ck_assert_has(line_of(t, "in "), "3.0x");  /* beta:bt against beta:native */
	ck_assert_has(t, "600.0 ns");              /* beta's 1 GHz TSC */
	ck_assert_has(t, "nanobench on several hosts");
	ck_assert_has(t, "ran on beta (Test CPU 9000, TSC 1000000 kHz");
	free(t);

	/* three files from two hosts: the second from alpha is numbered, not confused */
	runs[2] = runs[0];
	snprintf(runs[2].host.date, sizeof(runs[2].host.date), "2024-06-01T12:00:00Z");
	ck_assert_int_eq(nb_merge(runs, 3, &out), 0);
	ck_assert_int_eq(out.ncols, 12);
	ck_assert_str_eq(out.col[8].name, "alpha#2:native");
	ck_assert_str_eq(out.col[8].host.date, "2024-06-01T12:00:00Z");
	ck_assert_str_eq(out.col[0].host.date, "2024-05-01T12:00:00Z");
	/* re-merging a merge never repeats the host: "alpha:native", not "alpha:alpha:native" */
	again[0] = out;
	again[0].ncols = 8;
	make_run(&again[1]);
	snprintf(again[1].host.hostname, sizeof(again[1].host.hostname), "gamma");
	ck_assert_int_eq(nb_merge(again, 2, &out2), 0);
	ck_assert_str_eq(out2.col[0].name, "alpha:native");
	ck_assert_str_eq(out2.col[5].name, "beta:bt");
	ck_assert_str_eq(out2.col[9].name, "gamma:bt");
	ck_assert_str_eq(out2.col[5].host.hostname, "beta");
	write_run(path_a, &out2); /* and through the JSON */
	ck_assert_int_eq(nb_read_json(path_a, &again[0], err, sizeof(err)), 0);
	ck_assert_str_eq(again[0].col[5].host.hostname, "beta");
	ck_assert_str_eq(again[0].col[5].guest_id, "size=99 sha256=ffff");
	ck_assert_int_eq(nb_merge(again, 2, &out2), 0);
	ck_assert_str_eq(out2.col[5].name, "beta:bt");
	ck_assert_str_eq(out2.col[12].name, "gamma#2:native");

	ck_assert_int_eq(nb_merge(runs, 1, &out), 0);
	ck_assert_str_eq(out.col[1].name, "bt");
	runs[0].ncols = runs[1].ncols = 9;
	ck_assert_int_eq(nb_merge(runs, 2, &out), -1);
	ck_assert_int_eq(nb_merge(runs, 0, &out), -1);
}
END_TEST

/* ---- the paper's figures ---- */

START_TEST(test_paper_file)
{
	struct nb_paper p;

	ck_assert_int_eq(
	    nb_read_paper(TANDEM_SOURCE_DIR "/bench/nano/paper-fig4.tsv", &p, err, sizeof(err)), 0);
	ck_assert(p.native[NB_in] == 3209 && p.bt[NB_in] == 214 && p.hw[NB_in] == 15826);
	ck_assert(p.native[NB_callret] == 11 && p.bt[NB_callret] == 51);
	ck_assert(p.bt[NB_ptemod] == 391 && p.hw[NB_ptemod] == 12733);
	ck_assert(isnan(p.native[NB_syscall]) && isnan(p.bt[NB_syscall]) &&
	          isnan(p.hw[NB_syscall]));
	ck_assert(p.native[NB_cr8wr] == 140 && isnan(p.hw[NB_cr8wr]));
	ck_assert(isnan(p.native[NB_sysenter]));
	ck_assert_str_eq(p.finding[NB_in], "bt");
	ck_assert_str_eq(p.finding[NB_syscall], "hw");
	ck_assert_str_eq(p.finding[NB_sysenter], "");
	ck_assert(!strncmp(p.note[NB_in], "in al,0x80", 10));
	ck_assert_uint_lt(strlen(p.note[NB_syscall]), sizeof(p.note[0]));
}
END_TEST

START_TEST(test_paper_parse)
{
	static const char tsv[] = "# a comment\r\n\r\nbenchmark\tnative\tbt\thw\tnote\tfinding\r\n"
	                          "  # indented comment\nvmcall\t1\t2\t3\n"
	                          "in\t1.5\tnative+2000\t-\tx\tequal\r\n";
	struct nb_paper p;

	write_file(path_a, tsv, sizeof(tsv) - 1);
	ck_assert_int_eq(nb_read_paper(path_a, &p, err, sizeof(err)), 0);
	ck_assert(p.native[NB_in] == 1.5 && isnan(p.bt[NB_in]) && isnan(p.hw[NB_in]));
	ck_assert_str_eq(p.note[NB_in], "x");
	ck_assert_str_eq(p.finding[NB_in], "equal");
	write_file(path_a, "in\t1\t2\n", strlen("in\t1\t2\n"));
	ck_assert_int_eq(nb_read_paper(path_a, &p, err, sizeof(err)), -1);
	ck_assert_has(err, ":1: expected at least 4 tab-separated fields, got 3");
	write_file(path_a, "#\nin\t1\t2\t3\tn\tvmm\n", strlen("#\nin\t1\t2\t3\tn\tvmm\n"));
	ck_assert_int_eq(nb_read_paper(path_a, &p, err, sizeof(err)), -1);
	ck_assert_has(err, ":2: finding 'vmm' is not bt, hw or equal");
}
END_TEST

/* ---- reports ---- */

START_TEST(test_report_table)
{
	static struct nb_run r;
	char *t, *l;

	make_run(&r);
	add_col(&r, "kvm-nested", true, false);
	set_cell(&r.col[4], NB_in, "", 1, 90000.0);
	t = capture(&r, NB_FMT_TABLE, NULL);
	ck_assert_has(t, "nanobench on Test CPU 9000");
	ck_assert_has(t, "TSC 2000000 kHz, kernel 6.1.0-test, KVM kvm_amd (AMD-V)");
	ck_assert_has(t, "size=1234 sha256=abcd");
	l = line_of(t, "in ");
	ck_assert_has(l, "1000.0 (990.0–1010.0)");
	ck_assert_has(l, "15000 (14500–15500)");
	ck_assert_has(t, "500.0 ns, 10.0x"); /* bt: 1000 cycles at 2 GHz, 10x native */
	ck_assert_has(t, "7500.0 ns, 150x"); /* kvm */
	ck_assert_has(t, "(not hardware timing)");
	ck_assert_has(line_of(t, "ptemod "), "n/a");
	ck_assert_has(t, "[3] skipped: nosep");
	ck_assert_has(t, "qemu: unavailable: qemu not found");
	ck_assert_ptr_null(line_of(t, "cr8wr"));                      /* no data, no note */
	ck_assert_ptr_null(strstr(line_of(t, "benchmark "), "qemu")); /* not a table column */
	free(t);
}
END_TEST

START_TEST(test_report_md)
{
	static struct nb_run r;
	char *t;

	make_run(&r);
	snprintf(r.col[1].cell[NB_ptemod].note, sizeof(r.col[0].cell[0].note), "skipped: a|b");
	t = capture(&r, NB_FMT_MD, NULL);
	ck_assert_has(t, "## nanobench on Test CPU 9000");
	ck_assert_has(t, "| benchmark | native | bt | kvm |\n|---|---:|---:|---:|\n");
	ck_assert_has(line_of(t, "| in "),
	              "| 1000.0 (990.0–1010.0)<br>IQR 10.0, 500.0 ns, 10.0x |");
	ck_assert_has(line_of(t, "| divzero "), "| 3000.0 (3000.0–3000.0)<br>1500.0 ns, 3.5x |");
	ck_assert_has(line_of(t, "| ptemod "), "| skipped: a\\|b |");
	ck_assert_has(t, "- qemu: unavailable: qemu not found");
	free(t);
}
END_TEST

START_TEST(test_report_csv)
{
	static struct nb_run r;
	char *t;

	make_run(&r);
	snprintf(r.col[0].cell[NB_in].note, sizeof(r.col[0].cell[0].note), "say \"hi\", ok");
	t = capture(&r, NB_FMT_CSV, NULL);
	ck_assert_has(t,
	              "benchmark,column,median_cycles,min_cycles,max_cycles,median_ns,"
	              "ratio_to_baseline,iters,nsamples,iqr_cycles,noisy,below_resolution,note\n");
	ck_assert_has(t, "\nin,bt,1000,990,1010,500,10,65536,3,10,0,0,\n");
	ck_assert_has(t, "\nin,native,100,100,100,50,1,65536,1,0,0,0,\"say \"\"hi\"\", ok\"\n");
	ck_assert_has(t, "\nptemod,bt,,,,,,,,,,,skipped: nosep\n");
	ck_assert_has(t, "\nin,qemu,,,,,,,,,,,unavailable: qemu not found\n");
	ck_assert_ptr_null(strstr(t, "\ncr8wr,"));
	free(t);
	t = capture(&r, NB_FMT_JSON, NULL);
	write_run(path_a, &r);
	char *j = slurp(path_a);
	ck_assert_str_eq(t, j);
	free(j);
	free(t);
}
END_TEST

START_TEST(test_report_finding)
{
	static struct nb_run r;
	struct nb_paper p;
	char *t;

	ck_assert_int_eq(
	    nb_read_paper(TANDEM_SOURCE_DIR "/bench/nano/paper-fig4.tsv", &p, err, sizeof(err)), 0);
	make_run(&r);
	set_cell(&r.col[1], NB_divzero, "", 3, 3000.0, 3100.0, 2900.0);
	set_cell(&r.col[2], NB_divzero, "", 3, 1000.0, 1100.0, 900.0);
	set_cell(&r.col[2], NB_syscall, "", 3, 1500.0, 1510.0, 1490.0);
	set_cell(&r.col[1], NB_callret, "", 3, 10.0, 30.0, 12.0); /* overlaps kvm's */
	set_cell(&r.col[2], NB_callret, "", 3, 11.0, 25.0, 9.0);
	set_cell(&r.col[1], NB_pgfault, "", 3, 0.2, -1.0, 0.5); /* both below resolution */
	set_cell(&r.col[2], NB_pgfault, "", 3, 0.1, -2.0, 0.3);
	t = capture(&r, NB_FMT_TABLE, &p);
	ck_assert_has(line_of(t, "in "), "3209  "); /* paper native, BT, VT-x */
	ck_assert_has(line_of(t, "in "), "214  ");
	ck_assert_has(line_of(t, "in "), "15826  ");
	ck_assert_has(line_of(t, "in "), "bt faster: holds");      /* 990-1010 < 14500-15500 */
	ck_assert_has(line_of(t, "divzero "), "hw faster: holds"); /* 900-1100 < 2900-3100 */
	ck_assert_has(line_of(t, "syscall "),
	              "hw faster: does not hold"); /* 1080-1120 < 1490-1510 */
	ck_assert_has(line_of(t, "callret "), "hw faster: not judged here: ranges overlap");
	ck_assert_has(line_of(t, "pgfault "), "bt faster: not judged here: both below resolution");
	ck_assert_has(line_of(t, "pgfault "), "< resolution");
	ck_assert_has(line_of(t, "ptemod "), "bt faster: not judged here: no data");
	ck_assert_has(t, "findings judged from bt against kvm (both hardware timing, one host)");
	free(t);
	set_cell(&r.col[2], NB_in, "", 2, 15000.0, 15500.0); /* too few samples */
	t = capture(&r, NB_FMT_TABLE, &p);
	ck_assert_has(line_of(t, "in "), "bt faster: not judged here: fewer than 3 samples");
	free(t);
	/* a kvm column that is not hardware timing is never a basis for a verdict */
	snprintf(r.col[2].name, sizeof(r.col[2].name), "kvm-nested");
	r.col[2].hw_timing = false;
	t = capture(&r, NB_FMT_MD, &p);
	ck_assert_has(t, "| paper native | paper BT | paper VT-x | finding (paper: here) |");
	ck_assert_has(line_of(t, "| divzero "),
	              "hw faster: not judged here: only kvm-nested, which is not hardware timing");
	free(t);
	r.col[2].available = false;
	snprintf(r.col[2].name, sizeof(r.col[2].name), "kvm");
	t = capture(&r, NB_FMT_TABLE, &p);
	ck_assert_has(line_of(t, "divzero "),
	              "hw faster: not judged here: no hardware KVM on this host");
	ck_assert_has(t, "findings not judged: no hardware KVM on this host");
	free(t);
}
END_TEST

/* ---- the plot ---- */

static void plot_magic(enum nb_plot_format fmt, const char *ext, const char *magic, size_t len)
{
	static struct nb_run r;
	struct nb_plot_opts o = {.format = fmt};
	struct nb_paper p;
	char path[128], head[16] = {0};
	FILE *f;

	make_run(&r);
	set_cell(&r.col[0], NB_callret, "", 3, -0.4, 0.1, 0.2); /* below resolution: a "<1" mark */
	ck_assert_int_eq(
	    nb_read_paper(TANDEM_SOURCE_DIR "/bench/nano/paper-fig4.tsv", &p, err, sizeof(err)), 0);
	o.paper = &p;
	snprintf(path, sizeof(path), "%s/fig.%s", dir, ext);
	ck_assert_msg(nb_plot(path, &r, &o, err, sizeof(err)) == 0, "%s", err);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_ge(fread(head, 1, len, f), len);
	fseek(f, 0, SEEK_END);
	ck_assert_int_gt(ftell(f), 2000); /* something was drawn */
	fclose(f);
	ck_assert_msg(!memcmp(head, magic, len), "%s starts with '%.8s'", path, head);
	unlink(path);
}

START_TEST(test_plot)
{
	static struct nb_run r;
	struct nb_plot_opts o = {.format = NB_PLOT_SVG};
	char path[128];

	plot_magic(NB_PLOT_SVG, "svg", "<?xml", 5);
	plot_magic(NB_PLOT_PDF, "pdf", "%PDF-", 5);
	plot_magic(NB_PLOT_PNG, "png", "\x89PNG\r\n\x1a\n", 8);
	ck_assert_int_eq(nb_plot_format_of("a/fig4.PNG"), NB_PLOT_PNG);
	ck_assert_int_eq(nb_plot_format_of("fig.pdf"), NB_PLOT_PDF);
	ck_assert_int_eq(nb_plot_format_of("x.svg.d/fig"), -1);
	ck_assert_int_eq(nb_plot_format_find("svg"), NB_PLOT_SVG);
	ck_assert_int_eq(nb_plot_format_find("eps"), -1);
	make_run(&r);
	snprintf(path, sizeof(path), "%s/fig.svg", dir);
	o.columns = "native,nosuch";
	ck_assert_int_eq(nb_plot(path, &r, &o, err, sizeof(err)), -1);
	ck_assert_has(err, "--plot-columns: no column 'nosuch'");
	o.columns = "qemu,bt";
	ck_assert_int_eq(nb_plot(path, &r, &o, err, sizeof(err)), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such/dir/fig.svg", dir);
	o.columns = NULL;
	ck_assert_int_eq(nb_plot(path, &r, &o, err, sizeof(err)), -1);
	ck_assert_has(err, "--plot ");
}
END_TEST

Suite *results_suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("results"), *fuzz = tcase_create("fuzz");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_parse_guest_warmup);
	tcase_add_test(tc, test_json_roundtrip);
	tcase_add_test(tc, test_json_lenient);
	tcase_add_test(tc, test_json_fixture);
	tcase_add_test(tc, test_json_errors);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_paper_file);
	tcase_add_test(tc, test_paper_parse);
	tcase_add_test(tc, test_report_table);
	tcase_add_test(tc, test_report_md);
	tcase_add_test(tc, test_report_csv);
	tcase_add_test(tc, test_report_finding);
	tcase_add_test(tc, test_plot);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(fuzz, setup, teardown);
	tcase_add_test(fuzz, test_json_fuzz);
	tcase_set_timeout(fuzz, 120);
	suite_add_tcase(s, fuzz);
	return s;
}
