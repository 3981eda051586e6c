/* results.c: nano-benchmark results: names, statistics, merging runs, the paper's figures. */
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nb_names[NB_NR] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) [NB_##n] = #n,
    NANO_ROWS(X)
#undef X
};

const char *const nb_descs[NB_NR] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) [NB_##n] = d,
    NANO_ROWS(X)
#undef X
};

const char *const nb_papers[NB_NR] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) [NB_##n] = paper,
    NANO_ROWS(X)
#undef X
};

const char *nb_row_names(const struct nb_suite *suite, const char *sep, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; i < suite->nrows && used < len; i++)
		used +=
		    (size_t)snprintf(buf + used, len - used, "%s%s", i ? sep : "", suite->rows[i]);
	return buf;
}

int nb_find(const char *name)
{
	for (int i = 0; name && i < NB_NR; i++)
		if (!strcmp(name, nb_names[i]))
			return i;
	return -1;
}

static const char *const linux_rows[NB_LINUX_NR] = {
#define X(n, paper, scale, d) [NB_LINUX_##n] = #n,
    LINUX_ROWS(X)
#undef X
};

static const char *const linux_descs[NB_LINUX_NR] = {
#define X(n, paper, scale, d) [NB_LINUX_##n] = d,
    LINUX_ROWS(X)
#undef X
};

static const struct nb_suite suites[] = {
    {"nano", "nanobench", NB_NR, nb_names, nb_descs, "cycles", true,
     "cycles per iteration, the empty loop subtracted"},
    {"linux", "Linux macro workloads", NB_LINUX_NR, linux_rows, linux_descs, "ns", false,
     "ns per operation inside Debian's i386 Linux, from the host's clock at the workload's start "
     "and end lines (boot excluded)"},
};

const struct nb_suite *nb_suite_find(const char *name)
{
	if (!name || !name[0])
		return &suites[0];
	for (unsigned i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (!strcmp(name, suites[i].name))
			return &suites[i];
	return NULL;
}

const struct nb_suite *nb_suite_of(const struct nb_run *run)
{
	const struct nb_suite *s = nb_suite_find(run->suite);

	return s ? s : &suites[0];
}

int nb_format_find(const char *name)
{
	static const char *const fmts[] = {
	    [NB_FMT_TABLE] = "table",
	    [NB_FMT_MD] = "md",
	    [NB_FMT_CSV] = "csv",
	    [NB_FMT_JSON] = "json",
	};

	for (int i = 0; name && i < (int)(sizeof(fmts) / sizeof(fmts[0])); i++)
		if (!strcmp(name, fmts[i]))
			return i;
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The sorted non-NAN samples of c into s; how many. NAN samples (a null in the JSON) are no
 * measurements. */
static int sorted(const struct nb_cell *c, double *s)
{
	int n = 0;

	if (!c->present)
		return 0;
	for (int i = 0; i < c->nsamples && i < NB_MAX_SAMPLES; i++)
		if (!isnan(c->samples[i]))
			s[n++] = c->samples[i];
	qsort(s, (size_t)n, sizeof(s[0]), cmp_double);
	return n;
}

/* The p-quantile of n sorted values, linear between order statistics (R's type 7). */
static double quantile(const double *s, int n, double p)
{
	double h = (n - 1) * p;
	int lo = (int)floor(h);

	return lo + 1 < n ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[n - 1];
}

bool nb_stats(const struct nb_cell *c, double *median, double *min, double *max)
{
	double s[NB_MAX_SAMPLES];
	int n = sorted(c, s);

	if (!n)
		return false;
	if (median)
		*median = quantile(s, n, 0.5);
	if (min)
		*min = s[0];
	if (max)
		*max = s[n - 1];
	return true;
}

bool nb_summarize(const struct nb_cell *c, struct nb_summary *sum)
{
	double s[NB_MAX_SAMPLES];
	int n = sorted(c, s);

	if (!n)
		return false;
	sum->n = n;
	sum->median = quantile(s, n, 0.5);
	sum->min = s[0];
	sum->max = s[n - 1];
	sum->q1 = quantile(s, n, 0.25);
	sum->q3 = quantile(s, n, 0.75);
	sum->iqr = sum->q3 - sum->q1;
	sum->below_res = sum->median < NB_RESOLUTION;
	sum->noisy = n >= 3 && !sum->below_res && sum->iqr > NB_NOISY_IQR * sum->median;
	return true;
}

/* Appends src to dst[size], truncating on a UTF-8 character boundary. */
static void cat_trunc(char *dst, size_t size, const char *src)
{
	size_t len = strlen(dst), n = strlen(src);

	if (len + 1 >= size)
		return;
	if (n > size - 1 - len) {
		n = size - 1 - len;
		while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst + len, src, n);
	dst[len + n] = '\0';
}

/* The column's host part: its short hostname, else "run<i+1>" (i: which input run). */
static void host_part(const struct nb_column *c, int i, char *buf, size_t size)
{
	const char *h = c->host.hostname;

	if (h[0])
		snprintf(buf, size, "%.*s", (int)strcspn(h, ".:"), h);
	else
		snprintf(buf, size, "run%d", i + 1);
}

static bool name_taken(const struct nb_run *out, const char *name)
{
	for (int i = 0; i < out->ncols; i++)
		if (!strcmp(out->col[i].name, name))
			return true;
	return false;
}

/*
 * The merged name of column c of input run i: "host:engine" once (a name that
 * already has a host keeps it, so re-merging never repeats it), made unique with
 * "host#k" when two inputs share a host.
 */
static void merged_name(const struct nb_run *out, const struct nb_column *c, int i, char *buf,
                        size_t size)
{
	const char *colon = strchr(c->name, ':');
	const char *engine = colon ? colon + 1 : c->name;
	char hostp[32], cand[64];

	if (colon)
		snprintf(hostp, sizeof(hostp), "%.*s", (int)(colon - c->name), c->name);
	else
		host_part(c, i, hostp, sizeof(hostp));
	if (strchr(hostp, '#')) /* a suffix of an earlier merge: numbered again here */
		*strchr(hostp, '#') = '\0';
	snprintf(cand, sizeof(cand), "%s:%s", hostp, engine);
	for (int k = 2; name_taken(out, cand) && k < 100; k++)
		snprintf(cand, sizeof(cand), "%s#%d:%s", hostp, k, engine);
	buf[0] = '\0';
	cat_trunc(buf, size, cand);
}

int nb_merge(const struct nb_run *runs, int n, struct nb_run *out)
{
	if (!runs || n <= 0)
		return -1;
	if (n == 1) {
		*out = runs[0];
		return 0;
	}
	memset(out, 0, sizeof(*out));
	out->host = runs[0].host;
	memcpy(out->suite, runs[0].suite, sizeof(out->suite));
	memcpy(out->guest, runs[0].guest, sizeof(out->guest));
	memcpy(out->guest_id, runs[0].guest_id, sizeof(out->guest_id));
	memcpy(out->tandem, runs[0].tandem, sizeof(out->tandem));
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < runs[i].ncols && j < NB_MAX_COLS; j++) {
			char name[sizeof(out->col[0].name)];

			if (out->ncols == NB_MAX_COLS)
				return -1;
			struct nb_column *c = &out->col[out->ncols];

			*c = runs[i].col[j];
			if (!c->host.hostname[0] &&
			    !c->host.cpu[0]) /* no provenance of its own: the run's */
				c->host = runs[i].host;
			if (!c->guest_id[0])
				memcpy(c->guest_id, runs[i].guest_id, sizeof(c->guest_id));
			if (!c->tandem[0])
				memcpy(c->tandem, runs[i].tandem, sizeof(c->tandem));
			merged_name(out, c, i, name, sizeof(name));
			memcpy(c->name, name, sizeof(name));
			out->ncols++;
		}
	}
	return 0;
}

/* The guest command line in a column's settings ("guest cmdline: ..." up to ';'), or "". */
static void guest_cmdline(const struct nb_column *c, char *buf, size_t size)
{
	const char *s = strstr(c->settings, "guest cmdline: ");

	buf[0] = '\0';
	if (s) {
		s += strlen("guest cmdline: ");
		snprintf(buf, size, "%.*s", (int)strcspn(s, ";"), s);
	}
}

int nb_provenance_check(const struct nb_run *run, char *msg, size_t len)
{
	const struct nb_column *first = NULL, *first_cl = NULL;
	char a[160], b[160], line[512];
	int diffs = 0;

	msg[0] = '\0';
	for (int i = 0; i < run->ncols; i++) {
		const struct nb_column *c = &run->col[i];

		if (!c->available)
			continue;
		if (!first) {
			first = c;
		} else {
			if (strcmp(c->guest_id, first->guest_id)) {
				snprintf(line, sizeof(line),
				         "%s measured another guest build (%s) than %s (%s)\n",
				         c->name, c->guest_id[0] ? c->guest_id : "unknown",
				         first->name,
				         first->guest_id[0] ? first->guest_id : "unknown");
				cat_trunc(msg, len, line), diffs++;
			}
			if (strcmp(c->tandem, first->tandem)) {
				snprintf(line, sizeof(line),
				         "%s comes from tandem %s, %s from tandem %s\n", c->name,
				         c->tandem[0] ? c->tandem : "unknown", first->name,
				         first->tandem[0] ? first->tandem : "unknown");
				cat_trunc(msg, len, line), diffs++;
			}
		}
		guest_cmdline(c, b, sizeof(b));
		if (!b[0])
			continue;
		if (!first_cl) {
			first_cl = c;
		} else {
			guest_cmdline(first_cl, a, sizeof(a));
			if (strcmp(a, b)) {
				snprintf(line, sizeof(line),
				         "%s ran with other settings (%s) than %s (%s)\n", c->name,
				         b, first_cl->name, a);
				cat_trunc(msg, len, line), diffs++;
			}
		}
	}
	return diffs;
}

/* ---- the paper's Figure 4 as TSV: benchmark native bt hw note finding ---- */

/* A number, or NAN for "-", "native", "native+2000" and the like. */
static double paper_num(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	return end != s && !*end && !errno && isfinite(v) ? v : NAN;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	dst[0] = '\0';
	cat_trunc(dst, size, src);
}

/* Splits line at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static int paper_line(char *line, struct nb_paper *p, char *err, size_t errlen, const char *path,
                      int lineno)
{
	char *f[6] = {0};
	int n = split_tabs(line, f, 6), b;

	if (!strcmp(f[0], "benchmark"))
		return 0; /* the header */
	if (n < 4) {
		snprintf(err, errlen, "%s:%d: expected at least 4 tab-separated fields, got %d",
		         path, lineno, n);
		return -1;
	}
	b = nb_find(f[0]);
	if (b < 0)
		return 0; /* a row we do not measure */
	if (n >= 6 && f[5][0] && strcmp(f[5], "bt") && strcmp(f[5], "hw") &&
	    strcmp(f[5], "equal")) {
		snprintf(err, errlen, "%s:%d: finding '%.16s' is not bt, hw or equal", path, lineno,
		         f[5]);
		return -1;
	}
	p->native[b] = paper_num(f[1]);
	p->bt[b] = paper_num(f[2]);
	p->hw[b] = paper_num(f[3]);
	copy_field(p->note[b], sizeof(p->note[b]), n >= 5 ? f[4] : "");
	copy_field(p->finding[b], sizeof(p->finding[b]), n >= 6 ? f[5] : "");
	return 0;
}

int nb_read_paper(const char *path, struct nb_paper *p, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, ret = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < NB_NR; i++)
		p->native[i] = p->bt[i] = p->hw[i] = NAN;
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		char *s = line;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s:%d: NUL byte in line", path, lineno);
			ret = -1;
		} else {
			ret = paper_line(line, p, err, errlen, path, lineno);
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}
