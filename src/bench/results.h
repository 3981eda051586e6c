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

/* The rows, in the paper's order (sysenter is our second syscall row). */
#define NB_BENCHES(X) X(syscall) X(sysenter) X(in) X(cr8wr) X(callret) X(pgfault) X(divzero) X(ptemod)

enum nb_bench {
#define X(n) NB_##n,
	NB_BENCHES(X)
#undef X
	NB_NR
};

extern const char *const nb_names[NB_NR];
/* NB_xxx for a name, or -1. */
int nb_find(const char *name);

#define NB_MAX_SAMPLES 64
#define NB_MAX_COLS 16

struct nb_cell {
	bool present;                   /* measured: samples hold cycles per iteration */
	char note[96];                  /* why absent ("n/a: no host analog", "skipped: nosep"), or what the analog is */
	uint64_t iters;                 /* iterations per sample */
	int nsamples;
	double samples[NB_MAX_SAMPLES]; /* cycles per iteration, the empty loop subtracted */
};

struct nb_column {
	char name[32];        /* bt, bt-noadapt, kvm, kvm-nested, native, qemu (prefixed "host:" when merged) */
	char label[96];       /* what it is, for humans */
	bool available;
	char reason[192];     /* why not, when !available */
	bool hw_timing;       /* false when the timings are not hardware timings (nested under TCG) */
	double empty;         /* the empty loop's cycles per iteration */
	char settings[160];   /* engine settings, guest command line */
	struct nb_cell cell[NB_NR];
};

struct nb_host {
	char cpu[128];
	uint64_t tsc_khz;
	char kernel[128];
	char kvm[96];         /* KVM flavour: "kvm_amd (AMD-V)", "kvm_pvm (nested PVM)", "none (...)" */
	char caps[128];       /* host capabilities: "fsgsbase=yes ia32=no kvm=masked ..." (hostcaps.h) */
	char hostname[64];
	char date[32];        /* ISO 8601, UTC */
};

struct nb_run {
	struct nb_host host;
	char guest[256];      /* the guest ELF measured */
	char guest_id[80];    /* its identity: "size=N sha256=..." */
	char tandem[64];      /* tandem's version (git describe) */
	int ncols;
	struct nb_column col[NB_MAX_COLS];
};

/* The paper's Figure 4 (nanobench/paper-fig4.tsv): cycles or NAN, and who won. */
struct nb_paper {
	double native[NB_NR], bt[NB_NR], hw[NB_NR];
	char finding[NB_NR][8];   /* "bt", "hw", "equal" or "" */
	char note[NB_NR][160];
};

/* Statistics of a cell: median, min, max of the samples; false when empty. */
bool nb_stats(const struct nb_cell *c, double *median, double *min, double *max);

/* results_json.c: write and read. Read returns 0, or -1 with a one-line reason in err. */
void nb_write_json(FILE *f, const struct nb_run *run);
int nb_read_json(const char *path, struct nb_run *run, char *err, size_t errlen);

/* The paper's figures from the TSV; 0 or -1 with err. */
int nb_read_paper(const char *path, struct nb_paper *p, char *err, size_t errlen);

enum nb_format { NB_FMT_TABLE, NB_FMT_MD, NB_FMT_CSV, NB_FMT_JSON };
/* "table", "md", "csv", "json" -> format, or -1. */
int nb_format_find(const char *name);

struct nb_report_opts {
	enum nb_format format;
	const char *baseline;          /* column name for the ratio column (default "native") */
	const struct nb_paper *paper;  /* NULL: no paper columns */
};

/*
 * Merge runs (one or several hosts) into one: columns keep their names when
 * there is one host, else become "<hostname>:<name>". 0, or -1 when too many columns.
 */
int nb_merge(const struct nb_run *runs, int n, struct nb_run *out);

/* Print the comparison: one row per benchmark; cycles (median, min-max), ns, ratios. */
void nb_report(FILE *f, const struct nb_run *run, const struct nb_report_opts *o);

/* A log-scale bar chart of the medians per benchmark, one bar per column (the paper's Fig. 4). */
void nb_plot_svg(FILE *f, const struct nb_run *run, const struct nb_paper *paper);

#endif
