/* bench_common.h: what `tandem bench` and `tandem report` share: paths, host facts, output. */
#ifndef TANDEM_BENCH_COMMON_H
#define TANDEM_BENCH_COMMON_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

#include "results.h"

/*
 * `tandem bench`'s own exit statuses beyond tandem's (status.h: 0, 2, 4, 16);
 * a signal ends it with 128 + the signal (130 SIGINT, 143 SIGTERM).
 */
#define BENCH_STATUSES(X)                                                                          \
	X(PARTIAL, 18,                                                                             \
	  "a requested column failed or this host cannot run it (the rest is printed)")            \
	X(NOTHING, 20, "nothing was measured (every column failed or was unavailable)")

enum bench_status {
#define X(name, val, desc) BENCH_##name = val,
	BENCH_STATUSES(X)
#undef X
};

/*
 * Every option of `tandem bench` (each suite's) and `tandem report`, once: its
 * BOPT_ value, its long name, whether it takes a value. A command picks its own
 * with bench_options().
 */
#define BENCH_OPTIONS(X)                                                                           \
	X(SUITE, "suite", 1)                                                                       \
	X(BACKENDS, "backends", 1)                                                                 \
	X(TESTS, "tests", 1)                                                                       \
	X(N, "n", 1)                                                                               \
	X(REPEAT, "repeat", 1)                                                                     \
	X(MINCYCLES, "mincycles", 1)                                                               \
	X(WARMUP, "warmup", 1)                                                                     \
	X(FORMAT, "format", 1)                                                                     \
	X(OUT, "out", 1)                                                                           \
	X(GUEST, "guest", 1)                                                                       \
	X(TIMEOUT, "timeout", 1)                                                                   \
	X(PIN, "pin", 1)                                                                           \
	X(LIST, "list", 0)                                                                         \
	X(HELP, "help", 0)                                                                         \
	X(BASELINE, "baseline", 1)                                                                 \
	X(PLOT, "plot", 1)                                                                         \
	X(PLOT_FORMAT, "plot-format", 1)                                                           \
	X(PLOT_COLUMNS, "plot-columns", 1)

enum bench_opt {
	BOPT_NONE_ = 255, /* getopt_long's values above any character */
#define X(id, name, arg) BOPT_##id,
	BENCH_OPTIONS(X)
#undef X
	    BOPT_END_
};

#define BENCH_MAX_OPTS (BOPT_END_ - BOPT_NONE_)

struct option;
/*
 * The getopt_long table of the options listed in names (a comma list of BENCH_OPTIONS
 * names, e.g. "backends,format,help") into out (BENCH_MAX_OPTS entries), ended by a
 * zero entry, each option's value its BOPT_ value. Returns out. A name not in
 * BENCH_OPTIONS is a programming error: abort().
 */
const struct option *bench_options(const char *names, struct option *out);

/* "tandem: <msg> (see tandem --help)" on stderr: every usage error of tandem's; STATUS_USAGE. */
int bench_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* bench_usage with a va_list (the CLI's usage_error is this too). STATUS_USAGE. */
int bench_vusage(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Check option opt's value val, a comma-separated list, against known (a comma list: a
 * suite's backends from the registry, its rows): 0 when it is non-empty, under 256 bytes
 * and every word is known; else one usage line ("OPT: unknown name 'W' (a, b, ...)",
 * "OPT: empty list (...)", "OPT: list too long") and STATUS_USAGE.
 */
int bench_check_list(const char *opt, const char *val, const char *known);

/*
 * --format's value (table, md, csv, json: enum nb_format) into *format: 0, or one usage
 * line ("--format X: want table, md, csv or json") and STATUS_USAGE.
 */
int bench_opt_format(const char *arg, int *format);

/* Is name one of the comma-separated words of list? */
bool strstr_list(const char *list, const char *name);

/*
 * A data file of tandem's, rel ("guests/nanobench.elf", "bench/nano/paper-fig4.tsv"):
 * installed (<exe dir>/../share/tandem/rel, where `cmake --install` puts it) when
 * that exists, else in the build tree (next to the executable when build is
 * true, else under the source directory). The path goes to path (the build
 * tree's when neither exists). 0, or -1 when /proc/self/exe cannot be read.
 */
int bench_data_path(const char *rel, bool build, char *path, size_t len);

/*
 * This executable, the default nanobench guest (guests/nanobench.elf) and the
 * nested-KVM script (scripts/nested-kvm.sh), found by bench_data_path. 0 or -1.
 */
int bench_paths(char *tandem, char *guest, char *nested, size_t len);

/*
 * 0 when path is a readable regular file that is an ELF32 i386 executable;
 * else -1 with "guest PATH: reason" in why.
 */
int bench_check_guest(const char *path, char *why, size_t len);

/*
 * 0 when path can be written (created and removed again when it did not exist,
 * an existing file left untouched); else -1 with "--out PATH: reason" in why.
 */
int bench_check_out(const char *opt, const char *path, char *why, size_t len);

/* Host facts, date, tandem's version, and the guest's identity (size and FNV-1a hash). */
void bench_host_info(struct nb_run *run, const char *guest);

/* Give col the run's provenance (host, guest, tandem) with the date of now. */
void bench_stamp(struct nb_column *col, const struct nb_run *run);

/* The paper's figures (paper-fig4.tsv, see bench_data_path); NULL if unreadable. */
const struct nb_paper *bench_paper(void);

/*
 * Print run in format with the paper's columns (Figure 4, or for a linux run the
 * forkwait figures of nb_linux_paper()), to out (a file) or stdout; who
 * ("bench", "report") names the command in the "wrote" message. A status.
 */
int bench_output(const struct nb_run *run, int format, const char *baseline, const char *out,
                 const char *who);

#endif
