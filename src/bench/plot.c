/* plot.c: nano-benchmark medians as a self-contained SVG, log-scale bars (the paper's Fig. 4). */
#include "results.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define W 900
#define X0 74.0 /* the plot area: x from X0 to X1, y from Y0 (top) to Y1 (bottom) */
#define X1 880.0
#define Y0 64.0
#define Y1 380.0
#define LEGEND_Y 432.0
#define LEGEND_ROW 18.0
#define CHAR_W 6.6 /* a guess at the width of one character at font-size 11 */

static const char *const colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                     "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define NCOLORS (int)(sizeof(colors) / sizeof(colors[0]))

/* The paper's three bars: outlined, told apart by their dashes. */
static const struct {
	const char *label, *dash;
} paper_bars[] = {{"paper P4 native", ""}, {"paper P4 BT", "5 2"}, {"paper P4 VT-x", "1 2"}};

static void xml(FILE *f, const char *s)
{
	static const char from[] = "&<>\"";
	static const char *const to[] = {"&amp;", "&lt;", "&gt;", "&quot;"};

	for (; *s; s++) {
		const char *e = strchr(from, *s);

		if (e)
			fputs(to[e - from], f);
		else /* XML 1.0 has no place for the other control characters */
			fputc((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' ? ' ' : *s, f);
	}
}

static bool col_plotted(const struct nb_column *c)
{
	for (int b = 0; b < NB_NR; b++)
		if (nb_stats(&c->cell[b], NULL, NULL, NULL))
			return true;
	return false;
}

static double paper_val(const struct nb_paper *p, int k, int b)
{
	return k == 0 ? p->native[b] : k == 1 ? p->bt[b] : p->hw[b];
}

static bool row_plotted(const struct nb_run *run, const struct nb_paper *paper, int b)
{
	for (int c = 0; c < run->ncols; c++)
		if (nb_stats(&run->col[c].cell[b], NULL, NULL, NULL))
			return true;
	for (int k = 0; paper && k < 3; k++)
		if (!isnan(paper_val(paper, k, b)))
			return true;
	return false;
}

struct scale {
	int hi; /* the top decade: 10^hi */
};

/* The y of a value >= 1, kept within a few pixels of the plot area. */
static double ypos(const struct scale *s, double v)
{
	return fmin(fmax(Y1 - log10(v) / s->hi * (Y1 - Y0), Y0 - 8), Y1);
}

/* One bar, or for a value below 1 (the log axis' floor) a marker on the axis with its value. */
static void bar(FILE *f, const struct scale *s, double x, double w, double v, const char *style,
                const char *cls, const char *tip)
{
	char num[32];

	if (isnan(v))
		return;
	snprintf(num, sizeof(num), fabs(v) < 1e4 ? "%.1f" : "%.0f", v);
	if (v >= 1) {
		double y = fmin(ypos(s, v), Y1 - 2);

		fprintf(
		    f,
		    "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" %s>",
		    cls, x, y, w, Y1 - y, style);
	} else {
		fprintf(
		    f,
		    "<rect class=\"%s low\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\" %s>",
		    cls, x, Y1 - 4, w, style);
	}
	fputs("<title>", f);
	xml(f, tip);
	fprintf(f, ": %s cycles</title></rect>\n", num);
	if (v < 1)
		fprintf(f,
		        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" transform=\"rotate(-90 %.1f "
		        "%.1f)\">%s</text>\n",
		        x + w / 2 + 3, Y1 - 7, x + w / 2 + 3, Y1 - 7, num);
}

static void axes(FILE *f, const struct scale *s)
{
	static const char *const units[] = {"", "k", "M", "G", "T", "P", "E"};

	for (int d = 0; d <= s->hi; d++) {
		double y = ypos(s, pow(10, d));
		static const char *const pow10[] = {"1", "10", "100"};

		fprintf(f,
		        "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ccc\"/>\n",
		        X0, y, X1, y);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s%s</text>\n", X0 - 6,
		        y + 4, pow10[d % 3], units[d / 3 < 6 ? d / 3 : 6]);
		for (int m = 2; d < s->hi && m < 10; m++)
			fprintf(f,
			        "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			        "stroke=\"#999\"/>\n",
			        X0 - 3, ypos(s, m * pow(10, d)), X0, ypos(s, m * pow(10, d)));
	}
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", X0,
	        Y0, X0, Y1);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", X0,
	        Y1, X1, Y1);
	fprintf(f,
	        "<text x=\"18\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 18 "
	        "%.0f)\">cycles per iteration (log scale)</text>\n",
	        (Y0 + Y1) / 2, (Y0 + Y1) / 2);
}

/* A legend entry at *x, *y, wrapping to a new row when it would not fit. */
static void legend(FILE *f, double *x, double *y, const char *style, const char *name,
                   const char *extra)
{
	double w = 22 + CHAR_W * (double)(strlen(name) + strlen(extra)) + 16;

	if (*x > X0 && *x + w > X1) {
		*x = X0;
		*y += LEGEND_ROW;
	}
	if (!f) { /* measuring the height */
		*x += w;
		return;
	}
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" %s/>", *x, *y - 9,
	        style);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", *x + 20, *y);
	xml(f, name);
	xml(f, extra);
	fputs("</text>\n", f);
	*x += w;
}

static void title(FILE *f, const struct nb_run *run, const struct nb_paper *paper)
{
	const struct nb_host *h = &run->host;

	fputs("<text x=\"450\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">nanobench: ", f);
	xml(f, h->cpu[0] ? h->cpu : "unknown CPU");
	fputs("</text>\n<text x=\"450\" y=\"44\" text-anchor=\"middle\" fill=\"#555\">", f);
	xml(f, h->hostname);
	fprintf(f, "%sTSC %" PRIu64 " kHz, KVM ", h->hostname[0] ? ", " : "", h->tsc_khz);
	xml(f, h->kvm[0] ? h->kvm : "?");
	fputs(", ", f);
	xml(f, h->date);
	fprintf(f, ". Bars: medians, whiskers: min–max%s</text>\n",
	        paper ? "; outlined: the paper's Pentium 4" : "");
}

/* The legend: one entry per column, then the paper's; returns the y of its last row. */
static double legends(FILE *f, const struct nb_run *run, const struct nb_paper *paper,
                      const int *cols, int ncols)
{
	double x = X0, y = LEGEND_Y;
	char style[96];

	for (int i = 0; i < ncols; i++) {
		const struct nb_column *c = &run->col[cols[i]];

		snprintf(style, sizeof(style), "fill=\"%s\"%s", colors[i % NCOLORS],
		         c->hw_timing ? "" : " fill-opacity=\"0.45\"");
		legend(f, &x, &y, style, c->name, c->hw_timing ? "" : " (not hardware timing)");
	}
	for (int k = 0; paper && k < 3; k++) {
		snprintf(style, sizeof(style),
		         "fill=\"none\" stroke=\"#333\" stroke-dasharray=\"%s\"",
		         paper_bars[k].dash);
		legend(f, &x, &y, style, paper_bars[k].label, "");
	}
	return y;
}

void nb_plot_svg(FILE *f, const struct nb_run *run, const struct nb_paper *paper)
{
	int rows[NB_NR], nrows = 0, cols[NB_MAX_COLS], ncols = 0, nbars;
	struct scale s = {.hi = 6};
	double gw, bw, med, lo, hi;
	int height;
	char style[96], tip[160];

	for (int c = 0; c < run->ncols && c < NB_MAX_COLS; c++)
		if (col_plotted(&run->col[c]))
			cols[ncols++] = c;
	for (int b = 0; b < NB_NR; b++) {
		if (!row_plotted(run, paper, b))
			continue;
		rows[nrows++] = b;
		for (int i = 0; i < ncols; i++)
			if (nb_stats(&run->col[cols[i]].cell[b], NULL, NULL, &hi) && hi > 1)
				s.hi = (int)fmax(s.hi, fmin(ceil(log10(hi)), 18));
		for (int k = 0; paper && k < 3; k++)
			if (paper_val(paper, k, b) > 1)
				s.hi =
				    (int)fmax(s.hi, fmin(ceil(log10(paper_val(paper, k, b))), 18));
	}
	nbars = ncols + (paper ? 3 : 0);
	gw = (X1 - X0) / (nrows ? nrows : 1);
	bw = gw * 0.8 / (nbars ? nbars : 1);

	height = (int)fmax(500, legends(NULL, run, paper, cols, ncols) + 14);
	fprintf(
	    f,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 "
	    "%d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
	    W, height, W, height);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, height);
	title(f, run, paper);
	axes(f, &s);
	if (!nrows)
		fputs("<text x=\"477\" y=\"220\" text-anchor=\"middle\">no data</text>\n", f);
	for (int r = 0; r < nrows; r++) {
		int b = rows[r];
		double x = X0 + r * gw + gw * 0.1;

		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
		        X0 + (r + 0.5) * gw, Y1 + 18, nb_names[b]);
		for (int i = 0; i < ncols; i++, x += bw) {
			const struct nb_column *c = &run->col[cols[i]];

			if (!nb_stats(&c->cell[b], &med, &lo, &hi))
				continue;
			snprintf(style, sizeof(style), "fill=\"%s\"%s", colors[i % NCOLORS],
			         c->hw_timing ? "" : " fill-opacity=\"0.45\"");
			snprintf(tip, sizeof(tip), "%s %s", c->name, nb_names[b]);
			bar(f, &s, x, bw, med, style, "bar", tip);
			if (lo >= 1 && hi > lo)
				fprintf(f,
				        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				        "stroke=\"#222\"/>\n",
				        x + bw / 2, ypos(&s, lo), x + bw / 2, ypos(&s, hi));
		}
		for (int k = 0; paper && k < 3; k++, x += bw) {
			if (isnan(paper_val(paper, k, b)))
				continue;
			snprintf(style, sizeof(style),
			         "fill=\"none\" stroke=\"#333\" "
			         "stroke-dasharray=\"%s\"",
			         paper_bars[k].dash);
			snprintf(tip, sizeof(tip), "%s %s", paper_bars[k].label, nb_names[b]);
			bar(f, &s, x + 0.5, bw - 1, paper_val(paper, k, b), style, "paper", tip);
		}
	}
	legends(f, run, paper, cols, ncols);
	fputs("</svg>\n", f);
}
