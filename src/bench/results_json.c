/* results_json.c: nano-benchmark results as JSON: a stable writer, and the mapping of json.c's
 * tree. */
#include "json.h"
#include "results.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_BYTES (16u << 20)

/* The fields written and read, in the file's key order. */
enum ftype { F_STR, F_BOOL, F_U64, F_DBL };
struct field {
	const char *key;
	enum ftype type;
	size_t off, size;
};
/* clang-format off */
#define FLD(st, m, t) { #m, t, offsetof(struct st, m), sizeof(((struct st *)0)->m) }
static const struct field host_fields[] = {
	FLD(nb_host, cpu, F_STR), FLD(nb_host, tsc_khz, F_U64), FLD(nb_host, kernel, F_STR),
	FLD(nb_host, kvm, F_STR), FLD(nb_host, caps, F_STR), FLD(nb_host, hostname, F_STR),
	FLD(nb_host, date, F_STR),
};
static const struct field run_fields[] = {
	FLD(nb_run, guest, F_STR), FLD(nb_run, guest_id, F_STR), FLD(nb_run, tandem, F_STR),
};
static const struct field col_fields[] = {
	FLD(nb_column, name, F_STR), FLD(nb_column, label, F_STR),
	FLD(nb_column, available, F_BOOL), FLD(nb_column, reason, F_STR),
	FLD(nb_column, failed, F_BOOL), FLD(nb_column, hw_timing, F_BOOL),
	FLD(nb_column, empty, F_DBL), FLD(nb_column, settings, F_STR),
	FLD(nb_column, cpus, F_STR), FLD(nb_column, load_before, F_DBL),
	FLD(nb_column, load_after, F_DBL), FLD(nb_column, guest_id, F_STR),
	FLD(nb_column, tandem, F_STR),
};
static const struct field cell_fields[] = {
	FLD(nb_cell, present, F_BOOL), FLD(nb_cell, note, F_STR), FLD(nb_cell, iters, F_U64),
};
/* clang-format on */
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- writing ---- */

/* A string field of at most max bytes, quoted and escaped. */
static void put_str(FILE *f, const char *s, size_t max)
{
	static const char from[] = "\"\\\n\t\r", to[] = "\"\\ntr";

	fputc('"', f);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = strchr(from, c);

		if (e)
			fprintf(f, "\\%c", to[e - from]);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The shortest %g that reads back to the same double (at most %.17g); JSON has no NAN/inf. */
static void put_num(FILE *f, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, sizeof(buf), "%.0f", v); /* 100, not 1e+02 */
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	fputs(buf, f);
}

/* `"key": value` for each field of the struct at base, each preceded by sep. */
static void put_fields(FILE *f, const void *base, const struct field *fl, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		const char *m = (const char *)base + fl[i].off;

		fprintf(f, "%s\"%s\": ", i ? sep : "", fl[i].key);
		if (fl[i].type == F_STR)
			put_str(f, m, fl[i].size);
		else if (fl[i].type == F_BOOL)
			fputs(*(const bool *)m ? "true" : "false", f);
		else if (fl[i].type == F_U64)
			fprintf(f, "%" PRIu64, *(const uint64_t *)m);
		else
			put_num(f, *(const double *)m);
	}
}

static void put_column(FILE *f, const struct nb_column *c, const struct nb_suite *su)
{
	fputs("    {\n      ", f);
	put_fields(f, c, col_fields, NFIELDS(col_fields), ",\n      ");
	fputs(",\n      \"host\": {", f);
	put_fields(f, &c->host, host_fields, NFIELDS(host_fields), ", ");
	fputs("},\n      \"cells\": {\n", f);
	for (int b = 0; b < su->nrows; b++) {
		const struct nb_cell *cl = &c->cell[b];
		int n = cl->nsamples < 0                ? 0
		        : cl->nsamples > NB_MAX_SAMPLES ? NB_MAX_SAMPLES
		                                        : cl->nsamples;

		fprintf(f, "        \"%s\": {", su->rows[b]);
		put_fields(f, cl, cell_fields, NFIELDS(cell_fields), ", ");
		fputs(", \"samples\": [", f);
		for (int i = 0; i < n; i++) {
			fputs(i ? ", " : "", f);
			put_num(f, cl->samples[i]);
		}
		fputs(b + 1 < su->nrows ? "]},\n" : "]}\n", f);
	}
	fputs("      }\n    }", f);
}

void nb_write_json(FILE *f, const struct nb_run *run)
{
	int ncols = run->ncols < 0 ? 0 : run->ncols > NB_MAX_COLS ? NB_MAX_COLS : run->ncols;

	const struct nb_suite *su = nb_suite_of(run);

	fputs("{\n  \"tandem_results\": 1,\n", f);
	if (run->suite[0]) { /* nano-benchmark files keep their old form */
		fputs("  \"suite\": ", f);
		put_str(f, run->suite, sizeof(run->suite));
		fputs(",\n", f);
	}
	fputs("  \"host\": {\n    ", f);
	put_fields(f, &run->host, host_fields, NFIELDS(host_fields), ",\n    ");
	fputs("\n  },\n  ", f);
	put_fields(f, run, run_fields, NFIELDS(run_fields), ",\n  ");
	fputs(",\n  \"columns\": [", f);
	for (int i = 0; i < ncols; i++) {
		fputs(i ? ",\n" : "\n", f);
		put_column(f, &run->col[i], su);
	}
	fputs(ncols ? "\n  ]\n}\n" : "]\n}\n", f);
}

/* ---- reading: the tree onto struct nb_run; unknown keys ignored, missing ones default ---- */

/* A non-negative integer: exact from plain digits (beyond 2^53 too), else from the double. */
static int to_u64(struct jparser *p, const struct jval *v, const char *key, uint64_t *dst)
{
	uint64_t x = 0;
	size_t k;

	for (k = 0; k < v->len && v->str[k] >= '0' && v->str[k] <= '9'; k++) {
		if (x > (UINT64_MAX - (unsigned)(v->str[k] - '0')) / 10)
			return json_error(p, v->off, "\"%s\" is too large", key);
		x = x * 10 + (unsigned)(v->str[k] - '0');
	}
	if (k < v->len) { /* a sign, a fraction or an exponent */
		if (v->str[0] == '-' || v->num != floor(v->num) || v->num >= 0x1p64)
			return json_error(p, v->off, "\"%s\" must be a non-negative integer", key);
		x = (uint64_t)v->num;
	}
	*dst = x;
	return 0;
}

/* Fills the struct at base from obj's members; strings cut on a UTF-8 boundary to fit. */
static int get_fields(struct jparser *p, int obj, void *base, const struct field *fl, size_t n)
{
	static const enum jtype jt[] = {
	    [F_STR] = J_STR, [F_BOOL] = J_BOOL, [F_U64] = J_NUM, [F_DBL] = J_NUM};

	for (size_t k = 0; k < n; k++) {
		int i = json_typed(p, obj, fl[k].key, jt[fl[k].type]);
		char *m = (char *)base + fl[k].off;
		const char *s;
		size_t len;

		if (i < -1)
			return -1;
		if (i < 0)
			continue;
		switch (fl[k].type) {
		case F_STR:
			s = p->v[i].str;
			len = strlen(s);
			if (len >= fl[k].size)
				for (len = fl[k].size - 1;
				     len && ((unsigned char)s[len] & 0xc0) == 0x80;)
					len--;
			memcpy(m, s, len);
			m[len] = '\0';
			break;
		case F_BOOL:
			*(bool *)m = p->v[i].b;
			break;
		case F_U64:
			if (to_u64(p, &p->v[i], fl[k].key, (uint64_t *)m))
				return -1;
			break;
		case F_DBL:
			*(double *)m = p->v[i].num;
			break;
		}
	}
	return 0;
}

static int map_cell(struct jparser *p, int obj, struct nb_cell *c)
{
	int s;

	memset(c, 0, sizeof(*c));
	if (p->v[obj].type != J_OBJ)
		return json_error(p, p->v[obj].off, "cell \"%s\" must be an object", p->v[obj].key);
	if (get_fields(p, obj, c, cell_fields, NFIELDS(cell_fields)))
		return -1;
	s = json_typed(p, obj, "samples", J_ARR);
	if (s < -1)
		return -1;
	for (int i = s >= 0 ? p->v[s].child : -1; i >= 0; i = p->v[i].next) {
		if (c->nsamples == NB_MAX_SAMPLES)
			return json_error(p, p->v[i].off, "too many samples (max %d)",
			                  NB_MAX_SAMPLES);
		if (p->v[i].type != J_NUM && p->v[i].type != J_NULL)
			return json_error(p, p->v[i].off, "a sample must be a number or null");
		c->samples[c->nsamples++] = p->v[i].type == J_NUM ? p->v[i].num : NAN;
	}
	return 0;
}

/*
 * Defaults: available, hardware timing, the empty loop and load unknown (NAN),
 * and the run's provenance (files written before columns carried their own).
 */
static int map_column(struct jparser *p, int obj, const struct nb_run *run, struct nb_column *c)
{
	int cells, host;

	c->available = c->hw_timing = true;
	c->empty = c->load_before = c->load_after = NAN;
	c->host = run->host;
	memcpy(c->guest_id, run->guest_id, sizeof(c->guest_id));
	memcpy(c->tandem, run->tandem, sizeof(c->tandem));
	if (p->v[obj].type != J_OBJ)
		return json_error(p, p->v[obj].off, "a column must be an object");
	cells = json_typed(p, obj, "cells", J_OBJ);
	host = json_typed(p, obj, "host", J_OBJ);
	if (cells < -1 || host < -1 || get_fields(p, obj, c, col_fields, NFIELDS(col_fields)))
		return -1;
	if (host >= 0 && get_fields(p, host, &c->host, host_fields, NFIELDS(host_fields)))
		return -1;
	for (int i = cells >= 0 ? p->v[cells].child : -1; i >= 0; i = p->v[i].next) {
		const struct nb_suite *su = nb_suite_of(run);
		int b = -1;

		for (int k = 0; k < su->nrows && b < 0; k++)
			b = strcmp(p->v[i].key, su->rows[k]) ? -1 : k;

		if (b >= 0 && map_cell(p, i, &c->cell[b]))
			return -1;
	}
	return 0;
}

static int map_run(struct jparser *p, int root, struct nb_run *run)
{
	int ver, host, cols, suite;

	if (p->v[root].type != J_OBJ)
		return json_error(p, p->v[root].off, "expected an object at the top level");
	ver = json_typed(p, root, "tandem_results", J_NUM);
	if (ver == -1)
		return json_error(p, 0, "not a tandem results file (no \"tandem_results\")");
	if (ver < 0)
		return -1;
	if (p->v[ver].num != 1)
		return json_error(p, p->v[ver].off, "results format %g not supported (want 1)",
		                  p->v[ver].num);
	suite = json_typed(p, root, "suite", J_STR);
	if (suite < -1)
		return -1;
	if (suite >= 0 && !nb_suite_find(p->v[suite].str))
		return json_error(p, p->v[suite].off, "unknown suite \"%.32s\"", p->v[suite].str);
	if (suite >= 0)
		snprintf(run->suite, sizeof(run->suite), "%s", p->v[suite].str);
	host = json_typed(p, root, "host", J_OBJ);
	cols = json_typed(p, root, "columns", J_ARR);
	if (host < -1 || cols < -1 ||
	    get_fields(p, host, &run->host, host_fields, NFIELDS(host_fields)) ||
	    get_fields(p, root, run, run_fields, NFIELDS(run_fields)))
		return -1;
	for (int i = cols >= 0 ? p->v[cols].child : -1; i >= 0; i = p->v[i].next) {
		if (run->ncols == NB_MAX_COLS)
			return json_error(p, p->v[i].off, "too many columns (max %d)", NB_MAX_COLS);
		if (map_column(p, i, run, &run->col[run->ncols++]))
			return -1;
	}
	return 0;
}

/* The whole file, NUL-terminated; NULL with err set. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nbuf;
	size_t cap = 0, n = 0, r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - n < 4096) {
			if (cap > JSON_MAX_BYTES) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
				         JSON_MAX_BYTES);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nbuf;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

int nb_read_json(const char *path, struct nb_run *run, char *err, size_t errlen)
{
	struct jparser p = {.path = path, .err = err, .errlen = errlen};
	char *buf;
	int root, ret = -1;

	memset(run, 0, sizeof(*run));
	buf = slurp(path, &p.len, err, errlen);
	if (!buf)
		return -1;
	p.src = buf;
	p.pool = malloc(p.len + 1);
	if (!p.pool) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	root = json_parse(&p);
	if (root >= 0)
		ret = map_run(&p, root, run);
out:
	if (ret)
		memset(run, 0, sizeof(*run));
	free(p.v);
	free(p.pool);
	free(buf);
	return ret;
}
