/*
 * cmd_bench.c: `tandem bench`: the nano-benchmark matrix on every engine this
 * host can run (each in a child process), the host analogs, side by side in one
 * run; printed as a table (or md, csv, json) with the paper's figures.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "cli.h"
#include "engine.h"
#include "native.h"
#include "runner.h"
#include "status.h"

#define DEFAULT_BACKENDS "bt,bt-noadapt,kvm,native,native-signal,qemu"

enum { OPT_BACKENDS = 256, OPT_TESTS, OPT_REPEAT, OPT_MINCYCLES, OPT_FORMAT, OPT_OUT, OPT_GUEST,
       OPT_TIMEOUT };

static const struct option bench_options[] = {
	{ "backends", required_argument, NULL, OPT_BACKENDS },
	{ "tests", required_argument, NULL, OPT_TESTS },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "mincycles", required_argument, NULL, OPT_MINCYCLES },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "guest", required_argument, NULL, OPT_GUEST },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

struct bench_opts {
	char backends[256];
	char tests[256];
	int repeat;
	unsigned long long mincycles;
	int format;
	const char *out, *guest;
	double timeout;
};

static bool known_backend(const char *b)
{
	static const char *const all[] = { "bt", "bt-noadapt", "kvm", "kvm-nested", "native",
					   "native-signal", "qemu" };
	unsigned i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i], b))
			return true;
	return false;
}

static int parse_bench_args(int argc, char **argv, struct bench_opts *o)
{
	char *end, list[256], *tok, *save;
	int c;

	memset(o, 0, sizeof(*o));
	snprintf(o->backends, sizeof(o->backends), "%s", DEFAULT_BACKENDS);
	o->repeat = 5;
	o->mincycles = 1ULL << 26;
	o->format = NB_FMT_TABLE;
	o->timeout = 300;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", bench_options, NULL)) != -1) {
		switch (c) {
		case OPT_BACKENDS:
			snprintf(o->backends, sizeof(o->backends), "%s", optarg);
			snprintf(list, sizeof(list), "%s", optarg);
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!known_backend(tok))
					return usage_error("--backends: unknown backend '%s' (bt, bt-noadapt, "
							   "kvm, kvm-nested, native, native-signal, qemu)", tok);
			break;
		case OPT_TESTS:
			snprintf(o->tests, sizeof(o->tests), "%s", optarg);
			snprintf(list, sizeof(list), "%s", optarg);
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (nb_find(tok) < 0)
					return usage_error("--tests: unknown benchmark '%s'", tok);
			break;
		case OPT_REPEAT:
			o->repeat = (int)strtol(optarg, &end, 10);
			if (*end || o->repeat < 1 || o->repeat > 32)
				return usage_error("--repeat %s: want 1..32", optarg);
			break;
		case OPT_MINCYCLES:
			errno = 0;
			o->mincycles = strtoull(optarg, &end, 0);
			if (errno || *end || o->mincycles < 1000)
				return usage_error("--mincycles %s: want a number >= 1000", optarg);
			break;
		case OPT_FORMAT:
			o->format = nb_format_find(optarg);
			if (o->format < 0)
				return usage_error("--format %s: want table, md, csv or json", optarg);
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_GUEST:
			o->guest = optarg;
			break;
		case OPT_TIMEOUT:
			o->timeout = strtod(optarg, &end);
			if (*end || !(o->timeout > 0))
				return usage_error("--timeout %s: want seconds > 0", optarg);
			break;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bench: unexpected argument '%s'", argv[optind]);
	return STATUS_OK;
}

static void method_from(const struct bench_opts *o, struct nb_method *m)
{
	int b;

	m->mincycles = o->mincycles;
	m->maxiters = 1u << 22;
	m->repeat = o->repeat;
	for (b = 0; b < NB_NR; b++)
		m->want[b] = !o->tests[0] || strstr_list(o->tests, nb_names[b]);
}

/* One column; progress on stderr. */
static void run_column(const char *b, const struct nb_runner *r, const struct nb_method *m,
		       struct nb_column *col)
{
	char why[256];

	fprintf(stderr, "bench: %s ...\n", b);
	if (!strcmp(b, "native")) {
		nb_native(col, m);
	} else if (!strcmp(b, "native-signal")) {
		nb_native_signal(col, m);
	} else if (!strcmp(b, "kvm") && kvm_engine_ops.probe(why, sizeof(why))) {
		memset(col, 0, sizeof(*col));
		snprintf(col->name, sizeof(col->name), "kvm");
		snprintf(col->label, sizeof(col->label), "tandem KVM trap-and-emulate (hardware)");
		snprintf(col->reason, sizeof(col->reason), "%.190s", why);
	} else if (!strcmp(b, "kvm-nested") && access(r->nested, X_OK)) {
		memset(col, 0, sizeof(*col));
		snprintf(col->name, sizeof(col->name), "kvm-nested");
		snprintf(col->reason, sizeof(col->reason), "kvm-nested: %s not found", r->nested);
	} else {
		nb_run_backend(r, b, col);
	}
	if (!col->available)
		fprintf(stderr, "bench: %s unavailable: %s\n", b, col->reason);
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o;
	struct nb_runner r;
	struct nb_method m;
	struct nb_run *run;
	char list[256], *tok, *save, guest[PATH_MAX], tandem[PATH_MAX], nested[PATH_MAX];
	bool kvm_ok;
	int ret;

	ret = parse_bench_args(argc, argv, &o);
	if (ret)
		return ret;
	if (bench_paths(tandem, guest, nested, sizeof(guest)))
		return STATUS_HOST;
	if (o.guest)
		snprintf(guest, sizeof(guest), "%s", o.guest);
	if (access(guest, R_OK))
		return fprintf(stderr, "tandem: bench: guest %s: %s\n", guest, strerror(errno)), STATUS_LOAD;
	run = calloc(1, sizeof(*run));
	if (!run)
		return STATUS_HOST;
	bench_host_info(run, guest);
	method_from(&o, &m);
	r = (struct nb_runner){ tandem, guest, nested, o.timeout, "" };
	snprintf(r.cmdline, sizeof(r.cmdline), "repeat=%d mincycles=%llu%s%.180s", o.repeat, o.mincycles,
		 o.tests[0] ? " tests=" : "", o.tests);
	/* Where the host's KVM cannot run the guest, the default also runs it nested. */
	kvm_ok = kvm_engine_ops.probe(list, sizeof(list)) == 0;
	if (!strcmp(o.backends, DEFAULT_BACKENDS) && !kvm_ok && !access(nested, X_OK))
		snprintf(o.backends, sizeof(o.backends), "%s,kvm-nested", DEFAULT_BACKENDS);
	snprintf(list, sizeof(list), "%s", o.backends);
	for (tok = strtok_r(list, ",", &save); tok && run->ncols < NB_MAX_COLS;
	     tok = strtok_r(NULL, ",", &save))
		run_column(tok, &r, &m, &run->col[run->ncols++]);
	ret = bench_output(run, o.format, "native", o.out);
	free(run);
	return ret;
}
