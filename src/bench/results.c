/* results.c: nano-benchmark results: names, statistics, merging runs, the paper's figures. */
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nb_names[NB_NR] = {
#define X(n) [NB_##n] = #n,
    NB_BENCHES(X)
#undef X
};

int nb_find(const char *name)
{
	for (int i = 0; name && i < NB_NR; i++)
		if (!strcmp(name, nb_names[i]))
			return i;
	return -1;
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

/*
 * NAN samples (a null in the JSON) are not measurements and are skipped; the
 * median of an even count is the mean of the middle two.
 */
bool nb_stats(const struct nb_cell *c, double *median, double *min, double *max)
{
	double s[NB_MAX_SAMPLES];
	int n = 0;

	if (!c->present)
		return false;
	for (int i = 0; i < c->nsamples && i < NB_MAX_SAMPLES; i++)
		if (!isnan(c->samples[i]))
			s[n++] = c->samples[i];
	if (!n)
		return false;
	qsort(s, (size_t)n, sizeof(s[0]), cmp_double);
	if (median)
		*median = n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	if (min)
		*min = s[0];
	if (max)
		*max = s[n - 1];
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

/* Run i's short hostname ("run<i+1>" when it has none), at most room bytes. */
static void base_prefix(const struct nb_run *r, int i, size_t room, char *buf, size_t size)
{
	if (r->host.hostname[0])
		snprintf(buf, size, "%.*s", (int)strcspn(r->host.hostname, "."), r->host.hostname);
	else
		snprintf(buf, size, "run%d", i + 1);
	if (strlen(buf) > room)
		buf[room] = '\0';
}

/*
 * The prefix naming run i's columns: its short hostname, cut to leave room for
 * its longest column name, and made unique with "#<i+1>" when an earlier run
 * has the same one (two runs from one host).
 */
static void host_prefix(const struct nb_run *runs, int i, char *buf, size_t size)
{
	const struct nb_run *r = &runs[i];
	size_t longest = 0, room, namesz = sizeof(r->col[0].name);
	char other[32], num[16];

	for (int j = 0; j < r->ncols && j < NB_MAX_COLS; j++)
		if (strnlen(r->col[j].name, namesz) > longest)
			longest = strnlen(r->col[j].name, namesz);
	room = longest + 2 < namesz ? namesz - longest - 2 : 1;
	if (room > size - 1)
		room = size - 1;
	base_prefix(r, i, room, buf, size);
	for (int k = 0; k < i; k++) {
		base_prefix(&runs[k], k, room, other, sizeof(other));
		if (!strcmp(other, buf)) {
			snprintf(num, sizeof(num), "#%d", i + 1);
			if (strlen(buf) + strlen(num) > room)
				buf[room > strlen(num) ? room - strlen(num) : 0] = '\0';
			cat_trunc(buf, size, num);
			break;
		}
	}
}

/*
 * Columns of the runs after the first carry their host in their settings,
 * "[tsc_khz=N cpu=...] ", so the report converts their cycles at their own
 * TSC rate; when a run measured another guest than the first, its columns also
 * say "guest_id=... " there (the merged run keeps the first run's guest).
 */
static void merge_settings(struct nb_column *c, const struct nb_run *first, const struct nb_run *r)
{
	char orig[sizeof(c->settings)], tag[sizeof(c->settings)];

	memcpy(orig, c->settings, sizeof(orig));
	orig[sizeof(orig) - 1] = '\0';
	c->settings[0] = '\0';
	snprintf(tag, sizeof(tag), "[tsc_khz=%" PRIu64 " cpu=", r->host.tsc_khz);
	cat_trunc(c->settings, sizeof(c->settings), tag);
	cat_trunc(c->settings, sizeof(c->settings), r->host.cpu);
	cat_trunc(c->settings, sizeof(c->settings), "] ");
	if (strncmp(first->guest_id, r->guest_id, sizeof(r->guest_id))) {
		cat_trunc(c->settings, sizeof(c->settings), "guest_id=");
		cat_trunc(c->settings, sizeof(c->settings), r->guest_id);
		cat_trunc(c->settings, sizeof(c->settings), " ");
	}
	cat_trunc(c->settings, sizeof(c->settings), orig);
	if (!orig[0]) /* no trailing blank */
		c->settings[strlen(c->settings) - 1] = '\0';
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
	memcpy(out->guest, runs[0].guest, sizeof(out->guest));
	memcpy(out->guest_id, runs[0].guest_id, sizeof(out->guest_id));
	memcpy(out->tandem, runs[0].tandem, sizeof(out->tandem));
	for (int i = 0; i < n; i++) {
		char prefix[32];

		host_prefix(runs, i, prefix, sizeof(prefix));
		for (int j = 0; j < runs[i].ncols && j < NB_MAX_COLS; j++) {
			struct nb_column *c;

			if (out->ncols == NB_MAX_COLS)
				return -1;
			c = &out->col[out->ncols];
			*c = runs[i].col[j];
			c->name[0] = '\0';
			cat_trunc(c->name, sizeof(c->name), prefix);
			cat_trunc(c->name, sizeof(c->name), ":");
			cat_trunc(c->name, sizeof(c->name), runs[i].col[j].name);
			if (i)
				merge_settings(c, &runs[0], &runs[i]);
			out->ncols++;
		}
	}
	return 0;
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
