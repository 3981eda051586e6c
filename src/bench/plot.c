/* plot.c: the Figure 4 layout drawn with cairo, written as SVG, PDF or PNG from the same code. */
#include "plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define W 720.0 /* points; PNG pixels at PNG_SCALE per point */
#define H 430.0
#define PNG_SCALE 2.0
#define X0 64.0 /* the plot area */
#define X1 (W - 16.0)
#define Y0 44.0
#define Y1 (H - 110.0)
#define FONT "DejaVu Sans"

/* Okabe & Ito's palette, safe for the common colour-vision deficiencies: native, BT, hardware, then
 * others. */
static const double palette[][3] = {
    {0x00 / 255., 0x72 / 255., 0xB2 / 255.}, /* blue */
    {0xE6 / 255., 0x9F / 255., 0x00 / 255.}, /* orange */
    {0x00 / 255., 0x9E / 255., 0x73 / 255.}, /* bluish green */
    {0xCC / 255., 0x79 / 255., 0xA7 / 255.}, /* reddish purple */
    {0x56 / 255., 0xB4 / 255., 0xE9 / 255.}, /* sky blue */
    {0xD5 / 255., 0x5E / 255., 0x00 / 255.}, /* vermillion */
    {0xF0 / 255., 0xE4 / 255., 0x42 / 255.}, /* yellow */
    {0.45, 0.45, 0.45},
};
#define NPAL (int)(sizeof(palette) / sizeof(palette[0]))

struct series {
	int col;   /* the run's column */
	int paper; /* the paper's figure drawn on it: 0 native, 1 BT, 2 VT-x, -1 none */
	int colour;
};

struct fig {
	const struct nb_run *run;
	const struct nb_paper *paper;
	struct series s[NB_MAX_COLS];
	int ns, rows[NB_NR], nrows;
	double top; /* the log axis runs from 1 to top, a power of ten */
};

int nb_plot_format_find(const char *name)
{
	static const char *const names[] = {
	    [NB_PLOT_SVG] = "svg", [NB_PLOT_PDF] = "pdf", [NB_PLOT_PNG] = "png"};

	for (int i = 0; name && i < 3; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

int nb_plot_format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && !strchr(dot, '/') ? nb_plot_format_find(dot + 1) : -1;
}

static const char *engine_of(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static double paper_val(const struct nb_paper *p, int k, int b)
{
	return !p || k < 0 ? NAN : k == 0 ? p->native[b] : k == 1 ? p->bt[b] : p->hw[b];
}

static void add_series(struct fig *g, int col)
{
	const char *e = engine_of(g->run->col[col].name);
	static const char *const order[] = {"native", "bt", "kvm", "qemu"};
	int colour = -1;

	for (int i = 0; i < g->ns; i++)
		if (g->s[i].col == col)
			return;
	for (int i = 0; i < 4; i++)
		if (!strcmp(e, order[i]))
			colour = i;
	if (colour < 0)
		colour = 4 + g->ns % (NPAL - 4);
	g->s[g->ns++] = (struct series){col,
	                                !strcmp(e, "native") ? 0
	                                : !strcmp(e, "bt")   ? 1
	                                : !strcmp(e, "kvm")  ? 2
	                                                     : -1,
	                                colour};
}

/* Every column named word (a full name) or of engine word; how many. */
static int add_word(struct fig *g, const char *word)
{
	int n = 0;

	for (int c = 0; c < g->run->ncols && g->ns < NB_MAX_COLS; c++) {
		const char *name = g->run->col[c].name;

		if (!strcmp(name, word) || (!strchr(word, ':') && !strcmp(engine_of(name), word)))
			add_series(g, c), n++;
	}
	return n;
}

static int pick_series(struct fig *g, const char *columns, char *err, size_t errlen)
{
	char list[256], *tok, *save;

	snprintf(list, sizeof(list), "%s", columns ? columns : "native,bt,kvm");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!add_word(g, tok) && columns)
			return snprintf(err, errlen, "--plot-columns: no column '%s'", tok), -1;
	if (!g->ns)
		return snprintf(err, errlen,
		                "no column to plot (native, bt or kvm; see --plot-columns)"),
		       -1;
	return 0;
}

/* Rows with data in some series (or a paper figure for one), and the axis top. */
static void pick_rows(struct fig *g)
{
	double hi = 100;

	for (int b = 0; b < NB_NR; b++) {
		bool any = false;

		for (int i = 0; i < g->ns; i++) {
			struct nb_summary s;
			double p = paper_val(g->paper, g->s[i].paper, b);

			if (nb_summarize(&g->run->col[g->s[i].col].cell[b], &s)) {
				any = true;
				hi = fmax(hi, s.max);
			}
			if (!isnan(p))
				any = true, hi = fmax(hi, p);
		}
		if (any)
			g->rows[g->nrows++] = b;
	}
	g->top = pow(10, ceil(log10(hi * 1.5)));
}

static double ypos(const struct fig *g, double v)
{
	return Y1 - (Y1 - Y0) * log10(fmax(v, 1)) / log10(g->top);
}

static void text(cairo_t *cr, double x, double y, double size, double align, const char *s)
{
	cairo_text_extents_t e;

	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, s, &e);
	cairo_move_to(cr, x - align * (e.width + e.x_bearing), y);
	cairo_show_text(cr, s);
}

static void axis(cairo_t *cr, const struct fig *g)
{
	static const char *const dec[] = {"1",    "10", "100", "1k",   "10k",
	                                  "100k", "1M", "10M", "100M", "1G"};
	char label[16];

	cairo_set_line_width(cr, 0.6);
	for (double v = 1; v <= g->top * 1.01; v *= 10) {
		int k = (int)lround(log10(v));

		cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
		cairo_move_to(cr, X0, ypos(g, v));
		cairo_line_to(cr, X1, ypos(g, v));
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		snprintf(label, sizeof(label), "%s", k < 10 ? dec[k] : "1e10+");
		text(cr, X0 - 6, ypos(g, v) + 4, 10, 1.0, label);
	}
	cairo_save(cr);
	cairo_move_to(cr, 16, (Y0 + Y1) / 2 + 70);
	cairo_rotate(cr, -M_PI / 2);
	cairo_set_font_size(cr, 11);
	cairo_show_text(cr, "cycles per operation (log)");
	cairo_restore(cr);
	cairo_set_line_width(cr, 1);
	cairo_move_to(cr, X0, Y0);
	cairo_line_to(cr, X0, Y1);
	cairo_line_to(cr, X1, Y1);
	cairo_stroke(cr);
}

/* The bar, whiskers and paper marker of series i in row b, in the slot at x (width w). */
static void bar(cairo_t *cr, const struct fig *g, int i, int b, double x, double w)
{
	const struct series *se = &g->s[i];
	const struct nb_column *c = &g->run->col[se->col];
	const double *rgb = palette[se->colour];
	double p = paper_val(g->paper, se->paper, b), cx = x + w / 2;
	struct nb_summary s;

	if (!nb_summarize(&c->cell[b], &s)) {
		cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
		text(cr, cx, Y1 - 4, 7.5, 0.5, "n/a");
	} else if (s.below_res) {
		cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
		text(cr, cx, Y1 - 4, 8, 0.5, "<1");
	} else {
		cairo_rectangle(cr, x, ypos(g, s.median), w, Y1 - ypos(g, s.median));
		cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
		if (c->hw_timing) {
			cairo_fill(cr);
		} else { /* not hardware timing: an outline only */
			cairo_set_line_width(cr, 1.2);
			cairo_stroke(cr);
		}
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 0.9);
		cairo_move_to(cr, cx, ypos(g, s.min));
		cairo_line_to(cr, cx, ypos(g, s.max));
		cairo_move_to(cr, cx - w / 4, ypos(g, s.min));
		cairo_line_to(cr, cx + w / 4, ypos(g, s.min));
		cairo_move_to(cr, cx - w / 4, ypos(g, s.max));
		cairo_line_to(cr, cx + w / 4, ypos(g, s.max));
		cairo_stroke(cr);
	}
	if (!isnan(p) && p >= 1) { /* the paper's figure: a black diamond */
		double y = ypos(g, p), r = fmin(4.5, w / 2.5);

		cairo_move_to(cr, cx, y - r);
		cairo_line_to(cr, cx + r, y);
		cairo_line_to(cr, cx, y + r);
		cairo_line_to(cr, cx - r, y);
		cairo_close_path(cr);
		cairo_set_source_rgb(cr, 1, 1, 1);
		cairo_fill_preserve(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 1.2);
		cairo_stroke(cr);
	}
}

static void groups(cairo_t *cr, const struct fig *g)
{
	double gw = (X1 - X0) / g->nrows, bw = gw * 0.8 / g->ns;

	for (int r = 0; r < g->nrows; r++) {
		double x = X0 + r * gw + gw * 0.1;

		for (int i = 0; i < g->ns; i++)
			bar(cr, g, i, g->rows[r], x + i * bw, bw);
		cairo_set_source_rgb(cr, 0, 0, 0);
		text(cr, X0 + (r + 0.5) * gw, Y1 + 15, 11, 0.5, nb_names[g->rows[r]]);
	}
}

static void legend(cairo_t *cr, const struct fig *g)
{
	double x = X0, y = Y1 + 36;
	char label[96];
	cairo_text_extents_t e;

	cairo_set_font_size(cr, 10);
	for (int i = 0; i <= g->ns; i++) {
		if (i < g->ns) {
			const struct nb_column *c = &g->run->col[g->s[i].col];
			const double *rgb = palette[g->s[i].colour];

			snprintf(label, sizeof(label), "%s%s", c->name,
			         !c->available  ? " (not measured here)"
			         : c->hw_timing ? ""
			                        : " (not hardware timing)");
			cairo_text_extents(cr, label, &e);
			if (x + 16 + e.x_advance > X1)
				x = X0, y += 15;
			cairo_rectangle(cr, x, y - 9, 11, 11);
			cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
			cairo_fill(cr);
		} else {
			if (!g->paper)
				break;
			snprintf(label, sizeof(label),
			         "Adams & Agesen 2006 (Pentium 4) on native, BT, VT-x");
			cairo_text_extents(cr, label, &e);
			if (x + 16 + e.x_advance > X1)
				x = X0, y += 15;
			cairo_move_to(cr, x + 5.5, y - 9);
			cairo_line_to(cr, x + 11, y - 3.5);
			cairo_line_to(cr, x + 5.5, y + 2);
			cairo_line_to(cr, x, y - 3.5);
			cairo_close_path(cr);
			cairo_set_source_rgb(cr, 0, 0, 0);
			cairo_set_line_width(cr, 1.2);
			cairo_stroke(cr);
		}
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_move_to(cr, x + 15, y);
		cairo_show_text(cr, label);
		x += 15 + e.x_advance + 14;
	}
}

/* The provenance: hosts, dates, versions, guests, method; at most one entry per host. */
static void caption_text(const struct fig *g, char *buf, size_t len)
{
	size_t n = 0;
	int nsamples = 0;

	for (int i = 0; i < g->ns && n < len; i++) {
		const struct nb_column *c = &g->run->col[g->s[i].col];
		const struct nb_host *h = c->host.hostname[0] ? &c->host : &g->run->host;
		bool seen = false;

		for (int j = 0; j < i; j++) {
			const struct nb_column *d = &g->run->col[g->s[j].col];

			seen |= !strcmp(d->host.hostname, c->host.hostname);
		}
		for (int b = 0; b < NB_NR; b++)
			if (c->cell[b].nsamples > nsamples)
				nsamples = c->cell[b].nsamples;
		if (seen)
			continue;
		n += (size_t)snprintf(
		    buf + n, len - n,
		    "%s: %s, TSC %" PRIu64 " kHz, %s, KVM %s; %s; tandem %s; guest %s. ",
		    h->hostname[0] ? h->hostname : "?", h->cpu, h->tsc_khz, h->kernel, h->kvm,
		    h->date, c->tandem[0] ? c->tandem : g->run->tandem,
		    c->guest_id[0] ? c->guest_id : g->run->guest_id);
	}
	if (n < len)
		snprintf(
		    buf + n, len - n,
		    "Bars: median of up to %d samples, empty loop subtracted; whiskers: min-max; "
		    "<1: below resolution; n/a: not measured.",
		    nsamples);
}

/* Words wrapped to the plot's width, small and grey. */
static void caption(cairo_t *cr, const struct fig *g, double y)
{
	char buf[2048], line[512] = "", *w, *save;
	cairo_text_extents_t e;

	caption_text(g, buf, sizeof(buf));
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_set_font_size(cr, 8.5);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char next[512];

		snprintf(next, sizeof(next), "%s%s%s", line, line[0] ? " " : "", w);
		cairo_text_extents(cr, next, &e);
		if (e.x_advance > W - 2 * 16 && line[0]) {
			cairo_move_to(cr, 16, y);
			cairo_show_text(cr, line);
			y += 11;
			snprintf(line, sizeof(line), "%s", w);
		} else {
			memcpy(line, next, sizeof(line));
		}
	}
	cairo_move_to(cr, 16, y);
	cairo_show_text(cr, line);
}

static void draw(cairo_t *cr, const struct fig *g)
{
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_source_rgb(cr, 0, 0, 0);
	text(cr, W / 2, 24, 14, 0.5, "Nano-benchmarks: cycles per operation");
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	axis(cr, g);
	groups(cr, g);
	legend(cr, g);
	caption(cr, g, Y1 + 64);
}

int nb_plot(const char *path, const struct nb_run *run, const struct nb_plot_opts *o, char *err,
            size_t errlen)
{
	static struct fig g;
	cairo_surface_t *sf;
	cairo_status_t st;
	cairo_t *cr;

	memset(&g, 0, sizeof(g));
	g.run = run;
	g.paper = o->paper;
	if (pick_series(&g, o->columns, err, errlen))
		return -1;
	pick_rows(&g);
	if (!g.nrows)
		return snprintf(err, errlen, "nothing to plot: no samples"), -1;
	if (o->format == NB_PLOT_SVG)
		sf = cairo_svg_surface_create(path, W, H);
	else if (o->format == NB_PLOT_PDF)
		sf = cairo_pdf_surface_create(path, W, H);
	else
		sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(W * PNG_SCALE),
		                                (int)(H * PNG_SCALE));
	if (o->format == NB_PLOT_PDF) { /* the provenance in the file's metadata too */
		char subject[2048];

		caption_text(&g, subject, sizeof(subject));
		cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE,
		                               "Nano-benchmarks: cycles per operation");
		cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_SUBJECT, subject);
		cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "tandem report");
	}
	cr = cairo_create(sf);
	if (o->format == NB_PLOT_PNG)
		cairo_scale(cr, PNG_SCALE, PNG_SCALE);
	draw(cr, &g);
	st = cairo_status(cr);
	cairo_destroy(cr);
	if (!st && o->format == NB_PLOT_PNG)
		st = cairo_surface_write_to_png(sf, path);
	cairo_surface_finish(sf);
	if (!st)
		st = cairo_surface_status(sf);
	cairo_surface_destroy(sf);
	if (st)
		return snprintf(err, errlen, "--plot %s: %s", path, cairo_status_to_string(st)), -1;
	return 0;
}
