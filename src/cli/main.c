/* main.c: the tandem command line: run | info | bench | report, help and --version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backends.h"
#include "bench_common.h"
#include "cli.h"
#include "engine.h"
#include "hostcaps.h"
#include "status.h"
#include "version.h"

static void help_run(FILE *f)
{
	char names[256];

	fprintf(
	    f,
	    "  run [options] KERNEL       boot a kernel on an engine: a Multiboot ELF32, or a\n"
	    "                             Linux bzImage (32-bit boot protocol)\n"
	    "      --kernel FILE          the kernel, as QEMU spells it (instead of KERNEL)\n"
	    "      --initrd FILE          Linux: the initial RAM disk; Multiboot: a module\n"
	    "      --backend NAME         %s (default bt); bt-noadapt is bt\n"
	    "                             --no-adaptive; qemu runs qemu-system-i386 -accel tcg\n"
	    "                             (the reference; its exit status is QEMU's own)\n"
	    "      --mem SIZE             guest RAM, e.g. 64M, 1G (default 64M)\n"
	    "      --cpu MODEL            the virtual CPU: p6 (default, a Pentium II) or max\n"
	    "      --timeout SECS         stop the guest after SECS seconds (status 8)\n"
	    "      --stats                print exit and engine counters to stderr\n"
	    "      --serial FILE          write COM1 output to FILE instead of stdout (QEMU's\n"
	    "                             file:FILE and stdio are understood too)\n"
	    "      --cmdline STRING       the kernel command line (Multiboot; --append too)\n"
	    "      --module FILE[,ARGS]   a Multiboot module (repeatable, up to 16); the guest\n"
	    "                             sees the string \"FILE ARGS\", as from QEMU's -initrd\n"
	    "      -v, --verbose          more log output (repeat for debug)\n",
	    backend_names(0, ", ", names, sizeof(names)));
	/* each engine's own options (engine_ops.options) */
	for (size_t i = 0; backend_engine_at(i); i++)
		for (const struct engine_option *o = backend_engine_at(i)->options; o && o->name;
		     o++)
			fprintf(f, "      %-22s %s: %s\n", o->usage, backend_engine_at(i)->name,
			        o->help);
	fputs("    exit status: a guest that writes V to port 0xf4 (isa-debug-exit) makes tandem\n"
	      "    exit with (V << 1) | 1, as QEMU does; tandem's own are even:\n",
	      f);
#define X(name, val, desc) fprintf(f, "      %3d  %s\n", val, desc);
	TANDEM_STATUSES(X)
#undef X
}

static void help_info(FILE *f)
{
	fputs(
	    "  info                       the host: CPU, TSC rate, capabilities (and how each was\n"
	    "                             established), what each engine can run\n"
	    "      --cap NAME             print yes (status 0) or no (status 1) for one "
	    "capability:\n"
	    "                             fsgsbase, ia32, kvm, nested, qemu-user\n"
	    "    exit status: 0; 1 (--cap: no); 2 bad command line\n",
	    f);
}

static void help_bench(FILE *f)
{
	char names[256], defaults[256];

	fputs("  bench [options]            the nano-benchmark matrix on every engine this host "
	      "runs\n"
	      "      --suite NAME           nano (default) or linux (below)\n",
	      f);
	fprintf(f, "      --backends LIST        %s\n",
	        backend_names(SUITE_NANO, ",", names, sizeof(names)));
	fprintf(f, "      --tests LIST           %s\n",
	        nb_row_names(nb_suite_find("nano"), ",", names, sizeof(names)));
	fputs(
	    "      --repeat N             samples per benchmark, 1..31 (default 5)\n"
	    "      --warmup N             samples taken first and dropped (repeat + warmup <= 31)\n"
	    "      --mincycles N          a sample spans at least N cycles, 1000..2^40 (default "
	    "2^26)\n"
	    "      --pin CPU              run every engine and the host analogs on CPU\n"
	    "      --format FMT           table, md, csv or json (default table)\n"
	    "      --out FILE             write the output to FILE (checked before measuring)\n"
	    "      --guest ELF            the nanobench guest (default: the built or installed "
	    "one)\n"
	    "      --timeout SECS         per engine run (default 300)\n"
	    "      --list [--suite S]     the suite's rows (its manifest) and engines, what this "
	    "host runs\n"
	    "      --suite NAME           nano (default) or macro: minios's forkwait, pipe\n"
	    "                             ping-pong, pagetouch, compute (--suite macro --help)\n"
	    "    exit status: 0 every requested column measured (in the default set, an engine\n"
	    "    this host cannot run is reported, not an error); 2 bad command line or --out\n"
	    "    not writable; 4 the guest is not an ELF32 i386 file; 16 host failure;\n",
	    f);
#define X(name, val, desc) fprintf(f, "    %d %s;\n", val, desc);
	BENCH_STATUSES(X)
#undef X
	fputs(
	    "    130/143 interrupted by SIGINT/SIGTERM (children ended, temporary files removed)\n",
	    f);
	fputs(
	    "  bench --suite linux [options]  the paper's macro workloads inside Debian's i386 "
	    "Linux\n"
	    "                             (scripts/linux-guest.sh fetches and caches it), one boot "
	    "per\n"
	    "                             engine, timed by the host's clock at the workloads' "
	    "start\n"
	    "                             and end lines; native runs the same i386 programs on the "
	    "host\n",
	    f);
	fprintf(f, "      --backends LIST        %s (default); all: %s\n",
	        backend_defaults(SUITE_LINUX, defaults, sizeof(defaults)),
	        backend_names(SUITE_LINUX, ",", names, sizeof(names)));
	fprintf(f, "      --tests LIST           %s (default: all, in this order)\n",
	        nb_row_names(nb_suite_find("linux"), ",", names, sizeof(names)));
	fputs(
	    "      --n N                  1..1000000 (default 100): forkwait N processes, getppid "
	    "100*N\n"
	    "                             calls, pipe 10*N round trips, compute (N+49)/50 passes\n"
	    "      --repeat N             runs of each workload in the boot, the samples, 1..31 "
	    "(default 3)\n"
	    "      --timeout SECS         per engine (default 1800); --pin, --format, --out as "
	    "above\n"
	    "    exit status as above; 14 no Linux guest on this host (the download failed: the "
	    "reason)\n",
	    f);
}

static void help_backends(FILE *f)
{
	fputs(
	    "  backends [options]         the backend registry: one line per backend: name, kind\n"
	    "                             (engine, nested, qemu, native), run (a `run --backend`\n"
	    "                             value) or -, its bench suites, and whether this host\n"
	    "                             can run it (yes, or no: the reason)\n"
	    "      --suite NAME           only nano, macro, linux or compute's backends (and\n"
	    "                             availability for that suite)\n"
	    "      --available            only the ones this host can run\n"
	    "      --names                names only, one per line (for scripts)\n"
	    "    exit status: 0; 2 bad command line; 16 host failure\n",
	    f);
}

static void help_report(FILE *f)
{
	fputs(
	    "  report FILE.json... [options]  merge results (any number of files and hosts), "
	    "print, plot\n"
	    "      --baseline COL         the column ratios are taken against (default native)\n"
	    "      --format FMT           table, md, csv or json (default table)\n"
	    "      --out FILE             write the output to FILE\n"
	    "      --plot FILE            the figure: .svg, .pdf or .png (log scale, like Fig. 4)\n"
	    "      --plot-format FMT      svg, pdf or png, whatever FILE's extension\n"
	    "      --plot-columns LIST    the columns drawn (default native,bt,kvm; e.g. add "
	    "qemu)\n"
	    "    exit status: 0; 2 bad command line (an unknown --baseline, an unwritable --out\n"
	    "    or --plot); 4 a results file cannot be read; 16 host failure\n",
	    f);
}

static const struct {
	const char *name;
	void (*help)(FILE *f);
} commands[] = {
    {"run", help_run},       {"info", help_info},         {"bench", help_bench},
    {"report", help_report}, {"backends", help_backends},
};

static void print_help(FILE *f)
{
	fputs("usage: tandem <command> [options]\n\ncommands:\n", f);
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		commands[i].help(f);
	fputs("  help [CMD], CMD --help     this text, or one command's\n"
	      "  --version                  tandem's version (git describe)\n"
	      "\n"
	      "environment: TANDEM_HOST_MASK=cap,... (or all) makes tandem treat those host\n"
	      "capabilities as absent, to exercise every path on one machine\n",
	      f);
}

int cli_help(FILE *f, const char *cmd)
{
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, cmd)) {
			fprintf(f, "usage: tandem %s ...\n\n", cmd);
			commands[i].help(f);
			return STATUS_OK;
		}
	return usage_error("help: unknown command '%s'", cmd);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = bench_vusage(fmt, ap);
	va_end(ap);
	return ret;
}

static bool is_help(const char *s)
{
	return s && (!strcmp(s, "--help") || !strcmp(s, "-h"));
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	char why[256];

	if (host_mask_check(why, sizeof(why)))
		return usage_error("%s", why);
	if (!cmd)
		return usage_error("no command given");
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("tandem %s\n", TANDEM_VERSION);
		return STATUS_OK;
	}
	if (!strcmp(cmd, "help") || is_help(cmd)) {
		if (argc > 3)
			return usage_error("help: one command at most");
		if (argc == 3)
			return cli_help(stdout, argv[2]);
		print_help(stdout);
		return STATUS_OK;
	}
	if (argc > 2 && is_help(argv[2]))
		return cli_help(stdout, cmd);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "backends"))
		return cmd_backends(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
