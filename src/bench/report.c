/* report.c: the nano-benchmark comparison as an aligned table, markdown, CSV or JSON. */
#include "results.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TCOLS (NB_MAX_COLS + 5) /* benchmark, the run's columns, 3 paper columns, finding */
#define TCELL 160

/*
 * A table of cells of up to three lines: numbers; ns and ratio; the note (markdown
 * only: the text table gives a footnote number on the second line instead).
 */
struct table {
	int nrows, ncols;
	char head[TCOLS][2][48];
	char cell[NB_NR][TCOLS][3][TCELL];
	const char *notes[NB_NR * NB_MAX_COLS]; /* footnotes (text only), by number - 1 */
	int nnotes;
};

/* Display width of UTF-8 text: one per character. */
static int dispw(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const char *base_name(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

/* The available column named prefix[0..plen) + name, or -1. */
static int find_col(const struct nb_run *run, const char *prefix, size_t plen, const char *name)
{
	for (int i = 0; i < run->ncols; i++) {
		const char *n = run->col[i].name;

		if (run->col[i].available && !strncmp(n, prefix, plen) && !strcmp(n + plen, name))
			return i;
	}
	return -1;
}

/* The baseline for column c: the one of its own host when merged ("h:native"), else by name. */
static int baseline_of(const struct nb_run *run, int c, const char *baseline)
{
	const char *n = run->col[c].name;
	int i = find_col(run, n, (size_t)(base_name(n) - n), baseline);

	return i >= 0 ? i : find_col(run, "", 0, baseline);
}

/* The column's TSC rate: its own host's, or as merged by tandem before 2026 ("[tsc_khz=N ..."), or
 * the run's. */
static double tsc_khz(const struct nb_run *run, const struct nb_column *c)
{
	if (c->host.tsc_khz)
		return (double)c->host.tsc_khz;
	if (!strncmp(c->settings, "[tsc_khz=", 9))
		return strtod(c->settings + 9, NULL);
	return (double)run->host.tsc_khz;
}

/*
 * Median (min, max), ns and ratio to the baseline of one cell, and its summary;
 * false when it has no samples. No ratio from or to a value below resolution.
 */
static bool cell_numbers(const struct nb_run *run, int c, int b, const char *baseline, double v[5],
                         struct nb_summary *s)
{
	double khz = nb_suite_of(run)->cycles ? tsc_khz(run, &run->col[c]) : 0;
	int bl = baseline_of(run, c, baseline);
	struct nb_summary bs;

	if (!nb_summarize(&run->col[c].cell[b], s))
		return false;
	v[0] = s->median, v[1] = s->min, v[2] = s->max;
	v[3] = khz > 0 ? v[0] * 1e6 / khz : NAN;
	v[4] = NAN;
	if (bl >= 0 && nb_summarize(&run->col[bl].cell[b], &bs) && !bs.below_res && !s->below_res)
		v[4] = v[0] / bs.median;
	return true;
}

static bool col_shown(const struct nb_column *c)
{
	if (c->available)
		return true;
	for (int b = 0; b < NB_NR; b++)
		if (c->cell[b].present)
			return true;
	return false;
}

/* A row is shown when some shown column has samples or a note for it. */
static bool row_shown(const struct nb_run *run, int b)
{
	for (int i = 0; i < run->ncols; i++)
		if (col_shown(&run->col[i]) && (nb_stats(&run->col[i].cell[b], NULL, NULL, NULL) ||
		                                run->col[i].cell[b].note[0]))
			return true;
	return false;
}

static void fmt_cycles(char *buf, size_t n, double v)
{
	snprintf(buf, n, fabs(v) < 1e4 ? "%.1f" : "%.0f", v);
}

static void fmt_ratio(char *buf, size_t n, double r)
{
	snprintf(buf, n, r < 0.01 ? "%.3fx" : r < 1 ? "%.2fx" : r < 100 ? "%.1fx" : "%.0fx", r);
}

/* The footnote number of a note, adding it when new. */
static int footnote(struct table *t, const char *note)
{
	for (int i = 0; i < t->nnotes; i++)
		if (!strcmp(t->notes[i], note))
			return i + 1;
	t->notes[t->nnotes++] = note;
	return t->nnotes;
}

/* One run column's cell: "median (min–max)", then "ns, ratio", and the note or its [n]. */
static void run_cell(struct table *t, const struct nb_run *run, int c, int b, const char *baseline,
                     bool md, char out[3][TCELL])
{
	const struct nb_cell *cl = &run->col[c].cell[b];
	char m[24], lo[24], hi[24];
	struct nb_summary s;
	double v[5];
	size_t len;

	if (cell_numbers(run, c, b, baseline, v, &s) && s.below_res) {
		snprintf(out[0], TCELL, "< resolution");
	} else if (cell_numbers(run, c, b, baseline, v, &s)) {
		fmt_cycles(m, sizeof(m), v[0]);
		fmt_cycles(lo, sizeof(lo), v[1]);
		fmt_cycles(hi, sizeof(hi), v[2]);
		snprintf(out[0], TCELL, "%s (%s–%s)", m, lo, hi);
		fmt_cycles(m, sizeof(m), s.iqr);
		if (s.n >= 3)
			snprintf(out[1], TCELL, "%sIQR %s", s.noisy ? "noisy: " : "", m);
		len = strlen(out[1]);
		if (!isnan(v[3]))
			snprintf(out[1] + len, TCELL - len,
			         fabs(v[3]) < 1e4 ? "%s%.1f ns" : "%s%.0f ns", len ? ", " : "",
			         v[3]);
		if (!isnan(v[4])) {
			fmt_ratio(m, sizeof(m), v[4]);
			len = strlen(out[1]);
			snprintf(out[1] + len, TCELL - len, "%s%s", len ? ", " : "", m);
		}
	} else if (md && (!strncmp(cl->note, "n/a", 3) || !strncmp(cl->note, "skipped", 7))) {
		snprintf(out[0], TCELL, "%.*s", (int)sizeof(cl->note), cl->note);
		return;
	} else {
		snprintf(out[0], TCELL, "n/a");
	}
	len = strlen(out[1]);
	if (cl->note[0] && md)
		snprintf(out[2], TCELL, "%.*s", (int)sizeof(cl->note), cl->note);
	else if (cl->note[0])
		snprintf(out[1] + len, TCELL - len, "%s[%d]", len ? " " : "",
		         footnote(t, cl->note));
}

static void fmt_paper(char *buf, double v)
{
	if (isnan(v))
		snprintf(buf, TCELL, "-");
	else
		snprintf(buf, TCELL, "%.0f", v);
}

static void build(struct table *t, const struct nb_run *run, const struct nb_report_opts *o,
                  const char *baseline, bool md)
{
	static const char *const paper_head[] = {"native", "BT", "VT-x"};
	const struct nb_suite *su = nb_suite_of(run);
	int k;

	t->ncols = 1;
	snprintf(t->head[0][0], 48, "benchmark");
	for (int c = 0; c < run->ncols; c++) {
		if (!col_shown(&run->col[c]))
			continue;
		snprintf(t->head[t->ncols][0], 48, "%s", run->col[c].name);
		if (!run->col[c].hw_timing)
			snprintf(t->head[t->ncols][1], 48, "(not hardware timing)");
		t->ncols++;
	}
	for (int i = 0; o->paper && i < 4; i++, t->ncols++) {
		snprintf(t->head[t->ncols][0], 48, i < 3 ? "paper" : "finding");
		snprintf(t->head[t->ncols][1], 48, "%s", i < 3 ? paper_head[i] : "(paper: here)");
	}
	for (int b = 0; b < su->nrows; b++) {
		char(*row)[3][TCELL] = t->cell[t->nrows];

		if (!row_shown(run, b))
			continue;
		snprintf(row[0][0], TCELL, "%s", su->rows[b]);
		k = 1;
		for (int c = 0; c < run->ncols; c++)
			if (col_shown(&run->col[c]))
				run_cell(t, run, c, b, baseline, md, row[k++]);
		if (o->paper) {
			fmt_paper(row[k++][0], o->paper->native[b]);
			fmt_paper(row[k++][0], o->paper->bt[b]);
			fmt_paper(row[k++][0], o->paper->hw[b]);
			nb_finding(run, o->paper, b, row[k][0], TCELL);
		}
		t->nrows++;
	}
}

/* Markdown-safe text: pipes escaped, no HTML, line breaks flattened. */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
}

/* The header, then one row a benchmark, its lines joined by <br>; numbers right-aligned. */
static void print_md(FILE *f, const struct table *t, bool paper)
{
	for (int c = 0; c < t->ncols; c++) {
		fputs("| ", f);
		md_text(f, t->head[c][0]);
		fputs(t->head[c][1][0] ? " " : "", f);
		md_text(f, t->head[c][1]);
		fputc(' ', f);
	}
	fputs("|\n", f);
	for (int c = 0; c < t->ncols; c++)
		fputs(!c || (paper && c == t->ncols - 1) ? "|---" : "|---:", f);
	fputs("|\n", f);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			fputs("| ", f);
			for (int l = 0; l < 3; l++) {
				if (l && t->cell[r][c][l][0])
					fputs("<br>", f);
				md_text(f, t->cell[r][c][l]);
			}
			fputc(' ', f);
		}
		fputs("|\n", f);
	}
}

/* Columns two spaces apart, each as wide as its widest line; no trailing blanks. */
static void print_line(FILE *f, const int *w, int n, const char *const *cells)
{
	int last = n - 1;

	while (last > 0 && !cells[last][0])
		last--;
	for (int c = 0; c <= last; c++)
		fprintf(f, "%s%*s", cells[c], c < last ? w[c] - dispw(cells[c]) + 2 : 0, "");
	fputc('\n', f);
}

static void print_text(FILE *f, const struct table *t)
{
	const char *line[TCOLS];
	int w[TCOLS] = {0};

	for (int c = 0; c < t->ncols; c++) {
		for (int l = 0; l < 2; l++) {
			if (dispw(t->head[c][l]) > w[c])
				w[c] = dispw(t->head[c][l]);
			for (int r = 0; r < t->nrows; r++)
				if (dispw(t->cell[r][c][l]) > w[c])
					w[c] = dispw(t->cell[r][c][l]);
		}
	}
	for (int r = -1; r < t->nrows; r++) {
		if (r >= 0)
			fputc('\n', f);
		for (int l = 0; l < 2; l++) {
			bool blank = true;

			for (int c = 0; c < t->ncols; c++) {
				line[c] = r < 0 ? t->head[c][l] : t->cell[r][c][l];
				blank &= !line[c][0];
			}
			if (!blank || l == 0)
				print_line(f, w, t->ncols, line);
		}
	}
	if (!t->nrows)
		fputs("\n(no results)\n", f);
}

/* Do all the available columns come from the run's own host? */
static bool one_host(const struct nb_run *run)
{
	for (int i = 0; i < run->ncols; i++)
		if (run->col[i].host.hostname[0] &&
		    strcmp(run->col[i].host.hostname, run->host.hostname))
			return false;
	return true;
}

static void header(FILE *f, const struct nb_run *run, const char *baseline, bool md)
{
	const struct nb_host *h = &run->host;
	const struct nb_suite *su = nb_suite_of(run);
	const char *item = md ? "- " : "";

	if (!one_host(run)) {
		fprintf(f, "%s%s on several hosts\n\n", md ? "## " : "", su->title);
		fprintf(f,
		        "%seach column's host, date, tandem and guest are listed under the table\n",
		        item);
	} else {
		fprintf(f, "%s%s on %s\n\n", md ? "## " : "", su->title,
		        h->cpu[0] ? h->cpu : "unknown CPU");
		fprintf(f, "%shost %s, TSC %" PRIu64 " kHz, kernel %s, KVM %s, %s\n", item,
		        h->hostname[0] ? h->hostname : "?", h->tsc_khz,
		        h->kernel[0] ? h->kernel : "?", h->kvm[0] ? h->kvm : "?",
		        h->date[0] ? h->date : "undated");
		if (h->caps[0])
			fprintf(f, "%shost capabilities: %s\n", item, h->caps);
		fprintf(f, "%sguest %s (%s), tandem %s\n", item, run->guest[0] ? run->guest : "?",
		        run->guest_id[0] ? run->guest_id : "no id",
		        run->tandem[0] ? run->tandem : "?");
	}
	fprintf(
	    f,
	    "%s%s: median (min–max); then the IQR (\"noisy\" when above %.0f%% of the median)%s, "
	    "and the ratio to %s; a median below %.0f %s is \"< resolution\" (the samples are in "
	    "the JSON)\n\n",
	    item, su->what, NB_NOISY_IQR * 100, su->cycles ? ", ns at the TSC rate" : "", baseline,
	    NB_RESOLUTION, su->unit);
}

/* The indent under a list item. */
static const char *md_pad(const char *item)
{
	return item[0] == '-' ? "  " : item;
}

static void fmt_load(char *buf, size_t n, const struct nb_column *c)
{
	if (isnan(c->load_before) && isnan(c->load_after))
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%.2f -> %.2f", c->load_before, c->load_after);
}

/* One column's provenance line: what, where, when, with what. */
static void column_line(FILE *f, const struct nb_run *run, const struct nb_column *c,
                        const char *item)
{
	char empty[24] = "?", load[48];
	const struct nb_host *h = c->host.hostname[0] ? &c->host : &run->host;

	if (!isnan(c->empty))
		fmt_cycles(empty, sizeof(empty), c->empty);
	fmt_load(load, sizeof(load), c);
	if (nb_suite_of(run)->cycles)
		fprintf(f, "%s%s: %s; empty loop %s cycles%s%s\n", item, c->name,
		        c->label[0] ? c->label : "-", empty, c->settings[0] ? "; " : "",
		        c->settings);
	else
		fprintf(f, "%s%s: %s%s%s\n", item, c->name, c->label[0] ? c->label : "-",
		        c->settings[0] ? "; " : "", c->settings);
	fprintf(f,
	        "%s  ran on %s (%s, TSC %" PRIu64
	        " kHz, %s, KVM %s) at %s, CPUs %s, load %s; tandem %s; guest %s\n",
	        md_pad(item), h->hostname[0] ? h->hostname : "?", h->cpu[0] ? h->cpu : "?",
	        h->tsc_khz, h->kernel[0] ? h->kernel : "?", h->kvm[0] ? h->kvm : "?",
	        h->date[0] ? h->date : "undated", c->cpus[0] ? c->cpus : "?", load,
	        c->tandem[0] ? c->tandem : "?", c->guest_id[0] ? c->guest_id : "?");
}

static void footer(FILE *f, const struct nb_run *run, const struct table *t, const char *baseline,
                   bool md, bool paper)
{
	const char *item = md ? "- " : "  ";
	char basis[256];
	bool any = false;

	fputc('\n', f);
	for (int i = 0; i < run->ncols; i++) {
		any |= !strcmp(base_name(run->col[i].name), baseline) && run->col[i].available;
		if (!run->col[i].available)
			fprintf(f, "%s%s: %s: %s\n", md ? "- " : "", run->col[i].name,
			        run->col[i].failed ? "failed" : "unavailable",
			        run->col[i].reason[0] ? run->col[i].reason : "no reason given");
	}
	if (!any)
		fprintf(f, "%sno column '%s': no ratios\n", md ? "- " : "", baseline);
	if (paper) {
		nb_finding_basis(run, basis, sizeof(basis));
		fprintf(f, "%s%s\n", md ? "- " : "", basis);
	}
	if (t->nnotes)
		fprintf(f, "%snotes:\n", md ? "\n" : "");
	for (int i = 0; i < t->nnotes; i++)
		fprintf(f, "%s[%d] %s\n", item, i + 1, t->notes[i]);
	for (int i = 0, n = 0; i < run->ncols; i++) {
		if (!col_shown(&run->col[i]))
			continue;
		if (!n++)
			fprintf(f, "%scolumns:\n", md ? "\n" : "");
		column_line(f, run, &run->col[i], item);
	}
}

/* RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v)
{
	if (!isnan(v))
		fprintf(f, "%.10g", v);
	fputc(',', f);
}

static void print_csv(FILE *f, const struct nb_run *run, const char *baseline)
{
	const struct nb_suite *su = nb_suite_of(run);

	fprintf(f,
	        "benchmark,column,median_%s,min_%s,max_%s,median_ns,ratio_to_baseline,"
	        "iters,nsamples,iqr_%s,noisy,below_resolution,note\n",
	        su->unit, su->unit, su->unit, su->unit);
	for (int b = 0; b < su->nrows; b++) {
		if (!row_shown(run, b))
			continue;
		for (int c = 0; c < run->ncols; c++) {
			const struct nb_column *col = &run->col[c];
			const struct nb_cell *cl = &col->cell[b];
			char note[sizeof(col->reason) + 16];
			double v[5] = {NAN, NAN, NAN, NAN, NAN};
			struct nb_summary s;
			bool ok = cell_numbers(run, c, b, baseline, v, &s);

			if (ok && !su->cycles) /* the samples are ns already */
				v[3] = v[0];

			snprintf(note, sizeof(note), "%.*s", (int)sizeof(cl->note), cl->note);
			if (!note[0] && !col->available)
				snprintf(note, sizeof(note), "%s: %.*s",
				         col->failed ? "failed" : "unavailable",
				         (int)sizeof(col->reason), col->reason);
			csv_field(f, su->rows[b], false);
			csv_field(f, col->name, false);
			for (int i = 0; i < 5; i++)
				csv_num(f, v[i]);
			if (ok)
				fprintf(f, "%" PRIu64 ",%d,", cl->iters, cl->nsamples);
			else
				fputs(",,", f);
			csv_num(f, ok ? s.iqr : NAN);
			fputs(!ok ? ",," : s.noisy ? "1," : "0,", f);
			if (ok)
				fputs(s.below_res ? "1," : "0,", f);
			csv_field(f, note, true);
		}
	}
}

void nb_report(FILE *f, const struct nb_run *run, const struct nb_report_opts *o)
{
	static const struct nb_report_opts defaults = {.format = NB_FMT_TABLE};
	const char *baseline;
	struct table *t;

	if (!o)
		o = &defaults;
	if (run->ncols < 0 || run->ncols > NB_MAX_COLS) {
		fprintf(f, "nanobench report: bad run (%d columns)\n", run->ncols);
		return;
	}
	baseline = o->baseline && o->baseline[0] ? o->baseline : "native";
	if (o->format == NB_FMT_JSON) {
		nb_write_json(f, run);
		return;
	}
	if (o->format == NB_FMT_CSV) {
		print_csv(f, run, baseline);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(f, "nanobench report: out of memory\n");
		return;
	}
	build(t, run, o, baseline, o->format == NB_FMT_MD);
	header(f, run, baseline, o->format == NB_FMT_MD);
	if (o->format == NB_FMT_MD)
		print_md(f, t, o->paper != NULL);
	else
		print_text(f, t);
	footer(f, run, t, baseline, o->format == NB_FMT_MD, o->paper != NULL);
	free(t);
}
