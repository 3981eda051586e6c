/*
 * kernels.c: the compute benchmark's workload (see kernels.h).
 *
 * Freestanding C99, integer only, no library calls: it is linked into a ring 3 guest
 * kernel as well as into a host process. Every kernel works on static storage, takes
 * a seed and returns a 32-bit result; compute_run folds the results into a CRC-32.
 * The kernels are written so that at -O2 they keep a CoreMark-like instruction mix:
 * pointer chasing, an indirect call per comparison (list sort), a jump table (state
 * machine), table lookups (CRC-32), data-dependent branches (CRC-16, heap sort),
 * multiplies (matrix) and a few divisions.
 *
 * Sizing (per iteration, ~1 ms natively on the development host): see the *_ROUNDS
 * and *_PASSES constants. All arithmetic that may wrap is done in uint32_t.
 */
#include "kernels.h"

#define LIST_N 512    /* list nodes (static pool) */
#define LIST_FINDS 32 /* keyed walks per list round */
#define LIST_MOVES 24 /* remove + re-insert per list round */
#define LIST_ROUNDS 2 /* list build/find/sort/move rounds per iteration */
#define MAT_N 32      /* int32 matrices, MAT_N x MAT_N */
#define MAT_ROUNDS 14 /* multiplies per iteration */
#define SM_LEN 2048   /* bytes of number-token text */
#define SM_PASSES 40  /* parses of it (each with a different corruption) */
#define CRC_LEN 2048  /* bytes */
#define CRC_PASSES 2  /* CRC-16 (bitwise) + CRC-32 (table) passes */
#define SORT_N 2048   /* heap sort elements */

/* ---- pseudo-random numbers and checksums ---- */

/* xorshift32; the state must never be 0. */
static uint32_t rng(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* A uniform value in [0, n) without a division (a 32x32->64 multiply). */
static uint32_t rng_below(uint32_t *s, uint32_t n)
{
	return (uint32_t)(((uint64_t)rng(s) * n) >> 32);
}

/* Seed for kernel k of iteration it: a splitmix32-style hash, never 0. */
static uint32_t seed_for(uint32_t it, uint32_t k)
{
	uint32_t z = it * 0x9E3779B9u + k * 0x85EBCA6Bu + 0x2545F491u;
	z = (z ^ (z >> 16)) * 0x7FEB352Du;
	z = (z ^ (z >> 15)) * 0x846CA68Bu;
	z ^= z >> 16;
	return z ? z : 0x1234567u;
}

static uint32_t crc32_table[256];

static void crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int b = 0; b < 8; b++)
			c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
		crc32_table[i] = c;
	}
}

/* CRC-32 (IEEE, reflected), table driven. */
static uint32_t crc32_buf(uint32_t crc, const uint8_t *p, uint32_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc32_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* Fold a 32-bit value into a running CRC-32, little-endian byte order. */
static uint32_t crc32_u32(uint32_t crc, uint32_t v)
{
	crc = ~crc;
	for (int i = 0; i < 4; i++, v >>= 8)
		crc = crc32_table[(crc ^ v) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* CRC-16/ARC, bit at a time with a data-dependent branch (CoreMark's crcu8). */
static uint16_t crc16_u8(uint16_t crc, uint8_t data)
{
	for (int i = 0; i < 8; i++) {
		uint8_t x16 = (uint8_t)((data & 1) ^ (crc & 1));
		data >>= 1;
		if (x16 == 1) {
			crc ^= 0x4002;
			crc = (uint16_t)((crc >> 1) | 0x8000);
		} else {
			crc >>= 1;
		}
	}
	return crc;
}

static uint16_t crc16_u32(uint16_t crc, uint32_t v)
{
	crc = crc16_u8(crc, (uint8_t)v);
	crc = crc16_u8(crc, (uint8_t)(v >> 8));
	crc = crc16_u8(crc, (uint8_t)(v >> 16));
	return crc16_u8(crc, (uint8_t)(v >> 24));
}

/* ---- linked list: build, find, reverse, merge sort, move ---- */

struct lnode {
	struct lnode *next;
	int32_t data;
	uint32_t idx; /* position when built */
};

static struct lnode list_pool[LIST_N];
static uint16_t list_perm[LIST_N];

typedef int (*list_cmp_fn)(const struct lnode *a, const struct lnode *b);

static int cmp_data(const struct lnode *a, const struct lnode *b)
{
	return (a->data > b->data) - (a->data < b->data);
}

static int cmp_idx(const struct lnode *a, const struct lnode *b)
{
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Links the pool in a random order (a Fisher-Yates permutation), random data. */
static struct lnode *list_build(uint32_t *s)
{
	for (uint32_t i = 0; i < LIST_N; i++)
		list_perm[i] = (uint16_t)i;
	for (uint32_t i = LIST_N - 1; i > 0; i--) {
		uint32_t j = rng_below(s, i + 1);
		uint16_t t = list_perm[i];
		list_perm[i] = list_perm[j];
		list_perm[j] = t;
	}
	for (uint32_t k = 0; k < LIST_N; k++) {
		struct lnode *n = &list_pool[list_perm[k]];
		n->next = k + 1 < LIST_N ? &list_pool[list_perm[k + 1]] : (struct lnode *)0;
		n->data = (int32_t)(rng(s) & 0xFFFF) - 0x8000;
		n->idx = k;
	}
	return &list_pool[list_perm[0]];
}

/* Position of the first node holding key, or -1. */
static int32_t list_find(const struct lnode *n, int32_t key)
{
	int32_t pos = 0;
	for (; n; n = n->next, pos++)
		if (n->data == key)
			return pos;
	return -1;
}

static struct lnode *list_reverse(struct lnode *n)
{
	struct lnode *prev = 0;
	while (n) {
		struct lnode *next = n->next;
		n->next = prev;
		prev = n;
		n = next;
	}
	return prev;
}

/* Bottom-up merge sort (as CoreMark's core_list_mergesort); stable. */
static struct lnode *list_sort(struct lnode *list, list_cmp_fn cmp)
{
	for (uint32_t insize = 1;; insize *= 2) {
		struct lnode *p = list, *tail = 0;
		uint32_t nmerges = 0;
		list = 0;
		while (p) {
			struct lnode *q = p;
			uint32_t psize = 0, qsize = insize;
			nmerges++;
			for (uint32_t i = 0; i < insize && q; i++, psize++)
				q = q->next;
			while (psize > 0 || (qsize > 0 && q)) {
				struct lnode *e;
				if (psize == 0) {
					e = q, q = q->next, qsize--;
				} else if (qsize == 0 || !q) {
					e = p, p = p->next, psize--;
				} else if (cmp(p, q) <= 0) {
					e = p, p = p->next, psize--;
				} else {
					e = q, q = q->next, qsize--;
				}
				if (tail)
					tail->next = e;
				else
					list = e;
				tail = e;
			}
			p = q;
		}
		tail->next = 0;
		if (nmerges <= 1)
			return list;
	}
}

/* Detach the node after position `at` (0 = the head's successor) and insert it after
 * position `to` of what is left. Both positions are < LIST_N - 1. */
static struct lnode *list_move(struct lnode *head, uint32_t at, uint32_t to)
{
	struct lnode *p = head;
	while (at-- && p->next && p->next->next)
		p = p->next;
	struct lnode *n = p->next;
	if (!n)
		return head;
	p->next = n->next;
	p = head;
	while (to-- && p->next)
		p = p->next;
	n->next = p->next;
	p->next = n;
	return head;
}

static uint32_t kernel_list(uint32_t seed)
{
	uint32_t s = seed, acc = 0;
	uint16_t crc = 0;

	for (int round = 0; round < LIST_ROUNDS; round++) {
		struct lnode *head = list_build(&s);

		/* keyed walks: half for present keys, half probably absent */
		for (int f = 0; f < LIST_FINDS; f++) {
			int32_t key = (f & 1) ? list_pool[rng_below(&s, LIST_N)].data
			                      : (int32_t)(rng(&s) & 0xFFFF) - 0x8000;
			acc += (uint32_t)list_find(head, key);
		}
		head = list_reverse(head);
		head = list_sort(head, cmp_data);
		/* sorted by data: check order, fold data and the original positions */
		int32_t prev = -0x8001;
		for (const struct lnode *n = head; n; n = n->next) {
			if (n->data < prev)
				acc += 0x10000; /* never: would break the checksum */
			prev = n->data;
			crc = crc16_u32(crc, n->idx ^ ((uint32_t)n->data << 16));
		}
		for (int m = 0; m < LIST_MOVES; m++)
			head =
			    list_move(head, rng_below(&s, LIST_N - 1), rng_below(&s, LIST_N - 1));
		head = list_sort(head, cmp_idx);
		uint32_t k = 0;
		for (const struct lnode *n = head; n; n = n->next, k++)
			acc = acc * 31u + (n->idx == k ? (uint32_t)n->data : 0xDEADu);
		acc += k;
	}
	return acc ^ ((uint32_t)crc << 16);
}

/* ---- integer matrix multiply ---- */

static int32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static void mat_mul(int32_t c[MAT_N][MAT_N], const int32_t a[MAT_N][MAT_N],
                    const int32_t b[MAT_N][MAT_N])
{
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			uint32_t sum = 0;
			for (int k = 0; k < MAT_N; k++)
				sum += (uint32_t)a[i][k] * (uint32_t)b[k][j];
			c[i][j] = (int32_t)sum;
		}
}

static uint32_t kernel_matrix(uint32_t seed)
{
	uint32_t s = seed, acc = 0;

	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			mat_a[i][j] = (int32_t)(rng(&s) & 0xFFF) - 0x800;
			mat_b[i][j] = (int32_t)(rng(&s) & 0xFFF) - 0x800;
		}
	for (int r = 0; r < MAT_ROUNDS; r++) {
		mat_mul(mat_c, mat_a, mat_b);
		/* fold C (sum, xor of the bits) and derive the next A from it */
		uint32_t sum = 0, bits = 0;
		for (int i = 0; i < MAT_N; i++)
			for (int j = 0; j < MAT_N; j++) {
				uint32_t v = (uint32_t)mat_c[i][j];
				sum += v;
				bits ^= v >> (j & 7);
				mat_a[i][j] =
				    (int32_t)((v >> 7) & 0xFFF) - 0x800 + (int32_t)(r & 3);
			}
		acc = acc * 0x01000193u ^ sum ^ (bits << 1);
		/* and a matrix-vector product with column r of B, through a division */
		for (int i = 0; i < MAT_N; i++) {
			int32_t dot = 0;
			for (int k = 0; k < MAT_N; k++)
				dot += (mat_a[i][k] >> 4) * (mat_b[k][r % MAT_N] >> 4);
			acc += (uint32_t)(dot / (int32_t)(3 + i));
		}
	}
	return acc;
}

/* ---- state machine: classify comma-separated number tokens (CoreMark's core_state) ---- */

enum sm_state {
	SM_START,
	SM_INVALID,
	SM_SIGN,
	SM_INT,
	SM_FLOAT,
	SM_EXP,
	SM_EXP_SIGN,
	SM_SCI,
	SM_NSTATES
};

static uint8_t sm_text[SM_LEN];

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* One step of the recogniser. */
static enum sm_state sm_step(enum sm_state st, uint8_t c)
{
	switch (st) {
	case SM_START:
		if (is_digit(c))
			return SM_INT;
		if (c == '+' || c == '-')
			return SM_SIGN;
		if (c == '.')
			return SM_FLOAT;
		return SM_INVALID;
	case SM_SIGN:
		if (is_digit(c))
			return SM_INT;
		if (c == '.')
			return SM_FLOAT;
		return SM_INVALID;
	case SM_INT:
		if (is_digit(c))
			return SM_INT;
		if (c == '.')
			return SM_FLOAT;
		if (c == 'e' || c == 'E')
			return SM_EXP;
		return SM_INVALID;
	case SM_FLOAT:
		if (is_digit(c))
			return SM_FLOAT;
		if (c == 'e' || c == 'E')
			return SM_EXP;
		return SM_INVALID;
	case SM_EXP:
		if (c == '+' || c == '-')
			return SM_EXP_SIGN;
		if (is_digit(c))
			return SM_SCI;
		return SM_INVALID;
	case SM_EXP_SIGN:
		return is_digit(c) ? SM_SCI : SM_INVALID;
	case SM_SCI:
		return is_digit(c) ? SM_SCI : SM_INVALID;
	default:
		return SM_INVALID;
	}
}

/* Writes random tokens (ints, decimals, scientific, junk) separated by ','. */
static void sm_fill(uint32_t *s)
{
	static const char junk[] = "x.+e-E,5/ab";
	uint32_t i = 0;

	while (i < SM_LEN) {
		uint32_t kind = rng(s) & 7, ndig = 1 + (rng(s) & 7);
		if ((kind & 1) && i < SM_LEN)
			sm_text[i++] = (rng(s) & 1) ? '-' : '+';
		if (kind == 7) { /* junk */
			for (uint32_t d = 0; d < ndig && i < SM_LEN; d++)
				sm_text[i++] = (uint8_t)junk[rng_below(s, sizeof(junk) - 1)];
		} else {
			for (uint32_t d = 0; d < ndig && i < SM_LEN; d++)
				sm_text[i++] = (uint8_t)('0' + rng_below(s, 10));
			if (kind >= 2 && i < SM_LEN)
				sm_text[i++] = '.';
			for (uint32_t d = 0; kind >= 2 && d < (ndig >> 1) && i < SM_LEN; d++)
				sm_text[i++] = (uint8_t)('0' + rng_below(s, 10));
			if (kind >= 4 && i + 2 < SM_LEN) {
				sm_text[i++] = (kind & 2) ? 'e' : 'E';
				if (kind & 1)
					sm_text[i++] = '-';
				sm_text[i++] = (uint8_t)('0' + rng_below(s, 10));
			}
		}
		if (i < SM_LEN)
			sm_text[i++] = ',';
	}
}

/* Parses the whole text: counts final states and state changes, sums integer values. */
static uint32_t sm_parse(void)
{
	uint32_t final[SM_NSTATES] = {0}, changes = 0, value_sum = 0, value = 0;
	enum sm_state st = SM_START;
	int neg = 0;

	for (uint32_t i = 0; i <= SM_LEN; i++) {
		uint8_t c = i < SM_LEN ? sm_text[i] : ',';
		if (c == ',') {
			final[st]++;
			if (st == SM_INT)
				value_sum += neg ? 0u - value : value;
			st = SM_START;
			value = 0;
			neg = 0;
			continue;
		}
		enum sm_state next = sm_step(st, c);
		if (next != st)
			changes++;
		if (next == SM_INT)
			value = value * 10u + (uint32_t)(c - '0');
		else if (next == SM_SIGN)
			neg = c == '-';
		st = next;
	}
	uint32_t acc = changes ^ (value_sum << 3);
	for (int k = 0; k < SM_NSTATES; k++)
		acc = acc * 33u + final[k];
	return acc;
}

static uint32_t kernel_state(uint32_t seed)
{
	uint32_t s = seed, acc = 0;

	sm_fill(&s);
	for (uint32_t p = 0; p < SM_PASSES; p++) {
		/* corrupt every stride-th byte (xor is undone below), parse */
		uint32_t stride = 7 + p * 3, start = p % stride;
		uint8_t x = (uint8_t)(1u << (p & 7));
		if (p) /* pass 0 parses the clean text */
			for (uint32_t i = start; i < SM_LEN; i += stride)
				sm_text[i] ^= x;
		acc = acc * 0x9E3779B1u + sm_parse();
		if (p)
			for (uint32_t i = start; i < SM_LEN; i += stride)
				sm_text[i] ^= x;
	}
	return acc;
}

/* ---- CRC-16 / CRC-32 over a buffer ---- */

static uint8_t crc_buf[CRC_LEN];

static uint32_t kernel_crc(uint32_t seed)
{
	uint32_t s = seed, c32 = 0;
	uint16_t c16 = 0;

	for (uint32_t i = 0; i < CRC_LEN; i += 4) {
		uint32_t v = rng(&s);
		crc_buf[i] = (uint8_t)v;
		crc_buf[i + 1] = (uint8_t)(v >> 8);
		crc_buf[i + 2] = (uint8_t)(v >> 16);
		crc_buf[i + 3] = (uint8_t)(v >> 24);
	}
	for (int p = 0; p < CRC_PASSES; p++) {
		for (uint32_t i = 0; i < CRC_LEN; i++)
			c16 = crc16_u8(c16, crc_buf[i]);
		c32 = crc32_buf(c32, crc_buf, CRC_LEN);
		crc_buf[(c32 >> 4) % CRC_LEN] ^= (uint8_t)c16; /* next pass sees other data */
	}
	return c32 ^ c16;
}

/* ---- heap sort ---- */

static uint32_t sort_a[SORT_N];

static void sift_down(uint32_t *a, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && a[child] < a[child + 1])
			child++;
		if (a[root] >= a[child])
			return;
		uint32_t t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static uint32_t kernel_sort(uint32_t seed)
{
	uint32_t s = seed, acc = 0;

	for (uint32_t i = 0; i < SORT_N; i++)
		sort_a[i] = rng(&s) >> (i & 7); /* some small values, some large */
	for (uint32_t i = SORT_N / 2; i-- > 0;)
		sift_down(sort_a, i, SORT_N);
	for (uint32_t n = SORT_N - 1; n > 0; n--) {
		uint32_t t = sort_a[0];
		sort_a[0] = sort_a[n];
		sort_a[n] = t;
		sift_down(sort_a, 0, n);
	}
	for (uint32_t i = 0; i < SORT_N; i++) {
		if (i && sort_a[i - 1] > sort_a[i])
			acc += 0x10000; /* never: would break the checksum */
		acc = (acc << 5 | acc >> 27) ^ sort_a[i];
	}
	return acc;
}

/* ---- the driver ---- */

uint32_t compute_run(uint32_t iterations)
{
	uint32_t acc = 0;

	crc32_init();
	for (uint32_t it = 0; it < iterations; it++) {
		acc = crc32_u32(acc, kernel_list(seed_for(it, 1)));
		acc = crc32_u32(acc, kernel_matrix(seed_for(it, 2)));
		acc = crc32_u32(acc, kernel_state(seed_for(it, 3)));
		acc = crc32_u32(acc, kernel_crc(seed_for(it, 4)));
		acc = crc32_u32(acc, kernel_sort(seed_for(it, 5)));
	}
	return crc32_u32(acc, iterations);
}
