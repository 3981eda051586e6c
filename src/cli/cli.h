/* cli.h: the tandem subcommands. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <stdio.h>

/* The subcommands: argv[0] is the command's name; each returns tandem's exit status. */
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);   /* `tandem info`: as cmd_run */
int cmd_bench(int argc, char **argv);  /* `tandem bench`: as cmd_run */
int cmd_report(int argc, char **argv); /* `tandem report`: as cmd_run */
/* `tandem backends [--suite S] [--available] [--names]`: as cmd_run (0, 2 bad use, 16). */
int cmd_backends(int argc, char **argv);

/* Print command cmd's help (options, exit statuses) to f: STATUS_OK, or STATUS_USAGE for an unknown
 * cmd. */
int cli_help(FILE *f, const char *cmd);

struct monitor_opts;
/*
 * `tandem run --backend qemu`: run o's guest under qemu-system-i386 -accel tcg, the
 * reference, with the command line every test and benchmark uses (-m, -kernel, -initrd
 * (Multiboot modules as "FILE ARGS" joined by commas), -append, -serial stdio or
 * file:FILE, -no-reboot, isa-debug-exit at 0xF4; --cpu p6 is QEMU's pentium3, max its
 * max; no --cpu, QEMU's default). Returns QEMU's own exit status (the guest's
 * (v << 1) | 1 through debug-exit; 0 when the guest reset or shut down, as -no-reboot
 * makes QEMU exit), or STATUS_TIMEOUT (--timeout: QEMU killed), STATUS_NOCAP (QEMU
 * cannot be executed), STATUS_USAGE (an engine-only option, a module name with a
 * comma), STATUS_LOAD (the kernel unreadable), STATUS_HOST (QEMU killed by a signal);
 * each with one line on stderr.
 */
int run_qemu(const struct monitor_opts *o);

/* Print "tandem: <msg>" and a hint to stderr; return STATUS_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
