/*
 * suite_macro.h: `tandem bench --suite macro`: the macro workloads of minios (bench/macro/guest)
 * (forkwait, pipe ping-pong, demand paging, time-sliced compute) on every engine, the
 * host's own analogs as the native column, and Adams & Agesen's forkwait figures.
 */
#ifndef TANDEM_SUITE_MACRO_H
#define TANDEM_SUITE_MACRO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro/manifest.h"
#include "results.h"

/* The workloads: bench/macro/manifest.h (MACRO_ROWS). */
enum macro_work {
#define X(n, paper, dn, per, an, anote, d) MW_##n,
	MACRO_ROWS(X)
#undef X
	    MW_NR
};

extern const char *const macro_names[MW_NR];
extern const char *const macro_descs[MW_NR];
extern const uint32_t macro_default_n[MW_NR];
/* Where the paper reports each workload, or "-" (the manifest's paper column). */
extern const char *const macro_papers[MW_NR];

/* The engines of the suite: the registry's SUITE_MACRO rows (src/cli/backends.c). */
#define MACRO_MAX_COLS 8
#define MACRO_MAX_REPEAT 16 /* minios keeps 16 samples */

struct macro_cell {
	struct nb_cell c; /* cycles per operation, one sample per timed repeat */
	uint32_t n;       /* the workload's count (operations per sample: see ops) */
	uint32_t ops;
	uint32_t switches; /* guest context switches during the timed repeats */
	char result[160];  /* the guest's result line (checksums, counts); "" for native */
	char stats[200];   /* bt: `tandem run --stats` counts of the whole run, else "" */
};

struct macro_col {
	char name[32], label[96];
	bool available, failed;
	char reason[192];
	char cpus[32];
	double load_before, load_after;
	struct macro_cell cell[MW_NR];
};

struct macro_run {
	struct nb_run info; /* host, guest, tandem version (no columns) */
	int repeat;
	bool want[MW_NR];
	uint32_t n[MW_NR];
	int ncols;
	struct macro_col col[MACRO_MAX_COLS];
};

/*
 * `tandem bench --suite macro [options]` (argv as cmd_bench got it, --suite included).
 * Returns a `tandem bench` status: 0, 2 (bad command line, one line on stderr), 4
 * (--guest unusable), 16, 18 (a column failed or a named one cannot run), 20.
 */
int bench_suite_macro(int argc, char **argv);

/*
 * Parse minios's "minios: W ..." and "minios-time: W ops=N cycles_per_op=C
 * samples=a,b,... switches=S" lines for workload w into c. 0, or -1 when either is
 * missing or the result line says FAIL.
 */
int macro_parse_guest(const char *text, int w, struct macro_cell *c);

/*
 * The host's own analog of workload w (forkwait: fork + _exit + waitpid; pingpong: a
 * byte each way through two pipes between two host processes, per switch; pagetouch:
 * first touch of a fresh page of an anonymous mmap, munmap'ed after), n operations per
 * sample, repeat samples, rdtsc. compute has none here: the cell says so.
 */
void macro_native(int w, uint32_t n, int repeat, struct macro_cell *c);

/* Print run as "table", "md" or "csv" (format: enum nb_format), or write it as JSON. */
void macro_report(FILE *f, const struct macro_run *run, int format);
/* The run as JSON ("tandem_macro": 1: host, paper constants, each column's wanted cells with
 * their samples; NaN and infinities as null). Write errors: the caller checks f. */
void macro_write_json(FILE *f, const struct macro_run *run);

/* The paper's forkwait (40,000 processes on a 3.8 GHz Pentium 4): seconds. */
#define PAPER_FORKS 40000.0
#define PAPER_GHZ 3.8
#define PAPER_FORKWAIT_NATIVE_S 6.0
#define PAPER_FORKWAIT_BT_S 36.9
#define PAPER_FORKWAIT_HW_S 106.4

#endif
