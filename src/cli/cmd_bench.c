/*
 * cmd_bench.c: `tandem bench`: the nano-benchmark matrix on every engine this
 * host can run (each in a child process), the host analogs, side by side in one
 * run; printed as a table (or md, csv, json) with the paper's figures.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "bench_common.h"
#include "bench_signal.h"
#include "cli.h"
#include "engine.h"
#include "manifest_list.h"
#include "native.h"
#include "runner.h"
#include "status.h"
#include "suite_macro.h"
#include "suite_linux.h"

#define MAX_GUEST_SAMPLES                                                                          \
	31 /* the guest keeps at most 31 samples per benchmark (repeat + warmup) */
#define MAX_MINCYCLES (1ULL << 40)
#define MAX_TIMEOUT 86400.0

#define NANO_OPTIONS                                                                               \
	"backends,tests,repeat,mincycles,format,out,guest,timeout,pin,warmup,help,suite"

struct bench_opts {
	char backends[256];
	bool backends_given;
	char tests[256];
	int repeat, warmup, pin;
	unsigned long long mincycles;
	int format;
	const char *out, *guest;
	double timeout;
	bool help; /* --list is handled before parsing (cmd_bench) */
};

/* A whole number in [lo, hi], or -1 (the caller names the option and the range). */
static long long parse_int(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

static int parse_pin(const char *s, int *pin)
{
	cpu_set_t set;
	long long v = parse_int(s, 0, CPU_SETSIZE - 1);

	if (v < 0)
		return usage_error("--pin %s: want a CPU number 0..%d", s, CPU_SETSIZE - 1);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET((int)v, &set))
		return usage_error("--pin %s: CPU %lld is not one this process may run on", s, v);
	*pin = (int)v;
	return 0;
}

static int parse_bench_args(int argc, char **argv, struct bench_opts *o)
{
	struct option opts[BENCH_MAX_OPTS];
	char known[256];
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	backend_defaults(SUITE_NANO, o->backends, sizeof(o->backends));
	o->repeat = 5;
	o->pin = -1;
	o->mincycles = 1ULL << 26;
	o->format = NB_FMT_TABLE;
	o->timeout = 300;
	optind = 1;
	opterr = 0;
	bench_options(NANO_OPTIONS, opts);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case BOPT_BACKENDS:
			if (bench_check_list("--backends", optarg,
			                     backend_names(SUITE_NANO, ",", known, sizeof(known))))
				return STATUS_USAGE;
			snprintf(o->backends, sizeof(o->backends), "%s", optarg);
			o->backends_given = true;
			break;
		case BOPT_TESTS:
			if (bench_check_list(
			        "--tests", optarg,
			        nb_row_names(nb_suite_find("nano"), ",", known, sizeof(known))))
				return STATUS_USAGE;
			snprintf(o->tests, sizeof(o->tests), "%s", optarg);
			break;
		case BOPT_REPEAT:
			if ((v = parse_int(optarg, 1, MAX_GUEST_SAMPLES)) < 0)
				return usage_error(
				    "--repeat %s: want 1..%d (the guest keeps at most %d samples)",
				    optarg, MAX_GUEST_SAMPLES, MAX_GUEST_SAMPLES);
			o->repeat = (int)v;
			break;
		case BOPT_WARMUP:
			if ((v = parse_int(optarg, 0, MAX_GUEST_SAMPLES - 1)) < 0)
				return usage_error("--warmup %s: want 0..%d", optarg,
				                   MAX_GUEST_SAMPLES - 1);
			o->warmup = (int)v;
			break;
		case BOPT_MINCYCLES:
			if ((v = parse_int(optarg, 1000, (long long)MAX_MINCYCLES)) < 0)
				return usage_error("--mincycles %s: want 1000..%llu", optarg,
				                   MAX_MINCYCLES);
			o->mincycles = (unsigned long long)v;
			break;
		case BOPT_FORMAT:
			if (bench_opt_format(optarg, &o->format))
				return STATUS_USAGE;
			break;
		case BOPT_OUT:
			o->out = optarg;
			break;
		case BOPT_GUEST:
			o->guest = optarg;
			break;
		case BOPT_PIN:
			if (parse_pin(optarg, &o->pin))
				return STATUS_USAGE;
			break;
		case BOPT_TIMEOUT: {
			char *end;

			o->timeout = strtod(optarg, &end);
			if (end == optarg || *end || !(o->timeout > 0) || o->timeout > MAX_TIMEOUT)
				return usage_error("--timeout %s: want seconds, 0 < SECS <= %.0f",
				                   optarg, MAX_TIMEOUT);
			break;
		}
		case BOPT_HELP:
			o->help = true;
			break;
		case BOPT_SUITE: /* macro and linux went to their suites before parsing */
			if (strcmp(optarg, "nano"))
				return usage_error("--suite %s: unknown suite (nano, macro, linux)",
				                   optarg);
			break;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench: unexpected argument '%s'", argv[optind]);
	if (o->repeat + o->warmup > MAX_GUEST_SAMPLES)
		return usage_error(
		    "--repeat %d --warmup %d: want repeat + warmup <= %d (the guest's limit)",
		    o->repeat, o->warmup, MAX_GUEST_SAMPLES);
	return STATUS_OK;
}

static void method_from(const struct bench_opts *o, struct nb_method *m)
{
	int b;

	m->mincycles = o->mincycles;
	m->maxiters = 1u << 22;
	m->repeat = o->repeat;
	m->warmup = o->warmup;
	m->pin = o->pin;
	for (b = 0; b < NB_NR; b++)
		m->want[b] = !o->tests[0] || strstr_list(o->tests, nb_names[b]);
}

/* Can this host run backend b (a nano row)? true, or false with the reason. */
static bool host_can(const char *b, const char *nested, char *why, size_t len)
{
	return backend_available(backend_find(b), SUITE_NANO, nested, why, len);
}

/*
 * `tandem bench --list [--suite S]`: the suite's rows (its manifest), then its engines
 * and whether this host runs each.
 */
static int list(const char *suite, const char *nested)
{
	unsigned bit = backend_suite_bit(suite);
	char why[256], defaults[256];

	if (!bit || bench_list_rows(stdout, suite))
		return usage_error("--suite %s: unknown suite (nano, macro, linux, compute)",
		                   suite);
	printf("\nengines (--backends); the default is %s%s:\n",
	       backend_defaults(bit, defaults, sizeof(defaults)),
	       bit & (SUITE_NANO | SUITE_MACRO) ? ",\nplus kvm-nested when kvm cannot run here"
	                                        : "");
	for (size_t i = 0; i < backend_count(); i++) {
		const struct backend *e = backend_at(i);
		bool ok;

		if (!(e->suites & bit))
			continue;
		ok = backend_available(e, bit, nested, why, sizeof(why));
		printf("  %-14s %s\n  %-14s this host: %s%s%s\n", e->name, e->label, "",
		       ok ? "yes" : "no", ok ? "" : ": ", why);
	}
	return STATUS_OK;
}

/* One column; progress on stderr. */
static enum nb_outcome run_column(const char *b, const struct nb_runner *r,
                                  const struct nb_method *m, struct nb_column *col)
{
	const struct backend *e = backend_find(b);
	enum nb_outcome res = NB_MEASURED;
	char why[256];

	fprintf(stderr, "bench: %s ...\n", b);
	if (!strcmp(b, "native")) {
		nb_native(col, m);
	} else if (!strcmp(b, "native-signal")) {
		nb_native_signal(col, m);
	} else if (e->engine == &kvm_engine_ops && !host_can(b, r->nested, why, sizeof(why))) {
		/* kvm's probe is cheap here; bt's and qemu's answer comes from their run */
		memset(col, 0, sizeof(*col));
		snprintf(col->name, sizeof(col->name), "%s", b);
		snprintf(col->label, sizeof(col->label), "%s", e->label);
		snprintf(col->reason, sizeof(col->reason), "%.190s", why);
		col->hw_timing = e->hw_timing;
		col->load_before = col->load_after = NAN;
		res = NB_CANNOT;
	} else {
		res = nb_run_backend(r, b, col);
	}
	if (!col->available)
		fprintf(stderr, "bench: %s %s: %s\n", b,
		        res == NB_FAILED ? "failed" : "unavailable", col->reason);
	return res;
}

/* The exit status: every requested column measured, some failed, or nothing measured. */
static int verdict(const struct nb_run *run, const enum nb_outcome *res, bool strict)
{
	int measured = 0, bad = 0;

	for (int i = 0; i < run->ncols; i++) {
		bool some = false;

		for (int b = 0; b < NB_NR; b++)
			some |= nb_stats(&run->col[i].cell[b], NULL, NULL, NULL);
		measured += res[i] == NB_MEASURED && some; /* not just n/a and skipped rows */
		bad += res[i] == NB_FAILED || (strict && res[i] == NB_CANNOT);
	}
	if (!measured) {
		fprintf(stderr, "tandem: bench: nothing was measured\n");
		return BENCH_NOTHING;
	}
	if (bad) {
		fprintf(stderr, "tandem: bench: %d requested column%s not measured (see above)\n",
		        bad, bad > 1 ? "s" : "");
		return BENCH_PARTIAL;
	}
	return STATUS_OK;
}

static int measure(const struct bench_opts *o, const char *tandem, const char *guest,
                   const char *nested)
{
	enum nb_outcome res[NB_MAX_COLS];
	char list[256], *tok, *save, backends[256];
	struct nb_runner r;
	struct nb_method m;
	struct nb_run *run;
	int ret;

	run = calloc(1, sizeof(*run));
	if (!run)
		return STATUS_HOST;
	bench_host_info(run, guest);
	method_from(o, &m);
	r = (struct nb_runner){tandem, guest, nested, o->timeout, "", o->pin, o->warmup};
	snprintf(r.cmdline, sizeof(r.cmdline), "repeat=%d mincycles=%llu%s%.180s",
	         o->repeat + o->warmup, o->mincycles, o->tests[0] ? " tests=" : "", o->tests);
	/* Where the host's KVM cannot run the guest, the default also runs it nested. */
	if (o->backends_given)
		snprintf(backends, sizeof(backends), "%s", o->backends);
	else
		backend_default_set(SUITE_NANO, true, nested, backends, sizeof(backends));
	snprintf(list, sizeof(list), "%s", backends);
	for (tok = strtok_r(list, ",", &save); tok && run->ncols < NB_MAX_COLS;
	     tok = strtok_r(NULL, ",", &save)) {
		res[run->ncols] = run_column(tok, &r, &m, &run->col[run->ncols]);
		bench_stamp(&run->col[run->ncols], run);
		run->ncols++;
	}
	ret = bench_output(run, o->format, "native", o->out, "bench");
	if (!ret)
		ret = verdict(run, res, o->backends_given);
	free(run);
	return ret;
}

/* The value of --suite (--suite NAME or --suite=NAME), or NULL. */
static const char *suite_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--suite") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--suite=", 8))
			return argv[i] + 8;
	}
	return NULL;
}

int cmd_bench(int argc, char **argv)
{
	char guest[PATH_MAX], tandem[PATH_MAX], nested[PATH_MAX], why[PATH_MAX + 64];
	const char *suite = suite_arg(argc, argv);
	struct bench_opts o;
	int ret;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--list")) /* every suite's: its manifest and engines */
			return bench_paths(tandem, guest, nested, sizeof(guest))
			           ? STATUS_HOST
			           : list(suite ? suite : "nano", nested);
	if (suite && !strcmp(suite, "macro"))
		return bench_suite_macro(argc, argv);
	if (suite && !strcmp(suite, "linux"))
		return bench_linux(argc, argv);
	ret = parse_bench_args(argc, argv, &o);
	if (ret)
		return ret;
	if (o.help)
		return cli_help(stdout, "bench");
	if (bench_paths(tandem, guest, nested, sizeof(guest)))
		return STATUS_HOST;
	if (o.guest)
		snprintf(guest, sizeof(guest), "%s", o.guest);
	if (bench_check_guest(guest, why, sizeof(why)))
		return fprintf(stderr, "tandem: bench: %s\n", why), STATUS_LOAD;
	if (o.out && bench_check_out("--out", o.out, why, sizeof(why)))
		return usage_error("%s", why);
	if (nb_sig_install())
		return fprintf(stderr, "tandem: bench: sigaction: %s\n", strerror(errno)),
		       STATUS_HOST;
	return measure(&o, tandem, guest, nested);
}
