/* main.c: the tandem command line: run | info, and help. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "hostcaps.h"
#include "status.h"

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: tandem <command> [options]\n"
		"\n"
		"commands:\n"
		"  run [options] KERNEL       boot a kernel on an engine: a Multiboot ELF32, or a\n"
		"                             Linux bzImage (32-bit boot protocol)\n"
		"      --kernel FILE          the kernel, as QEMU spells it (instead of KERNEL)\n"
		"      --initrd FILE          Linux: the initial RAM disk; Multiboot: a module\n"
		"      --backend NAME         engine: %s (default bt)\n"
		"      --mem SIZE             guest RAM, e.g. 64M, 1G (default 64M)\n"
		"      --cpu MODEL            the virtual CPU: p6 (default, a Pentium II) or max\n"
		"      --timeout SECS         stop the guest after SECS seconds (status 8)\n"
		"      --stats                print exit and engine counters to stderr\n"
		"      --serial FILE          write COM1 output to FILE instead of stdout\n"
		"      --cmdline STRING       the kernel command line (Multiboot; --append too)\n"
		"      --module FILE[,ARGS]   a Multiboot module (repeatable, up to 16); the guest\n"
		"                             sees the string \"FILE ARGS\", as from QEMU's -initrd\n"
		"      --trace=tc             bt: list each new translation (guest and host code)\n"
		"      --trace=adapt          bt: log each adaptive retranslation (EIP, instruction)\n"
		"      --no-adaptive          bt: never retranslate instructions that fault\n"
		"      -v, --verbose          more log output (repeat for debug)\n"
		"  info                       the host: CPU, TSC rate, capabilities (and how each was\n"
		"                             established), what each engine can run\n"
		"      --cap NAME             print yes (status 0) or no (status 1) for one capability:\n"
		"                             fsgsbase, ia32, kvm, nested, qemu-user\n"
		"  bench [options]            the nano-benchmark matrix on every engine this host runs\n"
		"      --backends LIST        bt,bt-noadapt,kvm,kvm-nested,native,native-signal,qemu\n"
		"      --tests LIST           syscall,sysenter,in,cr8wr,callret,pgfault,divzero,ptemod\n"
		"      --repeat N             samples per benchmark (default 5)\n"
		"      --mincycles N          a sample spans at least N cycles (default 2^26)\n"
		"      --format FMT           table, md, csv or json (default table)\n"
		"      --out FILE             write the output to FILE\n"
		"      --guest ELF            the nanobench guest (default: next to tandem)\n"
		"      --timeout SECS         per engine run (default 300)\n"
		"  report FILE.json... [--baseline COL] [--format FMT] [--out FILE] [--plot OUT.svg]\n"
		"                             merge results (several hosts), print, plot (log scale)\n"
		"  help, --help               this text\n"
		"\n"
		"environment: TANDEM_HOST_MASK=cap,... (or all) makes tandem treat those host\n"
		"capabilities as absent, to exercise every path on one machine\n"
		"\n"
		"exit status of `run`: a guest that writes V to port 0xf4 (isa-debug-exit)\n"
		"makes tandem exit with (V << 1) | 1, as QEMU does; tandem's own are even:\n",
		engine_names());
#define X(name, val, desc) fprintf(f, "  %3d  %s\n", val, desc);
	TANDEM_STATUSES(X)
#undef X
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tandem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see tandem --help)\n", stderr);
	return STATUS_USAGE;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	char why[256];

	if (host_mask_check(why, sizeof(why)))
		return usage_error("%s", why);
	if (!cmd)
		return usage_error("no command given");
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		print_help(stdout);
		return STATUS_OK;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
