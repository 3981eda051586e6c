/*
 * suite_macro.c: `tandem bench --suite macro`: each workload of minios (bench/macro/guest) in its
 * own run of each engine (a child process under a deadline, as the nano suite runs
 * its guest), the result lines compared across engines, bt's --stats counts kept per
 * workload, and the host's analogs as the native column.
 */
#include "suite_macro.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_signal.h"
#include "runner.h"
#include "status.h"

const char *const macro_names[MW_NR] = {
#define X(n, paper, dn, per, an, anote, d) #n,
    MACRO_ROWS(X)
#undef X
};
const char *const macro_descs[MW_NR] = {
#define X(n, paper, dn, per, an, anote, d) d,
    MACRO_ROWS(X)
#undef X
};
const uint32_t macro_default_n[MW_NR] = {
#define X(n, paper, dn, per, an, anote, d) dn,
    MACRO_ROWS(X)
#undef X
};
const char *const macro_papers[MW_NR] = {
#define X(n, paper, dn, per, an, anote, d) paper,
    MACRO_ROWS(X)
#undef X
};

/* The `tandem run --stats` counters kept per workload under bt. */
static const char *const stat_keys[] = {"blocks",         "hidden_faults", "tc_flushes",
                                        "shadow_flushes", "callout.movcr", "true_faults",
                                        "trace_faults"};

struct macro_opts {
	char backends[128], tests[128];
	uint32_t n; /* 0: each workload's default */
	int repeat, format, pin;
	double timeout;
	const char *out, *guest;
	bool help, backends_given;
};

/* The workloads as "forkwait,pingpong,..." into buf. */
static const char *work_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int w = 0; w < MW_NR && used < len; w++)
		used +=
		    (size_t)snprintf(buf + used, len - used, "%s%s", w ? "," : "", macro_names[w]);
	return buf;
}

static long long parse_int(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

#define MACRO_OPTIONS "suite,backends,tests,n,repeat,format,out,guest,timeout,pin,help"

static int parse(int argc, char **argv, struct macro_opts *o)
{
	struct option opts[BENCH_MAX_OPTS];
	char known[256];
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	backend_defaults(SUITE_MACRO, o->backends, sizeof(o->backends));
	o->repeat = 3;
	o->pin = -1;
	o->timeout = 600;
	optind = 1;
	opterr = 0;
	bench_options(MACRO_OPTIONS, opts);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case BOPT_SUITE:
			break; /* cmd_bench chose us */
		case BOPT_BACKENDS:
			if (bench_check_list("--backends", optarg,
			                     backend_names(SUITE_MACRO, ",", known, sizeof(known))))
				return STATUS_USAGE;
			snprintf(o->backends, sizeof(o->backends), "%s", optarg);
			o->backends_given = true;
			break;
		case BOPT_TESTS:
			if (bench_check_list("--tests", optarg, work_names(known, sizeof(known))))
				return STATUS_USAGE;
			snprintf(o->tests, sizeof(o->tests), "%s", optarg);
			break;
		case BOPT_N:
			if ((v = parse_int(optarg, 1, 1000000)) < 0)
				return bench_usage("--n %s: want 1..1000000", optarg);
			o->n = (uint32_t)v;
			break;
		case BOPT_REPEAT:
			if ((v = parse_int(optarg, 1, MACRO_MAX_REPEAT)) < 0)
				return bench_usage(
				    "--repeat %s: want 1..%d (minios keeps %d samples)", optarg,
				    MACRO_MAX_REPEAT, MACRO_MAX_REPEAT);
			o->repeat = (int)v;
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
		case BOPT_TIMEOUT: {
			char *end;

			o->timeout = strtod(optarg, &end);
			if (end == optarg || *end || !(o->timeout > 0) || o->timeout > 86400)
				return bench_usage("--timeout %s: want seconds, 0 < SECS <= 86400",
				                   optarg);
			break;
		}
		case BOPT_PIN:
			if ((v = parse_int(optarg, 0, 1023)) < 0)
				return bench_usage("--pin %s: want a CPU number 0..1023", optarg);
			o->pin = (int)v;
			break;
		case BOPT_HELP:
			o->help = true;
			break;
		case ':':
			return bench_usage("option %s needs a value", argv[optind - 1]);
		default:
			return bench_usage("unknown option '%s' for --suite macro",
			                   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage("bench: unexpected argument '%s'", argv[optind]);
	return STATUS_OK;
}

int macro_parse_guest(const char *text, int w, struct macro_cell *c)
{
	const char *name = macro_names[w];
	size_t nl = strlen(name);
	bool got_res = false, got_time = false;
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[512], samples[400];
		unsigned ops, sw;
		unsigned long long med;

		snprintf(line, sizeof(line), "%.*s",
		         (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		line[strcspn(line, "\r")] = '\0';
		if (!strncmp(line, "minios: ", 8) && !strncmp(line + 8, name, nl) &&
		    line[8 + nl] == ' ') {
			snprintf(c->result, sizeof(c->result), "%.159s", line + 8);
			got_res = !strstr(line, "FAIL");
		} else if (!strncmp(line, "minios-time: ", 13) && !strncmp(line + 13, name, nl) &&
		           sscanf(line + 13 + nl,
		                  " ops=%u cycles_per_op=%llu samples=%399s switches=%u", &ops,
		                  &med, samples, &sw) == 4) {
			char *tok, *save = NULL;

			c->ops = ops;
			c->switches = sw;
			c->c.nsamples = 0;
			for (tok = strtok_r(samples, ",", &save);
			     tok && c->c.nsamples < NB_MAX_SAMPLES;
			     tok = strtok_r(NULL, ",", &save))
				c->c.samples[c->c.nsamples++] = strtod(tok, NULL);
			got_time = c->c.nsamples > 0;
		}
	}
	c->c.present = got_res && got_time;
	c->c.iters = c->ops;
	return c->c.present ? 0 : -1;
}

/* bt's counters from `tandem run --stats` (stderr) into c->stats, "key=value ...". */
static void parse_stats(const char *err, struct macro_cell *c)
{
	size_t len = 0;

	c->stats[0] = '\0';
	for (unsigned k = 0; k < sizeof(stat_keys) / sizeof(stat_keys[0]); k++) {
		const char *p = err;
		size_t kl = strlen(stat_keys[k]);

		while ((p = strstr(p, stat_keys[k]))) {
			unsigned long long v;

			if ((p == err || p[-1] == ' ') && p[kl] == ' ' &&
			    sscanf(p + kl, "%llu", &v) == 1) {
				len +=
				    (size_t)snprintf(c->stats + len, sizeof(c->stats) - len,
				                     "%s%s=%llu", len ? " " : "", stat_keys[k], v);
				break;
			}
			p += kl;
		}
		if (len >= sizeof(c->stats))
			break;
	}
}

/* The first line of text that is not the nested rig's progress, "tandem: " dropped. */
static void first_line(const char *text, char *buf, size_t len)
{
	const char *p = text ? text : "";

	buf[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n && strncmp(p, "nested-kvm: booting", 19)) {
			if (!strncmp(p, "tandem: ", 8))
				p += 8, n -= 8;
			snprintf(buf, len, "%.*s", (int)n, p);
			return;
		}
		p += n + (p[n] == '\n');
	}
}

/* argv for one engine run of workload w. */
static void build_argv(const char *b, const char *tandem, const char *nested, const char *guest,
                       const char *cmdline, const char *tbuf, char **argv)
{
	const struct backend *e = backend_find(b);
	int n = nb_run_argv(e, tandem, nested, tbuf, argv);

	if (e->engine == &bt_engine_ops)
		argv[n++] = "--stats";
	/* "max" has PGE, as qemu-system-i386's default CPU does: minios then maps the
	 * kernel global on every engine (the p6 default lacks it). */
	if (e->kind != BACKEND_QEMU)
		argv[n++] = "--cpu", argv[n++] = "max";
	argv[n++] = "--cmdline", argv[n++] = (char *)cmdline;
	argv[n++] = (char *)guest;
	argv[n] = NULL;
}

/* One engine, every wanted workload (one guest run each). The nb_outcome of the column. */
static enum nb_outcome run_engine(const struct macro_opts *o, const struct macro_run *run,
                                  const char *b, const char *tandem, const char *nested,
                                  struct macro_col *col)
{
	char out[256], err[256], cmdline[96], tbuf[32], why[192], *argv[40];
	enum nb_outcome res = NB_MEASURED;
	uint64_t cpus = 0;

	if (nb_mktemp("out", out, sizeof(out)) || nb_mktemp("err", err, sizeof(err))) {
		snprintf(col->reason, sizeof(col->reason), "%s: cannot make temporary files: %s", b,
		         strerror(errno));
		col->available = false, col->failed = true;
		return NB_FAILED;
	}
	snprintf(tbuf, sizeof(tbuf), "%g", o->timeout);
	for (int w = 0; w < MW_NR && res == NB_MEASURED; w++) {
		struct macro_cell *c = &col->cell[w];
		bool timed_out;
		char *text, *etext;
		int st;

		if (!run->want[w])
			continue;
		fprintf(stderr, "bench: %s %s n=%u ...\n", b, macro_names[w], run->n[w]);
		snprintf(cmdline, sizeof(cmdline), "work=%s n=%u repeat=%d", macro_names[w],
		         run->n[w], run->repeat);
		build_argv(b, tandem, nested, run->info.guest, cmdline, tbuf, argv);
		st = nb_spawn(argv, out, err, o->timeout + 30, o->pin, &timed_out, &cpus);
		text = nb_slurp(out);
		etext = nb_slurp(err);
		first_line(etext, why, sizeof(why));
		c->n = run->n[w];
		if (timed_out) {
			snprintf(col->reason, sizeof(col->reason),
			         "%s: %s did not finish within %g s", b, macro_names[w],
			         o->timeout + 30);
			res = NB_FAILED;
		} else if (st == 127) {
			snprintf(col->reason, sizeof(col->reason),
			         "%s: cannot run %s (not installed?)", b, argv[0]);
			res = NB_CANNOT;
		} else if (st == STATUS_NOCAP || st == 77) {
			snprintf(col->reason, sizeof(col->reason), "%.190s", why[0] ? why : b);
			res = NB_CANNOT;
		} else if (st != 1 || !text || macro_parse_guest(text, w, c)) {
			snprintf(col->reason, sizeof(col->reason),
			         "%.120s: %s failed (exit status %d)", why[0] ? why : b,
			         macro_names[w], st);
			res = NB_FAILED;
		} else if (backend_find(b)->engine == &bt_engine_ops && etext) {
			parse_stats(etext, c);
		}
		free(text);
		free(etext);
	}
	unlink(out);
	unlink(err);
	nb_sig_untmp(out);
	nb_sig_untmp(err);
	for (int c = 0, k = 0; c < 64 && k < (int)sizeof(col->cpus) - 4; c++)
		if (cpus >> c & 1)
			k += snprintf(col->cpus + k, sizeof(col->cpus) - (size_t)k, "%s%d",
			              k ? "," : "", c);
	col->available = res == NB_MEASURED;
	col->failed = res == NB_FAILED;
	return res;
}

static const char *label_of(const char *b)
{
	return !strcmp(b, "native") ? "host process analogs (fork/exit/wait, pipes, fresh pages)"
	                            : nb_backend_label(b);
}

static int measure(const struct macro_opts *o, struct macro_run *run, const char *tandem,
                   const char *nested)
{
	enum nb_outcome res[MACRO_MAX_COLS];
	char list[128], *tok, *save;
	int measured = 0, bad = 0;

	/* As the nano suite: where kvm cannot run here, the default runs it nested too. */
	if (o->backends_given)
		snprintf(list, sizeof(list), "%s", o->backends);
	else
		backend_default_set(SUITE_MACRO, true, nested, list, sizeof(list));
	for (tok = strtok_r(list, ",", &save); tok && run->ncols < MACRO_MAX_COLS;
	     tok = strtok_r(NULL, ",", &save)) {
		struct macro_col *col = &run->col[run->ncols];

		memset(col, 0, sizeof(*col));
		snprintf(col->name, sizeof(col->name), "%s", tok);
		snprintf(col->label, sizeof(col->label), "%s", label_of(tok));
		col->load_before = nb_loadavg();
		if (!strcmp(tok, "native")) {
			fprintf(stderr, "bench: native ...\n");
			nb_pin(o->pin);
			for (int w = 0; w < MW_NR; w++)
				if (run->want[w])
					macro_native(w, run->n[w], run->repeat, &col->cell[w]);
			col->available = true;
			snprintf(col->cpus, sizeof(col->cpus), "%d", sched_getcpu());
			res[run->ncols] = NB_MEASURED;
		} else {
			res[run->ncols] = run_engine(o, run, tok, tandem, nested, col);
		}
		col->load_after = nb_loadavg();
		if (!col->available)
			fprintf(stderr, "bench: %s %s: %s\n", tok,
			        res[run->ncols] == NB_FAILED ? "failed" : "unavailable",
			        col->reason);
		measured += res[run->ncols] == NB_MEASURED;
		bad += res[run->ncols] == NB_FAILED ||
		       (res[run->ncols] == NB_CANNOT && o->backends_given);
		run->ncols++;
	}
	if (!measured)
		return fprintf(stderr, "tandem: bench: nothing was measured\n"), BENCH_NOTHING;
	if (bad)
		return fprintf(stderr,
		               "tandem: bench: %d requested column%s not measured (see above)\n",
		               bad, bad > 1 ? "s" : ""),
		       BENCH_PARTIAL;
	return STATUS_OK;
}

int bench_suite_macro(int argc, char **argv)
{
	char tandem[PATH_MAX], nano[PATH_MAX], nested[PATH_MAX], why[PATH_MAX + 64], guest[256];
	struct macro_opts o;
	struct macro_run *run;
	int ret, wret;
	FILE *f = stdout;

	if ((ret = parse(argc, argv, &o)))
		return ret;
	if (o.help) {
		printf("tandem bench --suite macro [--backends %s] [--tests W,...] [--n N]\n"
		       "    [--repeat 1..%d] [--format table|md|csv|json] [--out FILE] [--timeout "
		       "S] [--pin CPU]\n"
		       "    [--guest minios.elf]\n",
		       backend_defaults(SUITE_MACRO, guest, sizeof(guest)), MACRO_MAX_REPEAT);
		for (int w = 0; w < MW_NR; w++)
			printf("  %-10s n=%-4u %s\n", macro_names[w], macro_default_n[w],
			       macro_descs[w]);
		return STATUS_OK;
	}
	if (bench_paths(tandem, nano, nested, sizeof(tandem)))
		return STATUS_HOST;
	run = calloc(1, sizeof(*run));
	if (!run)
		return STATUS_HOST;
	if (o.guest)
		snprintf(guest, sizeof(guest), "%s", o.guest);
	else if (bench_data_path("guests/minios.elf", true, guest, sizeof(guest)))
		return free(run), STATUS_HOST;
	if (bench_check_guest(guest, why, sizeof(why)))
		return fprintf(stderr, "tandem: bench: %s\n", why), free(run), STATUS_LOAD;
	if (o.out && bench_check_out("--out", o.out, why, sizeof(why)))
		return bench_usage("%s", why), free(run), STATUS_USAGE;
	if (nb_sig_install())
		return fprintf(stderr, "tandem: bench: sigaction: %s\n", strerror(errno)),
		       free(run), STATUS_HOST;
	bench_host_info(&run->info, guest);
	run->repeat = o.repeat;
	for (int w = 0; w < MW_NR; w++) {
		run->want[w] = !o.tests[0] || strstr_list(o.tests, macro_names[w]);
		run->n[w] = o.n ? o.n : macro_default_n[w];
	}
	ret = measure(&o, run, tandem, nested);
	if (o.out && !(f = fopen(o.out, "w")))
		return fprintf(stderr, "tandem: bench: --out %s: %s\n", o.out, strerror(errno)),
		       free(run), STATUS_USAGE;
	if (o.format == NB_FMT_JSON)
		macro_write_json(f, run);
	else
		macro_report(f, run, o.format);
	wret = f != stdout ? fclose(f) : fflush(f);
	if (wret)
		return fprintf(stderr, "tandem: bench: writing the results failed\n"), free(run),
		       STATUS_HOST;
	if (o.out)
		fprintf(stderr, "bench: wrote %s\n", o.out);
	free(run);
	return ret;
}
