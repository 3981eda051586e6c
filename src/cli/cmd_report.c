/* cmd_report.c: `tandem report`: merge result files (several hosts), print, plot. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "cli.h"
#include "status.h"

enum { OPT_BASELINE = 256, OPT_FORMAT, OPT_PLOT, OPT_OUT };

static const struct option report_options[] = {
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "out", required_argument, NULL, OPT_OUT },
	{ NULL, 0, NULL, 0 },
};

static int plot(const struct nb_run *run, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "tandem: --plot %s: %s\n", path, strerror(errno));
		return STATUS_HOST;
	}
	nb_plot_svg(f, run, bench_paper());
	if (fclose(f)) {
		fprintf(stderr, "tandem: --plot %s: %s\n", path, strerror(errno));
		return STATUS_HOST;
	}
	fprintf(stderr, "report: wrote %s\n", path);
	return STATUS_OK;
}

int cmd_report(int argc, char **argv)
{
	const char *baseline = "native", *plot_path = NULL, *out = NULL;
	struct nb_run *runs, *merged;
	int c, format = NB_FMT_TABLE, n = 0, i, ret = STATUS_OK;
	char err[256];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", report_options, NULL)) != -1) {
		switch (c) {
		case OPT_BASELINE: baseline = optarg; break;
		case OPT_PLOT: plot_path = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_FORMAT:
			format = nb_format_find(optarg);
			if (format < 0)
				return usage_error("--format %s: want table, md, csv or json", optarg);
			break;
		case ':': return usage_error("option %s needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("report: no result files given");
	runs = calloc((size_t)(argc - optind), sizeof(*runs));
	merged = calloc(1, sizeof(*merged));
	if (!runs || !merged)
		return STATUS_HOST;
	for (i = optind; i < argc; i++) {
		if (nb_read_json(argv[i], &runs[n], err, sizeof(err))) {
			fprintf(stderr, "tandem: %s\n", err);
			ret = STATUS_LOAD;
			goto out;
		}
		n++;
	}
	if (nb_merge(runs, n, merged)) {
		fprintf(stderr, "tandem: report: more than %d columns in all\n", NB_MAX_COLS);
		ret = STATUS_USAGE;
		goto out;
	}
	ret = bench_output(merged, format, baseline, out);
	if (!ret && plot_path)
		ret = plot(merged, plot_path);
out:
	free(runs);
	free(merged);
	return ret;
}
