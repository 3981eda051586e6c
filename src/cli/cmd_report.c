/* cmd_report.c: `tandem report`: merge result files (several hosts), print, plot. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "cli.h"
#include "plot.h"
#include "status.h"

#define REPORT_OPTIONS "baseline,format,plot,plot-format,plot-columns,out,help"

struct report_opts {
	const char *baseline, *plot, *out, *columns;
	int format, plot_format;
	bool help, baseline_given;
};

static int parse_report_args(int argc, char **argv, struct report_opts *o)
{
	struct option opts[BENCH_MAX_OPTS];
	int c;

	*o = (struct report_opts){.baseline = "native", .format = NB_FMT_TABLE, .plot_format = -1};
	optind = 1;
	opterr = 0;
	bench_options(REPORT_OPTIONS, opts);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case BOPT_BASELINE:
			o->baseline = optarg, o->baseline_given = true;
			break;
		case BOPT_PLOT:
			o->plot = optarg;
			break;
		case BOPT_OUT:
			o->out = optarg;
			break;
		case BOPT_PLOT_COLUMNS:
			o->columns = optarg;
			break;
		case BOPT_HELP:
			o->help = true;
			break;
		case BOPT_FORMAT:
			if (bench_opt_format(optarg, &o->format))
				return STATUS_USAGE;
			break;
		case BOPT_PLOT_FORMAT:
			o->plot_format = nb_plot_format_find(optarg);
			if (o->plot_format < 0)
				return usage_error("--plot-format %s: want svg, pdf or png",
				                   optarg);
			break;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->help)
		return STATUS_OK;
	if (optind >= argc)
		return usage_error("report: no result files given");
	if (o->plot && o->plot_format < 0 && (o->plot_format = nb_plot_format_of(o->plot)) < 0)
		return usage_error(
		    "--plot %s: the extension is not .svg, .pdf or .png (or give --plot-format)",
		    o->plot);
	return STATUS_OK;
}

/* Is there a column named baseline (or host:baseline)? Else the usage error, listing the names. */
static int check_baseline(const struct nb_run *run, const char *baseline)
{
	char names[512] = "";
	size_t n = 0;

	for (int i = 0; i < run->ncols; i++) {
		const char *name = run->col[i].name, *engine = strrchr(name, ':');

		if (!strcmp(name, baseline) || (engine && !strcmp(engine + 1, baseline)))
			return STATUS_OK;
		if (n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
			                      name);
	}
	return usage_error("--baseline %s: no such column (%s)", baseline,
	                   n ? names : "no columns");
}

static int plot(const struct nb_run *run, const struct report_opts *o)
{
	struct nb_plot_opts po = {
	    .format = o->plot_format, .columns = o->columns, .paper = bench_paper()};
	char err[512];

	if (nb_plot(o->plot, run, &po, err, sizeof(err))) {
		fprintf(stderr, "tandem: report: %s\n", err);
		return STATUS_HOST;
	}
	fprintf(stderr, "report: wrote %s\n", o->plot);
	return STATUS_OK;
}

int cmd_report(int argc, char **argv)
{
	struct nb_run *runs, *merged;
	struct report_opts o;
	int n = 0, ret;
	char err[1024];

	ret = parse_report_args(argc, argv, &o);
	if (ret || o.help)
		return ret ? ret : cli_help(stdout, "report");
	if (o.out && bench_check_out("--out", o.out, err, sizeof(err)))
		return usage_error("%s", err);
	if (o.plot && bench_check_out("--plot", o.plot, err, sizeof(err)))
		return usage_error("%s", err);
	runs = calloc((size_t)(argc - optind), sizeof(*runs));
	merged = calloc(1, sizeof(*merged));
	if (!runs || !merged) {
		ret = STATUS_HOST;
		goto out;
	}
	for (int i = optind; i < argc; i++, n++) {
		if (nb_read_json(argv[i], &runs[n], err, sizeof(err))) {
			fprintf(stderr, "tandem: %s\n", err);
			ret = STATUS_LOAD;
			goto out;
		}
	}
	for (int i = 1; i < n; i++)
		if (strcmp(nb_suite_of(&runs[i])->name, nb_suite_of(&runs[0])->name)) {
			ret =
			    usage_error("report: %s holds suite %s, %s suite %s: cannot merge them",
			                argv[optind], nb_suite_of(&runs[0])->name, argv[optind + i],
			                nb_suite_of(&runs[i])->name);
			goto out;
		}
	if (o.plot && strcmp(nb_suite_of(&runs[0])->name, "nano")) {
		ret =
		    usage_error("report: --plot draws the nano-benchmark figure; %s holds suite %s",
		                argv[optind], nb_suite_of(&runs[0])->name);
		goto out;
	}
	if (nb_merge(runs, n, merged)) {
		ret = usage_error("report: more than %d columns in all", NB_MAX_COLS);
		goto out;
	}
	ret = o.baseline_given ? check_baseline(merged, o.baseline) : STATUS_OK;
	if (ret)
		goto out;
	if (nb_provenance_check(merged, err, sizeof(err)))
		for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(stderr, "report: warning: %s\n", line);
	ret = bench_output(merged, o.format, o.baseline, o.out, "report");
	if (!ret && o.plot)
		ret = plot(merged, &o);
out:
	free(runs);
	free(merged);
	return ret;
}
