/*
 * suite_linux.c: `tandem bench --suite linux`: options, the Linux guest from
 * scripts/linux-guest.sh, one column per engine, and the output through the nano
 * suite's table/JSON machinery with the paper's forkwait figures beside it.
 */
#include "suite_linux.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends.h"
#include "bench_common.h"
#include "bench_signal.h"
#include "cli.h"
#include "status.h"

#define MAX_N 1000000L
#define MAX_REPEAT 31
#define MAX_TIMEOUT 86400.0

#define LINUX_OPTIONS "suite,backends,tests,n,repeat,format,out,timeout,pin,help"

struct linux_opts {
	char backends[128];
	bool backends_given;
	char tests[128];
	long n;
	int repeat, format, pin;
	const char *out;
	double timeout;
	bool help;
};

static long whole(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

static int parse_pin(const char *s, int *pin)
{
	cpu_set_t set;
	long v = whole(s, 0, CPU_SETSIZE - 1);

	if (v < 0)
		return usage_error("--pin %s: want a CPU number 0..%d", s, CPU_SETSIZE - 1);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET((int)v, &set))
		return usage_error("--pin %s: CPU %ld is not one this process may run on", s, v);
	*pin = (int)v;
	return 0;
}

static int parse_one(int c, const char *arg, struct linux_opts *o)
{
	char known[256];
	long v;
	char *end;

	switch (c) {
	case BOPT_SUITE:
		return strcmp(arg, "linux")
		           ? usage_error("--suite %s: this is the linux suite", arg)
		           : 0;
	case BOPT_BACKENDS:
		if (bench_check_list("--backends", arg,
		                     backend_names(SUITE_LINUX, ",", known, sizeof(known))))
			return STATUS_USAGE;
		snprintf(o->backends, sizeof(o->backends), "%s", arg);
		o->backends_given = true;
		return 0;
	case BOPT_TESTS:
		if (bench_check_list(
		        "--tests", arg,
		        nb_row_names(nb_suite_find("linux"), ",", known, sizeof(known))))
			return STATUS_USAGE;
		snprintf(o->tests, sizeof(o->tests), "%s", arg);
		return 0;
	case BOPT_N:
		if ((o->n = whole(arg, 1, MAX_N)) < 0)
			return usage_error(
			    "--n %s: want 1..%ld (forkwait processes; the other workloads scale "
			    "with it)",
			    arg, MAX_N);
		return 0;
	case BOPT_REPEAT:
		if ((v = whole(arg, 1, MAX_REPEAT)) < 0)
			return usage_error(
			    "--repeat %s: want 1..%d (runs of each workload in the one boot)", arg,
			    MAX_REPEAT);
		o->repeat = (int)v;
		return 0;
	case BOPT_FORMAT:
		return bench_opt_format(arg, &o->format);
	case BOPT_OUT:
		o->out = arg;
		return 0;
	case BOPT_PIN:
		return parse_pin(arg, &o->pin) ? STATUS_USAGE : 0;
	case BOPT_TIMEOUT:
		o->timeout = strtod(arg, &end);
		if (end == arg || *end || !(o->timeout > 0) || o->timeout > MAX_TIMEOUT)
			return usage_error("--timeout %s: want seconds, 0 < SECS <= %.0f", arg,
			                   MAX_TIMEOUT);
		return 0;
	default:
		return usage_error("--suite linux: option '%s' is not one of this suite's", arg);
	}
}

static int parse_args(int argc, char **argv, struct linux_opts *o)
{
	struct option opts[BENCH_MAX_OPTS];
	int c, ret;

	memset(o, 0, sizeof(*o));
	backend_defaults(SUITE_LINUX, o->backends, sizeof(o->backends));
	nb_row_names(nb_suite_find("linux"), ",", o->tests, sizeof(o->tests));
	o->n = 100;
	o->repeat = 3;
	o->pin = -1;
	o->format = NB_FMT_TABLE;
	o->timeout = 1800;
	optind = 1;
	opterr = 0;
	bench_options(LINUX_OPTIONS, opts);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == BOPT_HELP)
			o->help = true;
		else if (c == ':')
			return usage_error("option %s needs a value", argv[optind - 1]);
		else if (c == '?')
			return usage_error("--suite linux: unknown option '%s'", argv[optind - 1]);
		else if ((ret = parse_one(c, optarg, o)))
			return ret;
	}
	if (optind < argc)
		return usage_error("bench: unexpected argument '%s'", argv[optind]);
	return STATUS_OK;
}

/* "'s'" for sh -c; false when s holds a quote (no such path is expected). */
static bool quote(char *buf, size_t len, const char *s)
{
	return !strchr(s, '\'') && (size_t)snprintf(buf, len, "'%s'", s) < len;
}

/* When line starts with key: the rest into dst (cut to len - 1 bytes); true. */
static bool take(const char *line, const char *key, char *dst, size_t len)
{
	size_t k = strlen(key), n;

	if (strncmp(line, key, k))
		return false;
	n = strlen(line + k);
	n = n < len ? n : len - 1;
	memcpy(dst, line + k, n);
	dst[n] = '\0';
	return true;
}

/*
 * The Linux guest: scripts/linux-guest.sh (cached download, initramfs) run with
 * the directory tandem-work was built in. 0, or the status with why set:
 * STATUS_NOCAP when the download or build cannot happen on this host.
 */
static int prepare_guest(struct nb_linux_runner *r, char *why, size_t len)
{
	char script[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], cmd[3 * PATH_MAX], qs[PATH_MAX + 2],
	    qd[PATH_MAX + 2];
	char line[PATH_MAX + 16], last[256] = "";
	FILE *p;
	int st;

	if (bench_data_path("scripts/linux-guest.sh", false, script, sizeof(script)) ||
	    bench_data_path("bench/linux/guest/workloads.sh", false, r->script,
	                    sizeof(r->script)) ||
	    bench_data_path("guests/linux/tandem-work", true, r->work, sizeof(r->work)))
		return snprintf(why, len, "cannot find my own executable"), STATUS_HOST;
	snprintf(tmp, sizeof(tmp), "%s", r->work);
	snprintf(dir, sizeof(dir), "%s",
	         dirname(dirname(dirname(tmp)))); /* <build>/guests/linux/x */
	if (!quote(qs, sizeof(qs), script) || !quote(qd, sizeof(qd), dir))
		return snprintf(why, len, "a path with a quote: %s", dir), STATUS_HOST;
	snprintf(cmd, sizeof(cmd), "%s --build %s 2>&1", qs, qd);
	fprintf(stderr, "bench: preparing the Linux guest (%s) ...\n", script);
	p = popen(cmd, "r");
	if (!p)
		return snprintf(why, len, "cannot run %s: %s", script, strerror(errno)),
		       STATUS_HOST;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!take(line, "KERNEL=", r->kernel, sizeof(r->kernel)) &&
		    !take(line, "INITRD=", r->initrd, sizeof(r->initrd)) &&
		    !take(line, "BUSYBOX=", r->busybox, sizeof(r->busybox)) &&
		    !take(line, "DATA=", r->data, sizeof(r->data)) && line[0])
			take(line, "", last, sizeof(last));
	}
	st = pclose(p);
	st = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (st == 0 && r->kernel[0] && r->initrd[0] && r->busybox[0] && r->data[0])
		return 0;
	snprintf(why, len, "no Linux guest: %s", last[0] ? last : "scripts/linux-guest.sh failed");
	return st == 77 ? STATUS_NOCAP : STATUS_HOST;
}

/* The exit status, as the nano suite's: measured, partial, nothing. */
static int verdict(const struct nb_run *run, const enum nb_outcome *res, bool strict)
{
	int measured = 0, bad = 0;

	for (int i = 0; i < run->ncols; i++) {
		measured += res[i] == NB_MEASURED;
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

static int measure(const struct linux_opts *o, struct nb_linux_runner *r)
{
	enum nb_outcome res[NB_MAX_COLS];
	char list[128], *tok, *save;
	struct nb_run *run = calloc(1, sizeof(*run));
	int ret;

	if (!run)
		return STATUS_HOST;
	snprintf(run->suite, sizeof(run->suite), "linux");
	bench_host_info(run, r->initrd);
	snprintf(list, sizeof(list), "%s", o->backends);
	for (tok = strtok_r(list, ",", &save); tok && run->ncols < NB_MAX_COLS;
	     tok = strtok_r(NULL, ",", &save)) {
		struct nb_column *col = &run->col[run->ncols];

		fprintf(stderr, "bench: %s ...\n", tok);
		res[run->ncols] = nb_linux_column(r, tok, col);
		if (!col->available)
			fprintf(stderr, "bench: %s %s: %s\n", tok,
			        col->failed ? "failed" : "unavailable", col->reason);
		bench_stamp(col, run);
		run->ncols++;
	}
	ret = bench_output(run, o->format, "native", o->out, "bench");
	if (!ret)
		ret = verdict(run, res, o->backends_given);
	free(run);
	return ret;
}

int bench_linux(int argc, char **argv)
{
	char tandem[PATH_MAX], guest[PATH_MAX], nested[PATH_MAX], why[PATH_MAX + 64];
	struct nb_linux_runner r = {0};
	struct linux_opts o;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	if (o.help)
		return cli_help(stdout, "bench");
	if (o.out && bench_check_out("--out", o.out, why, sizeof(why)))
		return usage_error("%s", why);
	if (bench_paths(tandem, guest, nested, sizeof(tandem)))
		return STATUS_HOST;
	r.tandem = tandem;
	r.nested = nested;
	r.n = o.n;
	r.repeat = o.repeat;
	r.timeout = o.timeout;
	r.pin = o.pin;
	snprintf(r.workloads, sizeof(r.workloads), "%s", o.tests);
	ret = prepare_guest(&r, why, sizeof(why));
	if (ret)
		return fprintf(stderr, "tandem: bench: linux: %s\n", why), ret;
	if (nb_sig_install())
		return fprintf(stderr, "tandem: bench: sigaction: %s\n", strerror(errno)),
		       STATUS_HOST;
	return measure(&o, &r);
}
