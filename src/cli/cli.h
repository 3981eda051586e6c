/* cli.h: the tandem subcommands. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include <stdio.h>

/* The subcommands: argv[0] is the command's name; each returns tandem's exit status. */
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);     /* `tandem info`: as cmd_run */
int cmd_bench(int argc, char **argv);    /* `tandem bench`: as cmd_run */
int cmd_report(int argc, char **argv);   /* `tandem report`: as cmd_run */

/* Print command cmd's help (options, exit statuses) to f: STATUS_OK, or STATUS_USAGE for an unknown cmd. */
int cli_help(FILE *f, const char *cmd);

/* Print "tandem: <msg>" and a hint to stderr; return STATUS_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
