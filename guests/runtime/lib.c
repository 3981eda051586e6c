/* lib.c: freestanding libc bits and libgcc's 64-bit division, for tandem guests.
 * Built with -fno-tree-loop-distribute-patterns so memset cannot become a call to itself. */
#include "rt.h"

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

/* 64-bit division for i386 (gcc emits calls to these). Provided here rather than
 * taken from the distribution's libgcc, whose i386 build carries CET endbr32. */
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (!(d >> 32)) {
		/* Two divl steps; divl by 0 raises #DE as the hardware would. */
		uint32_t dd = (uint32_t)d, hi = (uint32_t)(n >> 32), qlo, rr;
		uint32_t qhi = hi / dd;
		__asm__("divl %4" : "=a"(qlo), "=d"(rr) : "a"((uint32_t)n), "d"(hi % dd), "rm"(dd));
		q = (uint64_t)qhi << 32 | qlo;
		r = rr;
	} else {
		for (int i = 63; i >= 0; i--) { /* restoring shift-subtract */
			r = r << 1 | ((n >> i) & 1);
			if (r >= d) {
				r -= d;
				q |= 1ull << i;
			}
		}
	}
	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return __udivmoddi4(n, d, NULL);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	__udivmoddi4(n, d, &r);
	return r;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	uint64_t q = __udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n,
	                          d < 0 ? -(uint64_t)d : (uint64_t)d, NULL);
	return (n < 0) != (d < 0) ? -(int64_t)q : (int64_t)q;
}

int64_t __moddi3(int64_t n, int64_t d)
{
	uint64_t r;
	__udivmoddi4(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d, &r);
	return n < 0 ? -(int64_t)r : (int64_t)r;
}
