/* json.c: a small, strict recursive-descent JSON reader (objects, arrays, strings with escapes,
 * numbers, literals). */
#include "json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32 /* nesting: far more than the results use */

int json_error(struct jparser *p, size_t off, const char *fmt, ...)
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
		return json_error(p, p->pos, "unexpected end of file, expected %s", what);
	if (isprint(c))
		return json_error(p, p->pos, "expected %s, got '%c'", what, c);
	return json_error(p, p->pos, "expected %s, got byte 0x%02x", what, c);
}

static int new_val(struct jparser *p, enum jtype type)
{
	if (p->nv == p->cap) {
		int cap = p->cap ? p->cap * 2 : 256;
		struct jval *v = realloc(p->v, (size_t)cap * sizeof(*v));

		if (!v)
			return json_error(p, p->pos, "out of memory");
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
			return json_error(p, p->pos, "bad \\u escape: expected 4 hex digits");
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
		return json_error(p, p->pos, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp < 0xdc00) {
		if (p->pos + 2 > p->len || memcmp(p->src + p->pos, "\\u", 2))
			return json_error(p, p->pos, "high surrogate without a low one");
		p->pos += 2;
		if (hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo >= 0xe000)
			return json_error(p, p->pos, "high surrogate without a low one");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return json_error(p, p->pos, "\\u0000 in a string");
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
			return json_error(p, open, "unterminated string");
		c = (unsigned char)p->src[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return json_error(p, p->pos - 1, "control character 0x%02x in a string", c);
		if (c != '\\') {
			*d++ = (char)c;
			continue;
		}
		if (p->pos >= p->len)
			return json_error(p, open, "unterminated string");
		c = (unsigned char)p->src[p->pos++];
		if (c == 'u') {
			if (unicode_escape(p, &d))
				return -1;
		} else if (c && (e = strchr(esc_in, c))) {
			*d++ = esc_out[e - esc_in];
		} else {
			return json_error(p, p->pos - 1, "bad escape in a string");
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
		return json_error(p, s, "bad number");
	if (p->pos < p->len && p->src[p->pos] == '.' && (p->pos++, !digits(p)))
		return json_error(p, s, "bad number: no digits after '.'");
	if (p->pos < p->len && (p->src[p->pos] == 'e' || p->src[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->src[p->pos] == '+' || p->src[p->pos] == '-'))
			p->pos++;
		if (!digits(p))
			return json_error(p, s, "bad number: no digits in the exponent");
	}
	v->str = p->src + s;
	v->len = p->pos - s;
	if (v->len >= sizeof(buf))
		return json_error(p, s, "number too long");
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
		return json_error(p, p->pos, "nested too deep");
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

int json_parse(struct jparser *p)
{
	int root = parse_value(p);

	if (root >= 0 && peek(p) >= 0)
		return json_error(p, p->pos, "trailing data after the top-level value");
	return root;
}

int json_member(const struct jparser *p, int obj, const char *key)
{
	int found = -1;

	for (int i = obj >= 0 ? p->v[obj].child : -1; i >= 0; i = p->v[i].next)
		if (!strcmp(p->v[i].key, key))
			found = i; /* the last one wins */
	return found;
}

int json_typed(struct jparser *p, int obj, const char *key, enum jtype t)
{
	static const char *const tn[] = {"null",     "a boolean", "a number",
	                                 "a string", "an array",  "an object"};
	int i = json_member(p, obj, key);

	if (i < 0 || p->v[i].type == J_NULL)
		return -1;
	if (p->v[i].type != t)
		return json_error(p, p->v[i].off, "\"%s\" must be %s", key, tn[t]), -2;
	return i;
}
