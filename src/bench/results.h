/*
 * results.h: nano-benchmark results: one run = one host, several columns
 * (engines and the native analogs), one cell per benchmark with every raw
 * sample. Written and read as JSON so `tandem report` can merge runs from
 * several machines; formatted as a table, markdown, CSV, or an SVG plot.
 */
#ifndef TANDEM_RESULTS_H
#define TANDEM_RESULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "linux/manifest.h"
#include "nano/manifest.h"

/* The rows: bench/nano/manifest.h (NANO_ROWS), in the paper's order. */
enum nb_bench {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) NB_##n,
	NANO_ROWS(X)
#undef X
	    NB_NR
};

/*
 * The rows of `tandem bench --suite linux` (bench/linux/host/suite_linux.c): bench/linux/manifest.h
 * (LINUX_ROWS), in the same cells (row i in cell[i]): each a workload inside Debian's
 * i386 Linux, its cells in ns per operation (host clock), not cycles.
 */
enum nb_linux_row {
#define X(n, paper, scale, d) NB_LINUX_##n,
	LINUX_ROWS(X)
#undef X
	    NB_LINUX_NR
};

/*
 * A suite: the rows of a run and what its cells hold. "nano" (the run's suite
 * field empty or "nano": the nano-benchmarks, cycles per iteration) or "linux".
 */
struct nb_suite {
	const char *name;
	const char *title; /* the report's heading: "<title> on <CPU>" */
	int nrows;
	const char *const *rows;  /* row names, row i in cell[i] */
	const char *const *descs; /* what one operation of each row is */
	const char *unit;         /* "cycles" or "ns": what a sample counts per operation */
	bool cycles;              /* samples are TSC cycles: also shown as ns at the TSC rate */
	const char *what;         /* one line for the report's header: what a cell holds */
};

struct nb_run;

/* The suite named name ("" is "nano"), or NULL when there is none. */
const struct nb_suite *nb_suite_find(const char *name);
/* The run's suite (nano when its suite field is empty or unknown). */
const struct nb_suite *nb_suite_of(const struct nb_run *run);

extern const char *const nb_names[NB_NR];
/* What one iteration of each does, one line. */
extern const char *const nb_descs[NB_NR];
/* Where the paper reports each ("Fig. 4"), or "-" (ours). */
extern const char *const nb_papers[NB_NR];
/* NB_xxx for a name, or -1. */
int nb_find(const char *name);
/* The row names of suite (nb_suite_find's) joined by sep into buf (truncated to len - 1). buf. */
const char *nb_row_names(const struct nb_suite *suite, const char *sep, char *buf, size_t len);

#define NB_MAX_SAMPLES 64
#define NB_MAX_COLS 16

struct nb_cell {
	bool present;   /* measured: samples hold cycles per iteration */
	char note[128]; /* why absent ("n/a: no host analog", "skipped: nosep"), or what the analog
	                   is */
	uint64_t iters; /* iterations per sample */
	int nsamples;
	double samples[NB_MAX_SAMPLES]; /* cycles per iteration, the empty loop subtracted */
};

struct nb_host {
	char cpu[128];
	uint64_t tsc_khz;
	char kernel[128];
	char kvm[96];   /* KVM flavour: "kvm_amd (AMD-V)", "kvm_pvm (nested PVM)", "none (...)" */
	char caps[128]; /* host capabilities: "fsgsbase=yes ia32=no kvm=masked ..." (hostcaps.h) */
	char hostname[64];
	char date[32]; /* ISO 8601, UTC */
};

/*
 * One engine's measurements with their own provenance (host, date, tandem,
 * guest), so they survive any number of merges.
 */
struct nb_column {
	char name[32]; /* bt, bt-noadapt, kvm, kvm-nested, native, qemu ("host:name" when merged) */
	char label[96]; /* what it is, for humans */
	bool available;
	char reason[192]; /* why not, when !available */
	bool failed; /* !available because it broke (crash, timeout), not because the host cannot */
	bool hw_timing;     /* false when the timings are not hardware timings (nested under TCG) */
	double empty;       /* the empty loop's cycles per iteration */
	char settings[160]; /* engine settings, guest command line */
	char cpus[32];      /* the CPUs it was seen running on ("0,1"), "" when unknown */
	double load_before; /* the 1-minute load average before it ran (NAN: unknown) */
	double load_after;  /* and after */
	struct nb_host host; /* where and when it ran */
	char guest_id[80];   /* the guest it measured: "size=N fnv1a64=..." */
	char tandem[64];     /* tandem's version (git describe) */
	struct nb_cell cell[NB_NR];
};

struct nb_run {
	char suite[16]; /* "" or "nano": the nano-benchmarks; "linux" (struct nb_suite) */
	struct nb_host host;
	char guest[256];   /* the guest ELF measured */
	char guest_id[80]; /* its identity: "size=N sha256=..." */
	char tandem[64];   /* tandem's version (git describe) */
	int ncols;
	struct nb_column col[NB_MAX_COLS];
};

/* The paper's Figure 4 (bench/nano/paper-fig4.tsv): cycles or NAN, and who won. */
struct nb_paper {
	double native[NB_NR], bt[NB_NR], hw[NB_NR];
	char finding[NB_NR][8]; /* "bt", "hw", "equal" or "" */
	char note[NB_NR][160];
};

/* Statistics of a cell: median, min, max of the samples; false when empty. */
bool nb_stats(const struct nb_cell *c, double *median, double *min, double *max);

/*
 * Below this many cycles per iteration (the empty loop subtracted) a median is
 * not resolved: shown as "< resolution", the raw samples kept in the JSON.
 */
#define NB_RESOLUTION 1.0
/* A cell is noisy when its IQR exceeds this fraction of its median. */
#define NB_NOISY_IQR 0.10

/* A cell's samples summarized: median, min-max, quartiles (linear interpolation), flags. */
struct nb_summary {
	int n;
	double median, min, max, q1, q3, iqr;
	bool below_res; /* median < NB_RESOLUTION */
	bool noisy;     /* n >= 3, resolved, and iqr > NB_NOISY_IQR * median */
};

/* Summarize c into s; false (s untouched) when it has no samples. */
bool nb_summarize(const struct nb_cell *c, struct nb_summary *s);

/* results_json.c: write and read. Read returns 0, or -1 with a one-line reason in err. */
void nb_write_json(FILE *f, const struct nb_run *run);
int nb_read_json(const char *path, struct nb_run *run, char *err, size_t errlen); /* see above */

/* The paper's figures from the TSV; 0 or -1 with err. */
int nb_read_paper(const char *path, struct nb_paper *p, char *err, size_t errlen);

enum nb_format { NB_FMT_TABLE, NB_FMT_MD, NB_FMT_CSV, NB_FMT_JSON };
/* "table", "md", "csv", "json" -> format, or -1. */
int nb_format_find(const char *name);

struct nb_report_opts {
	enum nb_format format;
	const char *baseline;         /* column name for the ratio column (default "native") */
	const struct nb_paper *paper; /* NULL: no paper columns */
};

/*
 * Merge runs (one or several hosts, any number of merges deep) into one: one
 * run is copied as it is; else every column becomes "<short hostname>:<engine>"
 * (a name that has a host keeps it; "host#2:engine" when two inputs share a
 * host), keeping its own provenance. out's run-level host, guest and version
 * are the first run's. 0, or -1 when there are more than NB_MAX_COLS columns.
 */
int nb_merge(const struct nb_run *runs, int n, struct nb_run *out);

/*
 * Differences of provenance between the available columns that make a
 * comparison doubtful: another guest build, another tandem version, other guest
 * settings (repeat, mincycles, tests). One line per difference into msg
 * (truncated to len); returns how many there are.
 */
int nb_provenance_check(const struct nb_run *run, char *msg, size_t len);

/* A finding is judged only on cells with at least this many samples. */
#define NB_FINDING_MIN_SAMPLES 3

/*
 * The paper's finding for row b (pp->finding[b]: bt, hw or equal faster) judged
 * on run, into buf: "<finding> faster: holds" or "... does not hold" when the
 * min-max ranges of the first bt column and the kvm column of its host (both
 * available, both hardware timing, >= NB_FINDING_MIN_SAMPLES samples each) do
 * not overlap; else "<finding> faster: not judged here: <reason>". "-" when the
 * paper has no finding for the row.
 */
void nb_finding(const struct nb_run *run, const struct nb_paper *pp, int b, char *buf, size_t n);

/* One line saying which columns the verdicts use and by what test, or why there are none. */
void nb_finding_basis(const struct nb_run *run, char *buf, size_t n);

/* Print the comparison: one row per benchmark; cycles (median, min-max), ns, ratios. */
void nb_report(FILE *f, const struct nb_run *run, const struct nb_report_opts *o);

#endif
