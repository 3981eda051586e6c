/* cmd_run.c: `tandem run`: parse options, build the machine, run the guest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "cli.h"
#include "engine.h"
#include "log.h"
#include "monitor.h"
#include "status.h"

enum {
	OPT_BACKEND = 256,
	OPT_MEM,
	OPT_TIMEOUT,
	OPT_STATS,
	OPT_SERIAL,
	OPT_CMDLINE,
	OPT_MODULE,
	OPT_CPU,
	OPT_KERNEL,
	OPT_INITRD
};

/* The generic options; each engine's own follow (engine_ops.options, see build_options). */
static const struct option run_options[] = {
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"mem", required_argument, NULL, OPT_MEM},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"stats", no_argument, NULL, OPT_STATS},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"append", required_argument, NULL, OPT_CMDLINE}, /* QEMU's spelling */
    {"module", required_argument, NULL, OPT_MODULE},
    {"cpu", required_argument, NULL, OPT_CPU},
    {"kernel", required_argument, NULL, OPT_KERNEL}, /* QEMU's spellings */
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

#define GENERIC_OPTS (sizeof(run_options) / sizeof(run_options[0]) - 1)
#define MAX_ENGINE_OPTS 32
#define ENGINE_OPT_BASE 1024 /* getopt value of engine option i: ENGINE_OPT_BASE + i */

/* An engine's own option, and whose. */
struct engine_opt {
	const struct engine_ops *engine;
	const struct engine_option *opt;
};

/*
 * The getopt table into out: run_options, then every engine's own options (the
 * registry's engines), recorded in eo. The number of engine options.
 */
static int build_options(struct option *out, struct engine_opt *eo)
{
	const struct engine_ops *e;
	int n = 0;

	memcpy(out, run_options, GENERIC_OPTS * sizeof(*out));
	for (size_t i = 0; (e = backend_engine_at(i)); i++)
		for (const struct engine_option *p = e->options; p && p->name; p++) {
			if (n == MAX_ENGINE_OPTS)
				die_status(STATUS_HOST, "run: more than %d engine options",
				           MAX_ENGINE_OPTS);
			eo[n] = (struct engine_opt){e, p};
			out[GENERIC_OPTS + (size_t)n] =
			    (struct option){p->name, p->has_arg ? required_argument : no_argument,
			                    NULL, ENGINE_OPT_BASE + n};
			n++;
		}
	out[GENERIC_OPTS + (size_t)n] = (struct option){NULL, 0, NULL, 0};
	return n;
}

/* "64M", "1G", "65536K", or a bare number of MiB. Returns 0 or -EINVAL. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t shift = 20;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end && strcmp(end, "iB") && strcmp(end, "B"))
		return -EINVAL;
	if (v > (1ULL << 40) >> shift)
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/*
 * --module FILE[,CMDLINE]: the string the guest sees is "FILE CMDLINE", as QEMU writes
 * it; --initrd FILE (split 0): the file alone (a Linux kernel's initrd, or a module).
 */
static int add_module(struct monitor_opts *o, const char *arg, int split)
{
	static struct loader_module mods[LOADER_MAX_MODULES];
	static char text[LOADER_MAX_MODULES][4096];
	char *comma;

	if (o->nmodules >= LOADER_MAX_MODULES)
		return usage_error("--module: at most %d modules", LOADER_MAX_MODULES);
	if (!*arg || strlen(arg) >= sizeof(text[0]))
		return usage_error("--module '%.40s': want FILE[,CMDLINE] (under 4096 bytes)", arg);
	snprintf(text[o->nmodules], sizeof(text[0]), "%s", arg);
	comma = split ? strchr(text[o->nmodules], ',') : NULL;
	if (comma)
		*comma++ = '\0';
	mods[o->nmodules] = (struct loader_module){text[o->nmodules], comma};
	o->modules = mods;
	o->nmodules++;
	return 0;
}

/* Engine option eo given as argv's word w with value arg into o; *first: the first one given. */
static int engine_option(const struct engine_opt *eo, const char *arg, struct monitor_opts *o,
                         const struct engine_opt **first)
{
	char why[160];

	if (eo->opt->set(o, arg, why, sizeof(why)))
		return usage_error("%s", why);
	if (!*first)
		*first = eo;
	return 0;
}

static int parse_run_args(int argc, char **argv, struct monitor_opts *o, bool *qemu)
{
	static struct option options[GENERIC_OPTS + MAX_ENGINE_OPTS + 1];
	static struct engine_opt eo[MAX_ENGINE_OPTS];
	const struct engine_opt *given = NULL;
	const char *backend = "bt";
	int c, neo = build_options(options, eo);

	memset(o, 0, sizeof(*o));
	o->engine = &bt_engine_ops; /* runs on any x86-64 Linux */
	o->mem = VM_DEFAULT_MEM;
	o->cmdline = "";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v", options, NULL)) != -1) {
		char *end;

		switch (c) {
		case OPT_BACKEND: {
			/* Any `run` row of the registry (backends.c): an engine with the options
			 * it implies, or qemu, the reference. */
			const struct backend *b = backend_find(optarg);
			char names[256];

			if (!b || !b->runs_guest)
				return usage_error("unknown backend '%s' (choose from %s)", optarg,
				                   backend_names(0, ", ", names, sizeof(names)));
			*qemu = b->kind == BACKEND_QEMU;
			backend = b->name;
			if (b->engine)
				o->engine = b->engine;
			o->no_adaptive |= b->no_adaptive;
			break;
		}
		case OPT_MEM:
			if (parse_size(optarg, &o->mem) || o->mem < VM_MIN_MEM ||
			    o->mem > VM_MAX_MEM || (o->mem & 0xfff))
				return usage_error(
				    "--mem %s: want a size from 2M to 3G in 4K units", optarg);
			break;
		case OPT_TIMEOUT:
			errno = 0;
			o->timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->timeout > 0) || o->timeout > 1e6)
				return usage_error(
				    "--timeout %s: want a positive number of seconds", optarg);
			break;
		case OPT_STATS:
			o->stats = true;
			break;
		case OPT_SERIAL: /* FILE, or QEMU's spellings file:FILE and stdio */
			o->serial = !strcmp(optarg, "stdio")       ? NULL
			            : !strncmp(optarg, "file:", 5) ? optarg + 5
			                                           : optarg;
			if (o->serial && !*o->serial)
				return usage_error("--serial %s: want FILE, file:FILE or stdio",
				                   optarg);
			break;
		case OPT_CMDLINE:
			o->cmdline = optarg;
			break;
		case OPT_CPU:
			o->cpu = cpu_model_find(optarg);
			if (!o->cpu)
				return usage_error("--cpu %s: known models: %s", optarg,
				                   cpu_model_names());
			break;
		case OPT_MODULE:
			if (add_module(o, optarg, 1))
				return STATUS_USAGE;
			break;
		case OPT_INITRD:
			if (add_module(o, optarg, 0))
				return STATUS_USAGE;
			break;
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case 'v':
			if (log_threshold < LOG_DEBUG)
				log_threshold++;
			break;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			if (c >= ENGINE_OPT_BASE && c < ENGINE_OPT_BASE + neo) {
				if (engine_option(&eo[c - ENGINE_OPT_BASE], optarg, o, &given))
					return STATUS_USAGE;
				break;
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* An engine's own option with another engine's backend (qemu: run_qemu refuses it). */
	if (given && !*qemu && given->engine != o->engine)
		return usage_error("--%s is an option of engine %s, not of --backend %s",
		                   given->opt->name, given->engine->name, backend);
	if (o->kernel && optind < argc)
		return usage_error("run: one kernel only (--kernel and '%s')", argv[optind]);
	if (!o->kernel && optind >= argc)
		return usage_error("run: no kernel given");
	if (optind + 1 < argc)
		return usage_error("run: one kernel only (extra argument '%s')", argv[optind + 1]);
	if (!o->kernel)
		o->kernel = argv[optind];
	return STATUS_OK;
}

int cmd_run(int argc, char **argv)
{
	struct monitor_opts o;
	struct monitor *m;
	bool qemu = false;
	int ret;

	ret = parse_run_args(argc, argv, &o, &qemu);
	if (ret)
		return ret;
	if (qemu)
		return run_qemu(&o);
	m = calloc(1, sizeof(*m));
	if (!m)
		die_status(STATUS_HOST, "out of memory");
	ret = monitor_init(m, &o);
	if (ret == STATUS_OK)
		ret = monitor_run(m);
	monitor_destroy(m);
	free(m);
	return ret;
}
