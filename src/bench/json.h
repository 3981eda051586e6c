/* json.h: a small, strict JSON reader: a tree of values in one array, strings decoded into one
 * pool. */
#ifndef TANDEM_JSON_H
#define TANDEM_JSON_H

#include <stdbool.h>
#include <stddef.h>

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

/*
 * Parse p->src (p->len bytes; p->pool must have room for p->len + 1) into p->v.
 * Returns the root value's index, or -1 with "path:line: reason" in p->err.
 * Trailing data after the top-level value is an error.
 */
int json_parse(struct jparser *p);

/* Record an error at byte off ("path:line: ..."); returns -1. */
int json_error(struct jparser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The member named key of object obj (the last one wins), or -1. */
int json_member(const struct jparser *p, int obj, const char *key);

/* The member named key when present and not null, -1 when not, -2 (error set) when not of type t.
 */
int json_typed(struct jparser *p, int obj, const char *key, enum jtype t);

#endif
