/*
 * plot.h: the paper's Figure 4 for a run, drawn once with cairo and written as
 * SVG, PDF or PNG: log-scale cycles per operation, one group per benchmark, this
 * host's native, BT and hardware (KVM) bars first with min-max whiskers, the
 * paper's Pentium 4 figures as markers on the matching bars, provenance in a caption.
 */
#ifndef TANDEM_PLOT_H
#define TANDEM_PLOT_H

#include <stddef.h>

#include "results.h"

enum nb_plot_format { NB_PLOT_SVG, NB_PLOT_PDF, NB_PLOT_PNG };

/* "svg", "pdf", "png" -> the format, or -1. */
int nb_plot_format_find(const char *name);

/* The format a path's extension names (.svg, .pdf, .png, any case), or -1. */
int nb_plot_format_of(const char *path);

struct nb_plot_opts {
	enum nb_plot_format format;
	/*
	 * The series, comma-separated: engine names (every host's column of that
	 * engine) or full column names; NULL: native,bt,kvm (the paper's three; a
	 * missing one keeps its empty slot, labelled, so the layout stays the paper's).
	 */
	const char *columns;
	const struct nb_paper *paper; /* NULL: no paper markers */
};

/*
 * Draw run's figure and write it to path in o->format. 0, or -1 with a one-line
 * reason in err ("--plot-columns: no column 'x'", a cairo error, no data).
 */
int nb_plot(const char *path, const struct nb_run *run, const struct nb_plot_opts *o, char *err,
            size_t errlen);

#endif
