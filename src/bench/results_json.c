/* results_json.c: nano-benchmark results as JSON: a stable writer and a strict small reader. */
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
#define JSON_MAX_DEPTH 32

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
	FLD(nb_host, kvm, F_STR), FLD(nb_host, hostname, F_STR), FLD(nb_host, date, F_STR),
};
static const struct field run_fields[] = {
	FLD(nb_run, guest, F_STR), FLD(nb_run, guest_id, F_STR), FLD(nb_run, tandem, F_STR),
};
static const struct field col_fields[] = {
	FLD(nb_column, name, F_STR), FLD(nb_column, label, F_STR),
	FLD(nb_column, available, F_BOOL), FLD(nb_column, reason, F_STR),
	FLD(nb_column, hw_timing, F_BOOL), FLD(nb_column, empty, F_DBL),
	FLD(nb_column, settings, F_STR),
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

static void put_column(FILE *f, const struct nb_column *c)
{
	fputs("    {\n      ", f);
	put_fields(f, c, col_fields, NFIELDS(col_fields), ",\n      ");
	fputs(",\n      \"cells\": {\n", f);
	for (int b = 0; b < NB_NR; b++) {
		const struct nb_cell *cl = &c->cell[b];
		int n = cl->nsamples < 0                ? 0
		        : cl->nsamples > NB_MAX_SAMPLES ? NB_MAX_SAMPLES
		                                        : cl->nsamples;

		fprintf(f, "        \"%s\": {", nb_names[b]);
		put_fields(f, cl, cell_fields, NFIELDS(cell_fields), ", ");
		fputs(", \"samples\": [", f);
		for (int i = 0; i < n; i++) {
			fputs(i ? ", " : "", f);
			put_num(f, cl->samples[i]);
		}
		fputs(b + 1 < NB_NR ? "]},\n" : "]}\n", f);
	}
	fputs("      }\n    }", f);
}

void nb_write_json(FILE *f, const struct nb_run *run)
{
	int ncols = run->ncols < 0 ? 0 : run->ncols > NB_MAX_COLS ? NB_MAX_COLS : run->ncols;

	fputs("{\n  \"tandem_results\": 1,\n  \"host\": {\n    ", f);
	put_fields(f, &run->host, host_fields, NFIELDS(host_fields), ",\n    ");
	fputs("\n  },\n  ", f);
	put_fields(f, run, run_fields, NFIELDS(run_fields), ",\n  ");
	fputs(",\n  \"columns\": [", f);
	for (int i = 0; i < ncols; i++) {
		fputs(i ? ",\n" : "\n", f);
		put_column(f, &run->col[i]);
	}
	fputs(ncols ? "\n  ]\n}\n" : "]\n}\n", f);
}

/* ---- parsing: a tree of values in one array, strings decoded into one pool ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	int child, next; /* first element or member; the next one; -1 at the end */
	const char *key; /* a member's name (in the pool) */
	const char *str; /* J_STR: decoded (in the pool); J_NUM: the source text */
	size_t len;      /* J_NUM: length of the source text */
	double num;
	bool b;
	size_t off; /* where it starts in the source */
};

struct jparser {
	const char *src, *path;
	size_t len, pos;
	char *pool; /* decoded strings never outgrow their source: len + 1 bytes */
	size_t pool_used;
	struct jval *v;
	int nv, cap, depth;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int jerr(struct jparser *p, size_t off,
                                                      const char *fmt, ...)
{
	char msg[160];
	int line = 1;
	va_list ap;

	for (size_t i = 0; i < off && i < p->len; i++)
		line += p->src[i] == '\n';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
	return -1;
}

static int peek(struct jparser *p)
{
	while (p->pos < p->len && p->src[p->pos] && strchr(" \t\r\n", p->src[p->pos]))
		p->pos++;
	return p->pos < p->len ? (unsigned char)p->src[p->pos] : -1;
}

/* "expected X" at the current byte, saying what is there instead. */
static int expected(struct jparser *p, const char *what)
{
	int c = peek(p);

	if (c < 0)
		return jerr(p, p->pos, "unexpected end of file, expected %s", what);
	if (isprint(c))
		return jerr(p, p->pos, "expected %s, got '%c'", what, c);
	return jerr(p, p->pos, "expected %s, got byte 0x%02x", what, c);
}

static int new_val(struct jparser *p, enum jtype type)
{
	if (p->nv == p->cap) {
		int cap = p->cap ? p->cap * 2 : 256;
		struct jval *v = realloc(p->v, (size_t)cap * sizeof(*v));

		if (!v)
			return jerr(p, p->pos, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	p->v[p->nv] = (struct jval){.type = type, .child = -1, .next = -1, .off = p->pos};
	return p->nv++;
}

static int hex4(struct jparser *p, uint32_t *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++, p->pos++) {
		int c = p->pos < p->len ? (unsigned char)p->src[p->pos] : -1;

		if (!isxdigit(c))
			return jerr(p, p->pos, "bad \\u escape: expected 4 hex digits");
		*out = *out << 4 | (uint32_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	return 0;
}

static char *put_utf8(char *d, uint32_t cp)
{
	static const unsigned char lead[] = {0, 0xc0, 0xe0, 0xf0};
	int n = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3; /* continuation bytes */

	*d++ = (char)(lead[n] | cp >> (6 * n));
	while (n--)
		*d++ = (char)(0x80 | (cp >> (6 * n) & 0x3f));
	return d;
}

static int unicode_escape(struct jparser *p, char **d)
{
	uint32_t cp, lo;

	if (hex4(p, &cp))
		return -1;
	if (cp >= 0xdc00 && cp < 0xe000)
		return jerr(p, p->pos, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp < 0xdc00) {
		if (p->pos + 2 > p->len || memcmp(p->src + p->pos, "\\u", 2))
			return jerr(p, p->pos, "high surrogate without a low one");
		p->pos += 2;
		if (hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo >= 0xe000)
			return jerr(p, p->pos, "high surrogate without a low one");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return jerr(p, p->pos, "\\u0000 in a string");
	*d = put_utf8(*d, cp);
	return 0;
}

static int parse_string(struct jparser *p, const char **out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	char *start = p->pool + p->pool_used, *d = start;
	size_t open = p->pos++;

	for (;;) {
		const char *e;
		int c;

		if (p->pos >= p->len)
			return jerr(p, open, "unterminated string");
		c = (unsigned char)p->src[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return jerr(p, p->pos - 1, "control character 0x%02x in a string", c);
		if (c != '\\') {
			*d++ = (char)c;
			continue;
		}
		if (p->pos >= p->len)
			return jerr(p, open, "unterminated string");
		c = (unsigned char)p->src[p->pos++];
		if (c == 'u') {
			if (unicode_escape(p, &d))
				return -1;
		} else if (c && (e = strchr(esc_in, c))) {
			*d++ = esc_out[e - esc_in];
		} else {
			return jerr(p, p->pos - 1, "bad escape in a string");
		}
	}
	*d++ = '\0';
	p->pool_used = (size_t)(d - p->pool);
	*out = start;
	return 0;
}

static size_t digits(struct jparser *p)
{
	size_t n = 0;

	while (p->pos < p->len && isdigit((unsigned char)p->src[p->pos]))
		p->pos++, n++;
	return n;
}

static int parse_number(struct jparser *p, struct jval *v)
{
	size_t s = p->pos;
	char buf[64];

	p->pos += p->src[p->pos] == '-';
	if (p->pos < p->len && p->src[p->pos] == '0')
		p->pos++;
	else if (!digits(p))
		return jerr(p, s, "bad number");
	if (p->pos < p->len && p->src[p->pos] == '.' && (p->pos++, !digits(p)))
		return jerr(p, s, "bad number: no digits after '.'");
	if (p->pos < p->len && (p->src[p->pos] == 'e' || p->src[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->src[p->pos] == '+' || p->src[p->pos] == '-'))
			p->pos++;
		if (!digits(p))
			return jerr(p, s, "bad number: no digits in the exponent");
	}
	v->str = p->src + s;
	v->len = p->pos - s;
	if (v->len >= sizeof(buf))
		return jerr(p, s, "number too long");
	memcpy(buf, v->str, v->len);
	buf[v->len] = '\0';
	v->num = strtod(buf, NULL);
	return 0;
}

static int parse_value(struct jparser *p);

/* An array or object body after its opening bracket: elements or "key": value members. */
static int parse_container(struct jparser *p, int idx, bool obj)
{
	int c, last = -1, close = obj ? '}' : ']';

	if (++p->depth > JSON_MAX_DEPTH)
		return jerr(p, p->pos, "nested too deep");
	p->pos++;
	if (peek(p) == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		int child;

		if (obj) {
			if (peek(p) != '"')
				return expected(p, "a string key");
			if (parse_string(p, &key))
				return -1;
			if (peek(p) != ':')
				return expected(p, "':' after key");
			p->pos++;
		}
		child = parse_value(p);
		if (child < 0)
			return -1;
		p->v[child].key = key;
		if (last < 0)
			p->v[idx].child = child;
		else
			p->v[last].next = child;
		last = child;
		c = peek(p);
		if (c == close)
			break;
		if (c != ',')
			return expected(p,
			                obj ? "',' or '}' in an object" : "',' or ']' in an array");
		p->pos++;
	}
	p->pos++;
	p->depth--;
	return 0;
}

static int parse_literal(struct jparser *p, int idx)
{
	static const struct {
		const char *word;
		enum jtype type;
		bool b;
	} lits[] = {
	    {"true", J_BOOL, true},
	    {"false", J_BOOL, false},
	    {"null", J_NULL, false},
	};

	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		size_t n = strlen(lits[i].word);

		if (p->len - p->pos >= n && !memcmp(p->src + p->pos, lits[i].word, n)) {
			p->v[idx].type = lits[i].type;
			p->v[idx].b = lits[i].b;
			p->pos += n;
			return 0;
		}
	}
	return expected(p, "a value");
}

/* One value; returns its index, or -1 with p->err set. */
static int parse_value(struct jparser *p)
{
	int c = peek(p), idx = new_val(p, J_NULL), ret;

	if (idx < 0)
		return -1;
	if (c == '{' || c == '[') {
		p->v[idx].type = c == '{' ? J_OBJ : J_ARR;
		ret = parse_container(p, idx, c == '{');
	} else if (c == '"') {
		p->v[idx].type = J_STR;
		ret = parse_string(p, &p->v[idx].str);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		p->v[idx].type = J_NUM;
		ret = parse_number(p, &p->v[idx]);
	} else {
		ret = parse_literal(p, idx);
	}
	return ret < 0 ? -1 : idx;
}

/* ---- mapping the tree onto struct nb_run: unknown keys ignored, missing ones default ---- */

static int member(const struct jparser *p, int obj, const char *key)
{
	int found = -1;

	for (int i = obj >= 0 ? p->v[obj].child : -1; i >= 0; i = p->v[i].next)
		if (!strcmp(p->v[i].key, key))
			found = i; /* the last one wins */
	return found;
}

/* The member named key when present and not null, -1 when not, -2 when not of type t. */
static int typed(struct jparser *p, int obj, const char *key, enum jtype t)
{
	static const char *const tn[] = {"null",     "a boolean", "a number",
	                                 "a string", "an array",  "an object"};
	int i = member(p, obj, key);

	if (i < 0 || p->v[i].type == J_NULL)
		return -1;
	if (p->v[i].type != t)
		return jerr(p, p->v[i].off, "\"%s\" must be %s", key, tn[t]), -2;
	return i;
}

/* A non-negative integer: exact from plain digits (beyond 2^53 too), else from the double. */
static int to_u64(struct jparser *p, const struct jval *v, const char *key, uint64_t *dst)
{
	uint64_t x = 0;
	size_t k;

	for (k = 0; k < v->len && v->str[k] >= '0' && v->str[k] <= '9'; k++) {
		if (x > (UINT64_MAX - (unsigned)(v->str[k] - '0')) / 10)
			return jerr(p, v->off, "\"%s\" is too large", key);
		x = x * 10 + (unsigned)(v->str[k] - '0');
	}
	if (k < v->len) { /* a sign, a fraction or an exponent */
		if (v->str[0] == '-' || v->num != floor(v->num) || v->num >= 0x1p64)
			return jerr(p, v->off, "\"%s\" must be a non-negative integer", key);
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
		int i = typed(p, obj, fl[k].key, jt[fl[k].type]);
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
		return jerr(p, p->v[obj].off, "cell \"%s\" must be an object", p->v[obj].key);
	if (get_fields(p, obj, c, cell_fields, NFIELDS(cell_fields)))
		return -1;
	s = typed(p, obj, "samples", J_ARR);
	if (s < -1)
		return -1;
	for (int i = s >= 0 ? p->v[s].child : -1; i >= 0; i = p->v[i].next) {
		if (c->nsamples == NB_MAX_SAMPLES)
			return jerr(p, p->v[i].off, "too many samples (max %d)", NB_MAX_SAMPLES);
		if (p->v[i].type != J_NUM && p->v[i].type != J_NULL)
			return jerr(p, p->v[i].off, "a sample must be a number or null");
		c->samples[c->nsamples++] = p->v[i].type == J_NUM ? p->v[i].num : NAN;
	}
	return 0;
}

/* Defaults: available, hardware timing, the empty loop unknown (NAN). */
static int map_column(struct jparser *p, int obj, struct nb_column *c)
{
	int cells;

	c->available = c->hw_timing = true;
	c->empty = NAN;
	if (p->v[obj].type != J_OBJ)
		return jerr(p, p->v[obj].off, "a column must be an object");
	cells = typed(p, obj, "cells", J_OBJ);
	if (cells < -1 || get_fields(p, obj, c, col_fields, NFIELDS(col_fields)))
		return -1;
	for (int i = cells >= 0 ? p->v[cells].child : -1; i >= 0; i = p->v[i].next) {
		int b = nb_find(p->v[i].key);

		if (b >= 0 && map_cell(p, i, &c->cell[b]))
			return -1;
	}
	return 0;
}

static int map_run(struct jparser *p, int root, struct nb_run *run)
{
	int ver, host, cols;

	if (p->v[root].type != J_OBJ)
		return jerr(p, p->v[root].off, "expected an object at the top level");
	ver = typed(p, root, "tandem_results", J_NUM);
	if (ver == -1)
		return jerr(p, 0, "not a tandem results file (no \"tandem_results\")");
	if (ver < 0)
		return -1;
	if (p->v[ver].num != 1)
		return jerr(p, p->v[ver].off, "results format %g not supported (want 1)",
		            p->v[ver].num);
	host = typed(p, root, "host", J_OBJ);
	cols = typed(p, root, "columns", J_ARR);
	if (host < -1 || cols < -1 ||
	    get_fields(p, host, &run->host, host_fields, NFIELDS(host_fields)) ||
	    get_fields(p, root, run, run_fields, NFIELDS(run_fields)))
		return -1;
	for (int i = cols >= 0 ? p->v[cols].child : -1; i >= 0; i = p->v[i].next) {
		if (run->ncols == NB_MAX_COLS)
			return jerr(p, p->v[i].off, "too many columns (max %d)", NB_MAX_COLS);
		if (map_column(p, i, &run->col[run->ncols++]))
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
	root = parse_value(&p);
	if (root >= 0 && peek(&p) >= 0)
		jerr(&p, p.pos, "trailing data after the top-level value");
	else if (root >= 0)
		ret = map_run(&p, root, run);
out:
	if (ret)
		memset(run, 0, sizeof(*run));
	free(p.v);
	free(p.pool);
	free(buf);
	return ret;
}
